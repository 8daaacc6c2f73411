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


# --- the one send-test flow -------------------------------------------------------------------


@dataclass
class Sent:
    """What the provider answered to a send it accepted."""

    provider: dict[str, Any]  # provider_answer(): the same keys on every channel
    ids: dict[str, Any]  # the channel's own name for its id: biz_id, call_id, message_id, msgid
    recorded: dict[str, Any]  # what the audit record of the outcome keeps
    adapter: Any = None  # what a wait asks for the final state


def provider_answer(
    name: str,
    *,
    request_id: Any = None,
    message_id: Any = None,
    code: Any = None,
    message: Any = None,
    attempts: int = 1,
) -> dict[str, Any]:
    """The provider's answer as every channel's `--json` reports it (ids always strings)."""

    def text(value: Any) -> str | None:
        return None if value is None else str(value)

    return {
        "name": name,
        "request_id": text(request_id),
        "message_id": text(message_id),
        "code": text(code),
        "message": text(message),
        "attempts": attempts,
    }


@dataclass
class Final:
    """The final state a wait found (or `waiting` when the wait ran out)."""

    data: dict[str, Any]  # state, at, code, meaning, waited_seconds (+ the channel's own keys)
    failure: SmsctlError | None  # exit 8 when not delivered/answered, else None
    state: Any = None  # the provider's answer it was read from


def final_data(
    state: str, at: datetime | None, code: Any, meaning: str | None, **more: Any
) -> dict[str, Any]:
    return {
        "state": state,
        "at": clock.iso(at),
        "code": None if code is None else str(code),
        "meaning": meaning,
        **more,
    }


class ChannelSend:
    """What one channel contributes to the send-test flow; everything else is `run`'s.

    `prepare` resolves and renders (no network), `connect` obtains the adapter, `deliver` makes
    the one provider call, `answer` reads its result, `wait` (when `can_wait`) polls the final
    state. The rest are the words the operator reads for this channel.
    """

    channel: str
    noun: str  # what is sent, in sentences: "SMS", "call", "email", "message"
    verb: str = "sent"  # what happens to it: "sent", "placed", "pushed"
    id_keys: tuple[str, ...] = ()  # the channel's own id keys of the report
    can_wait: bool = False
    dry_run_text: str = "Dry run: nothing was sent"
    confirm_what: str = ""  # "Sending a test SMS": what needs confirmation

    def prepare(self, config: Config, request: dict[str, Any]) -> Plan:
        raise NotImplementedError

    def connect(self, config: Config, secrets: Any, plan: Plan, timeout: float | None) -> Any:
        raise NotImplementedError

    def context(self, adapter: Any, plan: Plan) -> dict[str, Any]:
        """What the audit records keep of the send before it is made."""
        return {}

    def errors(self, plan: Plan) -> Any:
        """A context manager that words the provider's errors for this send."""
        from contextlib import nullcontext

        return nullcontext()

    def deliver(self, adapter: Any, plan: Plan) -> Any:
        raise NotImplementedError

    def answer(self, raw: Any, plan: Plan, adapter: Any) -> Sent:
        raise NotImplementedError

    def wait(
        self, result: SendTest, seconds: float, on_tick: Callable[[Any, float], None] | None
    ) -> Final:
        raise NotImplementedError

    # --- words ----------------------------------------------------------------------------

    def question(self, plan: Plan) -> str:
        return f"Send this {self.noun} to {plan.target}?"

    def plan_lines(self, plan: Plan) -> list[str]:
        """What the operator reads after the resolution, before confirming."""
        raise NotImplementedError

    def sending_text(self, plan: Plan) -> str | None:
        """A progress line while the request is out (None: the call is quick)."""
        return None

    def in_flight_hint(self, plan: Plan, config: Config) -> str:
        """How to find out whether a send interrupted in flight went out."""
        raise NotImplementedError

    def accepted_text(self, result: SendTest) -> str:
        raise NotImplementedError

    def accepted_note(self, result: SendTest) -> str | None:
        """What `accepted` means (said when nothing was waited for)."""
        return None

    def waiting_texts(self, seconds: float) -> tuple[str, Callable[[Any, float], str]]:
        raise NotImplementedError

    def wait_lookup(self, result: SendTest, config: Config) -> tuple[str, str]:
        """For Ctrl-C while waiting: what was done (with its ids), and the command that looks
        the final state up later."""
        raise NotImplementedError

    def final_text(self, result: SendTest) -> str:
        raise NotImplementedError


