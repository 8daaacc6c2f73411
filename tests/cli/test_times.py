"""Times and dates as smsctl shows and uses them: a send just before China's midnight is found
just after it, every time shown names its zone, --json times carry their offset.

The clocks are injected (tests/fixtures/clock.py): smsctl's and the sandbox's, frozen together;
the zone is set per test. Nothing here reads the real clock or the machine's zone.
"""

from __future__ import annotations

import json
import shlex
from datetime import datetime, timezone

import pytest

from smsctl.core import audit
from tests.fixtures.clock import AFTER_CHINA_MIDNIGHT
from tests.support.cli import add_sandbox_sms_account, invoke

NUMBER = "+8613812345678"
TTS = "TTS_100000001"


@pytest.fixture
def sms_ready(clocks, fresh_sandbox_state):
    add_sandbox_sms_account(fresh_sandbox_state.info()["sms"])
    return fresh_sandbox_state


def send_sms(*extra: str):
    return invoke(
        "send-test", "--to", NUMBER, "--scenario", "login", "--param", "code=1", "--yes", *extra
    )


def receipt_dates_asked(sandbox) -> list[str]:
    return [
        params["SendDate"]
        for action, params in sandbox.alibaba.state.requests
        if action == "QuerySendDetails"
    ]


def cross_midnight_after(sandbox, clocks, monkeypatch, operation: str) -> None:
    """Once the sandbox has recorded the send (SMS) or call (voice), both clocks jump past
    China's midnight: the receipt or call result is asked for on the next China day."""
    operations = sandbox.alibaba.operations
    original = getattr(operations, operation)

    def then_midnight(*args, **kwargs):
        result = original(*args, **kwargs)
        clocks.set(AFTER_CHINA_MIDNIGHT)
        return result

    monkeypatch.setattr(operations, operation, then_midnight)


# --- SMS receipts across China's midnight ------------------------------------------------------


@pytest.mark.parametrize("zone", ["UTC", "Asia/Shanghai", "America/Los_Angeles"])
def test_send_test_wait_finds_the_receipt_after_china_midnight(
    sms_ready, clocks, monkeypatch, local_zone, zone
) -> None:
    local_zone(zone)
    cross_midnight_after(sms_ready, clocks, monkeypatch, "_record_sms")
    result = send_sms("--wait", "2", "--json")
    assert result.exit_code == 0, result.all_output
    assert result.json()["final"]["state"] == "delivered"
    assert receipt_dates_asked(sms_ready) == ["20300331"]


def test_near_midnight_both_china_dates_are_asked_when_the_provider_clock_is_ahead(
    sms_ready, clocks
) -> None:
    # smsctl sends at 23:59:58 by its clock; the provider's clock already reads 00:00:03 and
    # files the send under the next date.
    sms_ready.alibaba.state.set_clock(AFTER_CHINA_MIDNIGHT, frozen=True)
    sms_ready.alibaba.state.receipt_delay = 0
    result = send_sms("--wait", "2", "--json")
    assert result.exit_code == 0, result.all_output
    assert receipt_dates_asked(sms_ready) == ["20300331", "20300401"]


def test_receipt_after_china_midnight_asks_for_the_date_of_the_send(
    sms_ready, clocks, local_zone
) -> None:
    local_zone("UTC")
    sent = send_sms("--json")
    assert sent.exit_code == 0, sent.all_output
    clocks.set(AFTER_CHINA_MIDNIGHT)
    found = invoke("receipt", "--to", NUMBER, "--biz-id", sent.json()["biz_id"])
    assert found.exit_code == 0, found.all_output
    assert "at 2030-03-31 15:59:58 +00:00 (DELIVERED)" in found.stdout
    assert receipt_dates_asked(sms_ready) == ["20300331"]


def test_receipt_by_out_id_without_the_log_takes_the_date_from_the_out_id(
    sms_ready, clocks, state_dir
) -> None:
    sent = send_sms("--json")
    assert sent.exit_code == 0, sent.all_output
    (state_dir / "audit.jsonl").unlink()
    clocks.set(AFTER_CHINA_MIDNIGHT)
    found = invoke("--json", "receipt", "--to", NUMBER, "--out-id", sent.json()["out_id"])
    assert found.exit_code == 0, found.all_output
    assert found.json()["china_date"] == "2030-03-31"


