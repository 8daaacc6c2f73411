"""`smsctl lookup` and `smsctl stats`: what the provider recorded, for on-call engineers.

`lookup` answers "the user says the code never came" (every SMS to one number on one day, who
sent it, what the carrier answered); `stats` answers "is SMS failing right now?" (delivery
counts per day).
"""

from __future__ import annotations

import shlex
from typing import Any

import typer

from smsctl.cli.context import app_context
from smsctl.core import clock, sendreport
from smsctl.providers.worker import calls_alibaba


@calls_alibaba("sms")
def lookup(
    ctx: typer.Context,
    phone: str = typer.Argument(
        ..., metavar="PHONE", help="E.164 number; mainland numbers may omit +86."
    ),
    date: str = typer.Option(
        None,
        "--date",
        metavar="DATE",
        help="The day in China (UTC+8), YYYY-MM-DD or YYYYMMDD, within the last 30 days. "
        "Default: today in China.",
    ),
    account: str = typer.Option(None, "--account", help="Default: the active account."),
) -> None:
    """Every SMS to a number on one day, and what it means.

    Lists what the provider recorded to PHONE on a China date, whoever sent it, newest first:
    time, status, the carrier's code explained, template, content, OutId, and which sends smsctl
    made itself (with their BizId). Ends with what it means and what to do next."""
    from smsctl.core.recipients import parse_phone
    from smsctl.core.resolution import resolve_account

    app_ctx = app_context(ctx)
    number = parse_phone(phone)
    day, basis = sendreport.lookup_day(date)
    config = app_ctx.config()
    chosen = resolve_account(config, "sms", account)
    report = sendreport.lookup(config, app_ctx.secrets, chosen.name, number.e164, day, basis)
    retry = f"smsctl lookup {shlex.quote(number.e164)}" + (
        f" --account {shlex.quote(account)}" if account else ""
    )
    app_ctx.output.emit(report.to_dict(), lambda out: _render_lookup(out, report, retry))


def _render_lookup(out: Any, report: sendreport.Lookup, retry: str) -> None:
    counts = report.counts
    out.line(
        f"SMS to {report.phone} on {report.day} (China date, UTC+08:00), account "
        f"{report.account}: {counts['total']} recorded"
        + (", newest first." if counts["total"] > 1 else ".")
    )
    if report.basis == "today" and report.local_today != report.day:
        out.line(
            f"That is today in China, where the provider files sends; your local date is "
            f"{report.local_today}."
        )
    for item in report.items:
        out.line()
        code = item["code"] or ""
        meaning = f" ({item['meaning']})" if item["meaning"] else ""
        out.line(
            f"{clock.show(clock.parse_iso(item['sent_at']))}  {item['status']}  {code}{meaning}"
        )
        fields: dict[str, Any] = {
            "template": item["template"],
            "content": item["content"],
            "received": clock.show(clock.parse_iso(item["received_at"]))
            if item["received_at"]
            else "no receipt yet",
            "BizId": item["biz_id"]
            or ("-" if item["by_smsctl"] else "- (the provider's record carries none)"),
            "OutId": item["out_id"],
            "sent by": _sender(item),
        }
        width = max(len(key) for key in fields)
        for key, value in fields.items():
            out.line(f"    {key.ljust(width)}  {value if value not in (None, '') else '-'}")
    meaning, next_step = sendreport.advice(report, retry)
    out.line()
    if counts["total"]:
        others = counts["total"] - counts["by_smsctl"]
        out.line(
            f"{counts['delivered']} delivered, {counts['failed']} failed, {counts['pending']} "
            f"pending; {counts['by_smsctl'] or 'none'} sent by smsctl from this machine"
            + (
                f", {others} by the application or another client of the account."
                if others
                else "."
            )
        )
    out.line(f"What it means: {meaning}")
    out.line(f"Next: {next_step}")


def _sender(item: dict[str, Any]) -> str:
    mine = item["smsctl"]
    if mine is None:
        return "not smsctl on this machine (the application or another client)"
    return f"smsctl ({mine['command']}, account {mine['account']}, {mine['outcome']})"


@calls_alibaba("sms")
def stats(
    ctx: typer.Context,
    days: int = typer.Option(
        None,
        "--days",
        metavar="N",
        help="The last N days in China, today included (1-30, default 7).",
    ),
    start: str = typer.Option(
        None, "--from", metavar="DATE", help="First China date, YYYY-MM-DD or YYYYMMDD."
    ),
    end: str = typer.Option(
        None, "--to", metavar="DATE", help="Last China date (default: today in China)."
    ),
    signature: str = typer.Option(None, "--signature", help="Only sends with this signature."),
    international: bool = typer.Option(
        False, "--international", help="International sends instead of mainland ones."
    ),
    account: str = typer.Option(None, "--account", help="Default: the active account."),
) -> None:
    """Delivery per day: sent, delivered, failed, pending, rate.

    From the provider's own counts (QuerySendStatistics) for China dates: the last N days, or
    --from/--to; a bar per day on a terminal."""
    from smsctl.core.names import check_provider_name
    from smsctl.core.resolution import resolve_account

    app_ctx = app_context(ctx)
    first, last = sendreport.stats_range(days, start, end)
    if signature is not None:
        check_provider_name(signature, "signature name")
    config = app_ctx.config()
    chosen = resolve_account(config, "sms", account)
    report = sendreport.stats(
        config,
        app_ctx.secrets,
        chosen.name,
        first,
        last,
        international=international,
        signature=signature,
    )
    app_ctx.output.emit(report.to_dict(), lambda out: _render_stats(out, report))


def _render_stats(out: Any, report: sendreport.Stats) -> None:
    scope = "international" if report.international else "mainland"
    signed = f", signature {report.signature}" if report.signature else ""
    out.line(
        f"SMS delivery, account {report.account}, {scope}{signed}: {report.start} to "
        f"{report.end} (China dates, UTC+08:00, where the provider counts sends)"
    )
    rows = [_stats_row(day["date"], day) for day in report.days]
    bars = [
        [(day["delivered"], "good"), (day["failed"], "bad"), (day["pending"], "waiting")]
        for day in report.days
    ]
    totals = report.totals
    rows.append(_stats_row("all days", totals))
    bars.append([])
    out.bar_table(["DATE", "TOTAL", "DELIVERED", "FAILED", "PENDING", "RATE"], rows, bars)
    out.line(
        "Bar: green delivered, red failed, yellow pending (no receipt yet)."
        if out.is_tty
        else "Bar: # delivered, x failed, . pending (no receipt yet)."
    )
    meaning, next_step = sendreport.stats_advice(report)
    out.line(meaning)
    if next_step:
        out.line(f"Next: {next_step}")


def _stats_row(label: str, counts: dict[str, Any]) -> list[str]:
    shown = counts["delivery_rate"]
    return [
        label,
        str(counts["total"]),
        str(counts["delivered"]),
        str(counts["failed"]),
        str(counts["pending"]),
        "-" if shown is None else f"{shown:.1%}",
    ]
