"""`smsctl log`: the local audit log of send attempts and configuration changes."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import typer

from smsctl.cli.context import app_context
from smsctl.core import audit, clock
from smsctl.core.errors import UsageError
from smsctl.core.schema import CHANNELS

_RELATIVE = re.compile(r"^(\d+)\s*([smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_since(value: str, now: datetime | None = None) -> datetime:
    """`30m`, `2h`, `7d`, `today`, `yesterday`, or an ISO date/time (local time unless given)."""
    now = now or clock.now()
    text = value.strip().lower()
    match = _RELATIVE.match(text)
    if match:
        return now - timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    if text in ("today", "yesterday"):
        day = clock.local(now).date() - timedelta(days=1 if text == "yesterday" else 0)
        # Local midnight with that day's own offset (a daylight-saving change may lie between).
        return datetime(day.year, day.month, day.day).astimezone()
    try:
        parsed = datetime.fromisoformat(re.sub(r"[zZ]$", "+00:00", value.strip()))
    except ValueError:
        raise UsageError(
            f"--since {value!r}: use e.g. 30m, 2h, 7d, today, or 2026-11-01T08:00.",
            code="invalid_since",
        ) from None
    return parsed if parsed.tzinfo else parsed.astimezone()


def log(
    ctx: typer.Context,
    channel: str = typer.Option(None, "--channel", help="sms, voice, email or wechat."),
    since: str = typer.Option(
        None, "--since", metavar="WHEN", help="30m, 2h, 7d, today, or an ISO date/time."
    ),
    limit: int = typer.Option(50, "--limit", min=0, max=100000, help="The newest N entries."),
    sends_only: bool = typer.Option(False, "--sends", help="Only send attempts and receipts."),
) -> None:
    """Show the audit log: every send attempt (masked target, ids, outcome) and every
    configuration change. Never contains a secret."""
    app_ctx = app_context(ctx)
    if channel is not None and channel not in CHANNELS:
        raise UsageError(f"Unknown channel {channel!r}: " + ", ".join(CHANNELS) + ".")
    entries = audit.read(
        channel=channel,
        since=parse_since(since) if since is not None else None,
        limit=limit,
        sends_only=sends_only,
        warn=app_ctx.output.warn,
    )

    def human(out: Any) -> None:
        if not entries:
            out.info(f"No entries in {audit.log_path()}.")
            return
        out.table(
            ["TIME", "EVENT", "CHANNEL", "ACCOUNT", "WHAT", "IDS", "OUTCOME"],
            [_row(e) for e in entries],
        )

    app_ctx.output.emit([_with_local_time(e) for e in entries], human)


def _row(entry: dict[str, Any]) -> list[str]:
    event = entry.get("event", "")
    if event.startswith("send"):
        what = " ".join(str(x) for x in (entry.get("to"), entry.get("template")) if x)
        ids = " ".join(
            f"{k}={entry[k]}"
            for k in ("biz_id", "call_id", "message_id", "msgid", "request_id", "out_id")
            if entry.get(k)
        )
        outcome = entry.get("outcome") or entry.get("receipt") or ""
        if entry.get("code"):
            outcome += f" ({entry['code']})"
    else:
        what = entry.get("action", "") + (f" {entry['item']}" if entry.get("item") else "")
        ids = ""
        outcome = entry.get("command", "")
    moment = clock.parse_iso(entry.get("time"))
    return [
        clock.show(moment) if moment else str(entry.get("time", "")),
        event,
        entry.get("channel", ""),
        entry.get("account", ""),
        what,
        ids,
        outcome,
    ]


def _with_local_time(entry: dict[str, Any]) -> dict[str, Any]:
    """--json shows the time as every --json time: ISO 8601 in local time with the offset (the
    file keeps UTC)."""
    moment = clock.parse_iso(entry.get("time"))
    return {**entry, "time": clock.iso(moment)} if moment else entry