def test_receipt_with_no_record_of_the_send_says_your_date_is_another_in_china(
    sms_ready, clocks, local_zone, state_dir
) -> None:
    local_zone("UTC")
    sent = send_sms("--json")
    biz_id = sent.json()["biz_id"]
    (state_dir / "audit.jsonl").unlink()  # sent from another machine, as far as smsctl knows
    clocks.set(AFTER_CHINA_MIDNIGHT)  # 2030-03-31 16:00:03 UTC, 2030-04-01 in China
    missed = invoke("receipt", "--to", NUMBER, "--biz-id", biz_id)
    assert missed.exit_code == 8
    assert "No final receipt yet" not in missed.stderr
    assert "your date 2030-03-31 is 2030-04-01 in China, where the provider files sends" in (
        " ".join(missed.stderr.split())
    )
    suggested = f"smsctl receipt --to {NUMBER} --biz-id {biz_id} --date 2030-03-31"
    assert suggested in " ".join(missed.stderr.split())
    followed = invoke(*shlex.split(suggested)[1:])
    assert followed.exit_code == 0, followed.all_output


@pytest.mark.parametrize("day", ["2030-03-31", "20300331"])
def test_receipt_date_takes_both_forms(sms_ready, clocks, day) -> None:
    biz_id = send_sms("--json").json()["biz_id"]
    clocks.set(AFTER_CHINA_MIDNIGHT)
    found = invoke("--json", "receipt", "--to", NUMBER, "--biz-id", biz_id, "--date", day)
    assert found.exit_code == 0, found.all_output
    assert receipt_dates_asked(sms_ready) == ["20300331"]


@pytest.mark.parametrize("command", [("receipt", "--to", NUMBER, "--biz-id", "1^0"),
                                     ("voice", "call-result", "--call-id", "1^2")])  # fmt: skip
def test_a_bad_date_is_a_usage_error_before_any_request(sms_ready, command) -> None:
    before = len(sms_ready.alibaba.state.requests)
    result = invoke(*command, "--date", "31/03/2030")
    assert result.exit_code == 2
    assert "expected a date as YYYY-MM-DD or YYYYMMDD" in result.stderr
    assert len(sms_ready.alibaba.state.requests) == before


@pytest.mark.parametrize(
    ("zone", "receive_date"),
    [("UTC", "2030-03-31T15:59:58+00:00"), ("Asia/Shanghai", "2030-03-31T23:59:58+08:00")],
)
def test_json_receipt_times_carry_their_offset(sms_ready, clocks, local_zone, zone, receive_date):
    local_zone(zone)
    sms_ready.alibaba.state.receipt_delay = 0  # the clocks are frozen
    report = send_sms("--wait", "2", "--json").json()
    assert report["final"]["at"] == receive_date
    clocks.set(AFTER_CHINA_MIDNIGHT)
    found = invoke("--json", "receipt", "--to", NUMBER, "--biz-id", report["biz_id"]).json()
    assert (found["receive_date"], found["send_date"]) == (receive_date, receive_date)
    assert found["final"]["at"] == receive_date


def test_send_test_shows_the_delivery_time_in_local_time_with_its_offset(
    sms_ready, local_zone
) -> None:
    local_zone("America/New_York")
    sms_ready.alibaba.state.receipt_delay = 0  # the clocks are frozen
    result = send_sms("--wait", "2")
    assert result.exit_code == 0, result.all_output
    # 23:59:58 in China is 11:59:58 in New York (EDT, -04:00) that day.
    assert f"Delivered to {NUMBER} at 2030-03-31 11:59:58 -04:00 (DELIVERED)" in result.stdout


# --- voice call results across China's midnight ------------------------------------------------


@pytest.fixture
def voice_ready(clocks, fresh_sandbox_state, config_file):
    from tests.cli.test_voice import CONFIG, TTS_CONTENT, VOICE_FILE
    from tests.support.memory_keyring import MemoryKeyring

    info = fresh_sandbox_state.info()["voice"]
    config_file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    config_file.write_text(
        CONFIG.format(
            key=info["access_key_id"],
            endpoint=info["endpoint"],
            tts=TTS,
            content=TTS_CONTENT,
            voice_file=VOICE_FILE,
        )
    )
    MemoryKeyring.entries[("smsctl", "voice/prod")] = info["access_key_secret"]
    fresh_sandbox_state.alibaba.state.call_result_delay = 0.2
    return fresh_sandbox_state


def call(*extra: str):
    return invoke(
        "voice", "send-test", "--to", NUMBER, "--scenario", "login", "--param", "code=1",
        "--yes", *extra,
    )  # fmt: skip


def test_voice_wait_finds_the_call_result_after_china_midnight(
    voice_ready, clocks, monkeypatch, local_zone
) -> None:
    local_zone("UTC")
    cross_midnight_after(voice_ready, clocks, monkeypatch, "_place_call")
    result = call("--wait", "2", "--json")
    assert result.exit_code == 0, result.all_output
    assert result.json()["final"]["state"] == "answered"
    # placed at 23:59:58 China time, it rings 3 s and is listened to for 12 s
    assert result.json()["final"]["at"] == "2030-03-31T16:00:13+00:00"


