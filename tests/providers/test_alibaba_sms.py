"""AlibabaSms against the sandbox through the real dysmsapi SDK."""

from __future__ import annotations

import traceback
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone

import pytest

from smsctl.core.errors import (
    ConfigError,
    CredentialError,
    ProviderRefused,
    ProviderUnavailable,
    RateLimited,
    SmsctlError,
)
from smsctl.providers.alibaba_common import AlibabaAccess, RetryPolicy
from smsctl.providers.alibaba_sms import AlibabaSms
from smsctl.sandbox.alibaba import china_time
from tests.support.worded import worded_hint

CANARY = "CANARY-s3cr3t-7f1e9a"
PHONE = "+8613800138000"
FAST = RetryPolicy(max_attempts=3, base_delay=0.01, max_wait=2.0)


@pytest.fixture
def access(fresh_sandbox_state) -> AlibabaAccess:
    entry = fresh_sandbox_state.info()["sms"]
    return AlibabaAccess(
        entry["access_key_id"], entry["access_key_secret"], entry["endpoint"], None, 1.0, 1.0
    )


@pytest.fixture
def sms(access) -> AlibabaSms:
    return AlibabaSms(access, retry=FAST)


@pytest.fixture
def state(fresh_sandbox_state):
    return fresh_sandbox_state.alibaba.state


def sends(state) -> list:
    return [params for action, params in state.requests if action == "SendSms"]


def send_date_of_last_send(state):
    """The China date the emulated provider filed the last send under, whatever the local clock."""
    return china_time(state.sms[-1].sent_at).date()


def test_check_credentials_accepts_the_sandbox_key(sms):
    assert sms.check_credentials() is None


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
def test_credential_failures_are_exit_4_with_code_and_request_id(access, key_id, secret, code):
    bad = replace(access, access_key_id=key_id, access_key_secret=secret)
    with pytest.raises(CredentialError) as caught:
        AlibabaSms(bad, retry=FAST).check_credentials()
    error = caught.value
    assert error.exit_code == 4 and error.code == code
    assert error.request_id
    assert "smsctl" in worded_hint(error, "sms")
    _assert_no_secret(error, AlibabaSms(bad), secret=CANARY)


def test_endpoint_with_a_path_is_refused_before_any_request(access, state):
    with pytest.raises(ConfigError):
        AlibabaSms(replace(access, endpoint=access.endpoint + "/v2")).check_credentials()
    assert state.requests == []


@pytest.mark.parametrize(
    "name,status,reason",
    [
        ("Acme", "approved", ""),
        ("AcmeBeta", "pending", ""),
        ("AcmeOld", "rejected", "签名归属证明材料不足：请上传营业执照或商标注册证书"),
    ],
)
def test_signature_statuses(sms, name, status, reason):
    info = sms.get_signature(name)
    assert (info.name, info.status, info.reason) == (name, status, reason)
    assert info.created


def test_cancelled_signature(sms, state):
    state.set_signature_status("Acme", "cancelled")
    assert sms.get_signature("Acme").status == "cancelled"


def test_unknown_signature_is_refused_with_what_to_check(sms):
    with pytest.raises(ProviderRefused) as caught:
        sms.get_signature("NoSuchSign")
    error = caught.value
    assert error.code == "isv.SMS_SIGNATURE_ILLEGAL"
    assert "NoSuchSign" in worded_hint(error, "sms") and "account" in worded_hint(error, "sms")
    assert error.request_id


def test_signature_falls_back_to_query_sms_sign(sms, state):
    # Make GetSmsSign answer as an endpoint without the newer action does.
    sms_client = sms._client()
    calls = []

    def missing(request):
        calls.append("GetSmsSign")
        from alibabacloud_tea_openapi.exceptions import ClientException

        raise ClientException(
            status_code=404,
            code="InvalidAction.NotFound",
            message="code: 404, not found request id: R",
            data={"Code": "InvalidAction.NotFound", "Message": "not found", "RequestId": "R"},
            request_id="R",
        )

    sms_client.get_sms_sign = missing
    info = sms.get_signature("AcmeOld")
    assert calls == ["GetSmsSign"]
    assert info.status == "rejected" and info.reason.startswith("签名归属")
    assert [a for a, _ in state.requests][-1] == "QuerySmsSign"


