"""Endpoint/config building, error translation and the retry policy, without a server."""

from __future__ import annotations

import json
import traceback

import pytest
import requests
import urllib3.exceptions as u3

from smsctl.core.errors import (
    ConfigError,
    CredentialError,
    ProviderRefused,
    ProviderUnavailable,
    RateLimited,
    SmsctlError,
)
from smsctl.providers.alibaba_common import (
    AlibabaAccess,
    RetryPolicy,
    build_config,
    call,
    classify_transport_failure,
    error_from_body,
    parse_endpoint,
    provider_number,
    retry_delay,
    seconds_to_ms,
    translate,
)
from smsctl.providers.alibaba_sms import AlibabaSms
from tests.support.worded import worded_hint

SECRET = "CANARY-s3cr3t-7f1e9a"


@pytest.mark.parametrize(
    "given,host,protocol",
    [
        (None, "dysmsapi.aliyuncs.com", "https"),
        ("", "dysmsapi.aliyuncs.com", "https"),
        ("dysmsapi.ap-southeast-1.aliyuncs.com", "dysmsapi.ap-southeast-1.aliyuncs.com", "https"),
        ("example.com:8443", "example.com:8443", "https"),
        ("https://example.com", "example.com", "https"),
        ("https://example.com/", "example.com", "https"),
        ("http://127.0.0.1:8080", "127.0.0.1:8080", "http"),
        ("http://localhost:9000", "localhost:9000", "http"),
        ("http://[::1]:9000", "[::1]:9000", "http"),
    ],
)
def test_endpoint_forms(given, host, protocol):
    endpoint = parse_endpoint(given, "dysmsapi.aliyuncs.com")
    assert (endpoint.host, endpoint.protocol) == (host, protocol)


@pytest.mark.parametrize(
    "given", ["http://example.com", "ftp://example.com", "https://example.com/path", "http://"]
)
def test_bad_or_insecure_endpoints_are_config_errors(given):
    with pytest.raises(ConfigError):
        parse_endpoint(given, "dysmsapi.aliyuncs.com")


def test_plain_http_elsewhere_needs_explicit_permission():
    endpoint = parse_endpoint("http://10.0.0.5:80", "x", allow_insecure=True)
    assert (endpoint.host, endpoint.protocol) == ("10.0.0.5:80", "http")


def test_config_has_milliseconds_protocol_and_region():
    access = AlibabaAccess("LTAI5tKeyId0001", SECRET, "http://127.0.0.1:5000", None, 0.25, 1.5)
    config = build_config(access, "dysmsapi.aliyuncs.com")
    assert config.endpoint == "127.0.0.1:5000"
    assert config.protocol == "http"
    assert config.connect_timeout == 250
    assert config.read_timeout == 1500
    assert config.region_id == "cn-hangzhou"
    assert config.access_key_secret == SECRET
    assert seconds_to_ms(0.0001) == 1


def test_access_repr_hides_the_secret_and_masks_the_key_id():
    access = AlibabaAccess("LTAI5tKeyId0001", SECRET)
    for text in (repr(access), str(access), f"{access}", repr([access])):
        assert SECRET not in text
        assert "LTAI****0001" in text


@pytest.mark.parametrize(
    "given,expected",
    [
        ("+8613800138000", "13800138000"),
        ("13800138000", "13800138000"),
        ("+86 138-0013-8000", "13800138000"),
        ("+85261234567", "85261234567"),
        ("+14155550123", "14155550123"),
    ],
)
def test_provider_number(given, expected):
    assert provider_number(given) == expected


def _client_exception(code, message, status=400, request_id="RID-9", retry_after=None):
    from alibabacloud_tea_openapi.exceptions import (
        ClientException,
        ServerException,
        ThrottlingException,
    )

    body = {"RequestId": request_id, "Code": code, "Message": message}
    common = dict(
        status_code=status,
        code=code,
        message=f"code: {status}, {message} request id: {request_id}",
        data=dict(body),
        request_id=request_id,
    )
    if retry_after is not None:
        return ThrottlingException(retry_after=retry_after, **common)
    if status >= 500:
        return ServerException(**common)
    return ClientException(**common)


