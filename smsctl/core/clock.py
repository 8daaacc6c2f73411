"""The one place smsctl reads the time, and the one way it writes a time.

- `now()` is the only reading of the clock. Tests replace `source` (an epoch-seconds callable);
  a subprocess (the installed console script in the end-to-end tests) can be given a frozen
  moment through SMSCTL_FAKE_NOW, a testing aid read by nothing else.
- A time shown to a person is local time with its offset: `2026-12-01 21:40:05 +08:00` (`show`).
- A time in --json is ISO 8601 with its offset: `2026-12-01T21:40:05+08:00` (`iso`).
- Alibaba Cloud writes times without a zone and files sends under dates that are China Standard
  Time (UTC+8, no daylight saving): `china_time` and `china_date` convert.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from smsctl.core.errors import ConfigError, UsageError

CHINA = timezone(timedelta(hours=8), "China Standard Time")
FAKE_NOW_ENV = "SMSCTL_FAKE_NOW"
# How far apart the local clock and the provider's may be near China's midnight and still file
# a send under the same date; within this of midnight both dates are asked for. The provider
# refuses requests signed more than 15 minutes off, so no accepted send is further out.
MIDNIGHT_SLACK = timedelta(minutes=15)

source: Callable[[], float] = time.time


def now() -> datetime:
    """The current moment, timezone-aware (UTC)."""
    fake = os.environ.get(FAKE_NOW_ENV)
    if fake:
        return _fake_now(fake)
    return datetime.fromtimestamp(source(), timezone.utc)


def timestamp() -> float:
    return now().timestamp()


def local(moment: datetime) -> datetime:
    """`moment` in the operator's zone (TZ / the system's zone)."""
    return _aware(moment).astimezone()


def show(moment: datetime | None) -> str:
    """The one human format: local time, to the second, with the UTC offset."""
    if moment is None:
        return "-"
    shown = local(moment)
    return f"{shown:%Y-%m-%d %H:%M:%S} {offset(shown)}"


def iso(moment: datetime | None) -> str | None:
    """The one --json format: ISO 8601 in local time with the offset (seconds, or finer when
    the moment has a fraction)."""
    if moment is None:
        return None
    return local(moment).isoformat()


def offset(moment: datetime) -> str:
    """`+08:00`, `-05:00`, `+00:00`."""
    delta = moment.utcoffset() or timedelta(0)
    minutes = int(delta.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def parse_iso(text: str | None) -> datetime | None:
    """An ISO 8601 time with an offset or `Z` (as smsctl writes them) -> aware datetime; None
    when absent or not such a time. A time without a zone is not guessed at."""
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(re.sub(r"[zZ]$", "+00:00", str(text).strip()))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


# --- China: where Alibaba Cloud files sends -------------------------------------------------


def china_time(text: str | None) -> datetime | None:
    """A provider time string (`2026-12-01 21:40:05`, China time without a zone) -> aware
    datetime in UTC+8; None when empty or not a time."""
    if not text or not str(text).strip():
        return None
    value = str(text).strip()
    for pattern in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S.%f"):
        try:
            return datetime.strptime(value, pattern).replace(tzinfo=CHINA)
        except ValueError:
            continue
    return None


def china_date(moment: datetime) -> date:
    """The date the provider files `moment` under."""
    return _aware(moment).astimezone(CHINA).date()


def china_dates_around(moment: datetime) -> list[date]:
    """The China date of `moment` first, then the neighbouring date when `moment` is within
    MIDNIGHT_SLACK of China's midnight (the provider's clock may have read the other side)."""
    dates = [china_date(moment)]
    for neighbour in (china_date(moment - MIDNIGHT_SLACK), china_date(moment + MIDNIGHT_SLACK)):
        if neighbour not in dates:
            dates.append(neighbour)
    return dates


def china_noon(day: date) -> datetime:
    """A moment safely inside China's `day` (for APIs that take a moment to mean a day)."""
    return datetime(day.year, day.month, day.day, 12, tzinfo=CHINA)


def local_day_in_china(day: date) -> list[date]:
    """The China dates the operator's local `day` overlaps (one when the zones agree)."""
    start = datetime(day.year, day.month, day.day).astimezone()
    end = (start + timedelta(days=1, seconds=-1)).astimezone()
    dates = [china_date(start)]
    if china_date(end) not in dates:
        dates.append(china_date(end))
    return dates


@dataclass(frozen=True)
class ChinaDays:
    """The China dates a lookup asks the provider for, most likely first, and why those."""

    dates: tuple[date, ...]
    basis: str  # "given" (--date), "send" (the send's own moment), "today" (nothing better)
    sent_at: datetime | None = None


def days_to_ask(given: str | None, sent_at: datetime | None, option: str = "--date") -> ChinaDays:
    """--date when given (a China date), else the date of the send itself, else China's today."""
    if given:
        return ChinaDays((parse_date(given, option),), "given")
    if sent_at is not None:
        return ChinaDays(tuple(china_dates_around(sent_at)), "send", sent_at)
    return ChinaDays((china_date(now()),), "today")


def explain_days(days: ChinaDays, retry: Callable[[date], str]) -> tuple[str, str]:
    """For a lookup that found no record: which China date was asked and why (`what`), and
    what to try (`hint`, naming the command `retry(date)` builds)."""
    asked = days.dates[0]
    if days.basis == "send":
        assert days.sent_at is not None
        what = f"on {asked}, the China date of its send at {show(days.sent_at)} (from smsctl's log)"
        return what, "Records appear seconds after the send; try again in a minute."
    if days.basis == "given":
        what = f"on {asked} (read as China's date, UTC+08:00, where the provider files sends)"
        others = [day for day in local_day_in_china(asked) if day != asked]
        if others:
            return what, (
                f"Your local date {asked} overlaps {' and '.join(map(str, others))} in China; "
                f"if it was sent then, try `{retry(others[0])}`."
            )
        return what, "Check the date of the send, or try again in a minute."
    local_today = local(now()).date()
    what = f"on {asked}, China's date today (smsctl's log has no record of this send)"
    if local_today != asked:
        what += f"; your date {local_today} is {asked} in China, where the provider files sends"
    midnight = datetime(asked.year, asked.month, asked.day, tzinfo=CHINA)
    earlier = asked - timedelta(days=1)
    return what, (
        f"If it was sent before China's midnight ({show(midnight)}), try `{retry(earlier)}`; "
        "a send of the last seconds may not be listed yet."
    )


def parse_date(text: str, option: str = "--date") -> date:
    """A date option: `YYYY-MM-DD` or `YYYYMMDD` (UsageError otherwise)."""
    value = text.strip()
    pattern = "%Y-%m-%d" if "-" in value else "%Y%m%d"
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}|\d{8}", value):
        try:
            return datetime.strptime(value, pattern).date()
        except ValueError:
            pass
    raise UsageError(
        f"{option} {text!r}: expected a date as YYYY-MM-DD or YYYYMMDD (e.g. 2026-12-01).",
        code="invalid_date",
    )


def compact(day: date) -> str:
    """`20261201`, the provider's date format."""
    return day.strftime("%Y%m%d")


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("smsctl never handles a time without its zone")
    return moment


def _fake_now(text: str) -> datetime:
    moment = parse_iso(text)
    if moment is None:
        raise ConfigError(
            f"{FAKE_NOW_ENV}={text!r} is not an ISO 8601 time with an offset.",
            hint=f"It is a testing aid, e.g. {FAKE_NOW_ENV}=2026-12-01T23:59:58+08:00; unset it "
            "to use the real clock.",
            code="invalid_fake_now",
        )
    return moment.astimezone(timezone.utc)