@dataclass
class SendTest:
    """One send-test, from its plan to its final state: the result every channel reports."""

    sender: ChannelSend
    plan: Plan
    dry_run: bool
    sent: Sent | None = None
    final: Final | None = None

    def ids(self) -> dict[str, Any]:
        if self.sent is None:
            return dict.fromkeys(self.sender.id_keys)
        return self.sent.ids

    def summary(self) -> dict[str, Any]:
        """What an error after the send still reports of it."""
        return {
            "channel": self.plan.channel,
            "account": self.plan.account,
            "to": self.plan.target,
            "out_id": self.plan.out_id,
            **self.ids(),
            "provider": self.sent.provider if self.sent else None,
            "final": self.final.data if self.final else None,
        }

    def to_dict(self) -> dict[str, Any]:
        plan = self.plan
        return {
            "channel": plan.channel,
            "account": plan.account,
            "to": plan.target,
            "template": plan.resolution.template.name,
            "out_id": plan.out_id,
            "dry_run": self.dry_run,
            "sent": self.sent is not None,
            "sent_at": clock.iso(plan.sent_at) if self.sent is not None else None,
            "resolved": plan.resolution.to_dict(),
            "variables": plan.values,
            "text": plan.text,
            "warnings": plan.warnings,
            **plan.extra,
            "provider": self.sent.provider if self.sent else None,
            **self.ids(),
            "final": self.final.data if self.final else None,
        }


class Steps:
    """What the operator's side does between the flow's steps (the command layer gives it)."""

    def show(self, result: SendTest) -> None: ...

    def confirm(self, result: SendTest) -> None: ...

    def sending(self, result: SendTest) -> Any:
        from contextlib import nullcontext

        return nullcontext()

    def accepted(self, result: SendTest) -> None: ...

    def waiting(self, result: SendTest, seconds: float) -> Any:
        """A context manager giving the tick callback of the wait."""
        from contextlib import nullcontext

        return nullcontext(None)


def sender(channel: str) -> ChannelSend:
    """The channel's part of the send-test flow, as its channel model names it."""
    import importlib

    module, _, name = channels.channel(channel).send_test.partition(":")
    return getattr(importlib.import_module(module), name)


def run(
    config: Config,
    secrets: Any,
    channel: str,
    request: dict[str, Any],
    *,
    dry_run: bool,
    wait: float | None,
    timeout: float | None,
    steps: Steps,
) -> SendTest:
    """plan -> (dry run stops) -> confirm -> guard -> attempt record -> send -> outcome record ->
    optional wait. Returns the result; an exit-8 wait raises with the result's summary."""
    part = sender(channel)
    plan = part.prepare(config, request)
    result = SendTest(part, plan, dry_run)
    steps.show(result)
    if dry_run:
        return result
    steps.confirm(result)
    with steps.sending(result), part.errors(plan):
        adapter = part.connect(config, secrets, plan, timeout)
        admit(config, plan)
        raw = send_recorded(
            plan,
            lambda: part.deliver(adapter, plan),
            lambda raw: part.answer(raw, plan, adapter).recorded,
            context=part.context(adapter, plan),
        )
    result.sent = part.answer(raw, plan, adapter)
    steps.accepted(result)
    if wait and part.can_wait:
        with steps.waiting(result, wait) as on_tick:
            result.final = part.wait(result, wait, on_tick)
        failure = result.final.failure
        if failure is not None:
            failure.details.update(result.summary())
            raise failure
    return result
