"""What the provider recorded of SMS sends: every SMS to one number on one day (`lookup`), and
the delivery counts per day (`stats`).

Both ask Alibaba Cloud, which files sends under China dates (UTC+8): the dates given and shown
here are China dates, the times are shown in the operator's zone with their offset. The ranges
are checked before any request.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any

from smsctl.core import audit, clock, connect
from smsctl.core.config import Config
from smsctl.core.errors import UsageError

# QuerySendDetails answers for the last 30 days only; a report of statistics is kept to the
# same window (one page of QuerySendStatistics, and the days a lookup can still explain).
PROVIDER_DAYS = 30
DEFAULT_STATS_DAYS = 7
# A receipt this long overdue is no longer "a few seconds late".
LATE_RECEIPT = timedelta(minutes=10)
_STATUS = {"waiting": "pending", "delivered": "delivered", "failed": "failed"}


def china_today() -> date:
    return clock.china_date(clock.now())


# --- lookup ----------------------------------------------------------------------------------


@dataclass
class Lookup:
    account: str
    phone: str  # E.164
    day: date  # the China date asked
    basis: str  # "given" (--date) or "today" (China's today)
    local_today: date
    items: list[dict[str, Any]] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        found = {"total": len(self.items), "delivered": 0, "failed": 0, "pending": 0}
        for item in self.items:
            found[item["status"]] += 1
        found["by_smsctl"] = sum(1 for item in self.items if item["by_smsctl"])
        return found

    def to_dict(self) -> dict[str, Any]:
        return {
            "channel": "sms",
            "account": self.account,
            "to": self.phone,
            "china_date": self.day.isoformat(),
            "date_given": self.basis == "given",
            "local_date": self.local_today.isoformat(),
            "summary": self.counts,
            "items": self.items,
        }


def lookup_day(given: str | None) -> tuple[date, str]:
    """The China date to look up: --date (checked against the provider's window) or today."""
    today = china_today()
    if not given:
        return today, "today"
    day = clock.parse_date(given, "--date")
    oldest = today - timedelta(days=PROVIDER_DAYS - 1)
    if day > today:
        raise UsageError(
            f"--date {given}: {day} is after today in China ({today}, UTC+08:00), where the "
            "provider files sends.",
            code="invalid_date",
        )
    if day < oldest:
        raise UsageError(
            f"--date {given}: the provider keeps send records for {PROVIDER_DAYS} days; the "
            f"oldest date it answers for is {oldest} (China date).",
            code="invalid_date",
        )
    return day, "given"


def lookup(config: Config, secrets: Any, account: str, phone: str, day: date, basis: str) -> Lookup:
    """Every SMS the provider recorded to `phone` on the China date `day`, newest first, each
    marked when this machine's audit log shows that smsctl sent it (matched by the OutId smsctl
    attaches to every send and records before sending)."""
    from smsctl.core.masking import mask_target

    client = connect.adapter(config, secrets, "sms", account)
    details = client.send_details(phone, day)
    ours = smsctl_sends(day, mask_target("sms", phone))
    items = [_item(detail, ours) for detail in details]
    far_past = datetime.min.replace(tzinfo=timezone.utc)
    items.sort(key=lambda item: clock.parse_iso(item["sent_at"]) or far_past, reverse=True)
    return Lookup(account, phone, day, basis, clock.local(clock.now()).date(), items)


def smsctl_sends(day: date, masked_phone: str) -> dict[str, dict[str, Any]]:
    """smsctl's SMS sends to this (masked) number recorded around China's `day`, by OutId."""
    start = datetime(day.year, day.month, day.day, tzinfo=clock.CHINA) - clock.MIDNIGHT_SLACK
    end = start + timedelta(days=1) + 2 * clock.MIDNIGHT_SLACK
    found: dict[str, dict[str, Any]] = {}
    records = audit.newest_first()
    try:
        for entry in records:
            moment = clock.parse_iso(entry.get("time"))
            if moment is None:
                continue
            if moment < start:
                break
            if moment > end or entry.get("event") != "send" or entry.get("channel") != "sms":
                continue
            out_id = entry.get("out_id")
            if out_id and entry.get("to") == masked_phone and out_id not in found:
                found[out_id] = entry
    finally:
        records.close()
    return found


def _item(detail: Any, ours: dict[str, dict[str, Any]]) -> dict[str, Any]:
    status = _STATUS.get(detail.status, "pending")
    explanation = detail.explanation
    mine = ours.get(detail.out_id or "")
    return {
        "sent_at": clock.iso(detail.send_date),
        "received_at": clock.iso(detail.receive_date),
        "status": status,
        "code": detail.err_code,
        "meaning": explanation.meaning if explanation else None,
        "template": detail.template,
        "content": detail.content,
        "biz_id": (mine or {}).get("biz_id"),
        "out_id": detail.out_id,
        "by_smsctl": mine is not None,
        "smsctl": None
        if mine is None
        else {
            "command": mine.get("command"),
            "account": mine.get("account"),
            "outcome": mine.get("outcome"),
            "logged_at": clock.iso(clock.parse_iso(mine.get("time"))),
        },
    }


def advice(report: Lookup, retry: str) -> tuple[str, str]:
    """What the lookup means for "the user says the code never came", and what to do next
    (for people; `retry` is the lookup's own command line without --date)."""
    from smsctl.core.catalog.receipts import explain_receipt

    day = report.day
    if not report.items:
        midnight = datetime(day.year, day.month, day.day, tzinfo=clock.CHINA)
        earlier = f"`{retry} --date {day - timedelta(days=1)}`"
        return (
            f"The provider recorded no SMS to {report.phone} on {day} (China date): no send to "
            "this number was accepted that day, whoever made it. A send the provider refused "
            "(bad number, template, flow control) is never recorded.",
            "Check the sending application's log for the provider's answer, and the number the "
            f"user gave. If it was sent before China's midnight ({clock.show(midnight)}), run "
            f"{earlier}. A send of the last seconds may not be listed yet.",
        )
    newest = report.items[0]
    sent = clock.parse_iso(newest["sent_at"])
    when = clock.show(sent)
    if newest["status"] == "delivered":
        return (
            f"The newest SMS, sent {when}, was delivered: the carrier confirmed it reached the "
            f"handset at {clock.show(clock.parse_iso(newest['received_at']))}.",
            "It is on the phone. Ask the user to check the SMS app's blocked or spam folder "
            "and any filtering app, that they are reading the newest message (compare the "
            "content above), and that the number is theirs. Sending again rarely helps.",
        )
    if newest["status"] == "failed":
        explanation = explain_receipt(newest["code"])
        counts = report.counts
        every = (
            f" All {counts['total']} SMS to this number that day failed: the cause is on this "
            "number's side, not in one message."
            if counts["failed"] == counts["total"] > 1
            else ""
        )
        meaning = (
            f"The newest SMS, sent {when}, was NOT delivered: {newest['code'] or 'failed'} — "
            f"{newest['meaning'] or 'the carrier reported a failure'}."
        )
        if explanation is None:
            return (
                meaning + every,
                "Look the carrier code up in Alibaba Cloud's delivery-receipt codes (doc "
                "101347); `smsctl stats --days 1` shows whether other numbers fail too.",
            )
        step = explanation.next_step
        return f"{meaning} {explanation.cause}{every}", step[:1].upper() + step[1:]
    age = clock.now() - sent if sent else timedelta(0)
    if age < LATE_RECEIPT:
        return (
            f"The newest SMS, sent {when}, has no delivery receipt yet: the carrier has not "
            "answered.",
            f"Receipts usually arrive within seconds, sometimes minutes: run `{retry}` again "
            "in a minute.",
        )
    return (
        f"The newest SMS, sent {when}, still has no delivery receipt "
        f"({int(age.total_seconds() // 60)} minutes later): the carrier is holding it.",
        "Usually the phone is off or out of coverage; the carrier delivers it when the phone "
        "is back, or reports a failure later. `smsctl stats --days 1` shows whether other "
        "numbers are waiting too.",
    )


# --- stats -----------------------------------------------------------------------------------


@dataclass
class Stats:
    account: str
    start: date
    end: date
    international: bool
    signature: str | None
    days: list[dict[str, Any]]

    @property
    def totals(self) -> dict[str, Any]:
        sums = {key: sum(d[key] for d in self.days) for key in COUNTS}
        return {**sums, "delivery_rate": rate(sums)}

    def to_dict(self) -> dict[str, Any]:
        return {
            "channel": "sms",
            "account": self.account,
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "international": self.international,
            "signature": self.signature,
            "items": self.days,
            "totals": self.totals,
        }


COUNTS = ("total", "delivered", "failed", "pending")


def rate(counts: dict[str, int]) -> float | None:
    """Delivered among all sends (a send without a receipt yet counts as not delivered)."""
    return round(counts["delivered"] / counts["total"], 4) if counts["total"] else None


def stats_range(days: int | None, start: str | None, end: str | None) -> tuple[date, date]:
    """The China dates a report covers: the last `days` (default 7) or --from/--to."""
    today = china_today()
    if days is not None and (start or end):
        raise UsageError("Give --days or --from/--to, not both.", code="invalid_range")
    if end and not start:
        raise UsageError("--to needs --from.", code="invalid_range")
    if not start:
        count = DEFAULT_STATS_DAYS if days is None else days
        if not 1 <= count <= PROVIDER_DAYS:
            raise UsageError(
                f"--days {count}: give 1 to {PROVIDER_DAYS} (the provider keeps send records "
                f"for {PROVIDER_DAYS} days).",
                code="invalid_range",
            )
        return today - timedelta(days=count - 1), today
    first = clock.parse_date(start, "--from")
    last = clock.parse_date(end, "--to") if end else today
    if first > last:
        raise UsageError(f"--from {first} is after --to {last}.", code="invalid_range")
    if last > today:
        raise UsageError(
            f"--to {last} is after today in China ({today}, UTC+08:00), where the provider "
            "counts sends.",
            code="invalid_range",
        )
    if (last - first).days + 1 > PROVIDER_DAYS:
        raise UsageError(
            f"--from {first} --to {last} spans {(last - first).days + 1} days; one report "
            f"covers at most {PROVIDER_DAYS}.",
            code="invalid_range",
        )
    return first, last


def stats(
    config: Config,
    secrets: Any,
    account: str,
    start: date,
    end: date,
    *,
    international: bool,
    signature: str | None,
) -> Stats:
    """QuerySendStatistics for each China date from `start` to `end`, oldest first; a date the
    provider does not list had no sends (zeros)."""
    client = connect.adapter(config, secrets, "sms", account)
    answered = {
        row.day: row
        for row in client.send_statistics(
            start, end, international=international, sign_name=signature
        )
    }
    days = []
    day = start
    while day <= end:
        row = answered.get(day)
        counts = {key: getattr(row, key) if row else 0 for key in COUNTS}
        days.append({"date": day.isoformat(), **counts, "delivery_rate": rate(counts)})
        day += timedelta(days=1)
    return Stats(account, start, end, international, signature, days)


def stats_advice(report: Stats) -> tuple[str, str | None]:
    """Whether SMS is failing right now, read off the report (for people)."""
    scope = "international" if report.international else "mainland"
    signed = f" with signature {report.signature}" if report.signature else ""
    if not report.totals["total"]:
        return (
            f"The provider counted no {scope} SMS{signed} from {report.start} to {report.end}.",
            "Check the account (--account), --international and --signature; "
            "`smsctl send-test` proves the chain with one real SMS.",
        )
    today = report.days[-1]
    period = report.totals
    shown = f"{period['delivery_rate']:.0%}"
    if report.end != china_today() or len(report.days) == 1:
        return (
            f"{period['total']} SMS, {shown} delivered, {period['failed']} failed, "
            f"{period['pending']} without a receipt yet.",
            _failing_hint(period),
        )
    if not today["total"]:
        return (
            f"No {scope} SMS{signed} today ({today['date']}, China date) yet; {shown} of the "
            f"{period['total']} before were delivered.",
            None,
        )
    today_rate = f"{today['delivery_rate']:.0%}"
    return (
        f"Today ({today['date']}, China date): {today['total']} SMS, {today_rate} delivered, "
        f"{today['failed']} failed, {today['pending']} without a receipt yet; {shown} over "
        f"the {len(report.days)} days.",
        _failing_hint(today),
    )


def _failing_hint(counts: dict[str, Any]) -> str | None:
    if counts["failed"] * 5 >= counts["total"]:
        return (
            "Many sends fail: run `smsctl lookup NUMBER` on an affected number to read the "
            "carrier's code and what it means."
        )
    if counts["pending"] * 2 > counts["total"]:
        return (
            "Most sends have no receipt yet: receipts usually arrive within seconds; if this "
            "stays so, the carrier is slow or holding messages (`smsctl lookup NUMBER` shows "
            "one number's sends)."
        )
    return None
