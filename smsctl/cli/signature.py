"""`smsctl signature ...`: SMS signatures (sign names) approved at the provider."""

from __future__ import annotations

from typing import Any

import typer

from smsctl.cli.context import app_context
from smsctl.cli.items import (
    delete_command,
    enable_command,
    item_rows,
    render_sync,
)
from smsctl.cli.options import ALLOW_PENDING
from smsctl.cli.remote import (
    ALL_APPROVED,
    REMARK,
    REMOTE,
    WAIT,
    follow_application,
    remote_list,
    render_import,
)
from smsctl.core import items, sms
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
@calls_alibaba("sms", only_with="--remote")
def list_(
    ctx: typer.Context,
    account: str = typer.Option(None, "--account", help="Only this account's signatures."),
    remote: bool = REMOTE,
) -> None:
    """List signatures with their status, account and authorized apps; --remote: the
    account's signatures at the provider."""
    app_ctx = app_context(ctx)
    if remote:
        remote_list(app_ctx, "signatures", account)
        return
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


@app.command("edit")
def edit(
    ctx: typer.Context,
    name: str = NAME,
    default: bool = typer.Option(
        None,
        "--default/--no-default",
        help="Mark or unmark it as the one to use when several of its account fit.",
    ),
) -> None:
    """Mark or unmark a signature as its account's default."""
    if default is None:
        from smsctl.core.errors import UsageError

        raise UsageError("Nothing to change.", hint="Give --default or --no-default.")
    app_ctx = app_context(ctx)
    change = items.update(
        app_ctx.store, "sms", "signatures", name, {"default": default}, command="signature edit"
    )
    data = {  # the fields of `signature show`, and what `edit` reports on every channel
        "name": name,
        **app_ctx.config(fresh=True).get("sms", "signatures", name),
        "changed": change.changed,
        "cleared_default": list(change.cleared_default),
    }

    def human(out: Any) -> None:
        out.success(f"Signature `{name}` " + ("updated" if change.changed else "unchanged"))
        for other in change.cleared_default:
            out.info(f"`{other}` is no longer the default.")

    app_ctx.output.emit(data, human)


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


@app.command("import")
@calls_alibaba("sms")
def import_(
    ctx: typer.Context,
    names: list[str] = typer.Argument(None, metavar="[NAME]...", help="Sign names."),
    account: str = typer.Option(..., "--account", help="The SMS account they belong to."),
    all_approved: bool = ALL_APPROVED,
    allow_pending: bool = ALLOW_PENDING,
) -> None:
    """Bring signatures the account has at the provider into smsctl (one pass over the
    provider's list)."""
    from smsctl.core import remote

    app_ctx = app_context(ctx)
    result = remote.import_items(
        app_ctx.store, app_ctx.secrets, "signatures", list(names or []), account=account,
        all_approved=all_approved, allow_pending=allow_pending,
    )  # fmt: skip
    render_import(app_ctx, "signature", result)


@app.command("submit")
@calls_alibaba("sms")
def submit(
    ctx: typer.Context,
    name: str = NAME,
    account: str = typer.Option(..., "--account", help="The SMS account to apply under."),
    qualification_id: int = typer.Option(
        ..., "--qualification-id", help="The approved qualification's ID (SMS console)."
    ),
    source: str = typer.Option(
        ...,
        "--source",
        help="What the name is: enterprise (organisation name), trademark or app.",
    ),
    trademark_id: int = typer.Option(None, "--trademark-id", help="With --source trademark."),
    app_icp_record_id: int = typer.Option(
        None, "--app-icp-record-id", help="With --source app: the app's ICP filing ID."
    ),
    remark: str = REMARK,
    wait: float = WAIT,
) -> None:
    """Apply for a new signature (CreateSmsSign); smsctl keeps it as pending, never used for
    sending until the provider approves it."""
    from smsctl.core import remote

    app_ctx = app_context(ctx)
    application = remote.submit_signature(
        app_ctx.store, app_ctx.secrets, name=name, account=account, source=source,
        qualification_id=qualification_id, remark=remark, trademark_id=trademark_id,
        app_icp_record_id=app_icp_record_id,
    )  # fmt: skip
    follow_application(app_ctx, application, wait)


enable_command(app, "sms", "signatures")
delete_command(
    app, "sms", "signatures", note="The signature stays at the provider; only smsctl forgets it."
)


def _yes(value: bool) -> str:
    return "yes" if value else "no"
