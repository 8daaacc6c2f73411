"""`smsctl send-test` and `smsctl receipt`: prove the SMS chain works, for on-call engineers.

One run says what was resolved and why, the exact text, what the provider answered and what it
means, and (with --wait) whether the message was delivered.
"""

from __future__ import annotations

from typing import Any

import typer

from smsctl.cli import interrupts
from smsctl.cli.context import AppContext, app_context
from smsctl.cli.options import DRY_RUN, PARAM, PARAMS_JSON, TIMEOUT, YES
from smsctl.cli.render import confirm_plan, render_resolution
from smsctl.core import clock, sms
from smsctl.core.errors import UsageError
from smsctl.core.params import parse_params
from smsctl.providers.worker import calls_alibaba


@calls_alibaba("sms", unless=("--dry-run",))
def send_test(
    ctx: typer.Context,
    to: str = typer.Option(
        ..., "--to", metavar="PHONE", help="E.164 number; mainland numbers may omit +86."
    ),
    scenario: str = typer.Option(
        None, "--scenario", help="register, login, reset-password, notification, alert or test."
    ),
    app_name: str = typer.Option(
        None, "--app", help="The app the send is for (personalized signatures/templates win)."
    ),
    account: str = typer.Option(None, "--account", help="Use this account, not the active one."),
    signature: str = typer.Option(None, "--signature", help="Use this signature."),
    template: str = typer.Option(None, "--template", help="Use this template code."),
    param: list[str] = PARAM,
    params_json: str = PARAMS_JSON,
    dry_run: bool = DRY_RUN,
    wait: float = typer.Option(
        None,
        "--wait",
        metavar="SECONDS",
        min=0,
        max=3600,
        help="Wait up to SECONDS for the delivery receipt.",
    ),
    timeout: float = TIMEOUT,
    yes: bool = YES,
) -> None:
    """Send a real test SMS through the resolved account, signature and template."""
    app_ctx = app_context(ctx)
    out = app_ctx.output
    values = parse_params(param, params_json)
    config = app_ctx.config()
    plan = sms.prepare_send(
        config,
        to=to,
        scenario=scenario,
        app=app_name,
        account=account,
        signature=signature,
        template=template,
        values=values,
    )
    report: dict[str, Any] = {**plan.to_dict(), "dry_run": dry_run, "sent": False}
    if not confirm_plan(
        app_ctx,
        report,
        lambda o: show_plan(o, plan),
        dry_run=dry_run,
        yes=yes,
        dry_run_text="Dry run: nothing was sent",
        question=f"Send this SMS to {plan.target}?",
        what="Sending a test SMS",
    ):
        return
    out.debug(f"sending via account {plan.account}, OutId {plan.out_id}")
    receipt_of = receipt_command(config, plan)
    with interrupts.during_send(
        plan,
        "SMS",
        lambda: (
            f"Check before sending again: `{receipt_of('--out-id', plan.out_id)}` finds it "
            "once the provider lists it."
        ),
    ):
        client, result = sms.send(config, app_ctx.secrets, plan, read_timeout=timeout)
    report.update(
        sent=True,
        biz_id=result.biz_id,
        request_id=result.request_id,
        attempts=result.attempts,
        provider_code=result.code,
    )
    if not out.json_mode:
        retried = f" after {result.attempts} attempts" if result.attempts > 1 else ""
        out.result(
            f"Accepted by Alibaba Cloud{retried}: BizId {result.biz_id}, RequestId "
            f"{result.request_id}, OutId {plan.out_id}"
        )
    if wait:
        with interrupts.during_wait(
            f"the SMS was accepted (BizId {result.biz_id}, OutId {plan.out_id})",
            f"`{receipt_of('--biz-id', result.biz_id)}`",
            report_summary(report),
        ):
            _wait(app_ctx, client, plan, result.biz_id, wait, report)
    out.emit(
        report,
        lambda o: (
            None
            if wait
            else o.info(
                "Accepted means queued for the carrier, not delivered; add --wait 60 to wait "
                "for the delivery receipt."
            )
        ),
    )


