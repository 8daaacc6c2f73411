"""The test-send guard's ledger: slots and releases (issue 14 item 8), the real country in its
messages (issue 14 item 3), keyed hashes and case-insensitive addresses (issue 16 item 10),
corrupt lines skipped and reported (issue 16 item 8). The clock is injected (`now`)."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import stat
import threading
from pathlib import Path

import pytest

from smsctl.core import audit, guard
from smsctl.core.errors import ConfigError, RateLimited

NOW = 1_900_000_000.0
ONE_A_MINUTE = {"per_minute": 1, "per_hour": 10, "per_day": 10}


def ledger(state_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (state_dir / "guard.jsonl").read_text().splitlines()]


def legacy_hash(channel: str, target: str) -> str:
    """How the ledger named a target before it was keyed (sha256, no secret)."""
    return hashlib.sha256(f"smsctl-guard:{channel}:{target}".encode()).hexdigest()[:32]


def write_ledger(state_dir: Path, lines: list[str]) -> None:
    state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = state_dir / "guard.jsonl"
    path.write_text("".join(line + "\n" for line in lines))
    path.chmod(0o600)


# --- what the guard says ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("+12025550123", "+1 20****0123"),
        ("+85261234567", "+852 ****4567"),
        ("+447400123456", "+44 74****3456"),
        ("+8613812345678", "+86 138****5678"),
    ],
)
def test_the_refusal_names_the_number_with_its_own_country(state_dir, number, masked) -> None:
    guard.admit("sms", number, ONE_A_MINUTE, now=NOW)
    with pytest.raises(RateLimited) as refused:
        guard.admit("sms", number, ONE_A_MINUTE, now=NOW + 5)
    assert f"Test-send guard: {masked} already had 1 sms test send(s)" in refused.value.message
    if not number.startswith("+86"):
        assert "+86" not in refused.value.message
    assert number not in refused.value.message


# --- slots and releases -----------------------------------------------------------------------


def test_a_released_slot_no_longer_counts(state_dir) -> None:
    ticket = guard.admit("sms", "+8613812345678", ONE_A_MINUTE, now=NOW)
    guard.release(ticket)
    guard.admit("sms", "+8613812345678", ONE_A_MINUTE, now=NOW + 1)  # allowed again
    with pytest.raises(RateLimited):
        guard.admit("sms", "+8613812345678", ONE_A_MINUTE, now=NOW + 2)


def test_a_release_frees_only_its_own_slot(state_dir) -> None:
    limits = {"per_minute": 2}
    kept = guard.admit("voice", "+8613812345678", limits, now=NOW)
    freed = guard.admit("voice", "+8613812345678", limits, now=NOW + 1)
    guard.release(freed)
    guard.admit("voice", "+8613812345678", limits, now=NOW + 2)
    with pytest.raises(RateLimited):
        guard.admit("voice", "+8613812345678", limits, now=NOW + 3)
    assert kept.id != freed.id


def test_a_release_that_cannot_be_written_warns_and_keeps_counting(
    state_dir, capsys, monkeypatch
) -> None:
    ticket = guard.admit("sms", "+8613812345678", ONE_A_MINUTE, now=NOW)

    def unwritable(_path):
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as patched:
        patched.setattr(audit, "locked_append", unwritable)
        guard.release(ticket)
    assert "could not give back the test-send guard's slot" in capsys.readouterr().err
    with pytest.raises(RateLimited):
        guard.admit("sms", "+8613812345678", ONE_A_MINUTE, now=NOW + 1)


# --- keyed hashes -------------------------------------------------------------------------------


def test_the_ledger_holds_keyed_hashes_that_the_number_alone_cannot_reproduce(state_dir) -> None:
    number = "+8613812345678"
    guard.admit("sms", number, ONE_A_MINUTE, now=NOW)
    [entry] = ledger(state_dir)
    text = (state_dir / "guard.jsonl").read_text()
    assert number not in text and number[3:] not in text
    # Hashing every mainland number without the key no longer finds it.
    assert entry["target"] != legacy_hash("sms", number)
    assert entry["target"] != hashlib.sha256(f"sms:{number}".encode()).hexdigest()[:32]
    key = bytes.fromhex((state_dir / "guard.key").read_text().strip())
    expected = hmac.new(key, f"sms:{number}".encode(), hashlib.sha256).hexdigest()[:32]
    assert entry["target"] == expected
    assert entry["v"] == guard.LEDGER_VERSION


def test_the_key_is_private_random_and_made_once(state_dir, tmp_path, monkeypatch) -> None:
    old_umask = os.umask(0)
    try:
        first = guard.installation_key()
    finally:
        os.umask(old_umask)
    key_file = state_dir / "guard.key"
    assert stat.S_IMODE(os.lstat(key_file).st_mode) == 0o600
    assert guard.installation_key() == first
    assert len(first) == 32
    monkeypatch.setenv("SMSCTL_STATE_DIR", str(tmp_path / "other-installation"))
    assert guard.installation_key() != first
    assert not list(state_dir.glob(".guard.key.*"))  # no temp file left


def test_processes_creating_the_key_at_once_all_get_the_same_one(state_dir) -> None:
    keys: list[bytes] = []
    start = threading.Barrier(8)

    def make() -> None:
        start.wait()
        keys.append(guard.installation_key())

    threads = [threading.Thread(target=make) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(keys)) == 1 and len(keys) == 8


@pytest.mark.parametrize(
    ("content", "mode", "words"),
    [
        ("not hex at all\n", 0o600, "is damaged"),
        ("abcd\n", 0o600, "is damaged"),
        ("00" * 32 + "\n", 0o644, "readable by others"),
    ],
)
def test_an_unusable_key_is_a_config_error_with_the_fix(state_dir, content, mode, words) -> None:
    state_dir.mkdir(mode=0o700, parents=True)
    key_file = state_dir / "guard.key"
    key_file.write_text(content)
    key_file.chmod(mode)
    with pytest.raises(ConfigError) as refused:
        guard.admit("sms", "+8613812345678", ONE_A_MINUTE, now=NOW)
    assert refused.value.exit_code == 3
    assert words in refused.value.message
    assert str(key_file) in refused.value.hint
    assert not (state_dir / "guard.jsonl").exists()


def test_a_symlinked_key_is_never_read(state_dir, tmp_path) -> None:
    elsewhere = tmp_path / "planted.key"
    elsewhere.write_text("00" * 32 + "\n")
    elsewhere.chmod(0o600)
    state_dir.mkdir(mode=0o700, parents=True)
    (state_dir / "guard.key").symlink_to(elsewhere)
    with pytest.raises(ConfigError, match="Cannot use the test-send ledger"):
        guard.admit("sms", "+8613812345678", ONE_A_MINUTE, now=NOW)


# --- entries written before the ledger was keyed ----------------------------------------------


def test_entries_written_before_the_ledger_was_keyed_keep_counting(state_dir) -> None:
    old = {"at": NOW - 10, "channel": "sms", "target": legacy_hash("sms", "+8613812345678")}
    write_ledger(state_dir, [json.dumps(old)])
    with pytest.raises(RateLimited):
        guard.admit("sms", "+8613812345678", ONE_A_MINUTE, now=NOW)
    guard.admit("sms", "+8613812345679", ONE_A_MINUTE, now=NOW)  # another number is free


def test_unkeyed_entries_are_dropped_once_they_leave_the_longest_window(state_dir) -> None:
    stale = legacy_hash("sms", "+8613812345678")
    fresh = legacy_hash("sms", "+8613800000000")
    write_ledger(
        state_dir,
        [
            json.dumps({"at": NOW - guard.LONGEST_WINDOW - 1, "channel": "sms", "target": stale}),
            json.dumps({"at": NOW - 30, "channel": "sms", "target": fresh}),
        ],
    )
    guard.admit("sms", "+8613811111111", ONE_A_MINUTE, now=NOW)
    text = (state_dir / "guard.jsonl").read_text()
    assert stale not in text  # the unsalted hash of a number is gone from disk
    assert fresh in text  # still within its day: it counts until then
    assert len(ledger(state_dir)) == 2
    assert stat.S_IMODE(os.lstat(state_dir / "guard.jsonl").st_mode) == 0o600


# --- email addresses ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spelling",
    ["Alice@example.test", "alice@EXAMPLE.TEST", "ALICE@Example.Test", " alice@example.test"],
)
def test_an_email_address_is_one_recipient_in_any_case(state_dir, spelling) -> None:
    guard.admit("email", "alice@example.test", ONE_A_MINUTE, now=NOW)
    with pytest.raises(RateLimited):
        guard.admit("email", spelling, ONE_A_MINUTE, now=NOW + 1)


def test_openids_stay_case_sensitive(state_dir) -> None:
    guard.admit("wechat", "oSbx_follower_alice_000000001", ONE_A_MINUTE, now=NOW)
    guard.admit("wechat", "OSBX_FOLLOWER_ALICE_000000001", ONE_A_MINUTE, now=NOW + 1)


# --- corrupt lines ------------------------------------------------------------------------------

CORRUPT = [
    b"[" * 100_000 + b"]" * 100_000,  # deep enough to exhaust the recursion limit
    b'{"a":' * 5000 + b"1" + b"}" * 5000,
    b'{"at": "yesterday", "channel": "sms", "target": "x"}',
    b'{"at": 1, "channel": 5, "target": "x"}',
    b'{"at": true, "channel": "sms", "target": "x"}',
    b'{"at": 1e999, "channel": "sms", "target": "x"}',
    b'{"at": 1, "channel": "sms", "target": ["x"]}',
    b'{"at": 1, "channel": "sms", "release": 7}',
    b'["a", "list"]',
    b'"a string"',
    b"\xff\xfe not utf-8",
]


def test_corrupt_or_ill_typed_lines_are_skipped_reported_and_dropped(state_dir, capsys) -> None:
    good = guard.admit("sms", "+8613812345678", {"per_minute": 2}, now=NOW)
    path = state_dir / "guard.jsonl"
    with open(path, "ab") as handle:
        for line in CORRUPT:
            handle.write(line + b"\n")
    guard.admit("sms", "+8613812345678", {"per_minute": 2}, now=NOW + 1)
    warning = capsys.readouterr().err
    assert f"skipped {len(CORRUPT)} unreadable lines of {path}" in warning
    assert "lines 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, ..." in warning
    with pytest.raises(RateLimited):  # the two good slots still count
        guard.admit("sms", "+8613812345678", {"per_minute": 2}, now=NOW + 2)
    assert capsys.readouterr().err == ""  # dropped: reported once
    assert [e["id"] for e in ledger(state_dir)][0] == good.id
    assert len(ledger(state_dir)) == 2


# --- rewriting under the lock -------------------------------------------------------------------


def test_a_writer_waiting_for_the_lock_appends_to_the_rewritten_ledger(state_dir, monkeypatch):
    """A rewrite replaces the file while another process may hold it open, waiting for its
    lock: that writer must notice and append to the new file, or its record is lost."""
    import fcntl

    path = guard.ledger_path()
    path.touch(mode=0o600)
    opened = threading.Event()
    real_flock = fcntl.flock

    def flock(fd, operation):
        opened.set()  # the waiter has the old file open: its descriptor points at it
        return real_flock(fd, operation)

    def append() -> None:
        with audit.locked_append(path) as fd:
            audit.append_line(fd, {"who": "waiter"})

    with audit.locked_append(path):
        monkeypatch.setattr(fcntl, "flock", flock)
        writer = threading.Thread(target=append)
        writer.start()
        assert opened.wait(10)
        audit.replace_locked(path, [{"who": "rewrite"}])
    writer.join(10)
    assert [r["who"] for r in audit.read_lines(path)] == ["rewrite", "waiter"]
