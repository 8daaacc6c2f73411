"""Alibaba Cloud voice (dyvmsapi 2017-05-25) adapter: TTS and voice-file calls, call results.

The SDK is imported inside methods only. Every failure is an SmsctlError (alibaba_common).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from smsctl.core import clock
from smsctl.core.catalog import Explanation
from smsctl.core.catalog.receipts import call_answered, explain_call_state
from smsctl.core.errors import SmsctlError, UsageError
from smsctl.providers.alibaba_common import (
    MALFORMED,
    VOICE_ENDPOINT,
    AlibabaAccess,
    AlibabaAdapter,
    RetryPolicy,
    provider_number,
)
from smsctl.providers.answers import Answer

__all__ = [
    "AlibabaAccess",
    "AlibabaVoice",
    "CallDetail",
    "CallResult",
    "RetryPolicy",
    "VoiceFileInfo",
]

PROD_IDS = {"tts": "11010000138001", "voice-file": "11000000300006"}
MAX_OUT_ID_BYTES = 15
# Business codes that say the account itself cannot use voice, even though it authenticated.
_ACCOUNT_UNUSABLE = frozenset(
    {
        "isv.PRODUCT_UN_SUBSCRIPT",
        "isv.PRODUCT_UNSUBSCRIBE",
        "isv.OUT_OF_SERVICE",
        "isv.ACCOUNT_NOT_EXISTS",
        "isv.ACCOUNT_ABNORMAL",
        "isv.AMOUNT_NOT_ENOUGH",
    }
)
# QueryVoiceFileAuditInfo's AuditState (SDK docs). Only PASS may be called with; the in-between
# states (uploading after approval, reprocessing, waiting for the carrier, paused) are not yet.
_VOICE_FILE_STATES = {
    "AUDIT_STATE_PASS": "approved",
    "AUDIT_STATE_NOT_PASS": "rejected",
    "AUDIT_SATE_CANCEL": "cancelled",
    "AUDIT_STATE_CANCEL": "cancelled",
    "AUDIT_STATE_INIT": "pending",
    "AUDIT_STATE_UPLOADING": "pending",
    "AUDIT_STATE_REDOING": "pending",
    "AUDIT_ORDER_FINISHED": "pending",
    "AUDIT_PAUSE": "pending",
}
_VOICE_CODES_PER_QUERY = 10
# A call id that cannot exist: the query reaches the business layer and finds nothing.
_PROBE_CALL_ID = "0"


@dataclass(frozen=True)
class CallResult:
    call_id: str
    request_id: str | None
    attempts: int


@dataclass(frozen=True)
class CallDetail:
    state: str | None
    state_desc: str | None
    duration: int | None
    final: bool
    answered: bool
    explanation: Explanation | None
    ended_at: datetime | None = None  # the provider's endDate (China time), parsed as UTC+8


@dataclass(frozen=True)
class VoiceFileInfo:
    code: str
    status: str  # approved | pending | rejected | cancelled | not_found | unknown(...)
    reason: str


def voice_file_status(state: Any) -> str:
    """AuditState -> approved|pending|rejected|cancelled; anything else is "unknown(x)", which is
    never treated as approved."""
    return _VOICE_FILE_STATES.get(str(state or "").strip(), f"unknown({state})")


class AlibabaVoice(AlibabaAdapter):
    default_host = VOICE_ENDPOINT
    records = "voice console's call records"
    later = "ask the callee whether the phone rang"

    @staticmethod
    def _client_class() -> Any:
        from alibabacloud_dyvmsapi20170525.client import Client

        return Client

    @staticmethod
    def _models() -> Any:
        from alibabacloud_dyvmsapi20170525 import models

        return models

    def check_credentials(self) -> None:
        """Prove the AccessKey works for voice without placing a call.

        dyvmsapi has no cheap "who am I" action. QueryCallDetailByCallId with an impossible call
        id is read-only and free: the gateway authenticates the request first (wrong key or
        secret, clock skew, missing RAM permission all fail there, exit 4), and only then does
        the voice service look the call up. So any answer from the service itself — OK with no
        data, or a business code about the call id — proves the credentials were accepted.
        Network, throttling and account-level refusals (not subscribed, arrears) still raise.
        """
        request = self._models().QueryCallDetailByCallIdRequest(
            call_id=_PROBE_CALL_ID,
            prod_id=int(PROD_IDS["tts"]),
            query_date=_epoch_ms(clock.now()),
        )
        try:
            self.invoke("query_call_detail_by_call_id", request, action="QueryCallDetailByCallId")
        except SmsctlError as error:
            if error.exit_code in (4, 6, 7) or error.code in _ACCOUNT_UNUSABLE:
                raise
            if error.exit_code == 3:
                raise

    def voice_files(self, codes: list[str]) -> dict[str, VoiceFileInfo]:
        """The review state of recorded voice files (QueryVoiceFileAuditInfo, 10 codes a call).
        A code the provider does not know for this account comes back as status "not_found"."""
        found: dict[str, VoiceFileInfo] = {}
        for start in range(0, len(codes), _VOICE_CODES_PER_QUERY):
            chunk = codes[start : start + _VOICE_CODES_PER_QUERY]
            request = self._models().QueryVoiceFileAuditInfoRequest(
                voice_codes=",".join(chunk), business_type=0
            )
            body, _ = self.invoke(
                "query_voice_file_audit_info", request, action="QueryVoiceFileAuditInfo"
            )
            answer = Answer(body, "Alibaba Cloud QueryVoiceFileAuditInfo", MALFORMED)
            for record in answer.objects("Data"):
                voice_code = record.text("VoiceCode")
                if voice_code not in chunk:
                    continue
                state = voice_file_status(record.token("AuditState"))
                reason = _text(record.text("RejectInfo")) or ""
                found[voice_code] = VoiceFileInfo(voice_code, state, reason)
        return {code: found.get(code, VoiceFileInfo(code, "not_found", "")) for code in codes}

    def call_tts(
        self,
        called_number: str,
        tts_code: str,
        params: dict[str, str],
        *,
        out_id: str,
        called_show_number: str | None = None,
        play_times: int | None = None,
        volume: int | None = None,
        speed: int | None = None,
    ) -> CallResult:
        _check_call_options(out_id, play_times, volume, speed)
        request = self._models().SingleCallByTtsRequest(
            called_number=provider_number(called_number),
            called_show_number=called_show_number or None,
            tts_code=tts_code,
            tts_param=json.dumps({k: str(v) for k, v in params.items()}, ensure_ascii=False),
            play_times=play_times,
            volume=volume,
            speed=speed,
            out_id=out_id,
        )
        return self._place_call("single_call_by_tts", request, action="SingleCallByTts")

    def call_voice_file(
        self,
        called_number: str,
        voice_code: str,
        *,
        out_id: str,
        called_show_number: str | None = None,
        play_times: int | None = None,
        volume: int | None = None,
        speed: int | None = None,
    ) -> CallResult:
        _check_call_options(out_id, play_times, volume, speed)
        request = self._models().SingleCallByVoiceRequest(
            called_number=provider_number(called_number),
            called_show_number=called_show_number or None,
            voice_code=voice_code,
            play_times=play_times,
            volume=volume,
            speed=speed,
            out_id=out_id,
        )
        return self._place_call("single_call_by_voice", request, action="SingleCallByVoice")

    def _place_call(self, method: str, request: Any, *, action: str) -> CallResult:
        body, attempts = self.invoke(method, request, action=action, is_send=True)
        answer = Answer(body, f"Alibaba Cloud {action}", MALFORMED, is_send=True)
        return CallResult(
            call_id=answer.text("CallId", required=True) or "",
            request_id=answer.text("RequestId"),
            attempts=attempts,
        )

    def query_call(self, call_id: str, kind: str, query_date: datetime) -> CallDetail:
        if kind not in PROD_IDS:
            raise UsageError(f"Unknown voice call kind {kind!r}: use 'tts' or 'voice-file'.")
        request = self._models().QueryCallDetailByCallIdRequest(
            call_id=call_id, prod_id=int(PROD_IDS[kind]), query_date=_epoch_ms(query_date)
        )
        body, _ = self.invoke(
            "query_call_detail_by_call_id", request, action="QueryCallDetailByCallId"
        )
        return call_detail_from_data(body.get("Data"))


def call_detail_from_data(data: Any) -> CallDetail:
    """Data is a JSON *string* (or empty while the call has no record yet)."""
    source = "Alibaba Cloud QueryCallDetailByCallId"
    parsed: Any = {}
    if isinstance(data, str) and data.strip():
        try:
            parsed = json.loads(data)
        except (ValueError, RecursionError):
            raise Answer({}, source, MALFORMED).malformed(
                "Data", data, "a JSON object in a string", got="a string that is not JSON"
            ) from None
    elif data is not None and not isinstance(data, str):
        parsed = data
    record = Answer(parsed, source, MALFORMED, path="Data")
    state = _text(record.token("state"))
    return CallDetail(
        state=state,
        state_desc=_text(record.text("stateDesc")),
        duration=_int(record.token("duration")),
        # A call detail record only exists once the call has ended.
        final=state is not None,
        answered=call_answered(state),
        explanation=explain_call_state(state),
        ended_at=clock.china_time(_text(record.text("endDate"))),
    )


def _check_call_options(
    out_id: str, play_times: int | None, volume: int | None, speed: int | None
) -> None:
    if len(out_id.encode("utf-8")) > MAX_OUT_ID_BYTES:
        raise UsageError(f"OutId {out_id!r} is longer than {MAX_OUT_ID_BYTES} bytes.")
    _check_range("play times", play_times, 1, 3)
    _check_range("volume", volume, 0, 100)
    _check_range("speed", speed, -500, 500)


def _check_range(name: str, value: int | None, low: int, high: int) -> None:
    if value is not None and not low <= value <= high:
        raise UsageError(f"Voice {name} must be between {low} and {high}, got {value}.")


def _epoch_ms(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError("a call's query date must carry its zone")
    return int(moment.timestamp() * 1000)


def _text(value: Any) -> str | None:
    return None if value is None or str(value).strip() == "" else str(value).strip()


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
