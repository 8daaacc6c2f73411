"""`smsctl send-test` and `smsctl receipt`: prove the SMS chain works, for on-call engineers.

One run says what was resolved and why, the exact text, what the provider answered and what it
means, and (with --wait) whether the message was delivered. `run_send_test` is every channel's
send-test: the voice, email and WeChat commands parse their options and call it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

import typer

from smsctl.cli import interrupts
from smsctl.cli.context import AppContext, app_context
from smsctl.cli.options import DRY_RUN, PARAM, PARAMS_JSON, TIMEOUT, YES
from smsctl.cli.render import WarningsOnly, render_resolution
from smsctl.core import clock, sms, testsend
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
    run_send_test(
        app_context(ctx),
        "sms",
        {
            "to": to,
            "scenario": scenario,
            "app": app_name,
            "account": account,
            "signature": signature,
            "template": template,
            "values": parse_params(param, params_json),
        },
        dry_run=dry_run,
        yes=yes,
        wait=wait,
        timeout=timeout,
    )


def run_send_test(
    app_ctx: AppContext,
    channel: str,
    request: dict[str, Any],
    *,
    dry_run: bool,
    yes: bool,
    wait: float | None,
    timeout: float | None,
) -> None:
    """Every channel's send-test: the one flow of core.testsend, said to the operator at each
    step, its result in the one shape."""
    config = app_ctx.config()
    result = testsend.run(
        config,
        app_ctx.secrets,
        channel,
        request,
        dry_run=dry_run,
        wait=wait,
        timeout=timeout,
        steps=_Steps(app_ctx, config, yes),
    )
    app_ctx.output.emit(result.to_dict(), lambda out: _render_result(out, result))


class _Steps(testsend.Steps):
    """What the operator sees and answers between the steps of the flow."""

    def __init__(self, app_ctx: AppContext, config: Any, yes: bool) -> None:
        self.app_ctx, self.out, self.config, self.yes = app_ctx, app_ctx.output, config, yes

    def show(self, result: testsend.SendTest) -> None:
        """The plan (with --quiet only its warnings), before anything is sent."""
        if self.out.json_mode:
            return
        out = WarningsOnly(self.out) if self.out.quiet else self.out
        render_resolution(out, result.plan.resolution)
        for line in result.sender.plan_lines(result.plan):
            out.line(line)
        for warning in result.plan.warnings:
            out.warn(warning)

    def confirm(self, result: testsend.SendTest) -> None:
        sender = result.sender
        self.app_ctx.confirm(sender.question(result.plan), yes=self.yes, what=sender.confirm_what)

    @contextmanager
    def sending(self, result: testsend.SendTest) -> Iterator[None]:
        plan, sender = result.plan, result.sender
        self.out.debug(f"sending via {plan.channel} account {plan.account}, OutId {plan.out_id}")
        progress = sender.sending_text(plan)
        with (
            interrupts.during_send(
                plan,
                sender.noun,
                lambda: sender.in_flight_hint(plan, self.config),
                verb=sender.verb,
            ),
            self.out.progress(progress) if progress else nullcontext(),
        ):
            yield

    def accepted(self, result: testsend.SendTest) -> None:
        if not self.out.json_mode:
            self.out.result(result.sender.accepted_text(result))

    @contextmanager
    def waiting(self, result: testsend.SendTest, seconds: float) -> Iterator[Any]:
        done, how_to_check = result.sender.wait_lookup(result, self.config)
        first, tick = result.sender.waiting_texts(seconds)
        with (
            interrupts.during_wait(done, how_to_check, result.summary()),
            self.out.progress(first) as update,
        ):
            yield lambda state, waited: update(tick(state, waited))


def _render_result(out: Any, result: testsend.SendTest) -> None:
    sender = result.sender
    if result.dry_run:
        out.result(sender.dry_run_text)
    elif result.final is not None:
        out.result(sender.final_text(result))
    else:
        note = sender.accepted_note(result)
        if note:
            out.info(note)


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
        "channel": "sms",
        "account": chosen.name,
        "to": phone.e164,
        "biz_id": biz_id,
        "out_id": out_id,
        "final": sms.final_of(found, found.status != "waiting"),
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