def test_call_result_after_china_midnight_asks_for_the_date_of_the_call(
    voice_ready, clocks, local_zone
) -> None:
    local_zone("Asia/Shanghai")
    placed = call("--json")
    assert placed.exit_code == 0, placed.all_output
    clocks.set(AFTER_CHINA_MIDNIGHT)
    found = invoke("voice", "call-result", "--call-id", placed.json()["call_id"])
    assert found.exit_code == 0, found.all_output
    assert "ended 2030-04-01 00:00:13 +08:00" in found.stdout


@pytest.mark.parametrize("day", ["2030-03-31", "20300331"])
def test_call_result_date_takes_both_forms(voice_ready, clocks, state_dir, day) -> None:
    call_id = call("--json").json()["call_id"]
    (state_dir / "audit.jsonl").unlink()
    clocks.set(AFTER_CHINA_MIDNIGHT)
    missed = invoke("voice", "call-result", "--call-id", call_id)
    assert missed.exit_code == 8 and "2030-04-01, China's date today" in missed.stderr
    found = invoke("voice", "call-result", "--call-id", call_id, "--date", day)
    assert found.exit_code == 0, found.all_output


# --- the log and the guard ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "shown", "iso"),
    [
        ("UTC", "2030-03-31 15:59:58 +00:00", "2030-03-31T15:59:58+00:00"),
        ("Asia/Shanghai", "2030-03-31 23:59:58 +08:00", "2030-03-31T23:59:58+08:00"),
        ("America/Los_Angeles", "2030-03-31 08:59:58 -07:00", "2030-03-31T08:59:58-07:00"),
    ],
)
def test_log_times_are_local_with_their_offset(smsctl_clock, local_zone, zone, shown, iso):
    audit.record("config.change", command="account add", channel="sms", action="account.add")
    local_zone(zone)
    table = invoke("log")
    assert table.exit_code == 0 and table.stdout.splitlines()[1].startswith(shown)
    assert invoke("--json", "log").json()[0]["time"] == iso
    # The file keeps UTC, whatever the zone.
    assert audit.read()[0]["time"] == "2030-03-31T15:59:58.000000Z"


@pytest.mark.parametrize(
    ("zone", "since_today"),
    [("UTC", ["late"]), ("America/New_York", []), ("Asia/Tokyo", ["early", "late"])],
)
def test_log_since_today_is_the_local_day(smsctl_clock, local_zone, zone, since_today) -> None:
    utc = timezone.utc
    for name, moment in (
        ("early", datetime(2030, 3, 31, 15, 59, 58, tzinfo=utc)),
        ("late", datetime(2030, 4, 1, 3, 0, tzinfo=utc)),
    ):
        smsctl_clock.set(moment)
        audit.record("config.change", command=name, channel="sms", action="x")
    smsctl_clock.set(datetime(2030, 4, 1, 5, 0, tzinfo=utc))
    local_zone(zone)
    entries = invoke("--json", "log", "--since", "today").json()
    assert [entry["command"] for entry in entries] == since_today


def test_guard_says_when_in_local_time_with_its_offset(sms_ready, local_zone) -> None:
    local_zone("Asia/Kolkata")
    assert send_sms().exit_code == 0
    refused = send_sms("--json")
    assert refused.exit_code == 6
    error = json.loads(refused.stderr.strip().splitlines()[-1])["error"]
    # One a minute: allowed again 60 s after the first send, 23:59:58 in China (21:29:58 in
    # India).
    assert error["details"]["allowed_at"] == "2030-03-31T21:30:58+05:30"
    assert "Allowed again at 2030-03-31 21:30:58 +05:30 (in 60 s)" in error["hint"]


def test_stored_review_times_are_shown_local_with_their_offset(config_file, local_zone) -> None:
    """The config keeps `checked_at` in UTC; people and --json see the one convention."""
    local_zone("America/New_York")
    config_file.parent.mkdir(parents=True, exist_ok=True)
    config_file.write_text(
        '[sms.accounts.prod]\naccess_key_id = "LTAI5tPROD0001"\n\n'
        '[sms.signatures.Acme]\naccount = "prod"\nstatus = "approved"\n'
        'checked_at = "2026-12-01T22:50:22Z"\n'
    )
    config_file.chmod(0o600)
    shown = invoke("signature", "show", "Acme")
    assert "2026-12-01 17:50:22 -05:00" in shown.stdout, shown.stdout
    listed = invoke("--json", "signature", "list").json()
    assert listed[0]["checked_at"] == "2026-12-01T17:50:22-05:00"
