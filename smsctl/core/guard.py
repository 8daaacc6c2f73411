"""The test-send guard: a local ledger that mirrors the provider's per-number limits
(docs/contract.md §7).

The check and the record happen under one exclusive flock on the ledger, so concurrent test
sends to one number respect the limits exactly. The guard counts what the provider counts: a
send takes its slot before it goes out, and gives it back (a `release` line) only when the
provider refused it without accepting it — credentials rejected, template refused, bad number,
connection never opened. Accepted sends, and sends whose outcome is unknown (answer lost,
interrupted, smsctl killed), keep counting.

Targets are stored as keyed hashes (HMAC-SHA256 with a random per-installation key, `guard.key`
in the state directory, 0600): the ledger holds no phone number, address or OpenID, and cannot
be reversed without the key. Email addresses are compared case-insensitively. Entries written
before the ledger was keyed (no `v`) still count, matched by their old unkeyed hash, until they
leave the longest window; the ledger is then rewritten without them.

The ledger is appended to, and rewritten only under its lock (temp file, fsync, rename) when it
holds lines that can no longer count — older than a day, or unreadable; a writer that waited for
the old file's lock appends to the new one (audit.locked_append).
"""

from __future__ import annotations

import hashlib
import hmac
import math
import os
import stat
import sys
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from smsctl.core import audit, clock
from smsctl.core.debug import debug
from smsctl.core.errors import ConfigError, RateLimited
from smsctl.core.masking import mask_target

WINDOWS = (("per_minute", 60, "minute"), ("per_hour", 3600, "hour"), ("per_day", 86400, "day"))
LONGEST_WINDOW = max(seconds for _name, seconds, _label in WINDOWS)
LEDGER_VERSION = 2  # targets keyed with the installation key
KEY_FILE = "guard.key"


@dataclass(frozen=True)
class GuardTicket:
    """The slot a test send took; give it back with `release` if the provider refused it."""

    channel: str
    target_key: str
    at: float
    id: str = ""


def normalised_target(channel: str, target: str) -> str:
    """One spelling per recipient: mail providers treat the whole address case-insensitively."""
    text = target.strip()
    return text.lower() if channel == "email" else text


def target_key(channel: str, target: str, key: bytes | None = None) -> str:
    secret = installation_key() if key is None else key
    message = f"{channel}:{normalised_target(channel, target)}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()[:32]


def legacy_keys(channel: str, target: str) -> set[str]:
    """How entries written before the ledger was keyed named this target."""
    spellings = {target, target.strip(), normalised_target(channel, target)}
    return {
        hashlib.sha256(f"smsctl-guard:{channel}:{t}".encode()).hexdigest()[:32] for t in spellings
    }


def ledger_path() -> Path:
    return audit.state_file("guard.jsonl")


def key_path() -> Path:
    return audit.state_file(KEY_FILE)


