"""smsctl.core.clock: the one reading of the clock, the one way times are written, China dates."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from smsctl.core import clock
from smsctl.core.errors import ConfigError, UsageError
from tests.fixtures.clock import BEFORE_CHINA_MIDNIGHT

CHINA = timezone(timedelta(hours=8))
MOMENT = datetime(2026, 12, 1, 13, 40, 5, tzinfo=timezone.utc)  # 21:40:05 in China


@pytest.mark.parametrize(
    ("zone", "shown", "iso"),
    [
        ("UTC", "2026-12-01 13:40:05 +00:00", "2026-12-01T13:40:05+00:00"),
        ("Asia/Shanghai", "2026-12-01 21:40:05 +08:00", "2026-12-01T21:40:05+08:00"),
        ("America/New_York", "2026-12-01 08:40:05 -05:00", "2026-12-01T08:40:05-05:00"),
        ("Asia/Kolkata", "2026-12-01 19:10:05 +05:30", "2026-12-01T19:10:05+05:30"),
    ],
)
def test_times_are_local_with_their_offset(local_zone, zone, shown, iso):
    local_zone(zone)
    assert clock.show(MOMENT) == shown
    assert clock.iso(MOMENT) == iso
    assert clock.parse_iso(clock.iso(MOMENT)) == MOMENT


def test_a_moment_in_any_zone_is_shown_in_the_local_one(local_zone):
    local_zone("Europe/Berlin")
    assert clock.show(MOMENT.astimezone(CHINA)) == "2026-12-01 14:40:05 +01:00"
    assert clock.show(None) == "-" and clock.iso(None) is None


def test_a_time_without_a_zone_is_refused():
    with pytest.raises(ValueError):
        clock.show(datetime(2026, 12, 1, 12, 0))
    assert clock.parse_iso("2026-12-01T12:00:00") is None
    assert clock.parse_iso("2026-12-01T12:00:00.123456Z") == datetime(
        2026, 12, 1, 12, 0, 0, 123456, tzinfo=timezone.utc
    )


def test_provider_times_are_china_time(local_zone):
    local_zone("UTC")
    parsed = clock.china_time("2026-12-01 21:40:05")
    assert parsed == MOMENT and parsed.utcoffset() == timedelta(hours=8)
    assert clock.show(parsed) == "2026-12-01 13:40:05 +00:00"
    assert clock.china_time("") is None and clock.china_time(None) is None
    assert clock.china_time("yesterday") is None


@pytest.mark.parametrize(
    ("moment", "dates"),
    [
        # 15:59:58 UTC is 23:59:58 in China: the send is filed under the 1st, and the provider's
        # clock may read the 2nd.
        (
            datetime(2026, 12, 1, 15, 59, 58, tzinfo=timezone.utc),
            [date(2026, 12, 1), date(2026, 12, 2)],
        ),
        (
            datetime(2026, 12, 1, 16, 0, 3, tzinfo=timezone.utc),
            [date(2026, 12, 2), date(2026, 12, 1)],
        ),
        (MOMENT, [date(2026, 12, 1)]),
        # 23:00 UTC on the 1st is the 2nd in China, far from its midnight.
        (datetime(2026, 12, 1, 23, 0, tzinfo=timezone.utc), [date(2026, 12, 2)]),
    ],
)
def test_china_dates_come_from_the_moment_not_the_local_zone(local_zone, moment, dates):
    for zone in ("UTC", "America/Los_Angeles", "Asia/Tokyo"):
        local_zone(zone)
        assert clock.china_dates_around(moment) == dates


@pytest.mark.parametrize("text", ["2026-12-01", "20261201", " 2026-12-01 "])
def test_dates_are_accepted_in_both_forms(text):
    assert clock.parse_date(text) == date(2026, 12, 1)


@pytest.mark.parametrize("text", ["2026/12/01", "2026121", "2026-13-01", "20260230", "today", ""])
def test_other_dates_are_usage_errors(text):
    with pytest.raises(UsageError) as caught:
        clock.parse_date(text)
    assert caught.value.exit_code == 2 and "YYYY-MM-DD or YYYYMMDD" in caught.value.message


@pytest.mark.parametrize(
    ("zone", "overlap"),
    [
        ("Asia/Shanghai", [date(2026, 12, 1)]),
        ("UTC", [date(2026, 12, 1), date(2026, 12, 2)]),
        ("America/New_York", [date(2026, 12, 1), date(2026, 12, 2)]),
        ("Asia/Tokyo", [date(2026, 11, 30), date(2026, 12, 1)]),
    ],
)
def test_a_local_day_overlaps_the_china_dates_it_spans(local_zone, zone, overlap):
    local_zone(zone)
    assert clock.local_day_in_china(date(2026, 12, 1)) == overlap


def test_the_clock_is_injected(smsctl_clock):
    smsctl_clock.set(BEFORE_CHINA_MIDNIGHT)
    assert clock.now() == BEFORE_CHINA_MIDNIGHT and clock.now().tzinfo is not None
    smsctl_clock.advance(5)
    assert clock.china_date(clock.now()) == date(2030, 4, 1)


def test_the_fake_now_variable_freezes_the_clock(monkeypatch):
    monkeypatch.setenv(clock.FAKE_NOW_ENV, "2030-03-31T23:59:58+08:00")
    assert clock.now() == BEFORE_CHINA_MIDNIGHT
    monkeypatch.setenv(clock.FAKE_NOW_ENV, "2030-03-31 23:59:58")
    with pytest.raises(ConfigError) as caught:
        clock.now()
    assert caught.value.exit_code == 3 and clock.FAKE_NOW_ENV in caught.value.message


def retry(day: date) -> str:
    return f"smsctl receipt --date {day}"


def test_a_lookup_by_the_send_names_its_china_date(local_zone):
    local_zone("UTC")
    days = clock.days_to_ask(None, BEFORE_CHINA_MIDNIGHT)
    assert days.dates == (date(2030, 3, 31), date(2030, 4, 1)) and days.basis == "send"
    what, _ = clock.explain_days(days, retry)
    assert what == (
        "on 2030-03-31, the China date of its send at 2030-03-31 15:59:58 +00:00 "
        "(from smsctl's log)"
    )


def test_a_given_date_that_spans_two_china_dates_says_so(local_zone):
    local_zone("UTC")
    days = clock.days_to_ask("20301201", None)
    what, hint = clock.explain_days(days, retry)
    assert what.startswith("on 2030-12-01 (read as China's date, UTC+08:00")
    assert "Your local date 2030-12-01 overlaps 2030-12-02 in China" in hint
    assert "`smsctl receipt --date 2030-12-02`" in hint


def test_today_in_china_when_the_local_date_differs(local_zone, smsctl_clock):
    local_zone("UTC")
    smsctl_clock.set(datetime(2030, 12, 1, 21, 0, tzinfo=timezone.utc))  # 05:00 on the 2nd in China
    days = clock.days_to_ask(None, None)
    assert days.dates == (date(2030, 12, 2),) and days.basis == "today"
    what, hint = clock.explain_days(days, retry)
    assert "your date 2030-12-01 is 2030-12-02 in China, where the provider files sends" in what
    assert hint == (
        "If it was sent before China's midnight (2030-12-01 16:00:00 +00:00), try "
        "`smsctl receipt --date 2030-12-01`; a send of the last seconds may not be listed yet."
    )


def test_today_in_china_when_the_local_date_agrees(local_zone, smsctl_clock):
    local_zone("Asia/Shanghai")
    smsctl_clock.set(datetime(2030, 12, 1, 21, 0, tzinfo=timezone.utc))
    what, _ = clock.explain_days(clock.days_to_ask(None, None), retry)
    assert "your date" not in what and what.startswith("on 2030-12-02, China's date today")