@pytest.mark.parametrize(
    "code,status,kind,variables",
    [
        ("SMS_100000001", "approved", "verification", ("code",)),
        ("SMS_100000002", "approved", "verification", ("code", "minutes")),
        ("SMS_100000003", "approved", "notification", ("name", "order")),
        ("SMS_100000004", "pending", "notification", ("service", "status")),
        ("SMS_100000005", "rejected", "notification", ("link",)),
    ],
)
def test_template_statuses(sms, code, status, kind, variables):
    info = sms.get_template(code)
    assert (info.code, info.status, info.type, info.variables) == (code, status, kind, variables)
    assert info.related_signature == "Acme"
    assert info.content and info.name
    if status == "rejected":
        assert info.reason


def test_template_falls_back_to_query_sms_template(sms, state):
    from alibabacloud_tea_openapi.exceptions import ClientException

    def missing(request):
        raise ClientException(
            status_code=404,
            code="InvalidAction.NotFound",
            message="code: 404",
            data={"Code": "InvalidAction.NotFound", "Message": "gone"},
            request_id="R",
        )

    sms._client().get_sms_template = missing
    info = sms.get_template("SMS_100000002")
    assert info.variables == ("code", "minutes") and info.status == "approved"
    assert info.type == "verification"
    assert [a for a, _ in state.requests][-1] == "QuerySmsTemplate"


def test_unknown_template_is_refused(sms):
    with pytest.raises(ProviderRefused) as caught:
        sms.get_template("SMS_000000000")
    assert caught.value.code == "isv.SMS_TEMPLATE_ILLEGAL"
    assert "SMS_000000000" in worded_hint(caught.value, "sms")


def test_send_and_receipt_to_delivered(sms, state):
    result = sms.send(PHONE, "Acme", "SMS_100000001", {"code": "123456"}, "smsctl-out-1")
    assert result.biz_id and result.request_id and result.code == "OK" and result.attempts == 1
    (params,) = sends(state)
    assert params["PhoneNumbers"] == "13800138000"
    assert params["OutId"] == "smsctl-out-1"
    assert (
        sms.query_receipt(PHONE, result.biz_id, send_date_of_last_send(state)).status == "waiting"
    )
    state.receipt_delay = 0
    receipt = sms.query_receipt(PHONE, result.biz_id, send_date_of_last_send(state))
    assert receipt.status == "delivered" and receipt.err_code == "DELIVERED"
    assert "123456" in receipt.content
    assert receipt.explanation.exit_code == 0


def test_receipt_times_are_china_time_with_their_zone(sms, state):
    china = timezone(timedelta(hours=8))
    sent = datetime(2026, 12, 1, 21, 40, 5, tzinfo=china)
    state.set_clock(sent, frozen=True)
    state.receipt_delay = 2
    result = sms.send(PHONE, "Acme", "SMS_100000001", {"code": "1"}, "o")
    state.advance_clock(3)
    receipt = sms.query_receipt(PHONE, result.biz_id, date(2026, 12, 1))
    assert receipt.recorded and receipt.status == "delivered"
    assert receipt.send_date == sent and receipt.send_date.utcoffset() == timedelta(hours=8)
    assert receipt.receive_date == sent + timedelta(seconds=2)


def test_receipt_under_another_date_is_not_recorded(sms, state):
    state.set_clock(
        datetime(2026, 12, 1, 23, 59, 59, tzinfo=timezone(timedelta(hours=8))), frozen=True
    )
    result = sms.send(PHONE, "Acme", "SMS_100000001", {"code": "1"}, "o")
    receipt = sms.query_receipt(PHONE, result.biz_id, date(2026, 12, 2))
    assert (receipt.recorded, receipt.status, receipt.send_date) == (False, "waiting", None)


@pytest.mark.parametrize(
    "number,err_code", [("13900000012", "UNDELIV"), ("13900000013", "MK:0001")]
)
def test_failed_receipts_are_explained(sms, state, number, err_code):
    state.receipt_delay = 0
    result = sms.send(number, "Acme", "SMS_100000001", {"code": "1"}, "o")
    receipt = sms.query_receipt(number, result.biz_id, send_date_of_last_send(state))
    assert receipt.status == "failed" and receipt.err_code == err_code
    assert receipt.explanation.exit_code == 8