def receipt_command(config: Any, plan: Any) -> Any:
    """`smsctl receipt` for this send, by BizId or OutId (with --account unless it went
    through the active account)."""
    account = "" if config.active_account("sms") == plan.account else f" --account {plan.account}"

    def command(flag: str, value: str) -> str:
        import shlex

        return f"smsctl receipt --to {plan.target} {flag} {shlex.quote(value)}{account}"

    return command


def show_plan(out: Any, plan: Any) -> None:
    render_resolution(out, plan.resolution)
    out.line(f"to:        {plan.target}")
    out.line(f"text:      {plan.text}")
    out.line(f"           ({plan.extra['length']} characters, {plan.extra['segments']} segment(s))")
    for warning in plan.warnings:
        out.warn(warning)


def _wait(
    app_ctx: AppContext, client: Any, plan: Any, biz_id: str, wait: float, report: dict[str, Any]
) -> None:
    out = app_ctx.output
    with out.progress(f"Waiting for the delivery receipt (up to {wait:g} s)...") as update:
        outcome = sms.wait_receipt(
            client,
            plan,
            biz_id,
            wait,
            on_tick=lambda state, waited: update(
                f"Waiting for the delivery receipt: {getattr(state, 'status', 'no answer')} "
                f"after {waited:.0f} s"
            ),
        )
    receipt = outcome.state
    report["receipt"] = (
        None
        if receipt is None
        else {
            "status": receipt.status if outcome.final else "waiting",
            "err_code": receipt.err_code,
            "receive_date": clock.iso(receipt.receive_date),
            "waited_seconds": round(outcome.waited, 1),
        }
    )
    failure = sms.receipt_error(plan.masked_target, biz_id, outcome, wait)
    if failure is not None:
        failure.details.update(report_summary(report))
        raise failure
    out.result(
        f"Delivered to {plan.target} at {clock.show(receipt.receive_date)} ({receipt.err_code})"
    )


def report_summary(report: dict[str, Any]) -> dict[str, Any]:
    keys = ("to", "out_id", "biz_id", "request_id", "receipt")
    return {key: report.get(key) for key in keys if key in report}


@calls_alibaba("sms")
def receipt(
    ctx: typer.Context,
    to: str = typer.Option(..., "--to", metavar="PHONE", help="The number the SMS went to."),
    biz_id: str = typer.Option(None, "--biz-id", help="The BizId send-test printed."),
    out_id: str = typer.Option(
        None,
        "--out-id",
        help="Or the OutId smsctl attached (in `smsctl log`), for a send whose response was lost.",
    ),
    date: str = typer.Option(
        None,
        "--date",
        metavar="DATE",
        help="The send's date in China (UTC+8), YYYY-MM-DD or YYYYMMDD. Default: the send's own "
        "date from smsctl's log, else China's today.",
    ),
    account: str = typer.Option(None, "--account", help="Default: the active account."),
) -> None:
    """Look up the delivery receipt of an SMS sent earlier (exit 0 delivered, 8 otherwise)."""
    from smsctl.core import connect
    from smsctl.core.recipients import parse_phone
    from smsctl.core.resolution import resolve_account

    app_ctx = app_context(ctx)
    if not biz_id and not out_id:
        raise UsageError("Give --biz-id or --out-id.")
    phone = parse_phone(to)
    if date:
        clock.parse_date(date)
    config = app_ctx.config()
    chosen = resolve_account(config, "sms", account)
    client = connect.adapter(config, app_ctx.secrets, "sms", chosen.name)
    found, days, asked = sms.find_receipt(client, phone.e164, biz_id, out_id, date)
    data = {
        "to": phone.e164,
        "biz_id": biz_id,
        "out_id": out_id,
        "status": found.status,
        "err_code": found.err_code,
        "receive_date": clock.iso(found.receive_date),
        "send_date": clock.iso(found.send_date),
        "china_date": asked.isoformat(),
        "content": found.content,
    }
    if found.status == "failed":
        from smsctl.core.testsend import WaitOutcome

        raise sms.receipt_error(phone.e164, biz_id, WaitOutcome(found, True, 0), 0)
    if found.status == "waiting":
        raise sms.receipt_pending_error(phone.e164, biz_id, out_id, found, days, data)
    app_ctx.output.emit(
        data,
        lambda out: out.success(
            f"Delivered to {phone.e164} at {clock.show(found.receive_date)} ({found.err_code})"
        ),
    )
