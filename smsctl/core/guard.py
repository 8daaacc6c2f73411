"""The test-send guard: a local ledger that mirrors the provider's per-number limits (SPEC §7).

The check and the record happen under one exclusive flock on the ledger, so concurrent test
sends to one number respect the limits exactly. Every attempt counts, failed ones included.
Targets are stored as salted hashes: the ledger never holds a phone number or address. The
ledger is append-only (a rewrite would race with writers waiting on the old file's lock); at
about 100 bytes a test send it stays small.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from smsctl.core import audit, clock
from smsctl.core.debug import debug
from smsctl.core.errors import ConfigError, RateLimited
from smsctl.core.masking import mask_target

WINDOWS = (("per_minute", 60, "minute"), ("per_hour", 3600, "hour"), ("per_day", 86400, "day"))


@dataclass(frozen=True)
class GuardTicket:
    target_key: str
    at: float


def target_key(channel: str, target: str) -> str:
    return hashlib.sha256(f"smsctl-guard:{channel}:{target}".encode()).hexdigest()[:32]


def ledger_path():
    return audit.state_file("guard.jsonl")


def admit(
    channel: str, target: str, limits: dict[str, int], *, now: float | None = None
) -> GuardTicket:
    """Record a test send to `target`, or raise RateLimited saying when it will be allowed."""
    key = target_key(channel, target)
    path = ledger_path()
    try:
        return _admit(path, channel, target, key, limits, now)
    except OSError as exc:
        raise ConfigError(
            f"Cannot use the test-send ledger {path}: {exc.strerror or exc}.",
            hint="It must be a regular file you own (not a symbolic link) in a writable state "
            "directory ($SMSCTL_STATE_DIR). Nothing was sent.",
            code="ledger_unusable",
        ) from None


def _admit(
    path: Any, channel: str, target: str, key: str, limits: dict[str, int], now: float | None
) -> GuardTicket:
    with audit.locked_append(path) as fd:
        now = clock.timestamp() if now is None else now
        lines = audit.read_lines(path)
        mine = sorted(
            float(e["at"])
            for e in lines
            if e.get("channel") == channel and e.get("target") == key and "at" in e
        )
        for limit_name, window, label in WINDOWS:
            limit = limits.get(limit_name)
            if limit is None:
                continue
            recent = [t for t in mine if now - t < window]
            if len(recent) >= limit:
                allowed_at = (recent[-limit] if limit else now) + window
                raise _refusal(channel, target, label, limit, allowed_at, now)
        audit.append_line(fd, {"at": now, "channel": channel, "target": key})
        debug(
            f"guard: {len([t for t in mine if now - t < 86400])} earlier {channel} test "
            f"send(s) to this target today; limits {limits}"
        )
    return GuardTicket(key, now)


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
