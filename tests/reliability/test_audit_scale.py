"""The audit log at scale: it rotates by size into a bounded number of files, nothing is lost at a
rotation under concurrent writers, and readers go from the end, so `log --limit` and `--since`
cost the same whatever the log's size."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from smsctl.core import audit
from tests.support.cli import invoke


@pytest.fixture
def small_log(state_dir):
    audit.configure(audit.LogSettings(rotate_bytes=2000, keep=3))
    yield state_dir
    audit.configure(audit.LogSettings())


def _write(path: Path, records: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record) + "\n")


def _change(number: int, moment: datetime | None = None) -> dict:
    moment = moment or datetime(2026, 12, 1, tzinfo=timezone.utc) + timedelta(seconds=number)
    return {
        "time": moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "event": "config.change",
        "command": "account add",
        "action": "account.add",
        "account": f"a{number}",
    }


def test_the_log_rotates_by_size_into_a_bounded_number_of_files(small_log):
    for number in range(200):
        audit.record("config.change", command="account add", action="a", account=f"a{number}")
    files = audit.log_files(small_log / "audit.jsonl")
    assert [f.name for f in files] == ["audit.jsonl", *(f"audit.jsonl.{n}" for n in (1, 2, 3))]
    assert all(f.stat().st_size <= 2000 for f in files)
    assert all(oct(f.stat().st_mode & 0o777) == "0o600" for f in files)
    # the newest records are read across the files, in order, the oldest ones are gone
    shown = [e["account"] for e in audit.read(limit=1000)]
    assert shown == [f"a{n}" for n in range(200 - len(shown), 200)]
    assert len(shown) < 200


def test_log_reads_across_rotated_files_through_the_cli(config_file, state_dir):
    config_file.parent.mkdir(parents=True, exist_ok=True)
    config_file.write_text("[log]\nrotate_mb = 0.001\nkeep = 50\n")
    config_file.chmod(0o600)
    done = invoke("authorize", "list")  # reads the config: its [log] table is in force
    assert done.exit_code == 0, done.all_output
    for number in range(40):
        audit.record("config.change", command="account add", action="a", account=f"a{number}")
    assert len(audit.log_files(state_dir / "audit.jsonl")) > 3
    result = invoke("--json", "log", "--limit", "40")
    assert [e["account"] for e in result.json()] == [f"a{n}" for n in range(40)]


WRITER = """
import sys
from smsctl.core import audit
audit.configure(audit.LogSettings(rotate_bytes=3000, keep=1000))
for i in range(int(sys.argv[2])):
    audit.record("config.change", command="w", action="w", account=f"{sys.argv[1]}-{i}")