@pytest.mark.parametrize(
    "code,status,cls",
    [
        ("SignatureDoesNotMatch", 400, CredentialError),
        ("InvalidAccessKeyId.NotFound", 404, CredentialError),
        ("Throttling.User", 400, RateLimited),
        ("isv.SMS_TEMPLATE_ILLEGAL", 400, ProviderRefused),
        ("ServiceUnavailable", 503, ProviderUnavailable),
        ("SomethingUnknown", 503, ProviderUnavailable),
        ("SomethingUnknown", 400, ProviderRefused),
    ],
)
def test_response_exceptions_become_catalogued_errors(code, status, cls):
    error = translate(_client_exception(code, "the message", status), action="SendSms")
    assert type(error) is cls
    assert error.code == code
    assert error.request_id == "RID-9"
    # The provider's own Message, not the SDK's "code: 400, ... request id:" wrapper.
    assert error.details["provider_message"] == "the message"
    assert error.details["status_code"] == status


def test_throttling_exception_carries_retry_after_seconds():
    error = translate(
        _client_exception("Throttling.User", "slow", retry_after=1500), action="SendSms"
    )
    assert isinstance(error, RateLimited)
    assert error.details["retry_after_seconds"] == 1.5
    assert "1.5 s" in worded_hint(error, "sms")


