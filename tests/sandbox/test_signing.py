"""Request verification as the gateway does it, through the real SDK and crafted requests."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smsctl.sandbox.seed import DISABLED_ACCESS_KEY_ID, SANDBOX_ACCESS_KEY_SECRET
from smsctl.sandbox.signing import (
    AccessKey,
    IncomingRequest,
    SignatureError,
    Verifier,
)
from tests.fixtures.sandbox import alibaba_config
from tests.sandbox.helpers import raw_post, sdk_signed_headers, stale

SIGN_QUERY = {"SignName": "Acme"}
FORM = "application/x-www-form-urlencoded"


def sms_client(entry, **overrides):
    from alibabacloud_dysmsapi20170525.client import Client

    return Client(alibaba_config(entry, **overrides))


def query_sign(client, name="Acme"):
    from alibabacloud_dysmsapi20170525 import models

    return client.query_sms_sign(models.QuerySmsSignRequest(sign_name=name))


def test_wrong_secret_is_signature_does_not_match_with_server_string_to_sign(sandbox):
    from alibabacloud_tea_openapi.exceptions import ClientException

    client = sms_client(sandbox.info()["sms"], access_key_secret="not-the-secret")
    with pytest.raises(ClientException) as caught:
        query_sign(client)
    error = caught.value
    assert error.status_code == 400
    assert error.code == "SignatureDoesNotMatch"
    assert "server string to sign is:ACS3-HMAC-SHA256\n" in error.data["Message"]
    assert error.data["HostId"] == "dysmsapi.aliyuncs.com"
    assert set(error.data) >= {"RequestId", "HostId", "Code", "Message", "Recommend"}
    assert error.request_id == error.data["RequestId"]


def test_unknown_access_key_is_not_found_404(sandbox):
    from alibabacloud_tea_openapi.exceptions import ClientException

    client = sms_client(sandbox.info()["sms"], access_key_id="LTAI5tNoSuchKey000000000")
    with pytest.raises(ClientException) as caught:
        query_sign(client)
    assert caught.value.status_code == 404
    assert caught.value.code == "InvalidAccessKeyId.NotFound"


def test_disabled_access_key_is_inactive(sandbox):
    from alibabacloud_tea_openapi.exceptions import ClientException

    client = sms_client(
        sandbox.info()["sms"],
        access_key_id=DISABLED_ACCESS_KEY_ID,
        access_key_secret=SANDBOX_ACCESS_KEY_SECRET,
    )
    with pytest.raises(ClientException) as caught:
        query_sign(client)
    assert (caught.value.status_code, caught.value.code) == (400, "InvalidAccessKeyId.Inactive")


def test_correctly_signed_raw_request_is_accepted(sandbox):
    entry = sandbox.info()["sms"]
    headers = sdk_signed_headers(entry, "QuerySmsSign", SIGN_QUERY)
    status, body, _ = raw_post(entry, SIGN_QUERY, headers)
    assert status == 200
    assert (body["Code"], body["SignStatus"]) == ("OK", 1)


def test_tampered_query_is_rejected(sandbox):
    entry = sandbox.info()["sms"]
    headers = sdk_signed_headers(entry, "QuerySmsSign", SIGN_QUERY)
    status, body, _ = raw_post(entry, {"SignName": "AcmeOld"}, headers)
    assert (status, body["Code"]) == (400, "SignatureDoesNotMatch")


def test_tampered_body_is_rejected(sandbox):
    entry = sandbox.info()["sms"]
    headers = sdk_signed_headers(entry, "QuerySmsSign", SIGN_QUERY, body=b"a=1", content_type=FORM)
    status, body, _ = raw_post(entry, SIGN_QUERY, headers, body=b"a=2")
    assert (status, body["Code"]) == (400, "SignatureDoesNotMatch")


def test_replayed_nonce_is_rejected(sandbox):
    entry = sandbox.info()["sms"]
    headers = sdk_signed_headers(entry, "QuerySmsSign", SIGN_QUERY, nonce="replayed-nonce-1")
    first_status, _, _ = raw_post(entry, SIGN_QUERY, headers)
    status, body, _ = raw_post(entry, SIGN_QUERY, headers)
    assert first_status == 200
    assert (status, body["Code"]) == (400, "SignatureNonceUsed")


@pytest.mark.parametrize("minutes", [-16, 16])
def test_date_more_than_15_minutes_off_is_expired(sandbox, minutes):
    entry = sandbox.info()["sms"]
    headers = sdk_signed_headers(entry, "QuerySmsSign", SIGN_QUERY, date=stale(minutes))
    status, body, _ = raw_post(entry, SIGN_QUERY, headers)
    assert (status, body["Code"]) == (400, "InvalidTimeStamp.Expired")


def test_date_within_15_minutes_is_accepted(sandbox):
    entry = sandbox.info()["sms"]
    headers = sdk_signed_headers(entry, "QuerySmsSign", SIGN_QUERY, date=stale(-14))
    status, body, _ = raw_post(entry, SIGN_QUERY, headers)
    assert (status, body["Code"]) == (200, "OK")


def test_missing_authorization_is_incomplete_signature(sandbox):
    entry = sandbox.info()["sms"]
    headers = sdk_signed_headers(entry, "QuerySmsSign", SIGN_QUERY)
    del headers["Authorization"]
    status, body, _ = raw_post(entry, SIGN_QUERY, headers)
    assert (status, body["Code"]) == (400, "IncompleteSignature")


def test_unsigned_required_header_is_incomplete_signature(sandbox):
    entry = sandbox.info()["sms"]
    headers = sdk_signed_headers(entry, "QuerySmsSign", SIGN_QUERY)
    headers["Authorization"] = headers["Authorization"].replace("x-acs-date;", "")
    status, body, _ = raw_post(entry, SIGN_QUERY, headers)
    assert (status, body["Code"]) == (400, "IncompleteSignature")


def test_rpc_v1_signature_is_accepted(sandbox):
    client = sms_client(sandbox.info()["sms"], signature_algorithm="v2")
    response = query_sign(client, "AcmeOld")
    assert response.body.code == "OK"
    assert response.body.sign_status == 2
    assert sandbox.alibaba.state.requests[-1] == ("QuerySmsSign", {"SignName": "AcmeOld"})


def test_rpc_v1_wrong_secret_is_rejected_with_server_string_to_sign(sandbox):
    from alibabacloud_tea_openapi.exceptions import ClientException

    client = sms_client(sandbox.info()["sms"], signature_algorithm="v2", access_key_secret="x")
    with pytest.raises(ClientException) as caught:
        query_sign(client)
    assert caught.value.code == "SignatureDoesNotMatch"
    assert "server string to sign is:POST&%2F&AccessKeyId%3D" in caught.value.data["Message"]


def test_rpc_v1_unknown_key_is_not_found(sandbox):
    from alibabacloud_tea_openapi.exceptions import ClientException

    client = sms_client(sandbox.info()["sms"], signature_algorithm="v2", access_key_id="LTAIx")
    with pytest.raises(ClientException) as caught:
        query_sign(client)
    assert (caught.value.status_code, caught.value.code) == (404, "InvalidAccessKeyId.NotFound")


@pytest.mark.parametrize("algorithm", [None, "v2"])
def test_special_characters_in_values_are_accepted(sandbox, algorithm):
    from alibabacloud_dysmsapi20170525 import models

    overrides = {"signature_algorithm": algorithm} if algorithm else {}
    client = sms_client(sandbox.info()["sms"], **overrides)
    out_id = "中文 +*~/&=% ok"
    response = client.send_sms(
        models.SendSmsRequest(
            phone_numbers="13800000001",
            sign_name="Acme",
            template_code="SMS_100000003",
            template_param='{"name":"张三 +*~","order":"A/B&C=D%E"}',
            out_id=out_id,
        )
    )
    assert response.body.code == "OK", response.body.message
    record = sandbox.alibaba.state.sms[-1]
    assert record.out_id == out_id
    assert record.content == "【Acme】尊敬的张三 +*~，您的订单A/B&C=D%E已发货，请注意查收。"


def sdk_authorization_accepted(query: dict[str, str]) -> bool:
    """Sign with the SDK's own code, verify with the sandbox's: True if accepted."""
    import hashlib

    from alibabacloud_tea_openapi.utils import Utils
    from darabonba.request import DaraRequest

    request = DaraRequest()
    request.method, request.pathname, request.query = "POST", "/", query
    request.headers = {
        "host": "127.0.0.1:1",
        "x-acs-action": "SendSms",
        "x-acs-version": "2017-05-25",
        "x-acs-date": "2026-01-01T00:00:00Z",
        "x-acs-signature-nonce": "n",
        "x-acs-content-sha256": hashlib.sha256(b"").hexdigest(),
    }
    authorization = Utils.get_authorization(
        request, "ACS3-HMAC-SHA256", hashlib.sha256(b"").hexdigest(), "AK", "secret"
    )
    # What arrives at the server: the query as the SDK url-encodes it, decoded again.
    from urllib.parse import parse_qsl, urlencode

    incoming = IncomingRequest(
        method="POST",
        path="/",
        query=parse_qsl(urlencode(query), keep_blank_values=True),
        headers={name: [value] for name, value in request.headers.items()}
        | {"authorization": [authorization]},
        body=b"",
    )
    verifier = Verifier(
        lambda key_id: AccessKey("AK", "secret") if key_id == "AK" else None,
        lambda nonce: True,
        lambda: 1767225600.0,  # 2026-01-01T00:00:00Z
    )
    try:
        return verifier.verify(incoming) == "AK"
    except SignatureError:
        return False


printable = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=0, max_size=40)


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=printable, other=printable)
def test_any_printable_value_round_trips_through_signing(value, other):
    assert sdk_authorization_accepted({"TemplateParam": value, "OutId": other, "A.1.B": "x"})


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(value=printable.filter(lambda v: len(v.encode("utf-8")) <= 60))
def test_any_printable_value_round_trips_over_http(sandbox, value):
    from alibabacloud_dysmsapi20170525 import models

    client = sms_client(sandbox.info()["sms"])
    response = client.query_sms_sign(models.QuerySmsSignRequest(sign_name="x" + value))
    # Unknown names are a business answer (HTTP 200), never a signature refusal.
    assert response.body.code == "isv.SMS_SIGNATURE_ILLEGAL"
    assert sandbox.alibaba.state.requests[-1] == ("QuerySmsSign", {"SignName": "x" + value})


# -- ACS3-HMAC-SM3 --------------------------------------------------------------------------------

SM3 = "ACS3-HMAC-SM3"


def test_sm3_signed_sdk_request_is_accepted(sandbox):
    client = sms_client(sandbox.info()["sms"], signature_algorithm=SM3)
    response = query_sign(client, "AcmeOld")
    assert (response.body.code, response.body.sign_status) == ("OK", 2)


def test_sm3_signed_sdk_send_with_a_form_body_is_accepted(sandbox):
    from alibabacloud_dysmsapi20170525 import models

    client = sms_client(sandbox.info()["sms"], signature_algorithm=SM3)
    response = client.send_batch_sms(
        models.SendBatchSmsRequest(
            phone_number_json='["13800000001"]',
            sign_name_json='["Acme"]',
            template_code="SMS_100000003",
            template_param_json='[{"name":"A","order":"1"}]',
        )
    )
    assert response.body.code == "OK", response.body.message


def test_sm3_wrong_secret_is_refused_with_the_sm3_string_to_sign(sandbox):
    from alibabacloud_tea_openapi.exceptions import ClientException

    entry = sandbox.info()["sms"]
    client = sms_client(entry, signature_algorithm=SM3, access_key_secret="not-the-secret")
    with pytest.raises(ClientException) as caught:
        query_sign(client)
    assert caught.value.code == "SignatureDoesNotMatch"
    assert "server string to sign is:ACS3-HMAC-SM3\n" in caught.value.data["Message"]


def test_sm3_tampered_query_is_refused(sandbox):
    entry = sandbox.info()["sms"]
    headers = sdk_signed_headers(entry, "QuerySmsSign", SIGN_QUERY, algorithm=SM3)
    status, body, _ = raw_post(entry, {"SignName": "AcmeOld"}, headers)
    assert (status, body["Code"]) == (400, "SignatureDoesNotMatch")


@pytest.mark.parametrize("openssl", [True, False], ids=["openssl", "pure-python"])
def test_sm3_matches_the_published_test_vectors(monkeypatch, openssl):
    from smsctl.sandbox import signing

    if openssl and not signing._OPENSSL_SM3:
        pytest.fail("this OpenSSL has no SM3; the pure-Python path is the one in use")
    monkeypatch.setattr(signing, "_OPENSSL_SM3", openssl)
    # GB/T 32905-2016, appendix A: "abc" and "abcd" x 16.
    assert signing.sm3_digest(b"abc").hex() == (
        "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    )
    assert signing.sm3_digest(b"abcd" * 16).hex() == (
        "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"
    )


def test_sm3_hmac_is_the_same_with_and_without_openssl(monkeypatch):
    from smsctl.sandbox import signing

    with_openssl = signing.hmac_sm3(b"secret", b"ACS3-HMAC-SM3\nabc")
    monkeypatch.setattr(signing, "_OPENSSL_SM3", False)
    assert signing.hmac_sm3(b"secret", b"ACS3-HMAC-SM3\nabc") == with_openssl


def test_sm3_request_built_from_the_published_algorithm_matches_the_sdk_signer():
    """Canonical request and signature written out by hand, step by step as documented, with
    the sandbox's SM3: the SDK's own signer must produce the same Authorization."""
    import hmac

    from alibabacloud_tea_openapi.utils import Utils
    from darabonba.request import DaraRequest

    from smsctl.sandbox.signing import hmac_sm3, sm3_digest

    body = b"PhoneNumberJson=%5B%2213800000001%22%5D"
    headers = {
        "host": "dysmsapi.aliyuncs.com",
        "x-acs-action": "SendBatchSms",
        "x-acs-version": "2017-05-25",
        "x-acs-date": "2026-01-01T00:00:00Z",
        "x-acs-signature-nonce": "3156853299f313e23d1673dc12e1703d",
        "x-acs-content-sha256": sm3_digest(body).hex(),
        "content-type": "application/x-www-form-urlencoded",
    }
    signed = ";".join(sorted(headers))
    canonical_request = "\n".join(
        [
            "POST",
            "/",
            "TemplateCode=SMS_100000003",
            "".join(f"{name}:{headers[name]}\n" for name in sorted(headers)),
            signed,
            sm3_digest(body).hex(),
        ]
    )
    string_to_sign = f"ACS3-HMAC-SM3\n{sm3_digest(canonical_request.encode()).hex()}"
    by_hand = hmac_sm3(b"secret", string_to_sign.encode()).hex()

    request = DaraRequest()
    request.method, request.pathname = "POST", "/"
    request.query = {"TemplateCode": "SMS_100000003"}
    request.headers = dict(headers)
    sdk = Utils.get_authorization(request, SM3, sm3_digest(body).hex(), "AK", "secret")
    expected = f"ACS3-HMAC-SM3 Credential=AK,SignedHeaders={signed},Signature={by_hand}"
    assert hmac.compare_digest(sdk, expected)


# -- every x-acs-* header and content-type signed -----------------------------------------------


def test_unsigned_x_acs_header_is_incomplete_signature(sandbox):
    entry = sandbox.info()["sms"]
    headers = sdk_signed_headers(entry, "QuerySmsSign", SIGN_QUERY)
    headers["x-acs-security-token"] = "added-after-signing"
    status, body, _ = raw_post(entry, SIGN_QUERY, headers)
    assert (status, body["Code"]) == (400, "IncompleteSignature")
    assert "x-acs-security-token must be signed" in body["Message"]


def test_signed_extra_x_acs_header_is_accepted(sandbox):
    entry = sandbox.info()["sms"]
    extra = {"x-acs-retry-attempts": "1"}
    headers = sdk_signed_headers(entry, "QuerySmsSign", SIGN_QUERY, extra=extra)
    status, body, _ = raw_post(entry, SIGN_QUERY, headers)
    assert (status, body["Code"]) == (200, "OK")


def test_unsigned_content_type_is_incomplete_signature(sandbox):
    entry = sandbox.info()["sms"]
    headers = sdk_signed_headers(entry, "QuerySmsSign", SIGN_QUERY, body=b"a=1")
    headers["content-type"] = FORM
    status, body, _ = raw_post(entry, SIGN_QUERY, headers, body=b"a=1")
    assert (status, body["Code"]) == (400, "IncompleteSignature")
    assert "content-type must be signed" in body["Message"]


# -- dates ahead of the service's clock ----------------------------------------------------------

SERVICE_NOW = 1767225600.0  # 2026-01-01T00:00:00Z, the verifier's injected clock


def verify_dated(date: str) -> str:
    """Verify a V3 request dated `date` (signed by the SDK) against a fixed service clock."""
    import hashlib

    from alibabacloud_tea_openapi.utils import Utils
    from darabonba.request import DaraRequest

    request = DaraRequest()
    request.method, request.pathname, request.query = "POST", "/", {"SignName": "Acme"}
    request.headers = {
        "host": "127.0.0.1:1",
        "x-acs-action": "QuerySmsSign",
        "x-acs-version": "2017-05-25",
        "x-acs-date": date,
        "x-acs-signature-nonce": "n-" + date,
        "x-acs-content-sha256": hashlib.sha256(b"").hexdigest(),
    }
    authorization = Utils.get_authorization(
        request, "ACS3-HMAC-SHA256", hashlib.sha256(b"").hexdigest(), "AK", "secret"
    )
    incoming = IncomingRequest(
        "POST",
        "/",
        [("SignName", "Acme")],
        {name: [value] for name, value in request.headers.items()}
        | {"authorization": [authorization]},
        b"",
    )
    verifier = Verifier(
        lambda key_id: AccessKey("AK", "secret"), lambda nonce: True, lambda: SERVICE_NOW
    )
    try:
        return verifier.verify(incoming)
    except SignatureError as error:
        return error.code


@pytest.mark.parametrize(
    ("date", "outcome"),
    [
        ("2026-01-01T00:14:00Z", "InvalidTimeStamp.Expired"),  # 14 minutes ahead
        ("2026-01-01T00:01:01Z", "InvalidTimeStamp.Expired"),  # just over a minute ahead
        ("2026-01-01T00:01:00Z", "AK"),  # a minute of clock drift
        ("2026-01-01T00:00:00Z", "AK"),
        ("2025-12-31T23:45:00Z", "AK"),  # 15 minutes before
        ("2025-12-31T23:44:59Z", "InvalidTimeStamp.Expired"),
    ],
)
def test_a_date_must_lie_within_the_15_minutes_before_the_request(date, outcome):
    assert verify_dated(date) == outcome


def test_date_14_minutes_ahead_is_expired_over_http(sandbox):
    entry = sandbox.info()["sms"]
    headers = sdk_signed_headers(entry, "QuerySmsSign", SIGN_QUERY, date=stale(14))
    status, body, _ = raw_post(entry, SIGN_QUERY, headers)
    assert (status, body["Code"]) == (400, "InvalidTimeStamp.Expired")
