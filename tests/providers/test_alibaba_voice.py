"""AlibabaVoice against the sandbox through the real dyvmsapi SDK."""

from __future__ import annotations

import traceback
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from smsctl.core.errors import (
    CredentialError,
    ProviderRefused,
    ProviderUnavailable,
    RateLimited,
    UsageError,
)
from smsctl.providers.alibaba_common import AlibabaAccess, RetryPolicy
from smsctl.providers.alibaba_voice import AlibabaVoice, call_detail_from_data
from tests.support.worded import worded_hint

CANARY = "CANARY-s3cr3t-7f1e9a"
PHONE = "+8613800138000"
VOICE_FILE = "4c3a1b2e-0d6f-4e35-9d4a-2f1e0c8b7a65.wav"
FAST = RetryPolicy(max_attempts=3, base_delay=0.01, max_wait=2.0)
CHINA = timezone(timedelta(hours=8))
# The emulated provider's clock is pinned: calls happen at this moment, whatever the real time.
AT = datetime(2026, 12, 1, 10, 0, 0, tzinfo=CHINA)


@pytest.fixture
def access(fresh_sandbox_state) -> AlibabaAccess:
    entry = fresh_sandbox_state.info()["voice"]
    return AlibabaAccess(
        entry["access_key_id"], entry["access_key_secret"], entry["endpoint"], None, 1.0, 1.0
    )


@pytest.fixture
def voice(access) -> AlibabaVoice:
    return AlibabaVoice(access, retry=FAST, sleep=lambda s: None)


@pytest.fixture
def state(fresh_sandbox_state):
    state = fresh_sandbox_state.alibaba.state
    state.call_result_delay = 0
    state.set_clock(AT, frozen=True)
    return state


def calls(state) -> list:
    return [a for a, _ in state.requests if a in ("SingleCallByTts", "SingleCallByVoice")]


def test_check_credentials_accepts_the_sandbox_key(voice, state):
    assert voice.check_credentials() is None
    assert [a for a, _ in state.requests] == ["QueryCallDetailByCallId"]


@pytest.mark.parametrize(
    "key_id,secret,code",
    [
        ("LTAI5tSandboxKey0000001", CANARY, "SignatureDoesNotMatch"),
        ("LTAI5tNoSuchKey00000001", CANARY, "InvalidAccessKeyId.NotFound"),
        (
            "LTAI5tSandboxDisabled01",
            "SandboxSecretNotForProduction1",
            "InvalidAccessKeyId.Inactive",
        ),
    ],
)
def test_credential_failures_are_exit_4(access, key_id, secret, code):
    bad = replace(access, access_key_id=key_id, access_key_secret=secret)
    with pytest.raises(CredentialError) as caught:
        AlibabaVoice(bad).check_credentials()
    assert caught.value.code == code and caught.value.request_id
    text = "".join(traceback.format_exception(caught.value)) + repr(caught.value.to_dict())
    assert CANARY not in text and "Authorization" not in text


def test_check_credentials_still_raises_transient_failures(voice, state):
    state.fail_next("QueryCallDetailByCallId", "system_error")
    with pytest.raises(ProviderUnavailable):
        voice.check_credentials()


def test_tts_call_answered(voice, state):
    result = voice.call_tts(PHONE, "TTS_100000001", {"code": "1234"}, out_id="smsctl-v1")
    assert result.call_id and result.request_id and result.attempts == 1
    (_, params) = [r for r in state.requests if r[0] == "SingleCallByTts"][0]
    assert params["CalledNumber"] == "13800138000" and params["OutId"] == "smsctl-v1"
    detail = voice.query_call(result.call_id, "tts", AT)
    assert detail.state == "200000" and detail.final and detail.answered
    assert detail.explanation.exit_code == 0 and detail.state_desc