def test_http_200_with_error_code():
    body = {"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "触发小时级流控Permits:5"}
    error = error_from_body({**body, "RequestId": "R3"}, action="SendSms")
    assert isinstance(error, RateLimited)
    assert error.request_id == "R3"
    assert error.details["limit_window"] == "hour"
    assert error.details["limit_permits"] == 5
    assert "per-hour limit" in worded_hint(error, "sms")


def test_sdk_none_strings_are_not_codes():
    error = translate(_client_exception("None", "None", 502, request_id="None"), action="X")
    assert isinstance(error, ProviderUnavailable)
    assert error.code is None and error.request_id is None


def _retry_error_from(cause: BaseException) -> BaseException:
    """Build the exception exactly as darabonba does: RetryError raised while handling cause."""
    from darabonba.exceptions import RetryError

    try:
        try:
            raise cause
        except OSError as exc:
            raise RetryError(str(exc))  # noqa: B904 - darabonba chains implicitly
    except RetryError as wrapped:
        return wrapped


def _unretryable(inner: BaseException) -> BaseException:
    from darabonba.exceptions import UnretryableException
    from darabonba.policy.retry import RetryPolicyContext
    from darabonba.request import DaraRequest

    request = DaraRequest()
    request.headers = {"Authorization": f"ACS3-HMAC-SHA256 Credential=AK,Signature={SECRET}"}
    return UnretryableException(RetryPolicyContext(http_request=request, exception=inner))


def _new_connection_error(text):
    return requests.exceptions.ConnectionError(
        u3.MaxRetryError(None, "/", u3.NewConnectionError(None, text))
    )


@pytest.mark.parametrize(
    "cause,kind",
    [
        (
            _new_connection_error("Failed to establish: [Errno 111] Connection refused"),
            "never_connected",
        ),
        (requests.exceptions.ConnectTimeout("connect timed out"), "never_connected"),
        (requests.exceptions.ReadTimeout("Read timed out."), "response_lost"),
        (
            requests.exceptions.ConnectionError(u3.ProtocolError("Connection aborted.")),
            "response_lost",
        ),
        (requests.exceptions.SSLError("CERTIFICATE_VERIFY_FAILED"), "tls"),
    ],
)
def test_transport_failures_are_classified(cause, kind):
    assert classify_transport_failure(_retry_error_from(cause)) == kind


def test_non_json_body_is_bad_response():
    try:
        try:
            json.loads("<html>502</html>")
        except ValueError:
            raise RuntimeError(
                'Failed to parse the value as json format, Value: "<html>"'
            ) from None
    except RuntimeError as exc:
        inner = exc
    error = translate(_unretryable(inner), action="SendSms", is_send=True)
    assert isinstance(error, ProviderUnavailable) and error.code == "BadResponse"


def test_read_timeout_on_a_send_is_response_lost_and_says_it_may_have_been_delivered():
    inner = _retry_error_from(requests.exceptions.ReadTimeout("Read timed out."))
    error = translate(_unretryable(inner), action="SendSms", is_send=True)
    assert isinstance(error, ProviderUnavailable)
    assert error.code == "ResponseLost"
    assert "MAY have been delivered" in error.message
    hint = worded_hint(AlibabaSms.localize(error), "sms")
    assert "smsctl log" in hint and "SMS console's send records" in hint and "receipt" in hint


def test_never_connected_is_exit_7_with_a_hint():
    inner = _retry_error_from(_new_connection_error("[Errno 111] Connection refused"))
    error = translate(_unretryable(inner), action="SendSms", is_send=True)
    assert error.exit_code == 7 and error.code == "ConnectionFailed"
    assert "connection refused" in error.message and "not sent" in error.message
    assert "endpoint" in worded_hint(error, "sms")


def test_tls_failure_has_a_clear_reason():
    inner = _retry_error_from(requests.exceptions.SSLError("CERTIFICATE_VERIFY_FAILED"))
    error = translate(_unretryable(inner), action="QuerySmsSignList")
    assert error.exit_code == 7 and error.code == "TLSError"
    assert "certificate" in error.message


class FlakyCall:
    def __init__(self, failures):
        self.failures = list(failures)
        self.calls = 0

    def __call__(self):
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        return "done"


def test_call_retries_a_connection_that_never_opened():
    never = _unretryable(_retry_error_from(_new_connection_error("Connection refused")))
    flaky = FlakyCall([never])
    waits = []
    result, attempts = call(flaky, action="SendSms", is_send=True, sleep=waits.append)
    assert (result, attempts, flaky.calls) == ("done", 2, 2)
    assert waits == [0.5]


def test_call_gives_up_after_max_attempts_with_exit_7():
    def never():
        return _unretryable(_retry_error_from(_new_connection_error("Connection refused")))

    flaky = FlakyCall([never() for _ in range(5)])
    waits = []
    with pytest.raises(ProviderUnavailable) as caught:
        call(flaky, action="SendSms", is_send=True, sleep=waits.append)
    assert flaky.calls == 3
    assert waits == [0.5, 1.0]
    assert caught.value.details["attempts"] == 3


def test_call_honours_retry_after_on_throttling():
    flaky = FlakyCall([_client_exception("Throttling.User", "slow", retry_after=1200)])
    waits = []
    result, attempts = call(flaky, action="SendSms", is_send=True, sleep=waits.append)
    assert attempts == 2 and waits == [1.2]


def test_call_does_not_wait_longer_than_the_cap():
    flaky = FlakyCall([_client_exception("Throttling.User", "slow", retry_after=60_000)])
    with pytest.raises(RateLimited) as caught:
        call(flaky, action="SendSms", is_send=True, sleep=lambda s: None)
    assert flaky.calls == 1
    assert caught.value.details["retry_after_seconds"] == 60.0


@pytest.mark.parametrize(
    "failure",
    [
        _unretryable(_retry_error_from(requests.exceptions.ReadTimeout("Read timed out."))),
        _client_exception("Throttling.User", "slow"),  # no retry-after: report, do not guess
        _client_exception("SignatureDoesNotMatch", "bad"),
        _client_exception("isp.SYSTEM_ERROR", "boom", status=500),
    ],
)
def test_call_never_retries_anything_else(failure):
    flaky = FlakyCall([failure])
    with pytest.raises(SmsctlError) as caught:
        call(flaky, action="SendSms", is_send=True, sleep=lambda s: None)
    assert flaky.calls == 1
    assert caught.value.details["attempts"] == 1


def test_retry_delay_is_bounded():
    policy = RetryPolicy(max_attempts=10, base_delay=4, max_wait=10)
    error = ProviderUnavailable("x", code="ConnectionFailed")
    assert [retry_delay(error, n, policy) for n in (1, 2, 3, 4)] == [4, 8, 10, 10]


def test_raised_errors_do_not_chain_the_sdk_exception():
    failure = _unretryable(_retry_error_from(requests.exceptions.ReadTimeout("Read timed out.")))
    with pytest.raises(ProviderUnavailable) as caught:
        call(FlakyCall([failure]), action="SendSms", is_send=True)
    error = caught.value
    assert error.__context__ is None and error.__cause__ is None
    text = "".join(traceback.format_exception(error))
    assert SECRET not in text and "Authorization" not in text
    assert SECRET not in str(error.to_dict())
