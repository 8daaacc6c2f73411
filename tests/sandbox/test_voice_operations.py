"""Voice actions through the real dyvmsapi client."""

from __future__ import annotations

import json

import pytest

from tests.fixtures.sandbox import TEST_RECEIPT_DELAY
from tests.sandbox.conftest import SERVICE_NOW

PROD_ID_TTS = "11010000138001"
PROD_ID_VOICE = "11000000300006"


def call_tts(voice_client, number="13800138100", code="TTS_100000001", param='{"code":"1234"}'):
    from alibabacloud_dyvmsapi20170525 import models

    return voice_client.single_call_by_tts(
        models.SingleCallByTtsRequest(
            called_number=number, tts_code=code, tts_param=param, play_times=2, volume=80
        )
    ).body


def detail(voice_client, call_id, prod_id=PROD_ID_TTS, when=SERVICE_NOW):
    from alibabacloud_dyvmsapi20170525 import models

    return voice_client.query_call_detail_by_call_id(
        models.QueryCallDetailByCallIdRequest(
            call_id=call_id, prod_id=int(prod_id), query_date=int(when.timestamp() * 1000)
        )
    ).body


def test_call_records_are_kept_per_china_date(voice_client, sandbox):
    from datetime import datetime, timedelta, timezone

    china = timezone(timedelta(hours=8))
    sandbox.alibaba.state.set_clock(datetime(2026, 12, 1, 23, 59, 59, tzinfo=china), frozen=True)
    call_id = call_tts(voice_client).call_id
    sandbox.alibaba.state.advance_clock(5)  # the result exists now, in China's next day
    next_day = datetime(2026, 12, 2, 0, 0, 4, tzinfo=china)
    assert detail(voice_client, call_id, when=next_day).data is None
    # The call's own China date, given as any moment of it, in any zone:
    same_day = datetime(2026, 12, 1, 0, 0, 0, tzinfo=timezone.utc)  # 08:00 in China
    assert json.loads(detail(voice_client, call_id, when=same_day).data)["state"] == "200000"


def test_tts_call_then_result_listened_fully(voice_client, sandbox):
    body = call_tts(voice_client)
    assert body.code == "OK" and "^" in body.call_id
    assert sandbox.alibaba.state.calls[-1].content == "您的验证码是1234，请在5分钟内输入。"
    assert detail(voice_client, body.call_id).data is None
    sandbox.alibaba.state.advance_clock(TEST_RECEIPT_DELAY + 0.1)
    result = detail(voice_client, body.call_id)
    assert isinstance(result.data, str)
    data = json.loads(result.data)
    assert (data["state"], data["callee"], data["duration"]) == ("200000", "13800138100", 12)
    assert data["stateDesc"] == "用户听完挂断"


@pytest.mark.parametrize(
    ("number", "state"),
    [
        ("13900000020", "200002"),
        ("13900000021", "200003"),
        ("13900000022", "200010"),
        ("13900000023", "200004"),
        ("13900000024", "200001"),
        ("13900000025", "200005"),
    ],
)
def test_call_outcome_fault_numbers(voice_client, sandbox, number, state):
    sandbox.alibaba.state.call_result_delay = 0
    call_id = call_tts(voice_client, number).call_id
    data = json.loads(detail(voice_client, call_id).data)
    assert data["state"] == state
    assert (data["duration"] > 0) == (state == "200001")


def test_single_call_by_voice(voice_client, sandbox):
    from alibabacloud_dyvmsapi20170525 import models

    sandbox.alibaba.state.call_result_delay = 0
    body = voice_client.single_call_by_voice(
        models.SingleCallByVoiceRequest(
            called_number="13800138101", voice_code="4c3a1b2e-0d6f-4e35-9d4a-2f1e0c8b7a65.wav"
        )
    ).body
    assert body.code == "OK"
    assert detail(voice_client, body.call_id, PROD_ID_TTS).data is None  # wrong product
    assert json.loads(detail(voice_client, body.call_id, PROD_ID_VOICE).data)["state"] == "200000"
    rejected = voice_client.single_call_by_voice(
        models.SingleCallByVoiceRequest(
            called_number="13800138101", voice_code="9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b.wav"
        )
    ).body
    assert rejected.code == "isv.VOICE_FILE_ILLEGAL"


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"code": "TTS_404"}, "isv.TTS_TEMPLATE_ILLEGAL"),
        ({"param": "{}"}, "isv.TEMPLATE_MISSING_PARAMETERS"),
        ({"param": "nope"}, "isv.INVALID_JSON_PARAM"),
        ({"number": "110"}, "isv.MOBILE_NUMBER_ILLEGAL"),
    ],
)
def test_tts_validation(voice_client, kwargs, expected):
    assert call_tts(voice_client, **kwargs).code == expected


def test_voice_flow_control(voice_client):
    assert call_tts(voice_client, "13800138102").code == "OK"
    second = call_tts(voice_client, "13800138102")
    assert (second.code, second.message) == (
        "isv.BUSINESS_LIMIT_CONTROL",
        "触发分钟级流控Permits:1",
    )


def test_query_voice_file_audit_info(voice_client):
    from alibabacloud_dyvmsapi20170525 import models

    body = voice_client.query_voice_file_audit_info(
        models.QueryVoiceFileAuditInfoRequest(
            voice_codes="4c3a1b2e-0d6f-4e35-9d4a-2f1e0c8b7a65.wav,"
            "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b.wav",
            business_type=0,
        )
    ).body
    states = {d.voice_code: (d.audit_state, d.reject_info) for d in body.data}
    assert states["4c3a1b2e-0d6f-4e35-9d4a-2f1e0c8b7a65.wav"] == ("AUDIT_STATE_PASS", "")
    assert states["9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b.wav"][0] == "AUDIT_STATE_NOT_PASS"


def test_voice_errors_carry_voice_host_id(voice_client):
    from alibabacloud_dyvmsapi20170525 import models
    from alibabacloud_tea_openapi.exceptions import ClientException

    with pytest.raises(ClientException) as caught:
        voice_client.single_call_by_tts(models.SingleCallByTtsRequest(tts_code="TTS_100000001"))
    assert caught.value.code == "MissingCalledNumber"
    assert caught.value.data["HostId"] == "dyvmsapi.aliyuncs.com"


@pytest.mark.parametrize(
    ("number", "connected"),
    [("13800138100", True), ("13900000024", True), ("13900000021", False), ("13900000020", False)],
)
def test_call_times_follow_one_another(voice_client, sandbox, number, connected):
    """Created, then answered, then ended; what was connected lasted `duration` seconds."""
    from datetime import datetime

    sandbox.alibaba.state.call_result_delay = 0
    call_id = call_tts(voice_client, number).call_id
    data = json.loads(detail(voice_client, call_id).data)

    def at(text):
        return datetime.strptime(text, "%Y-%m-%d %H:%M:%S")

    created, ended = at(data["gmtCreate"]), at(data["endDate"])
    if connected:
        started = at(data["startDate"])
        assert created < started < ended
        assert (ended - started).total_seconds() == data["duration"] > 0
    else:
        assert data["startDate"] == "" and data["duration"] == 0
        assert created <= ended
