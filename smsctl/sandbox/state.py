"""In-memory state of the Alibaba Cloud emulator: what the provider account holds and has done.

Everything is guarded by one re-entrant lock (`State.lock`); the emulator holds it while it
answers a request, tests may hold it to make several changes atomically.
"""

from __future__ import annotations

import copy
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from smsctl.sandbox.signing import AccessKey

AUDIT_STATUSES = ("pending", "approved", "rejected", "cancelled")
STATUS_CODES = {"pending": 0, "approved": 1, "rejected": 2, "cancelled": 10}
TEMPLATE_TYPES = ("verification", "notification", "promotional", "international")
INTL_TYPES = ("verification", "notification", "promotional")
VOICE_KINDS = ("tts", "voice-file")
NONCE_TTL_SECONDS = 30 * 60


@dataclass
class Transition:
    """A scheduled status change: after N status queries, or after a delay from (re)seeding."""

    status: str
    reason: str = ""
    after_queries: int | None = None
    after_seconds: float | None = None
    at: float | None = None  # on the service's clock (State.now): a review's end, a drift
    content: str | None = None  # a template's new content: drift at the provider


@dataclass
class Signature:
    name: str
    status: str = "approved"
    reason: str = ""
    usage: str = "general"  # general | verification
    create_date: str = "2024-03-01 10:00:00"
    transitions: list[Transition] = field(default_factory=list)
    queries: int = 0


@dataclass
class Template:
    code: str
    name: str
    content: str
    type: str = "verification"
    status: str = "approved"
    reason: str = ""
    related_sign_name: str = ""
    create_date: str = "2024-03-01 10:00:00"
    transitions: list[Transition] = field(default_factory=list)
    queries: int = 0
    intl_type: str = "verification"  # what an international template is for (GetSmsTemplate)


@dataclass
class VoiceTemplate:
    """A TTS template (content with ${var}s) or an uploaded voice file (no content)."""

    code: str
    kind: str = "tts"
    content: str = ""
    status: str = "approved"
    reason: str = ""


@dataclass
class FlowLimit:
    per_minute: int
    per_hour: int
    per_day: int


@dataclass
class Seed:
    access_keys: list[AccessKey]
    signatures: list[Signature]
    templates: list[Template]
    voice_templates: list[VoiceTemplate]
    receipt_delay: float = 1.0
    call_result_delay: float = 1.0
    slow_seconds: float = 30.0
    retry_after_ms: int = 1000
    faults: dict[str, str] = field(default_factory=dict)
    sms_flow_limit: FlowLimit = field(default_factory=lambda: FlowLimit(1, 5, 10))
    voice_flow_limit: FlowLimit = field(default_factory=lambda: FlowLimit(1, 5, 20))
    review: Review = field(default_factory=lambda: Review())
    # STS: the roles AssumeRole / AssumeRoleWithOIDC may assume, and the OIDC providers trusted.
    roles: list[str] = field(default_factory=lambda: [SANDBOX_ROLE_ARN])
    oidc_providers: list[str] = field(default_factory=lambda: [SANDBOX_OIDC_PROVIDER_ARN])


SANDBOX_ROLE_ARN = "acs:ram::1234567890123456:role/sms-sender"
SANDBOX_OIDC_PROVIDER_ARN = "acs:ram::1234567890123456:oidc-provider/ci"


@dataclass
class StsSession:
    """Temporary credentials the emulated STS issued (their AccessKey signs like any other)."""

    access_key_id: str
    access_key_secret: str = field(repr=False)
    security_token: str = field(repr=False)
    expires_at: float  # on the service's clock
    role_arn: str
    session_name: str


@dataclass
class Review:
    """How the emulated provider reviews what is submitted (CreateSmsTemplate, CreateSmsSign,
    UpdateSmsTemplate): pending for `delay` seconds of the service's clock, then approved, or
    rejected with `reason` when the content or name contains `reject_marker`."""

    delay: float = 60.0
    reject_marker: str = "REJECTME"
    reason: str = "模板内容不符合规范：请参考模板规范修改后重新提交"


@dataclass
class SmsRecord:
    biz_id: str
    phone: str
    sign_name: str
    template_code: str
    template_type: str
    content: str
    out_id: str
    sent_at: float
    outcome: str = "DELIVERED"  # DELIVERED, or the carrier code of a failed receipt
    request_id: str = ""


