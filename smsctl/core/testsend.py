"""What every channel's `send-test` shares: the plan shown before sending, the guard, the audit
record of each attempt, and waiting for a final delivery state.

The flow of a test send: resolve -> validate (before any network call) -> render -> show the
plan (`--dry-run` stops here) -> confirm -> guard (takes a slot) -> attempt record (no record, no
send: exit 3) -> send -> outcome record (a refusal gives the guard slot back) -> optionally wait
for the receipt/call result.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, TypeVar

from smsctl.core import audit, channels, clock, guard
from smsctl.core.config import Config
from smsctl.core.errors import ConfigError, SmsctlError
from smsctl.core.masking import mask_target
from smsctl.core.resolution import Resolution

T = TypeVar("T")

# Failures after the request reached the provider: the message may have gone out. Every other
# failure is a refusal or a request that never left: it is not delivered and the guard does
# not count it.
MAYBE_DELIVERED = frozenset(
    {
        "ResponseLost",  # Alibaba: timeout or connection lost after the request was sent
        "MalformedResponse",  # Alibaba: an answer of the wrong shape (e.g. OK without BizId)
        "TIMEOUT-AFTER-DATA",  # SMTP: the message was transmitted, the server's reply lost
        "TIMEOUT-AFTER-SEND",  # WeChat: the request was sent, the answer lost
        "MALFORMED-ANSWER",  # WeChat: an answer of the wrong shape (e.g. errcode 0, no msgid)
        "DEADLINE-AFTER-DATA",  # SMTP: the session's deadline passed after the message went
    }
)


@dataclass
class Plan:
    """Everything decided before anything is sent."""

    channel: str
    resolution: Resolution
    target: str  # the full number / address / OpenID as given (shown to the operator)
    values: dict[str, str]
    text: str
    out_id: str
    warnings: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    sent_at: datetime | None = None  # when the request went out (the provider dates it so)
    guard_ticket: guard.GuardTicket | None = field(default=None, repr=False)
    handed_over: bool = False  # set just before the request starts: from then on it may go out

    @property
    def account(self) -> str:
        return self.resolution.account.name

    @property
    def masked_target(self) -> str:
        return mask_target(self.channel, self.target)

    def to_dict(self) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "to": self.target,
            "resolved": self.resolution.to_dict(),
            "variables": self.values,
            "text": self.text,
            "out_id": self.out_id,
            "warnings": self.warnings,
            **self.extra,
        }


_OUT_ID_CLOCK_DIGITS = 7  # the low 28 bits of the epoch second: unique for 8.5 years


def new_out_id() -> str:
    """An id smsctl attaches to each send (OutId): 15 characters, the voice API's limit."""
    stamp = format(int(clock.timestamp()), "x")[-_OUT_ID_CLOCK_DIGITS:]
    return "st" + stamp + os.urandom(3).hex()


def out_id_time(out_id: str | None) -> datetime | None:
    """When smsctl made `out_id` (to the second), for an OutId new_out_id made; else None."""
    import re

    if not out_id or not re.fullmatch(r"st[0-9a-f]{13}", out_id):
        return None
    low = int(out_id[2 : 2 + _OUT_ID_CLOCK_DIGITS], 16)
    period = 16**_OUT_ID_CLOCK_DIGITS
    now = int(clock.timestamp()) + 60  # a little ahead, for a clock that was ahead then
    return datetime.fromtimestamp(now - (now - low) % period, timezone.utc)


def admit(config: Config, plan: Plan) -> None:
    """The local test-send guard (exit 6 with when it will be allowed): takes the plan's slot."""
    plan.guard_ticket = guard.admit(plan.channel, plan.target, config.guard_limits(plan.channel))


def outcome_of(err: SmsctlError) -> str:
    """`unknown` when the message may have gone out, `failed` when it surely did not."""
    return "unknown" if err.code in MAYBE_DELIVERED else "failed"


def _described(plan: Plan) -> dict[str, Any]:
    return {
        "command": channels.channel(plan.channel).label("send-test"),
        "channel": plan.channel,
        "account": plan.account,
        "to": plan.masked_target,
        "template": plan.resolution.template.name,
        "signature": plan.resolution.signature.name if plan.resolution.signature else None,
        "out_id": plan.out_id,
    }


def record(plan: Plan, outcome: str, **fields: Any) -> None:
    audit.record("send", **_described(plan), outcome=outcome, **fields)


def record_attempt(plan: Plan, attempt: str, context: dict[str, Any]) -> None:
    """The audit record written before the request goes out; without it nothing is sent (and
    the guard slot is given back)."""
    try:
        audit.record_or_refuse(
            audit.ATTEMPT,
            **_described(plan),
            attempt=attempt,
            variables=sorted(plan.values) or None,
            **context,
        )
    except ConfigError as err:
        guard.release(plan.guard_ticket)
        err.message = f"{err.message} smsctl records every test send before making it."
        err.hint = f"{err.hint} Nothing was sent."
        raise


def send_recorded(
    plan: Plan,
    send: Callable[[], T],
    ids: Callable[[T], dict[str, Any]],
    *,
    context: dict[str, Any] | None = None,
) -> T:
    """Record the attempt, send once, record the outcome, whatever it is. `context` is recorded
    each time (e.g. the Message-ID smsctl generated before sending). A send the provider refused
    gives its guard slot back; an accepted or unknown one keeps it."""
    context = context or {}
    attempt = os.urandom(8).hex()
    record_attempt(plan, attempt, context)
    plan.sent_at = clock.now()
    plan.handed_over = True
    try:
        result = send()
    except SmsctlError as err:
        outcome = outcome_of(err)
        record(
            plan,
            outcome,
            **{
                "attempt": attempt,
                "code": err.code,
                "request_id": err.request_id,
                "message": err.message.replace(plan.target, plan.masked_target)[:300],
                **context,
            },
        )
        if outcome == "failed":
            guard.release(plan.guard_ticket)
        err.details.setdefault("out_id", plan.out_id)
        for key, value in context.items():
            err.details.setdefault(key, value)
        raise
    except KeyboardInterrupt:
        # Ctrl-C while the request may already be with the provider: the attempt is recorded
        # as such before smsctl stops.
        record(
            plan,
            "unknown",
            attempt=attempt,
            code="Interrupted",
            message="interrupted by the user",
            **context,
        )
        raise
    record(plan, "accepted", attempt=attempt, **{**context, **ids(result)})
    return result


@dataclass
class WaitOutcome:
    state: Any
    final: bool
    waited: float


def poll_until(
    fetch: Callable[[], Any],
    is_final: Callable[[Any], bool],
    wait_seconds: float,
    *,
    interval: float = 1.0,
    on_tick: Callable[[Any, float], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> WaitOutcome:
    """Call `fetch` until `is_final(state)` or `wait_seconds` run out. Transient errors while
    polling are retried until the deadline; the last one is raised if nothing ever answered."""
    started = time.monotonic()
    last_error: SmsctlError | None = None
    state: Any = None
    answered = False
    while True:
        try:
            state = fetch()
            answered = True
            last_error = None
            if is_final(state):
                return WaitOutcome(state, True, time.monotonic() - started)
        except SmsctlError as err:
            if err.exit_code not in (6, 7):
                raise
            last_error = err
        waited = time.monotonic() - started
        if on_tick:
            on_tick(state, waited)
        if waited + interval > wait_seconds:
            if last_error is not None and not answered:
                raise last_error
            return WaitOutcome(state, False, waited)
        sleep(interval)
