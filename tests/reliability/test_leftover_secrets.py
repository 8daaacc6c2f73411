"""A keyring entry left without its account by an interrupted `account add` (SIGKILL between the
keyring write and the config write) or `account delete` (the keyring could not remove it) is
reported by `doctor`, with a command that removes it, and that command works. An entry that
merely is not in this config (another config file's account) is never touched."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from smsctl.core import leftover_secrets
from tests.reliability.file_keyring import read_entries
from tests.reliability.helpers import child_env, smsctl, spawn

SECRET = "leftover-secret-5d1f"
BACKENDS = "tests.reliability.file_keyring."
ENTRY = "smsctl|sms/prod"


@pytest.fixture
def keyring_file(tmp_path: Path) -> Path:
    return tmp_path / "keyring.json"


def env_for(keyring_file: Path, backend: str = "FileKeyring") -> dict[str, str]:
    return child_env(
        PYTHON_KEYRING_BACKEND=BACKENDS + backend,
        SMSCTL_TEST_KEYRING_FILE=str(keyring_file),
        SMSCTL_KEYRING_TIMEOUT="60",
    )


def doctor(keyring_file: Path) -> tuple[int, list[dict]]:
    done = smsctl("--json", "doctor", "--offline", env=env_for(keyring_file))
    return done.exit_code, json.loads(done.stdout)["checks"]


def leftover_checks(checks: list[dict]) -> list[dict]:
    return [c for c in checks if c["check"].startswith("leftover secret")]


def leave_note(state_dir: Path, config_file: Path, channel: str, account: str, pid: int) -> None:
    """The note an interrupted change by process `pid` would have left."""
    leftover_secrets.note(config_file, channel, account)
    [note_file] = (state_dir / leftover_secrets.DIRECTORY).glob("*.json")
    record = json.loads(note_file.read_text())
    note_file.write_text(json.dumps({**record, "pid": pid}))


def dead_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def kill_add_after_the_keyring_write(keyring_file: Path, *args: str) -> None:
    env = env_for(keyring_file, "StoringThenHangingKeyring")
    process = spawn(*args, "--secret-stdin", env=env, input=SECRET + "\n")
    deadline = time.monotonic() + 30
    while ENTRY not in read_entries(keyring_file):
        assert process.poll() is None, process.stderr.read()
        assert time.monotonic() < deadline, "the keyring write never happened"
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    process.stdout.close()
    process.stderr.close()


def test_an_add_killed_after_the_keyring_write_is_reported_and_removable(
    config_file, keyring_file
) -> None:
    kill_add_after_the_keyring_write(
        keyring_file, "account", "add", "prod", "--access-key-id", "LTAI5tLEFT01"
    )
    assert "prod" not in (config_file.read_text() if config_file.exists() else "")
    assert read_entries(keyring_file) == {ENTRY: SECRET}  # the state the issue describes

    code, checks = doctor(keyring_file)
    [check] = leftover_checks(checks)
    assert (code, check["ok"], check["exit_code"], check["channel"]) == (4, False, 4, "sms")
    assert "the keyring holds `sms/prod`" in check["detail"]
    assert "`smsctl account delete prod`" in check["fix"]
    assert SECRET not in json.dumps(checks)

    removed = smsctl("--json", "account", "delete", "prod", "--yes", env=env_for(keyring_file))
    assert removed.exit_code == 0, removed.stderr
    assert removed.json()["leftover_keyring_entry"] is True
    assert removed.json()["keyring_entry_deleted"] is True
    assert read_entries(keyring_file) == {}
    code, checks = doctor(keyring_file)
    assert leftover_checks(checks) == [] and code == 0, checks


def test_the_removal_asks_first_on_a_terminal_and_needs_yes_in_a_script(
    config_file, keyring_file
) -> None:
    kill_add_after_the_keyring_write(
        keyring_file, "account", "add", "prod", "--access-key-id", "LTAI5tLEFT01"
    )
    refused = smsctl("--json", "account", "delete", "prod", env=env_for(keyring_file))
    assert refused.exit_code == 3
    assert json.loads(refused.stderr)["error"]["code"] == "confirmation_required"
    assert read_entries(keyring_file) == {ENTRY: SECRET}


def test_a_successful_add_again_adopts_the_entry_and_doctor_is_clean(
    config_file, keyring_file
) -> None:
    kill_add_after_the_keyring_write(
        keyring_file, "account", "add", "prod", "--access-key-id", "LTAI5tLEFT01"
    )
    again = smsctl(
        "account",
        "add",
        "prod",
        "--access-key-id",
        "LTAI5tLEFT01",
        "--secret-stdin",
        env=env_for(keyring_file),
        input="new-" + SECRET + "\n",
    )
    assert again.exit_code == 0, again.stderr
    code, checks = doctor(keyring_file)
    assert leftover_checks(checks) == [], checks
    assert read_entries(keyring_file) == {ENTRY: "new-" + SECRET}


def test_a_delete_the_keyring_refuses_writes_nothing_and_leaves_no_leftover(
    config_file, keyring_file
) -> None:
    """The keyring entry is removed under the config lock before the config is written: a
    keyring that refuses is exit 4 with the account still configured, never a leftover."""
    added = smsctl(
        "account",
        "add",
        "prod",
        "--access-key-id",
        "LTAI5tLEFT01",
        "--secret-stdin",
        env=env_for(keyring_file),
        input=SECRET + "\n",
    )
    assert added.exit_code == 0, added.stderr
    failed = smsctl(
        "--json",
        "account",
        "delete",
        "prod",
        "--yes",
        env=env_for(keyring_file, "FailingOnDeleteKeyring"),
    )
    assert failed.exit_code == 4, failed.stderr
    assert "[sms.accounts.prod]" in config_file.read_text()
    assert read_entries(keyring_file) == {ENTRY: SECRET}
    code, checks = doctor(keyring_file)
    assert leftover_checks(checks) == [], checks
    removed = smsctl("account", "delete", "prod", "--yes", env=env_for(keyring_file))
    assert removed.exit_code == 0, removed.stderr
    assert "[sms.accounts.prod]" not in config_file.read_text()
    assert read_entries(keyring_file) == {}


def test_a_wechat_leftover_is_removed_by_wechat_account_delete(
    config_file, keyring_file, state_dir
) -> None:
    leave_note(state_dir, config_file, "wechat", "mp", dead_pid())
    keyring_file.write_text(json.dumps({"smsctl|wechat/mp": SECRET}))
    code, checks = doctor(keyring_file)
    [check] = leftover_checks(checks)
    assert check["channel"] == "wechat"
    assert "`smsctl wechat account delete mp`" in check["fix"]
    removed = smsctl(
        "--json", "wechat", "account", "delete", "mp", "--yes", env=env_for(keyring_file)
    )
    assert removed.exit_code == 0, removed.stderr
    assert removed.json()["leftover_keyring_entry"] is True
    assert read_entries(keyring_file) == {}


def test_an_entry_without_a_note_of_this_config_is_never_reported_or_removed(
    config_file, keyring_file, tmp_path, state_dir
) -> None:
    """Several config files share one keyring: `prod` of another config is not a leftover."""
    leave_note(state_dir, tmp_path / "other" / "config.toml", "sms", "prod", dead_pid())
    keyring_file.write_text(json.dumps({ENTRY: SECRET}))
    code, checks = doctor(keyring_file)
    assert leftover_checks(checks) == []
    refused = smsctl("--json", "account", "delete", "prod", "--yes", env=env_for(keyring_file))
    assert refused.exit_code == 3
    assert json.loads(refused.stderr)["error"]["code"] == "unknown_account"
    assert read_entries(keyring_file) == {ENTRY: SECRET}


def test_a_change_still_running_is_not_a_leftover(config_file, keyring_file, state_dir) -> None:
    keyring_file.write_text(json.dumps({ENTRY: SECRET}))
    leave_note(state_dir, config_file, "sms", "prod", os.getpid())  # this test runs: alive
    code, checks = doctor(keyring_file)
    assert leftover_checks(checks) == []
    leave_note(state_dir, config_file, "sms", "prod", dead_pid())
    code, checks = doctor(keyring_file)
    assert len(leftover_checks(checks)) == 1


def test_changes_that_complete_leave_no_note_behind(config_file, keyring_file, state_dir) -> None:
    env = env_for(keyring_file)
    add = ("account", "add", "prod", "--access-key-id", "LTAI5tLEFT01", "--secret-stdin")
    assert smsctl(*add, env=env, input=SECRET + "\n").exit_code == 0
    assert not (state_dir / leftover_secrets.DIRECTORY).exists()
    assert smsctl("account", "delete", "prod", "--yes", env=env).exit_code == 0
    assert not (state_dir / leftover_secrets.DIRECTORY).exists()
    assert read_entries(keyring_file) == {}