def installation_key() -> bytes:
    """The per-installation secret the ledger's hashes are keyed with; created on first use."""
    path = key_path()
    try:
        return _read_key(path)
    except FileNotFoundError:
        pass
    temp = path.with_name(f".{KEY_FILE}.{os.getpid()}-{os.urandom(4).hex()}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o600)
    try:
        os.write(fd, os.urandom(32).hex().encode() + b"\n")
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(temp, path)  # atomic, and never replaces a key another process just created
    except FileExistsError:
        pass
    finally:
        os.unlink(temp)
    return _read_key(path)


def _read_key(path: Path) -> bytes:
    fd = os.open(path, os.O_RDONLY | _NOFOLLOW)
    try:
        info = os.fstat(fd)
        content = os.read(fd, 200)
    finally:
        os.close(fd)
    if not stat.S_ISREG(info.st_mode) or info.st_uid != os.getuid():
        raise ConfigError(
            f"The test-send guard's key {path} is not a regular file you own.",
            hint=f"Remove it ({path}); smsctl creates a new one, and the guard forgets the "
            "test sends of the last day.",
            code="ledger_key_unusable",
        )
    if info.st_mode & 0o077:
        raise ConfigError(
            f"The test-send guard's key {path} is readable by others "
            f"(mode {stat.S_IMODE(info.st_mode):04o}); with it the ledger's hashes can be "
            "reversed.",
            hint=f"Run: chmod 600 {path}",
            code="ledger_key_unusable",
        )
    text = content.decode("ascii", "replace").strip()
    try:
        key = bytes.fromhex(text)
    except ValueError:
        key = b""
    if len(key) != 32:
        raise ConfigError(
            f"The test-send guard's key {path} is damaged.",
            hint=f"Remove it ({path}); smsctl creates a new one, and the guard forgets the "
            "test sends of the last day.",
            code="ledger_key_unusable",
        )
    return key


def admit(
    channel: str, target: str, limits: dict[str, int], *, now: float | None = None
) -> GuardTicket:
    """Take a slot for a test send to `target`, or raise RateLimited saying when it will be
    allowed."""
    path = ledger_path()
    try:
        key = installation_key()
        return _admit(path, channel, target, key, limits, now)
    except OSError as exc:
        raise _unusable(path, exc) from None


def release(ticket: GuardTicket | None) -> None:
    """Give the slot back: the provider refused this send before accepting it. A release that
    cannot be written only warns (the slot then keeps counting, the safe side)."""
    if ticket is None or not ticket.id:
        return
    path = ledger_path()
    try:
        with audit.locked_append(path) as fd:
            audit.append_line(
                fd, {"at": ticket.at, "channel": ticket.channel, "release": ticket.id}
            )
    except OSError as exc:
        sys.stderr.write(
            f"Warning: could not give back the test-send guard's slot of a refused send "
            f"({path}: {exc.strerror or exc}); it counts against the limits as if sent.\n"
        )


def _unusable(path: Path, exc: OSError) -> ConfigError:
    return ConfigError(
        f"Cannot use the test-send ledger {path}: {exc.strerror or exc}.",
        hint="It must be a regular file you own (not a symbolic link) in a writable state "
        "directory ($SMSCTL_STATE_DIR). Nothing was sent.",
        code="ledger_unusable",
    )


def _admit(
    path: Path,
    channel: str,
    target: str,
    key: bytes,
    limits: dict[str, int],
    now: float | None,
) -> GuardTicket:
    keyed = target_key(channel, target, key)
    legacy = legacy_keys(channel, target)
    with audit.locked_append(path) as fd:
        now = clock.timestamp() if now is None else now
        found = audit.scan(path, is_ledger_line)
        if found.skipped:
            sys.stderr.write(
                f"Warning: {audit.skipped_warning(path, found.skipped)} They do not count; the "
                "ledger is rewritten without them when the next test send is recorded.\n"
            )
        released = {
            e["release"] for e in found.records if "release" in e and e["channel"] == channel
        }
        mine = sorted(
            float(e["at"])
            for e in found.records
            if e["channel"] == channel
            and "target" in e
            and (e["target"] == keyed if e.get("v") == LEDGER_VERSION else e["target"] in legacy)
            and e.get("id") not in released
        )
        for limit_name, window, label in WINDOWS:
            limit = limits.get(limit_name)
            if limit is None:
                continue
            recent = [t for t in mine if now - t < window]
            if len(recent) >= limit:
                allowed_at = (recent[-limit] if limit else now) + window
                raise _refusal(channel, target, label, limit, allowed_at, now)
        ticket = GuardTicket(channel, keyed, now, os.urandom(8).hex())
        entry = {
            "at": now,
            "channel": channel,
            "target": keyed,
            "id": ticket.id,
            "v": LEDGER_VERSION,
        }
        live = [e for e in found.records if now - float(e["at"]) < LONGEST_WINDOW]
        if found.skipped or len(live) < len(found.records):
            audit.replace_locked(path, [*live, entry])
        else:
            audit.append_line(fd, entry)
        debug(
            f"guard: {len([t for t in mine if now - t < 86400])} earlier {channel} test "
            f"send(s) to this target today; limits {limits}"
        )
    return ticket


def is_ledger_line(entry: dict[str, Any]) -> bool:
    """A slot {at, channel, target[, id, v]} or a release {at, channel, release}."""
    at = entry.get("at")
    if isinstance(at, bool) or not isinstance(at, (int, float)) or not math.isfinite(at):
        return False
    if not isinstance(entry.get("channel"), str):
        return False
    if "release" in entry:
        return isinstance(entry["release"], str)
    return (
        isinstance(entry.get("target"), str)
        and isinstance(entry.get("id", ""), str)
        and isinstance(entry.get("v", 1), int)
    )


_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


def _refusal(
    channel: str, target: str, label: str, limit: int, allowed_at: float, now: float
) -> RateLimited:
    when = datetime.fromtimestamp(allowed_at, timezone.utc)
    wait = max(1, int(allowed_at - now + 0.999))
    return RateLimited(
        f"Test-send guard: {mask_target(channel, target)} already had {limit} {channel} test "
        f"send(s) in the last {label}; the provider's flow control would refuse this one.",
        hint=f"Allowed again at {clock.show(when)} (in {wait} s). The limits are "
        f"[guard.{channel}] in the config.",
        code="guard_limit",
        details={"allowed_at": clock.iso(when), "retry_after_seconds": wait, "window": label},
    )