@pytest.mark.parametrize(
    "sign,template,params,code",
    [
        ("NoSuchSign", "SMS_100000001", {"code": "1"}, "isv.SMS_SIGNATURE_ILLEGAL"),
        ("Acme", "SMS_000000000", {"code": "1"}, "isv.SMS_TEMPLATE_ILLEGAL"),
        ("Acme", "SMS_100000002", {"code": "1"}, "isv.TEMPLATE_MISSING_PARAMETERS"),
        ("Acme", "SMS_100000001", {"code": "x" * 40}, "isv.PARAM_LENGTH_LIMIT"),
    ],
)
def test_business_refusals_are_exit_5(sms, sign, template, params, code):
    with pytest.raises(ProviderRefused) as caught:
        sms.send(PHONE, sign, template, params, "o")
    assert caught.value.code == code and caught.value.exit_code == 5
    assert caught.value.request_id and worded_hint(caught.value, "sms")


def test_international_number_is_refused_by_the_mainland_service(sms):
    with pytest.raises(ProviderRefused) as caught:
        sms.send("+85261234567", "Acme", "SMS_100000001", {"code": "1"}, "o")
    assert caught.value.code == "isv.MOBILE_NUMBER_ILLEGAL"


@pytest.mark.parametrize(
    "number,cls,code,exit_code",
    [
        ("13900000003", RateLimited, "isv.BUSINESS_LIMIT_CONTROL", 6),
        ("13900000004", RateLimited, "isv.BUSINESS_LIMIT_CONTROL", 6),
        ("13900000005", ProviderRefused, "isv.AMOUNT_NOT_ENOUGH", 5),
        ("13900000006", ProviderUnavailable, "isp.SYSTEM_ERROR", 7),
        ("13900000007", ProviderUnavailable, "ServiceUnavailable", 7),
        ("13900000009", ProviderUnavailable, "BadResponse", 7),
        ("13900000010", ProviderUnavailable, "ResponseLost", 7),
    ],
)
def test_fault_numbers(sms, state, number, cls, code, exit_code):
    with pytest.raises(cls) as caught:
        sms.send(number, "Acme", "SMS_100000001", {"code": "1"}, "o")
    error = caught.value
    assert (error.code, error.exit_code) == (code, exit_code)
    assert worded_hint(error, "sms")
    if code not in ("BadResponse", "ResponseLost"):
        assert error.request_id
    assert len(sends(state)) == 1, "none of these may be retried"


def test_flow_control_says_which_limit(sms):
    with pytest.raises(RateLimited) as caught:
        sms.send("13900000003", "Acme", "SMS_100000001", {"code": "1"}, "o")
    assert caught.value.details["limit_window"] == "minute"
    assert "per-minute" in worded_hint(caught.value, "sms")


def test_real_flow_control_after_the_first_send(sms):
    sms.send(PHONE, "Acme", "SMS_100000001", {"code": "1"}, "o1")
    with pytest.raises(RateLimited) as caught:
        sms.send(PHONE, "Acme", "SMS_100000001", {"code": "2"}, "o2")
    assert caught.value.details["limit_window"] == "minute"


def test_throttling_with_retry_after_is_retried_and_succeeds(access, state):
    waits: list[float] = []
    sms = AlibabaSms(access, retry=FAST, sleep=waits.append)
    result = sms.send("13900000002", "Acme", "SMS_100000001", {"code": "1"}, "o")
    assert result.attempts == 2 and result.biz_id
    assert waits == [1.0]  # the sandbox's x-acs-retry-after: 1000 ms
    assert len(sends(state)) == 2


def test_persistent_throttling_gives_up_with_exit_6(access, state):
    waits: list[float] = []
    sms = AlibabaSms(access, retry=FAST, sleep=waits.append)
    with pytest.raises(RateLimited) as caught:
        sms.send("13900000001", "Acme", "SMS_100000001", {"code": "1"}, "o")
    assert caught.value.code == "Throttling.User"
    assert caught.value.details["attempts"] == 3 and waits == [1.0, 1.0]
    hint = worded_hint(caught.value, "sms")
    assert hint.startswith("Alibaba Cloud asks to retry after 1 s. ")
    assert "None" not in hint


@pytest.mark.parametrize("number", ["13900000011", "13900000008"])
def test_read_timeout_on_send_is_response_lost_and_never_retried(access, state, number):
    sms = AlibabaSms(replace(access, read_timeout=0.3), retry=FAST, sleep=lambda s: None)
    with pytest.raises(ProviderUnavailable) as caught:
        sms.send(number, "Acme", "SMS_100000001", {"code": "1"}, "smsctl-lost-1")
    error = caught.value
    assert error.code == "ResponseLost" and error.exit_code == 7
    assert "MAY have been delivered" in error.message
    assert "smsctl log" in worded_hint(error, "sms") and "receipt" in worded_hint(error, "sms")
    assert len(sends(state)) == 1