@dataclass
class CallRecord:
    call_id: str
    callee: str
    caller_show_number: str
    prod_id: str
    code: str
    content: str
    out_id: str
    started_at: float
    state: str = "200000"


class State:
    def __init__(self, seed: Seed) -> None:
        self.lock = threading.RLock()
        self._seed = copy.deepcopy(seed)
        self.reset()

    def reset(self) -> None:
        """Back to the seed: forget sends, calls, counters, nonces, requests and changes."""
        with self.lock:
            seed = copy.deepcopy(self._seed)
            self.access_keys = {key.id: key for key in seed.access_keys}
            self.signatures = {sig.name: sig for sig in seed.signatures}
            self.templates = {tpl.code: tpl for tpl in seed.templates}
            self.voice_templates = {tpl.code: tpl for tpl in seed.voice_templates}
            self.receipt_delay = seed.receipt_delay
            self.call_result_delay = seed.call_result_delay
            self.slow_seconds = seed.slow_seconds
            self.retry_after_ms = seed.retry_after_ms
            self.faults = dict(seed.faults)
            self.sms_flow_limit = seed.sms_flow_limit
            self.voice_flow_limit = seed.voice_flow_limit
            self.review = seed.review
            self.created = 0  # templates and signatures submitted since the reset
            self.flow_control_enabled = True
            self.roles = set(seed.roles)
            self.oidc_providers = set(seed.oidc_providers)
            self.sts_sessions: dict[str, StsSession] = {}
            self.expired_oidc_tokens: set[str] = set()
            self.next_session: dict[str, str] | None = None
            self.sms: list[SmsRecord] = []
            self.calls: list[CallRecord] = []
            self.requests: list[tuple[str, dict[str, str]]] = []
            self.pending_faults: list[tuple[str, str]] = []
            self.throttled_once: set[str] = set()
            self._flow_events: dict[tuple[str, ...], deque[float]] = {}
            self._nonces: dict[str, float] = {}
            self._clock_offset = 0.0
            self._frozen_at: float | None = None
            self.seeded_at = time.time()

    # -- time ---------------------------------------------------------------------------------

    def now(self) -> float:
        """The emulated service's clock: when sends and calls happen (so the China date they
        are filed under), receipts and call results, flow control. Tests may set or advance
        it. The request-signature check keeps the real time, which the SDK signs with."""
        frozen = self._frozen_at
        return frozen if frozen is not None else time.time() + self._clock_offset

    def advance_clock(self, seconds: float) -> None:
        with self.lock:
            if self._frozen_at is not None:
                self._frozen_at += seconds
            else:
                self._clock_offset += seconds

    def set_clock(self, moment: datetime | float, *, frozen: bool = False) -> None:
        """Make the service's clock read `moment` (an aware datetime or epoch seconds): from
        there it runs on, or stays until advanced when `frozen`. `reset()` restores the real
        time."""
        if isinstance(moment, datetime):
            if moment.tzinfo is None:
                raise ValueError("set_clock needs an aware datetime")
            moment = moment.timestamp()
        with self.lock:
            if frozen:
                self._frozen_at = float(moment)
            else:
                self._frozen_at = None
                self._clock_offset = float(moment) - time.time()

    # -- credentials --------------------------------------------------------------------------

    def lookup_key(self, key_id: str) -> AccessKey | None:
        with self.lock:
            return self.access_keys.get(key_id)

    def issue_session(
        self,
        role_arn: str,
        session_name: str,
        duration: int,
        *,
        secret: str | None = None,
        token: str | None = None,
    ) -> StsSession:
        """New temporary credentials for `role_arn`, valid `duration` seconds from now on the
        service's clock (`secret` and `token` as given, else random; `next_session` gives
        those of the next session STS issues)."""
        import secrets as random

        chosen = self.next_session or {}
        self.next_session = None
        session = StsSession(
            access_key_id="STS.NV" + random.token_hex(10).upper(),
            access_key_secret=secret or chosen.get("secret") or random.token_urlsafe(30),
            security_token=token or chosen.get("token") or "CAIS" + random.token_urlsafe(96),
            expires_at=int(self.now()) + duration,
            role_arn=role_arn,
            session_name=session_name,
        )
        with self.lock:
            self.sts_sessions[session.access_key_id] = session
            self.access_keys[session.access_key_id] = AccessKey(
                session.access_key_id, session.access_key_secret
            )
        return session

    def sts_session(self, key_id: str) -> StsSession | None:
        with self.lock:
            return self.sts_sessions.get(key_id)

    def add_access_key(self, key_id: str, secret: str, enabled: bool = True) -> None:
        with self.lock:
            self.access_keys[key_id] = AccessKey(key_id, secret, enabled)

    def use_nonce(self, nonce: str) -> bool:
        """Record a nonce; False when it was seen within the replay window."""
        with self.lock:
            wall = time.time()
            if len(self._nonces) > 10_000:
                cutoff = wall - NONCE_TTL_SECONDS
                self._nonces = {n: t for n, t in self._nonces.items() if t >= cutoff}
            if nonce in self._nonces:
                return False
            self._nonces[nonce] = wall
            return True

    # -- signatures and templates -------------------------------------------------------------

    def set_signature_status(self, name: str, status: str, reason: str = "") -> None:
        with self.lock:
            _check_status(status)
            sig = self.signatures.get(name)
            if sig is None:
                sig = self.signatures[name] = Signature(name=name)
            sig.status, sig.reason = status, reason
            sig.transitions.clear()

    def set_template_status(self, code: str, status: str, reason: str = "") -> None:
        with self.lock:
            _check_status(status)
            tpl = self.templates[code]
            tpl.status, tpl.reason = status, reason
            tpl.transitions.clear()

    def add_signature(self, signature: Signature) -> None:
        with self.lock:
            self.signatures[signature.name] = signature

    def add_template(self, template: Template) -> None:
        with self.lock:
            self.templates[template.code] = template

    def add_voice_template(self, template: VoiceTemplate) -> None:
        with self.lock:
            self.voice_templates[template.code] = template

    def schedule_signature_status(self, name: str, transition: Transition) -> None:
        with self.lock:
            _check_status(transition.status)
            self.signatures[name].transitions.append(transition)

    def schedule_template_status(self, code: str, transition: Transition) -> None:
        with self.lock:
            _check_status(transition.status)
            self.templates[code].transitions.append(transition)

    def observe_signature(self, name: str) -> Signature | None:
        """The signature as a status query sees it; counts the query for scheduled changes."""
        with self.lock:
            sig = self.signatures.get(name)
            if sig is not None:
                sig.queries += 1
                self._apply_due(sig)
            return sig

    def observe_template(self, code: str) -> Template | None:
        with self.lock:
            tpl = self.templates.get(code)
            if tpl is not None:
                tpl.queries += 1
                self._apply_due(tpl)
            return tpl

    def current_signature(self, name: str) -> Signature | None:
        """The signature as a send sees it (does not count as a status query)."""
        with self.lock:
            sig = self.signatures.get(name)
            if sig is not None:
                self._apply_due(sig)
            return sig

    def current_template(self, code: str) -> Template | None:
        with self.lock:
            tpl = self.templates.get(code)
            if tpl is not None:
                self._apply_due(tpl)
            return tpl

    def _apply_due(self, item: Signature | Template) -> None:
        elapsed = time.time() - self.seeded_at
        while item.transitions:
            nxt = item.transitions[0]
            by_count = nxt.after_queries is not None and item.queries > nxt.after_queries
            by_time = nxt.after_seconds is not None and elapsed >= nxt.after_seconds
            by_clock = nxt.at is not None and self.now() >= nxt.at
            if not (by_count or by_time or by_clock):
                return
            if nxt.status:
                item.status, item.reason = nxt.status, nxt.reason
            if nxt.content is not None and isinstance(item, Template):
                item.content = nxt.content
            item.transitions.pop(0)

    def submit_for_review(self, item: Signature | Template, text: str) -> None:
        """Pending now; approved (or rejected, when `text` holds the reject marker) once the
        review delay has passed on the service's clock."""
        with self.lock:
            item.status, item.reason = "pending", ""
            rejected = bool(self.review.reject_marker) and self.review.reject_marker in text
            item.transitions[:] = [
                Transition(
                    "rejected" if rejected else "approved",
                    self.review.reason if rejected else "",
                    at=self.now() + self.review.delay,
                )
            ]

    def finish_review(self, kind: str, name: str, status: str, reason: str = "") -> None:
        """End a pending review now (a test standing in for the provider's reviewer)."""
        if kind == "signature":
            self.set_signature_status(name, status, reason)
        else:
            self.set_template_status(name, status, reason)

    def change_template(
        self, code: str, *, content: str | None = None, related_sign_name: str | None = None
    ) -> None:
        """Drift: the template changes at the provider, behind smsctl's back."""
        with self.lock:
            template = self.templates[code]
            if content is not None:
                template.content = content
            if related_sign_name is not None:
                template.related_sign_name = related_sign_name

    # -- faults ------------------------------------------------------------------------------

    def set_fault(self, number: str, fault: str | None) -> None:
        """Make a national number (e.g. "13812345678") behave as a reserved fault number."""
        with self.lock:
            if fault is None:
                self.faults.pop(number, None)
            else:
                self.faults[number] = fault

    def fail_next(self, action: str, fault: str) -> None:
        """The next request for `action` (any number, or none) gets `fault`."""
        with self.lock:
            self.pending_faults.append((action, fault))

    def take_pending_fault(self, action: str) -> str | None:
        with self.lock:
            for index, (pending_action, fault) in enumerate(self.pending_faults):
                if pending_action == action:
                    del self.pending_faults[index]
                    return fault
            return None

    # -- flow control ------------------------------------------------------------------------

    def flow_violation(self, key: tuple[str, ...], limit: FlowLimit) -> str | None:
        """The flow-control message a send on `key` would trigger now, or None."""
        with self.lock:
            if not self.flow_control_enabled:
                return None
            now = self.now()
            events = self._flow_events.get(key, deque())
            while events and events[0] <= now - 86400:
                events.popleft()
            windows = (
                (60, limit.per_minute, "分钟"),
                (3600, limit.per_hour, "小时"),
                (86400, limit.per_day, "天"),
            )
            for seconds, permits, label in windows:
                if sum(1 for t in events if t > now - seconds) >= permits:
                    return f"触发{label}级流控Permits:{permits}"
            return None

    def record_flow(self, key: tuple[str, ...]) -> None:
        with self.lock:
            self._flow_events.setdefault(key, deque()).append(self.now())

    # -- log ---------------------------------------------------------------------------------

    def log_request(self, action: str, params: dict[str, str]) -> None:
        with self.lock:
            self.requests.append((action, dict(params)))

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {
                "signatures": {n: s.status for n, s in self.signatures.items()},
                "templates": {c: t.status for c, t in self.templates.items()},
                "sms": len(self.sms),
                "calls": len(self.calls),
            }


