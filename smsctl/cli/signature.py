"""`smsctl signature ...`: SMS signatures (sign names) approved at the provider."""

from __future__ import annotations

from typing import Any

import typer

from smsctl.cli.context import app_context
from smsctl.cli.items import delete_command, enable_command, item_rows, render_sync
from smsctl.cli.options import ALLOW_PENDING
from smsctl.core import sms
from smsctl.providers.worker import calls_alibaba

app = typer.Typer(
    help="SMS signatures (sign names) approved at the provider.", no_args_is_help=True
)
NAME = typer.Argument(..., metavar="NAME", help="The sign name exactly as approved.")


@app.command("add")
@calls_alibaba("sms")
def add(
    ctx: typer.Context,
    name: str = NAME,
    account: str = typer.Option(..., "--account", help="The SMS account it belongs to."),
    allow_pending: bool = ALLOW_PENDING,
) -> None:
    """Add a signature after asking the provider for its approval status."""
    app_ctx = app_context(ctx)
    change, info = sms.add_signature(app_ctx.store, app_ctx.secrets, name, account, allow_pending)
    data = {
        "name": name,
        "account": account,
        "status": info.status,
        "reason": info.reason,
        "changed": change.changed,
    }

    def human(out: Any) -> None:
        if change.changed:
            out.success(f"Added signature `{name}` ({info.status} at the provider)")
        else:
            out.success(f"Signature `{name}` already exists with these values; nothing changed")
        if info.status != "approved":
            out.info(
                "It is not approved yet: it will not be used for sending until "
                "`smsctl signature sync` sees it approved."
            )

    app_ctx.output.emit(data, human)


@app.command("list")
def list_(
    ctx: typer.Context,
    account: str = typer.Option(None, "--account", help="Only this account's signatures."),
) -> None:
    """List signatures with their status, account and authorized apps."""
    app_ctx = app_context(ctx)
    rows = item_rows(app_ctx.config(), "sms", "signatures", account=account)
    app_ctx.output.emit(
        rows,
        lambda out: out.table(
            ["NAME", "ACCOUNT", "STATUS", "ENABLED", "DEFAULT", "APPS"],
            [
                [
                    r["name"],
                    r["account"],
                    r["status"],
                    _yes(r["enabled"]),
                    _yes(r["default"]),
                    ", ".join(r["apps"]) or "(general)",
                ]
                for r in rows
            ],
        ),
    )


@app.command("show")
def show(ctx: typer.Context, name: str = NAME) -> None:
    """Show one signature."""
    app_ctx = app_context(ctx)
    item = {"name": name, **app_ctx.config().get("sms", "signatures", name)}
    app_ctx.output.emit(item, lambda out: out.fields(item))


@app.command("sync")
@calls_alibaba("sms")
def sync(
    ctx: typer.Context,
    name: str = typer.Argument(None, metavar="[NAME]", help="One signature (default: all)."),
) -> None:
    """Refresh the approval status of one or all signatures from the provider."""
    app_ctx = app_context(ctx)
    results = sms.sync(app_ctx.store, app_ctx.secrets, "signatures", [name] if name else None)
    render_sync(app_ctx, "signature", results)


enable_command(app, "sms", "signatures")
delete_command(
    app, "sms", "signatures", note="The signature stays at the provider; only smsctl forgets it."
)


def _yes(value: bool) -> str:
    return "yes" if value else "no"