def test_voice_file_call(voice, state):
    result = voice.call_voice_file(PHONE, VOICE_FILE, out_id="smsctl-v2", play_times=2)
    detail = voice.query_call(result.call_id, "voice-file", AT)
    assert detail.answered and detail.final


def test_call_detail_times_are_china_time_with_their_zone(voice, state):
    result = voice.call_tts(PHONE, "TTS_100000001", {"code": "1234"}, out_id="o")
    detail = voice.query_call(result.call_id, "tts", AT)
    # The emulated call rings 3 s and is listened to for 12 s: it ends 15 s after it was placed.
    assert detail.ended_at == AT + timedelta(seconds=15)
    assert detail.ended_at.utcoffset() == timedelta(hours=8)


def test_call_is_found_only_under_its_china_date(voice, state):
    result = voice.call_tts(PHONE, "TTS_100000001", {"code": "1"}, out_id="o")
    assert voice.query_call(result.call_id, "tts", AT - timedelta(days=1)).final is False
    # The same China date, asked as a moment in another zone, finds it.
    late = datetime(2026, 12, 1, 15, 59, 59, tzinfo=timezone.utc)  # 23:59:59 in China
    assert voice.query_call(result.call_id, "tts", late).final is True


def test_call_result_not_yet_available(voice, state):
    state.call_result_delay = 60
    result = voice.call_tts(PHONE, "TTS_100000001", {"code": "1"}, out_id="o")
    detail = voice.query_call(result.call_id, "tts", AT)
    assert detail.state is None and not detail.final and not detail.answered
    assert detail.explanation is None


@pytest.mark.parametrize(
    "number,state_code,answered",
    [
        ("13900000020", "200002", False),
        ("13900000021", "200003", False),
        ("13900000022", "200010", False),
        ("13900000023", "200004", False),
        ("13900000024", "200001", True),
        ("13900000025", "200005", False),
    ],
)
def test_call_states(voice, state, number, state_code, answered):
    result = voice.call_tts(number, "TTS_100000002", {"service": "db"}, out_id="o")
    detail = voice.query_call(result.call_id, "tts", AT)
    assert (detail.state, detail.final, detail.answered) == (state_code, True, answered)
    assert detail.explanation.exit_code == (0 if answered else 8)


@pytest.mark.parametrize(
    "number,cls,code",
    [
        ("13900000001", RateLimited, "Throttling.User"),
        ("13900000003", RateLimited, "isv.BUSINESS_LIMIT_CONTROL"),
        ("13900000005", ProviderRefused, "isv.AMOUNT_NOT_ENOUGH"),
        ("13900000006", ProviderUnavailable, "isp.SYSTEM_ERROR"),
        ("13900000007", ProviderUnavailable, "ServiceUnavailable"),
        ("13900000009", ProviderUnavailable, "BadResponse"),
        ("13900000010", ProviderUnavailable, "ResponseLost"),
    ],
)
def test_fault_numbers(voice, state, number, cls, code):
    with pytest.raises(cls) as caught:
        voice.call_tts(number, "TTS_100000001", {"code": "1"}, out_id="o")
    assert caught.value.code == code and worded_hint(caught.value, "voice")


def test_throttle_once_is_retried(access, state):
    waits: list[float] = []
    voice = AlibabaVoice(access, retry=FAST, sleep=waits.append)
    result = voice.call_tts("13900000002", "TTS_100000001", {"code": "1"}, out_id="o")
    assert result.attempts == 2 and waits == [1.0]


def test_read_timeout_on_a_call_is_response_lost_and_not_retried(access, state):
    voice = AlibabaVoice(replace(access, read_timeout=0.3), retry=FAST, sleep=lambda s: None)
    with pytest.raises(ProviderUnavailable) as caught:
        voice.call_tts("13900000011", "TTS_100000001", {"code": "1"}, out_id="o")
    assert caught.value.code == "ResponseLost"
    assert calls(state) == ["SingleCallByTts"]
    hint = worded_hint(caught.value, "voice")
    assert "voice console's call records" in hint and "receipt" not in hint