def test_response_lost_send_was_in_fact_recorded(access, state):
    sms = AlibabaSms(replace(access, read_timeout=0.3), sleep=lambda s: None)
    with pytest.raises(ProviderUnavailable):
        sms.send("13900000011", "Acme", "SMS_100000001", {"code": "1"}, "smsctl-lost-2")
    assert [record.out_id for record in state.sms] == ["smsctl-lost-2"]


def test_canary_secret_never_leaks(access):
    leaky = replace(access, access_key_secret=CANARY)
    sms = AlibabaSms(leaky, retry=FAST)
    assert CANARY not in repr(leaky) and CANARY not in repr(sms)
    with pytest.raises(SmsctlError) as caught:
        sms.send(PHONE, "Acme", "SMS_100000001", {"code": "1"}, "o")
    _assert_no_secret(caught.value, sms, secret=CANARY)


def _assert_no_secret(error: SmsctlError, adapter, *, secret: str) -> None:
    texts = [
        str(error),
        str(error.hint),
        repr(error.details),
        repr(error.to_dict()),
        repr(adapter),
        "".join(traceback.format_exception(error)),
    ]
    for text in texts:
        assert secret not in text
        assert "Authorization" not in text
    assert error.__cause__ is None
    assert error.__context__ is None or error.__suppress_context__


# --- send details and statistics: every page ----------------------------------------------------

NOON_IN_CHINA = datetime(2030, 3, 31, 12, tzinfo=timezone(timedelta(hours=8)))


def _sdk_send(state, sms, number: str, code: str = "1234", out_id: str = "app") -> None:
    sms.send(number, "Acme", "SMS_100000001", {"code": code}, out_id)


def test_send_details_reads_every_page(sms, state, monkeypatch):
    from smsctl.providers import alibaba_sms

    monkeypatch.setattr(alibaba_sms, "DETAILS_PAGE_SIZE", 3)
    state.flow_control_enabled = False
    state.set_clock(NOON_IN_CHINA, frozen=True)
    for index in range(7):
        _sdk_send(state, sms, PHONE, out_id=f"app-{index}")
        state.advance_clock(10)
    before = len(state.requests)
    details = sms.send_details(PHONE, NOON_IN_CHINA.date())
    asked = [params for _, params in state.requests[before:]]
    assert [p["CurrentPage"] for p in asked] == ["1", "2", "3"]
    assert {p["PageSize"] for p in asked} == {"3"}
    assert [d.out_id for d in details] == [f"app-{i}" for i in range(6, -1, -1)]
    assert details[0].status == "delivered" and details[0].err_code == "DELIVERED"
    assert details[0].send_date == NOON_IN_CHINA + timedelta(seconds=60)
    assert details[0].template == "SMS_100000001" and details[0].explanation is not None


def test_send_details_of_a_day_without_sends_is_one_request(sms, state):
    state.set_clock(NOON_IN_CHINA, frozen=True)
    before = len(state.requests)
    assert sms.send_details(PHONE, NOON_IN_CHINA.date()) == []
    assert len(state.requests) - before == 1


def test_send_statistics_reads_every_page(sms, state, monkeypatch):
    from smsctl.providers import alibaba_sms

    monkeypatch.setattr(alibaba_sms, "DETAILS_PAGE_SIZE", 2)
    state.flow_control_enabled = False
    for days_ago in range(5):
        state.set_clock(NOON_IN_CHINA - timedelta(days=days_ago), frozen=True)
        _sdk_send(state, sms, PHONE)
        _sdk_send(state, sms, "+8613900000012")  # its receipt fails
    state.set_clock(NOON_IN_CHINA + timedelta(seconds=30), frozen=True)
    _sdk_send(state, sms, PHONE)  # no receipt yet
    before = len(state.requests)
    days = sms.send_statistics(
        date(2030, 3, 25), date(2030, 3, 31), international=False, sign_name="Acme"
    )
    asked = [params for _, params in state.requests[before:]]
    assert [p["PageIndex"] for p in asked] == ["1", "2", "3"]
    assert {(p["IsGlobe"], p["SignName"], p["StartDate"], p["EndDate"]) for p in asked} == {
        ("1", "Acme", "20300325", "20300331")
    }
    assert [d.day for d in days] == [date(2030, 3, 31) - timedelta(days=n) for n in range(5)]
    today = days[0]
    assert (today.total, today.delivered, today.failed, today.pending) == (3, 1, 1, 1)
    assert all((d.total, d.delivered, d.failed, d.pending) == (2, 1, 1, 0) for d in days[1:])