def _check_status(status: str) -> None:
    if status not in AUDIT_STATUSES:
        raise ValueError(f"status must be one of {', '.join(AUDIT_STATUSES)}, not {status!r}")


# Reserved numbers (national form) and the fault each one triggers; see the README, "The sandbox".
RESERVED_NUMBERS: dict[str, str] = {
    "13900000001": "throttling",
    "13900000002": "throttle_once",
    "13900000003": "flow_control",
    "13900000004": "flow_control_400",
    "13900000005": "amount_not_enough",
    "13900000006": "system_error",
    "13900000007": "service_unavailable",
    "13900000008": "slow",
    "13900000009": "html_502",
    "13900000010": "drop_connection",
    "13900000011": "response_lost",
    "13900000012": "receipt_undeliv",
    "13900000013": "receipt_mk0001",
    "13900000020": "call_busy",
    "13900000021": "call_no_answer",
    "13900000022": "call_powered_off",
    "13900000023": "call_invalid_number",
    "13900000024": "call_hung_up_early",
    "13900000025": "call_unreachable",
}
REQUEST_FAULTS = (
    "throttling",
    "throttle_once",
    "flow_control",
    "flow_control_400",
    "amount_not_enough",
    "system_error",
    "service_unavailable",
    "slow",
    "html_502",
    "drop_connection",
    "response_lost",
)
RECEIPT_FAULTS = {"receipt_undeliv": "UNDELIV", "receipt_mk0001": "MK:0001"}
CALL_FAULTS = {
    "call_busy": "200002",
    "call_no_answer": "200003",
    "call_powered_off": "200010",
    "call_invalid_number": "200004",
    "call_hung_up_early": "200001",
    "call_unreachable": "200005",
}
FAULT_NAMES = (*REQUEST_FAULTS, *RECEIPT_FAULTS, *CALL_FAULTS)
