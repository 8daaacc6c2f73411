"""Each reserved fault number produces what the real SDK produces for that failure."""

from __future__ import annotations

import time

import pytest

from tests.fixtures.sandbox import TEST_RECEIPT_DELAY
from tests.sandbox.conftest import SERVICE_DATE


def send(sms_client, number):
    from alibabacloud_dysmsapi20170525 import models

    return sms_client.send_sms(
        models.SendSmsRequest(
            phone_numbers=number,
            sign_name="Acme",
            template_code="SMS_100000001",
            template_param='{"code":"1234"}',
        )
    )


def test_throttling_raises_throttling_exception_with_retry_after(sms_client, sandbox):
    from alibabacloud_tea_openapi.exceptions import ThrottlingException

    with pytest.raises(ThrottlingException) as caught:
        send(sms_client, "13900000001")
    assert caught.value.retry_after == 1000
    assert (caught.value.status_code, caught.value.code) == (400, "Throttling.User")
    assert sandbox.alibaba.state.sms == []


def test_throttle_once_then_succeed(sms_client, sandbox):
    from alibabacloud_tea_openapi.exceptions import ThrottlingException

    with pytest.raises(ThrottlingException):
        send(sms_client, "+8613900000002")
    assert send(sms_client, "+8613900000002").body.code == "OK"
    assert len(sandbox.alibaba.state.sms) == 1


def test_flow_control_http_200_form(sms_client):
    body = send(sms_client, "13900000003").body
    assert (body.code, body.message) == ("isv.BUSINESS_LIMIT_CONTROL", "触发分钟级流控Permits:1")


def test_flow_control_http_400_form(sms_client):
    from alibabacloud_tea_openapi.exceptions import ClientException

    with pytest.raises(ClientException) as caught:
        send(sms_client, "13900000004")
    assert (caught.value.status_code, caught.value.code) == (400, "isv.BUSINESS_LIMIT_CONTROL")
    assert "触发分钟级流控Permits:1" in caught.value.message


def test_amount_not_enough(sms_client):
    assert send(sms_client, "13900000005").body.code == "isv.AMOUNT_NOT_ENOUGH"


@pytest.mark.parametrize(
    ("number", "status", "code"),
    [("13900000006", 500, "isp.SYSTEM_ERROR"), ("13900000007", 503, "ServiceUnavailable")],
)
def test_server_errors_raise_server_exception(sms_client, number, status, code):
    from alibabacloud_tea_openapi.exceptions import ServerException

    with pytest.raises(ServerException) as caught:
        send(sms_client, number)
    assert (caught.value.status_code, caught.value.code) == (status, code)


def test_slow_response_is_a_read_timeout_and_nothing_is_sent(sandbox):
    from alibabacloud_dysmsapi20170525.client import Client
    from darabonba.exceptions import UnretryableException

    from tests.fixtures.sandbox import alibaba_config

    client = Client(alibaba_config(sandbox.info()["sms"], read_timeout=500))
    started = time.monotonic()
    with pytest.raises(UnretryableException) as caught:
        send(client, "13900000008")
    assert time.monotonic() - started < 3
    assert "timed out" in str(caught.value.inner_exception).lower()
    assert caught.value.code is None
    assert sandbox.alibaba.state.sms == []


def test_response_lost_times_out_but_the_send_is_recorded(sandbox):
    from alibabacloud_dysmsapi20170525.client import Client
    from darabonba.exceptions import UnretryableException

    from tests.fixtures.sandbox import alibaba_config

    client = Client(alibaba_config(sandbox.info()["sms"], read_timeout=500))
    with pytest.raises(UnretryableException) as caught:
        send(client, "13900000011")
    assert "timed out" in str(caught.value.inner_exception).lower()
    assert [r.phone for r in sandbox.alibaba.state.sms] == ["13900000011"]


def test_html_502_is_unretryable(sms_client):
    from darabonba.exceptions import UnretryableException

    with pytest.raises(UnretryableException) as caught:
        send(sms_client, "13900000009")
    assert caught.value.code is None
    assert "Failed to parse the value as json" in str(caught.value.inner_exception)
    assert "502 Bad Gateway" in str(caught.value.inner_exception)


def test_dropped_connection_is_unretryable(sms_client):
    from darabonba.exceptions import UnretryableException

    with pytest.raises(UnretryableException) as caught:
        send(sms_client, "13900000010")
    assert (
        "aborted" in str(caught.value.inner_exception).lower()
        or "closed" in str(caught.value.inner_exception).lower()
    )


@pytest.mark.parametrize(
    ("number", "err_code"), [("13900000012", "UNDELIV"), ("13900000013", "MK:0001")]
)
def test_failed_delivery_receipt(sms_client, sandbox, number, err_code):
    from alibabacloud_dysmsapi20170525 import models

    biz_id = send(sms_client, number).body.biz_id
    sandbox.alibaba.state.advance_clock(TEST_RECEIPT_DELAY + 0.1)
    day = SERVICE_DATE
    body = sms_client.query_send_details(
        models.QuerySendDetailsRequest(
            phone_number=number, send_date=day, page_size=10, current_page=1, biz_id=biz_id
        )
    ).body
    dto = body.sms_send_detail_dtos.sms_send_detail_dto[0]
    assert (dto.send_status, dto.err_code) == (2, err_code)


def test_fault_numbers_apply_to_voice_calls(voice_client):
    from alibabacloud_dyvmsapi20170525 import models
    from alibabacloud_tea_openapi.exceptions import ThrottlingException

    with pytest.raises(ThrottlingException):
        voice_client.single_call_by_tts(
            models.SingleCallByTtsRequest(
                called_number="13900000001", tts_code="TTS_100000001", tts_param='{"code":"1"}'
            )
        )


def test_any_number_can_be_given_a_fault_at_run_time(sms_client, sandbox):
    sandbox.alibaba.state.set_fault("13812345678", "amount_not_enough")
    assert send(sms_client, "13812345678").body.code == "isv.AMOUNT_NOT_ENOUGH"
    sandbox.alibaba.state.set_fault("13812345678", None)
    assert send(sms_client, "13812345678").body.code == "OK"


def test_fail_next_applies_to_any_action_once(sms_client, sandbox):
    from alibabacloud_dysmsapi20170525 import models
    from alibabacloud_tea_openapi.exceptions import ServerException

    sandbox.alibaba.state.fail_next("GetSmsSign", "service_unavailable")
    with pytest.raises(ServerException):
        sms_client.get_sms_sign(models.GetSmsSignRequest(sign_name="Acme"))
    assert sms_client.get_sms_sign(models.GetSmsSignRequest(sign_name="Acme")).body.code == "OK"


def test_slow_response_stops_promptly_on_shutdown():
    import threading

    from alibabacloud_dysmsapi20170525.client import Client
    from darabonba.exceptions import UnretryableException

    from smsctl.sandbox.server import Sandbox
    from tests.fixtures.sandbox import alibaba_config

    box = Sandbox().start()  # default slow_seconds = 30
    client = Client(alibaba_config(box.info()["sms"], read_timeout=20000))
    errors = []

    def call():
        try:
            send(client, "13900000008")
        except UnretryableException as exc:
            errors.append(exc)

    worker = threading.Thread(target=call)
    worker.start()
    time.sleep(0.3)
    started = time.monotonic()
    box.stop()
    worker.join(5)
    assert not worker.is_alive()
    assert time.monotonic() - started < 3
    assert len(errors) == 1
