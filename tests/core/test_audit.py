"""The audit log of test sends: an attempt record before the request goes out and the outcome
after (issue 16 item 7); no record, no send (exit 3); the real country of the number in what is
recorded (issue 14 item 3); corrupt or ill-typed lines skipped and reported (issue 16 item 8)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from smsctl.core import audit, guard, testsend
from smsctl.core.errors import ConfigError, CredentialError, ProviderUnavailable
from smsctl.core.resolution import Choice, Resolution
from tests.support.cli import invoke

LIMITS = {"per_minute": 1}


def plan_for(target: str, channel: str = "sms") -> testsend.Plan:
    chosen = Resolution(
        channel,
        "login",
        None,
        Choice("prod", {}, "the active account"),
        Choice("SMS_100000001", {}, "the login template"),
        Choice("Acme", {}, "the default signature") if channel == "sms" else None,
    )
    return testsend.Plan(channel, chosen, target, {"code": "4711"}, "text", "st0123456abcdef")


def records(state_dir: Path) -> list[dict]:
    path = state_dir / "audit.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


class Accepted:
    biz_id = "900000000000000001"


def ids(_result) -> dict:
    return {"biz_id": Accepted.biz_id}


# --- attempt, then outcome ----------------------------------------------------------------------


def test_the_attempt_is_on_disk_before_the_request_goes_out(state_dir) -> None:
    plan = plan_for("+8613812345678")
    seen: list[list[dict]] = []

    def send():
        seen.append(records(state_dir))
        return Accepted()

    testsend.send_recorded(plan, send, ids)
    [before] = seen
    [attempt] = before
    assert attempt["event"] == "send.attempt"
    assert attempt["out_id"] == "st0123456abcdef"
    assert attempt["to"] == "+86 138****5678"
    assert attempt["template"] == "SMS_100000001" and attempt["signature"] == "Acme"
    assert attempt["variables"] == ["code"]
    assert "4711" not in json.dumps(attempt)  # variable values are not recorded
    outcome = records(state_dir)[-1]
    assert outcome["event"] == "send" and outcome["outcome"] == "accepted"
    assert outcome["attempt"] == attempt["attempt"] and outcome["biz_id"] == Accepted.biz_id


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("+12025550123", "+1 20****0123"),
        ("+85261234567", "+852 ****4567"),
        ("+447400123456", "+44 74****3456"),
    ],
)
def test_a_number_outside_the_mainland_is_recorded_with_its_own_country(
    state_dir, number, masked
) -> None:
    def refused():
        raise CredentialError(f"Rejected while sending to {number}.", code="InvalidAccessKeyId")

    with pytest.raises(CredentialError):
        testsend.send_recorded(plan_for(number), refused, ids)
    attempt, outcome = records(state_dir)
    assert attempt["to"] == masked and outcome["to"] == masked
    assert outcome["message"] == f"Rejected while sending to {masked}."
    text = (state_dir / "audit.jsonl").read_text()
    assert number not in text and "+86" not in text


@pytest.mark.parametrize("broken", ["symlink", "directory"])
def test_no_send_without_an_audit_record_and_the_guard_slot_is_given_back(
    state_dir, tmp_path, broken
) -> None:
    state_dir.mkdir(mode=0o700, parents=True)
    log = state_dir / "audit.jsonl"
    if broken == "symlink":
        victim = tmp_path / "victim"
        victim.write_text("precious")
        log.symlink_to(victim)
    else:
        log.mkdir()
    plan = plan_for("+8613812345678")
    plan.guard_ticket = guard.admit("sms", plan.target, LIMITS)
    calls: list[str] = []
    with pytest.raises(ConfigError) as refused:
        testsend.send_recorded(plan, lambda: calls.append("sent"), ids)
    assert calls == []
    assert refused.value.exit_code == 3
    assert refused.value.code == "audit_log_unusable"
    assert str(log) in refused.value.message
    assert "Nothing was sent" in refused.value.hint
    guard.admit("sms", plan.target, LIMITS)  # the slot was given back
    if broken == "symlink":
        assert (tmp_path / "victim").read_text() == "precious"


def test_an_outcome_that_cannot_be_written_only_warns(state_dir, capsys, monkeypatch) -> None:
    plan = plan_for("+8613812345678")

    def send_then_break_the_log():
        log = state_dir / "audit.jsonl"
        log.rename(state_dir / "moved.jsonl")
        log.mkdir()
        return Accepted()

    assert isinstance(testsend.send_recorded(plan, send_then_break_the_log, ids), Accepted)
    assert "could not write the audit log" in capsys.readouterr().err


# --- what `log` shows -----------------------------------------------------------------------------


def test_an_attempt_without_an_outcome_is_shown_as_unknown(state_dir) -> None:
    plan = plan_for("+12025550123")
    testsend.record_attempt(plan, "a1", {})  # then smsctl was killed
    finished = plan_for("+8613812345678")
    testsend.send_recorded(finished, Accepted, ids)
    shown = audit.read()
    assert [(e["event"], e["to"], e["outcome"]) for e in shown] == [
        ("send", "+1 20****0123", "unknown"),
        ("send", "+86 138****5678", "accepted"),
    ]
    assert shown[0]["code"] == audit.NO_OUTCOME
    assert shown[0]["out_id"] == plan.out_id
    assert "may have been delivered" in shown[0]["message"]


def test_log_shows_one_row_per_send_with_unknown_for_a_missing_outcome(state_dir) -> None:
    testsend.record_attempt(plan_for("+447400123456"), "a1", {})
    testsend.send_recorded(plan_for("+8613812345678"), Accepted, ids)
    result = invoke("log", "--sends")
    assert result.exit_code == 0, result.all_output
    rows = result.stdout.splitlines()[1:]
    assert len(rows) == 2
    assert "+44 74****3456" in rows[0] and "unknown (NoOutcomeRecorded)" in rows[0]
    assert "out_id=st0123456abcdef" in rows[0]
    assert "+86 138****5678" in rows[1] and "accepted" in rows[1]
    as_json = invoke("--json", "log", "--sends").json()
    assert [e["outcome"] for e in as_json] == ["unknown", "accepted"]


def test_a_lost_answer_is_unknown_and_a_refusal_failed(state_dir) -> None:
    def lost():
        raise ProviderUnavailable("lost", code="ResponseLost")

    def refused():
        raise CredentialError("no", code="InvalidAccessKeyId")

    for fn in (lost, refused):
        with pytest.raises((ProviderUnavailable, CredentialError)):
            testsend.send_recorded(plan_for("+8613812345678"), fn, ids)
    assert [e["outcome"] for e in audit.read()] == ["unknown", "failed"]


# --- corrupt lines --------------------------------------------------------------------------------

CORRUPT = [
    b"[" * 100_000 + b"]" * 100_000,  # exhausts the recursion limit of the JSON decoder
    b'{"t":' * 5000 + b"1" + b"}" * 5000,
    b'{"time": "2026-01-01T00:00:00Z", "event": 5}',
    b'{"time": "2026-01-01T00:00:00Z", "event": "config.change", "action": 7}',
    b'{"time": "2026-01-01T00:00:00Z", "event": "send", "to": {"a": 1}}',
    b'{"time": "2026-01-01T00:00:00Z", "event": "send", "changed": [[1]]}',
    b'{"time": 1, "event": "send"}',
    b'{"event": "send"}',
    b"[1, 2]",
    b"\xff\xfe",
    b'{"time": "2026-01-01T00:00:00Z", "event": "send.attempt", "to": "x", "attempt": ["a"]}',
]


def test_log_skips_and_reports_corrupt_or_ill_typed_lines(state_dir) -> None:
    audit.record("config.change", command="account add", action="account.add", account="a")
    with open(state_dir / "audit.jsonl", "ab") as handle:
        for line in CORRUPT:
            handle.write(line + b"\n")
    audit.record("config.change", command="account add", action="account.add", account="b")
    for args in (("log",), ("--json", "log"), ("log", "--sends")):
        result = invoke(*args)
        assert result.exit_code == 0, result.all_output
        assert "Traceback" not in result.all_output
        assert f"skipped {len(CORRUPT)} unreadable lines" in result.stderr
        assert "(lines 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, ...)" in result.stderr
    assert [e["account"] for e in invoke("--json", "log").json()] == ["a", "b"]


@pytest.mark.parametrize("broken", ["symlink", "directory"])
def test_log_of_an_audit_log_that_is_not_a_regular_file_is_exit_3(state_dir, tmp_path, broken):
    state_dir.mkdir(mode=0o700, parents=True)
    log = state_dir / "audit.jsonl"
    if broken == "symlink":
        planted = tmp_path / "planted.jsonl"
        planted.write_text('{"time": "2026-01-01T00:00:00Z", "event": "planted"}\n')
        log.symlink_to(planted)
    else:
        log.mkdir()
    result = invoke("--json", "log")
    assert result.exit_code == 3, result.all_output
    error = result.error()
    assert error["code"] == "audit_log_unusable"
    words = "it is a symbolic link" if broken == "symlink" else "it is not a regular file"
    assert f"Cannot read the audit log {log}: {words}." == error["message"]
    assert result.stdout == ""
