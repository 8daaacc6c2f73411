"""What every channel's `send-test` shares: the plan shown before sending, the guard, the audit
record of each attempt, and waiting for a final delivery state.

The flow of a test send: resolve -> validate (before any network call) -> render -> show the
plan (`--dry-run` stops here) -> confirm -> guard -> send (recorded whatever happens) ->
optionally wait for the receipt/call result.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from smsctl.core import audit, guard
from smsctl.core.config import Config
from smsctl.core.errors import SmsctlError
from smsctl.core.masking import mask_target
from smsctl.core.resolution import Resolution

T = TypeVar("T")

# Failures after the request reached the provider: the message may have gone out.
MAYBE_DELIVERED = frozenset({"ResponseLost", "TIMEOUT-AFTER-DATA", "TIMEOUT-AFTER-SEND"})


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


def new_out_id() -> str:
    """An id smsctl attaches to each send (OutId): 15 characters, the voice API's limit."""
    return "st" + format(int(time.time()), "x")[-7:] + os.urandom(3).hex()


def admit(config: Config, channel: str, target: str) -> None:
    """The local test-send guard (exit 6 with when it will be allowed)."""
    guard.admit(channel, target, config.guard_limits(channel))


def record(plan: Plan, outcome: str, **fields: Any) -> None:
    audit.record(
        "send",
        command=f"{'' if plan.channel == 'sms' else plan.channel + ' '}send-test",
        channel=plan.channel,
        account=plan.account,
        to=plan.masked_target,
        template=plan.resolution.template.name,
        signature=plan.resolution.signature.name if plan.resolution.signature else None,
        out_id=plan.out_id,
        outcome=outcome,
        **fields,
    )


def send_recorded(
    plan: Plan,
    send: Callable[[], T],
    ids: Callable[[T], dict[str, Any]],
    *,
    context: dict[str, Any] | None = None,
) -> T:
    """Send once and write the attempt to the audit log, whatever the outcome. `context` is
    recorded either way (e.g. the Message-ID smsctl generated before sending)."""
    context = context or {}
    plan.handed_over = True
    try:
        result = send()
    except SmsctlError as err:
        outcome = "unknown" if err.code in MAYBE_DELIVERED else "failed"
        record(
            plan,
            outcome,
            **{
                "code": err.code,
                "request_id": err.request_id,
                "message": err.message.replace(plan.target, plan.masked_target)[:300],
                **context,
            },
        )
        err.details.setdefault("out_id", plan.out_id)
        for key, value in context.items():
            err.details.setdefault(key, value)
        raise
    except KeyboardInterrupt:
        # Ctrl-C while the request may already be with the provider: the attempt is recorded
        # as such before smsctl stops.
        record(plan, "unknown", code="Interrupted", message="interrupted by the user", **context)
        raise
    record(plan, "accepted", **{**context, **ids(result)})
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