@pytest.mark.parametrize(
    "template,code",
    [("TTS_000000000", "isv.TTS_TEMPLATE_ILLEGAL")],
)
def test_unknown_tts_template(voice, template, code):
    with pytest.raises(ProviderRefused) as caught:
        voice.call_tts(PHONE, template, {"code": "1"}, out_id="o")
    assert caught.value.code == code


def test_rejected_voice_file(voice):
    with pytest.raises(ProviderRefused) as caught:
        voice.call_voice_file(PHONE, "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b.wav", out_id="o")
    assert caught.value.code == "isv.VOICE_FILE_ILLEGAL"


@pytest.mark.parametrize(
    "options",
    [
        {"out_id": "x" * 16},
        {"out_id": "o", "play_times": 4},
        {"out_id": "o", "volume": 101},
        {"out_id": "o", "speed": -501},
    ],
)
def test_bad_call_options_are_refused_before_any_request(voice, state, options):
    with pytest.raises(UsageError):
        voice.call_tts(PHONE, "TTS_100000001", {"code": "1"}, **options)
    assert state.requests == []


def test_unknown_call_kind(voice):
    with pytest.raises(UsageError):
        voice.query_call("1^2", "video", AT)


def test_call_detail_parsing_tolerates_missing_data_and_refuses_malformed_data():
    assert call_detail_from_data(None).final is False
    assert call_detail_from_data("").final is False
    for malformed in ("not json", "[1]", '{"state": ["200003"]}', 5):
        with pytest.raises(ProviderUnavailable) as refused:
            call_detail_from_data(malformed)
        assert refused.value.code == "MalformedResponse"
    detail = call_detail_from_data('{"state": "200003", "duration": "0", "stateDesc": "x"}')
    assert (detail.state, detail.duration, detail.answered) == ("200003", 0, False)


REJECTED_FILE = "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b.wav"


def test_voice_file_review_states(voice, state):
    from smsctl.sandbox.state import VoiceTemplate

    state.add_voice_template(VoiceTemplate("pending.wav", "voice-file", status="pending"))
    found = voice.voice_files([VOICE_FILE, REJECTED_FILE, "pending.wav", "nosuch.wav"])
    assert {code: (info.status, info.reason) for code, info in found.items()} == {
        VOICE_FILE: ("approved", ""),
        REJECTED_FILE: ("rejected", "语音文件内容含有背景噪音"),
        "pending.wav": ("pending", ""),
        "nosuch.wav": ("not_found", ""),
    }
    assert [a for a, _ in state.requests] == ["QueryVoiceFileAuditInfo"]


def test_voice_files_are_asked_ten_at_a_time(voice, state):
    """The service refuses more than 10 VoiceCodes in one request."""
    codes = [f"file{n:02d}.wav" for n in range(23)]
    found = voice.voice_files([VOICE_FILE, *codes])
    assert found[VOICE_FILE].status == "approved"
    assert {found[code].status for code in codes} == {"not_found"}
    asked = [p["VoiceCodes"].split(",") for a, p in state.requests]
    assert [len(chunk) for chunk in asked] == [10, 10, 4]


@pytest.mark.parametrize(
    ("state_name", "status"),
    [
        ("AUDIT_STATE_PASS", "approved"),
        ("AUDIT_STATE_UPLOADING", "pending"),
        ("AUDIT_ORDER_FINISHED", "pending"),
        ("AUDIT_SATE_CANCEL", "cancelled"),
        ("AUDIT_STATE_NOT_PASS", "rejected"),
        ("SOMETHING_NEW", "unknown(SOMETHING_NEW)"),
        (None, "unknown(None)"),
    ],
)
def test_only_a_passed_review_counts_as_approved(state_name, status):
    from smsctl.providers.alibaba_voice import voice_file_status

    assert voice_file_status(state_name) == status
