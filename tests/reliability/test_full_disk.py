"""A full disk never crashes a command (issue 16 item 8), through the installed console script:
a config change is exit 3 with the reason, the old config intact, no lock and no temp file left,
and the next run works at once; a test send whose attempt cannot be recorded is exit 3 and is
not sent.

The filesystem is really full: a small tmpfs mounted for the test (root, as in CI). Where
mounting is impossible the same runs happen under RLIMIT_FSIZE, which makes the kernel refuse
writes past a size (EFBIG) just as a full disk refuses them (ENOSPC). The file-size limit runs
everywhere as well."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.reliability.helpers import SMSCTL, Run, assert_error_with_hint, child_env
from tests.support.cli import add_sandbox_sms_account
from tests.support.config_lock import released

PAGE = 4096
REASONS = ("No space left on device", "File too large")


class Disk:
    """A directory on a filesystem the test fills up (or a file-size limit standing in)."""

    def __init__(self, root: Path, how: str) -> None:
        self.root = root
        self.how = how
        self.limit: int | None = None

    def fill(self, *, free_pages: int, size_limit: int) -> None:
        """No room but `free_pages` pages (tmpfs), or writes refused past `size_limit` bytes."""
        if self.how == "file-size-limit":
            self.limit = size_limit
            return
        filler = self.root / "filler"
        written = 0
        fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            while True:
                written += os.write(fd, b"\0" * PAGE)
        except OSError as exc:
            assert exc.errno == 28, exc
        finally:
            os.ftruncate(fd, max(0, written - free_pages * PAGE))
            os.close(fd)

    def free(self) -> None:
        self.limit = None
        (self.root / "filler").unlink(missing_ok=True)

    def smsctl(self, *args: str, env: dict[str, str]) -> Run:
        limit = self.limit

        def limited() -> None:
            if limit is not None:
                signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of a kill
                resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

        done = subprocess.run(
            [str(SMSCTL), *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            stdin=subprocess.DEVNULL,
            preexec_fn=limited,
        )
        return Run(done.returncode, done.stdout, done.stderr)


def _mount_tmpfs(where: Path) -> bool:
    if os.geteuid() != 0:
        return False
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256k,mode=0700", "tmpfs", str(where)],
        capture_output=True,
    )
    return done.returncode == 0


@pytest.fixture(params=["full-filesystem", "file-size-limit"])
def disk(request, tmp_path: Path) -> Iterator[Disk]:
    root = tmp_path / "disk"
    root.mkdir(mode=0o700)
    mounted = request.param == "full-filesystem" and _mount_tmpfs(root)
    try:
        yield Disk(root, "tmpfs" if mounted else "file-size-limit")
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(root)], check=True)


@pytest.fixture
def on_disk(disk: Disk, monkeypatch) -> Disk:
    """The config and the state directory live on the disk."""
    monkeypatch.setenv("SMSCTL_CONFIG", str(disk.root / "cfg" / "config.toml"))
    monkeypatch.setenv("SMSCTL_STATE_DIR", str(disk.root / "state"))
    return disk


def _leftovers(config: Path) -> list[str]:
    return sorted(p.name for p in config.parent.iterdir() if p.name != config.name)


@pytest.mark.parametrize(
    ("free_pages", "size_limit", "what"),
    [
        (0, 0, "config.toml.lock:"),  # not even the lock's owner record can be written
        (1, 512, "config.toml:"),  # the lock fits, the new config does not
    ],
)
def test_a_config_change_on_a_full_disk_is_exit_3_and_leaves_no_lock(
    on_disk: Disk, free_pages: int, size_limit: int, what: str
) -> None:
    config = on_disk.root / "cfg" / "config.toml"
    env = child_env(SMSCTL_SECRET_SMS_FIRST="x1234", SMSCTL_SECRET_SMS_SECOND="x5678")
    note = ("--note", "n" * 600)  # a config well past the size limit
    first = on_disk.smsctl("--no-input", "account", "add", "first", "--access-key-id",
                           "LTAI5tFULL1", *note, env=env)  # fmt: skip
    assert first.exit_code == 0, first.all_output
    before = config.read_bytes()
    on_disk.fill(free_pages=free_pages, size_limit=size_limit)

    add = ("--json", "--no-input", "account", "add", "second", "--access-key-id", "LTAI5tFULL2")
    full = on_disk.smsctl(*add, env=env)
    error = assert_error_with_hint(full, 3, "config_write_failed")
    assert any(reason in error["message"] for reason in REASONS), error
    assert what in error["message"]
    assert "Free disk space" in error["hint"]
    assert config.read_bytes() == before
    assert _leftovers(config) == ["config.toml.lock"]  # the lock file stays; no temp file
    assert released(config.with_name("config.toml.lock"))

    on_disk.free()
    again = on_disk.smsctl(*add, env=env)
    assert again.exit_code == 0, again.all_output
    assert "stale lock" not in again.stderr
    assert "second" in config.read_text()


def test_a_send_whose_attempt_cannot_be_recorded_on_a_full_disk_is_not_sent(
    on_disk: Disk, fresh_sandbox_state
) -> None:
    info = fresh_sandbox_state.info()["sms"]
    add_sandbox_sms_account(info)
    env = child_env(SMSCTL_SECRET_SMS_PROD=info["access_key_secret"])
    send = ("--json", "send-test", "--scenario", "login", "--param", "code=1", "--yes", "--to")
    assert on_disk.smsctl(*send, "+8613812345670", env=env).exit_code == 0  # ledger, key exist
    # The audit log ends exactly on a page: the next record needs space the disk lacks.
    log = on_disk.root / "state" / "audit.jsonl"
    size = log.stat().st_size
    assert size < PAGE
    head, tail = '{"time": "2026-01-01T00:00:00Z", "event": "pad", "p": "', '"}\n'
    with log.open("a") as handle:
        handle.write(head + "x" * (PAGE - size - len(head) - len(tail)) + tail)
    assert log.stat().st_size == PAGE
    before = len(fresh_sandbox_state.alibaba.state.requests)
    on_disk.fill(free_pages=0, size_limit=PAGE)

    full = on_disk.smsctl(*send, "+8613812345678", env=env)
    error = assert_error_with_hint(full, 3, "audit_log_unusable")
    assert any(reason in error["message"] for reason in REASONS), error
    assert "Nothing was sent" in error["hint"]
    assert fresh_sandbox_state.alibaba.state.requests[before:] == []

    on_disk.free()
    sent = on_disk.smsctl(*send, "+8613812345678", env=env)  # the guard slot was given back
    assert sent.exit_code == 0, sent.all_output
