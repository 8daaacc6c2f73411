"""Crashes (docs/contract.md §4): writers killed with SIGKILL leave a config that parses and equals
the state before or after one complete change, logs that lose at most the line being written,
and nothing that needs manual repair. The long run is `python scripts/crash_test.py`."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from smsctl.core import audit, guard
from smsctl.core.config import ConfigStore
from tests.reliability.helpers import REPO, child_env
from tests.support.config_lock import released

CI_ROUNDS = 30


def test_crash_script_kills_writers_at_random_points_and_everything_recovers() -> None:
    done = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "crash_test.py"), "--rounds", str(CI_ROUNDS)],
        capture_output=True,
        text=True,
        env=child_env(),
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    summary = re.search(
        r"crash rounds: (\d+), config intact: (\d+)/(\d+), log intact: (\d+)/(\d+), "
        r"ledger intact: (\d+)/(\d+), torn log lines: (\d+), stale locks: (\d+), recovered: (\d+)",
        done.stdout,
    )
    assert summary, done.stdout
    numbers = [int(n) for n in summary.groups()]
    assert numbers[0] == CI_ROUNDS
    assert numbers[1] == numbers[2] and numbers[3] == numbers[4] and numbers[5] == numbers[6]
    assert numbers[9] == CI_ROUNDS


def _torn(path: Path) -> None:
    """What a kill in the middle of os.write leaves: half a JSON line, no newline."""
    with open(path, "ab") as handle:
        handle.write(b'{"time": "1999-01-01T00:00:00Z", "event": "torn", "to": "+86 1')


def test_a_torn_last_audit_line_is_skipped_and_never_swallows_the_next_record(state_dir) -> None:
    for i in range(3):
        audit.record("config.change", i=i)
    path = state_dir / "audit.jsonl"
    _torn(path)
    assert [r["i"] for r in audit.read_lines(path)] == [0, 1, 2]
    audit.record("config.change", i=3)
    audit.record("config.change", i=4)
    assert [r["i"] for r in audit.read_lines(path)] == [0, 1, 2, 3, 4]
    lines = path.read_bytes().split(b"\n")
    assert sum(1 for line in lines if b'"event": "torn"' in line) == 1


def test_a_torn_ledger_line_does_not_break_the_guard(state_dir) -> None:
    limits = {"per_minute": 2}
    guard.admit("sms", "+8613812345678", limits)
    _torn(state_dir / "guard.jsonl")
    guard.admit("sms", "+8613812345678", limits)
    from smsctl.core.errors import RateLimited

    with pytest.raises(RateLimited):
        guard.admit("sms", "+8613812345678", limits)
    assert len(audit.read_lines(state_dir / "guard.jsonl")) == 2


def test_log_command_reads_a_log_with_a_torn_line(state_dir) -> None:
    from tests.support.cli import invoke

    audit.record("config.change", command="account add", action="account.add", account="a")
    _torn(state_dir / "audit.jsonl")
    result = invoke("--json", "log")
    assert result.exit_code == 0, result.all_output
    assert [e["account"] for e in result.json()] == ["a"]


def test_a_lock_killed_before_its_owner_record_is_recovered(config_file: Path) -> None:
    """Killed between creating the lock and writing who holds it: an empty lock file."""
    config_file.parent.mkdir(mode=0o700, parents=True)
    lock = config_file.with_name(config_file.name + ".lock")
    lock.write_bytes(b"")
    with ConfigStore(config_file).edit() as editor:
        editor.set_item("sms", "accounts", "a", {"access_key_id": "LTAI1"})
    assert released(lock)
    assert "a" in ConfigStore(config_file).load().accounts("sms")


def test_a_killed_console_script_leaves_a_lock_the_next_run_breaks(config_file: Path) -> None:
    """The whole chain through the installed script: a process that dies holding the lock."""
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\n"
            "from pathlib import Path\n"
            "from smsctl.core.config import FileLock\n"
            "lock = FileLock(Path(sys.argv[1]))\n"
            "lock.__enter__()\n"
            "print('held', flush=True)\n"
            "time.sleep(60)\n",
            str(config_file.with_name(config_file.name + ".lock")),
        ],
        stdout=subprocess.PIPE,
        text=True,
        env=child_env(),
    )
    config_file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    holder.kill()
    holder.wait()
    from tests.reliability.helpers import smsctl

    env = child_env(SMSCTL_SECRET_SMS_PROD="x1234")
    result = smsctl("--no-input", "account", "add", "prod", "--access-key-id", "LTAI5tK", env=env)
    assert result.exit_code == 0, result.all_output
    assert "stale lock" in result.stderr
    assert released(config_file.with_name(config_file.name + ".lock"))
    data = json.loads(smsctl("--json", "account", "list", env=env).stdout)
    assert [a["name"] for a in data] == ["prod"]