"""


def test_nothing_is_lost_at_a_rotation_under_concurrent_writers(state_dir):
    env = {**os.environ, "SMSCTL_STATE_DIR": str(state_dir)}
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER, f"w{n}", "150"], env=env) for n in range(6)
    ]
    assert [w.wait(timeout=120) for w in writers] == [0] * 6
    files = audit.log_files(state_dir / "audit.jsonl")
    assert len(files) > 10  # it did rotate, many times, while six processes wrote
    seen = [r["account"] for f in files for r in audit.read_lines(f)]
    assert sorted(seen) == sorted(f"w{n}-{i}" for n in range(6) for i in range(150))


def test_limit_reads_only_the_end_of_the_log(state_dir):
    path = state_dir / "audit.jsonl"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"garbage that is not a record\n" * 5000)  # an unreadable old part
    _write(path, [_change(n) for n in range(30)])
    warnings: list[str] = []
    shown = audit.read(limit=5, warn=warnings.append)
    assert [e["account"] for e in shown] == [f"a{n}" for n in range(25, 30)]
    assert warnings == []  # the garbage at the start was never read


def test_since_stops_reading_once_records_are_older_than_asked(state_dir):
    path = state_dir / "audit.jsonl"
    path.parent.mkdir(parents=True)
    now = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)
    path.write_bytes(b"garbage\n" * 5000)
    _write(path, [_change(n, now - timedelta(days=30 - n)) for n in range(30)])
    _write(path, [_change(100 + n, now - timedelta(minutes=50 - n)) for n in range(3)])
    warnings: list[str] = []
    shown = audit.read(since=now - timedelta(hours=1), warn=warnings.append)
    assert [e["account"] for e in shown] == ["a100", "a101", "a102"]
    assert warnings == []


def test_unreadable_lines_near_the_end_are_reported_from_the_end(state_dir):
    path = state_dir / "audit.jsonl"
    path.parent.mkdir(parents=True)
    _write(path, [_change(n) for n in range(10)])
    with open(path, "ab") as handle:
        handle.write(b"{torn\n")
    _write(path, [_change(10)])
    warnings: list[str] = []
    audit.read(limit=2, warn=warnings.append)
    assert warnings == [
        f"skipped 1 unreadable line(s) of {path} (2 from its end): not a well-formed record "
        "(torn by a killed process, corrupt, or edited by hand)."
    ]


@pytest.mark.parametrize(
    "table,problem",
    [
        ("rotate_mb = 0", "rotate_mb"),
        ("keep = 0", "keep"),
        ('syslog_facility = "kernel"', "syslog_facility"),
        ("syslog = 5", "syslog"),
        ("rotation = 1", "rotation"),
    ],
)
def test_a_bad_log_table_is_a_config_error(config_file, table, problem):
    config_file.parent.mkdir(parents=True, exist_ok=True)
    config_file.write_text(f"[log]\n{table}\n")
    config_file.chmod(0o600)
    result = invoke("config", "check")
    assert result.exit_code == 3
    assert f"log.{problem}" in result.all_output


def test_a_rotation_that_cannot_be_done_still_records_and_names_the_culprit(state_dir, capsys):
    audit.configure(audit.LogSettings(rotate_bytes=300, keep=2))
    try:
        (state_dir / "audit.jsonl.2").mkdir(parents=True)
        for number in range(6):
            audit.record_or_refuse("config.change", command="c", action="a", account=f"a{number}")
    finally:
        audit.configure(audit.LogSettings())
    assert (
        f"could not rotate the audit log ({state_dir / 'audit.jsonl.2'}" in capsys.readouterr().err
    )
    assert [e["account"] for e in audit.read()] == [f"a{n}" for n in range(6)]


def test_a_long_run_of_junk_without_newlines_is_skipped_at_once(state_dir):
    path = state_dir / "audit.jsonl"
    path.parent.mkdir(parents=True)
    _write(path, [_change(1)])
    with open(path, "ab") as handle:
        handle.write(b"\0" * (3 * audit.MAX_LINE) + b"\n")
    _write(path, [_change(2)])
    warnings: list[str] = []
    assert [e["account"] for e in audit.read(limit=5, warn=warnings.append)] == ["a1", "a2"]
    assert len(warnings) == 1 and "skipped 1 unreadable line" in warnings[0]


def test_a_lookup_of_a_send_this_machine_never_made_stops_a_month_back(
    state_dir, smsctl_clock, monkeypatch
):
    path = state_dir / "audit.jsonl"
    path.parent.mkdir(parents=True)
    now = datetime(2026, 12, 1, tzinfo=timezone.utc)
    smsctl_clock.set(now)
    old = {**_change(1, now - timedelta(days=40)), "event": "send", "channel": "sms"}
    _write(path, [{**old, "biz_id": f"{n}^0"} for n in range(1000)])
    recent = {**_change(2, now - timedelta(days=2)), "event": "send", "channel": "sms"}
    _write(path, [{**recent, "biz_id": "recent^0"}])
    parsed = []
    real = audit._parsed
    monkeypatch.setattr(audit, "_parsed", lambda line: parsed.append(1) or real(line))
    assert audit.sent_at("sms", biz_id="recent^0") == now - timedelta(days=2)
    assert audit.sent_at("sms", biz_id="5^0") is None  # older than the provider keeps it
    assert audit.sent_at("sms", biz_id="never^0") is None
    assert len(parsed) < 10  # the month-old part of the log was not read
