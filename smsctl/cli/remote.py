"""What `signature` and `template` share for the provider side: the remote list, the import
report, and an application for review followed with --wait."""

from __future__ import annotations

from typing import Any

import typer

from smsctl.cli.context import AppContext

WAIT = typer.Option(
    None,
    "--wait",
    metavar="SECONDS",
    min=0,
    max=3600,
    help="Follow the review up to SECONDS until approved or rejected.",
)
REMARK = typer.Option(
    None, "--remark", help="For the reviewers: the use case and a complete sample message."
)
REMOTE = typer.Option(
    False,
    "--remote",
    help="What the account has at the provider (all pages), and which smsctl already has.",
)
ALL_APPROVED = typer.Option(
    False, "--all-approved", help="Every item the provider approved for the account."
)


def remote_list(app_ctx: AppContext, kind: str, account: str | None) -> None:
    from smsctl.core import remote

    data = remote.discover(app_ctx.store, app_ctx.secrets, kind, account)
    rows = data["items"]
    noun = kind[:-1]

    def human(out: Any) -> None:
        if not rows:
            out.info(f"Account `{data['account']}` has no {noun}s at the provider.")
            return
        known = "IN SMSCTL"
        if kind == "templates":
            out.table(
                ["CODE", "NAME", "TYPE", "STATUS", known, "SIGNATURE", "CONTENT", "REASON"],
                [
                    [r["name"], r["label"], r["type"], r["status"], _known(r),
                     r["related_signature"] or "", r["content"], r["reason"]]
                    for r in rows
                ],
            )  # fmt: skip
        else:
            out.table(
                ["NAME", "STATUS", known, "REASON"],
                [[r["name"], r["status"], _known(r), r["reason"]] for r in rows],
            )
        new = [r["name"] for r in rows if not r["known"] and r["status"] == "approved"]
        if new:
            scenario = " --scenario SCENARIO" if kind == "templates" else ""
            out.hint(
                f"{len(new)} approved {noun}(s) not in smsctl yet: `smsctl {noun} import "
                f"--all-approved --account {data['account']}{scenario}`."
            )

    app_ctx.output.emit(data, human)


def _known(row: dict[str, Any]) -> str:
    if not row["known"]:
        return "no"
    return "yes" if row["known_status"] == row["status"] else f"yes ({row['known_status']})"


def render_import(app_ctx: AppContext, noun: str, result: Any) -> None:
    data = {
        "account": result.account,
        "added": result.added,
        "already": result.already,
        "skipped": result.skipped,
    }

    def human(out: Any) -> None:
        for name in result.added:
            out.success(f"Imported {noun} `{name}`")
        for name in result.already:
            out.success(f"{noun.capitalize()} `{name}` already in smsctl; its state refreshed")
        for skipped in result.skipped:
            out.info(
                f"Skipped {noun} `{skipped['name']}`: {skipped['status']} at the provider"
                + (f" ({skipped['reason']})" if skipped["reason"] else "")
            )
        if not (result.added or result.already):
            out.info(f"No approved {noun}s to import.")

    app_ctx.output.emit(data, human)


def follow_application(app_ctx: AppContext, application: Any, wait: float | None) -> None:
    """Report an application; with --wait, follow its review first. A rejection is exit 5."""
    from smsctl.core import remote

    out = app_ctx.output
    if wait is not None:
        with out.progress(
            f"Waiting for the review of {application.kind} `{application.name}` "
            f"(up to {wait:g} s)..."
        ) as update:
            application = remote.wait_review(
                app_ctx.store,
                app_ctx.secrets,
                application,
                wait,
                lambda info, waited: update(
                    f"Waiting for the review: {getattr(info, 'status', 'no answer')} after "
                    f"{waited:.0f} s"
                ),
            )
    refused = remote.rejection(application)
    if refused is not None:
        raise refused
    data = {
        "kind": application.kind,
        "name": application.name,
        "label": application.label,
        "account": application.account,
        "status": application.status,
        "reason": application.reason,
        "order_id": application.order_id,
        "request_id": application.request_id,
        "waited_seconds": None if application.waited is None else round(application.waited, 1),
    }
    noun = f"{application.kind} `{application.name}`"

    def human(out: Any) -> None:
        if application.status == "approved":
            out.success(f"The provider approved {noun}; it can be used for sending now.")
            return
        out.success(
            f"Submitted {noun} for review (OrderId {application.order_id or '-'}); smsctl has "
            "it as pending and never uses it for sending until it is approved."
        )
        sync = f"`smsctl {application.kind} sync {application.name}`"
        out.hint(
            f"{sync} picks up the outcome of the review."
            if wait is None
            else f"Still pending after {wait:g} s; {sync} picks up the outcome later."
        )

    out.emit(data, human)
