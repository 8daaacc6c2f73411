"""The Alibaba emulator driven by clients nobody here wrote, as the real gateway is.

- the legacy core SDK `aliyun-python-sdk-core` (RPC v1, GET and POST, CommonRequest), whose own
  signer and error handling see the sandbox as the service;
- the request shape of the Node `pop-core` with POST (every parameter, Signature included, in the
  form body), signed by the legacy SDK's own RPC signer;
- the shape of the official Node SDK (a V3-signed form body sent with `Transfer-Encoding:
  chunked`), signed by the official Python SDK's own signer.
"""

from __future__ import annotations

import http.client
import json
import socket
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest

from tests.sandbox.helpers import sdk_signed_headers

FORM = "application/x-www-form-urlencoded"
VERSION = "2017-05-25"


def legacy_client(entry: dict[str, Any], secret: str | None = None) -> Any:
    from aliyunsdkcore.client import AcsClient

    return AcsClient(entry["access_key_id"], secret or entry["access_key_secret"], "cn-hangzhou")


def common_request(entry: dict[str, Any], method: str, action: str, **params: str) -> Any:
    """A CommonRequest: with POST the parameters go into the form body, as users write it."""
    from aliyunsdkcore.request import CommonRequest

    request = CommonRequest()
    request.set_domain(entry["endpoint"].removeprefix("http://"))
    request.set_protocol_type("http")
    request.set_method(method)
    request.set_version(VERSION)
    request.set_action_name(action)
    for name, value in params.items():
        if method == "POST":
            request.add_body_params(name, value)
        else:
            request.add_query_param(name, value)
    return request


def legacy_call(entry: dict[str, Any], method: str, action: str, **params: str) -> dict:
    body = legacy_client(entry).do_action_with_exception(
        common_request(entry, method, action, **params)
    )
    return json.loads(body)


# -- aliyun-python-sdk-core: RPC v1 over GET and POST ---------------------------------------------


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_legacy_sdk_sends_sms_and_reads_the_receipt(sandbox, method):
    entry = sandbox.info()["sms"]
    sent = legacy_call(
        entry,
        method,
        "SendSms",
        PhoneNumbers="13800000001",
        SignName="Acme",
        TemplateCode="SMS_100000001",
        TemplateParam='{"code":"4711"}',
    )
    assert sent["Code"] == "OK", sent
    record = sandbox.alibaba.state.sms[-1]
    assert (record.biz_id, record.content) == (
        sent["BizId"],
        "【Acme】您的验证码为：4711，5分钟内有效，请勿泄露于他人！",
    )
    assert sandbox.alibaba.state.requests[-1] == (
        "SendSms",
        {
            "PhoneNumbers": "13800000001",
            "SignName": "Acme",
            "TemplateCode": "SMS_100000001",
            "TemplateParam": '{"code":"4711"}',
        },
    )
    from smsctl.sandbox.alibaba import china_time

    day = china_time(record.sent_at).strftime("%Y%m%d")
    details = legacy_call(
        entry,
        method,
        "QuerySendDetails",
        PhoneNumber="13800000001",
        SendDate=day,
        PageSize="10",
        CurrentPage="1",
        BizId=sent["BizId"],
    )
    assert details["TotalCount"] == "1"
    assert details["SmsSendDetailDTOs"]["SmsSendDetailDTO"][0]["PhoneNum"] == "13800000001"


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_legacy_sdk_batch_send_and_status_queries(sandbox, method):
    entry = sandbox.info()["sms"]
    batch = legacy_call(
        entry,
        method,
        "SendBatchSms",
        PhoneNumberJson='["13800000002","13800000003"]',
        SignNameJson='["Acme","Acme"]',
        TemplateCode="SMS_100000003",
        TemplateParamJson='[{"name":"A","order":"1"},{"name":"B","order":"2"}]',
    )
    assert batch["Code"] == "OK", batch
    assert [r.phone for r in sandbox.alibaba.state.sms] == ["13800000002", "13800000003"]
    sign = legacy_call(entry, method, "GetSmsSign", SignName="AcmeOld")
    assert sign["SignStatus"] == 2
    assert sign["AuditInfo"]["RejectInfo"].startswith("签名归属证明材料不足")
    template = legacy_call(entry, method, "GetSmsTemplate", TemplateCode="SMS_100000004")
    assert template["TemplateStatus"] == "0"


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_legacy_sdk_places_a_call_and_reads_its_result(sandbox, method):
    entry = sandbox.info()["voice"]
    sandbox.alibaba.state.call_result_delay = 0
    called = legacy_call(
        entry,
        method,
        "SingleCallByTts",
        CalledNumber="13800000004",
        TtsCode="TTS_100000001",
        TtsParam='{"code":"4711"}',
    )
    assert called["Code"] == "OK", called
    detail = legacy_call(
        entry,
        method,
        "QueryCallDetailByCallId",
        CallId=called["CallId"],
        ProdId="11010000138001",
        QueryDate=str(int(sandbox.alibaba.state.calls[-1].started_at * 1000)),
    )
    assert json.loads(detail["Data"])["state"] == "200000"
    audit = legacy_call(
        entry,
        method,
        "QueryVoiceFileAuditInfo",
        VoiceCodes="4c3a1b2e-0d6f-4e35-9d4a-2f1e0c8b7a65.wav",
    )
    assert audit["Data"][0]["AuditState"] == "AUDIT_STATE_PASS"


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_legacy_sdk_wrong_secret_is_refused_with_the_sdks_own_string_to_sign(sandbox, method):
    from aliyunsdkcore.acs_exception.exceptions import ServerException

    entry = sandbox.info()["sms"]
    request = common_request(entry, method, "QuerySmsSign", SignName="Acme")
    with pytest.raises(ServerException) as caught:
        legacy_client(entry, secret="not-the-secret").do_action_with_exception(request)
    assert caught.value.get_http_status() == 400
    assert caught.value.get_error_code() == "SignatureDoesNotMatch"
    server_string = caught.value.get_error_msg().split("server string to sign is:", 1)[1]
    assert server_string == request.request.string_to_sign  # the SDK's own
    assert sandbox.alibaba.state.requests == []


def test_legacy_sdk_asking_for_xml_gets_xml(sandbox):
    entry = sandbox.info()["sms"]
    request = common_request(entry, "GET", "QuerySmsSignList", PageSize="2")
    request.set_accept_format("XML")
    with pytest.warns(DeprecationWarning):  # do_action is the SDK's call that keeps the format
        body = legacy_client(entry).do_action(request)
    root = ET.fromstring(body)
    assert root.tag == "QuerySmsSignListResponse"
    assert root.findtext("Code") == "OK"
    entries = root.findall("SmsSignList")
    assert [e.findtext("SignName") for e in entries] == ["Acme", "Acme登录"]
    assert entries[0].findtext("AuditStatus") == "AUDIT_STATE_PASS"
    assert entries[0].findtext("Reason/RejectInfo") == ""


def test_xml_error_answer(sandbox):
    entry = sandbox.info()["sms"]
    request = common_request(entry, "GET", "QuerySmsSign", SignName="Acme")
    request.set_accept_format("XML")
    with pytest.warns(DeprecationWarning):
        body = legacy_client(entry, secret="wrong").do_action(request)
    root = ET.fromstring(body)
    assert (root.tag, root.findtext("Code")) == ("Error", "SignatureDoesNotMatch")
    assert root.findtext("HostId") == "dysmsapi.aliyuncs.com"


# -- pop-core with method POST: every parameter in the form body ---------------------------------


def rpc_params_signed_by_legacy_sdk(
    entry: dict[str, Any], method: str, params: dict[str, str], secret: str | None = None
) -> dict[str, str]:
    """All parameters with Timestamp, nonce and Signature, as the legacy SDK signs them."""
    from aliyunsdkcore.auth.composer.rpc_signature_composer import get_signed_url

    url, _ = get_signed_url(
        dict(params),
        entry["access_key_id"],
        secret or entry["access_key_secret"],
        "JSON",
        method,
        {},
    )
    return dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))


def send_raw(
    entry: dict[str, Any],
    path: str,
    headers: dict[str, str],
    body: bytes | Iterator[bytes] | None = None,
    *,
    chunked: bool = False,
) -> tuple[int, str, bytes]:
    connection = http.client.HTTPConnection(entry["endpoint"].removeprefix("http://"), timeout=10)
    try:
        connection.request("POST", path, body=body, headers=headers, encode_chunked=chunked)
        response = connection.getresponse()
        return response.status, response.getheader("Content-Type", ""), response.read()
    finally:
        connection.close()


def test_pop_core_post_with_every_parameter_in_the_body(sandbox):
    entry = sandbox.info()["sms"]
    params = rpc_params_signed_by_legacy_sdk(
        entry,
        "POST",
        {
            "Action": "QuerySmsSign",
            "Version": VERSION,
            "SignName": "AcmeOld",
            "RegionId": "cn-hangzhou",
        },
    )
    status, _, body = send_raw(entry, "/", {"Content-Type": FORM}, urlencode(params).encode())
    answer = json.loads(body)
    assert (status, answer["Code"], answer["SignStatus"]) == (200, "OK", 2)
    assert sandbox.alibaba.state.requests[-1] == ("QuerySmsSign", {"SignName": "AcmeOld"})


def test_pop_core_post_tampered_body_parameter_is_refused(sandbox):
    entry = sandbox.info()["sms"]
    params = rpc_params_signed_by_legacy_sdk(
        entry, "POST", {"Action": "QuerySmsSign", "Version": VERSION, "SignName": "Acme"}
    )
    params["SignName"] = "AcmeOld"
    status, _, body = send_raw(entry, "/", {"Content-Type": FORM}, urlencode(params).encode())
    assert (status, json.loads(body)["Code"]) == (400, "SignatureDoesNotMatch")


def test_pop_core_post_signed_as_get_is_refused(sandbox):
    """The HTTP method is part of the RPC string to sign."""
    entry = sandbox.info()["sms"]
    params = rpc_params_signed_by_legacy_sdk(
        entry, "GET", {"Action": "QuerySmsSign", "Version": VERSION, "SignName": "Acme"}
    )
    status, _, body = send_raw(entry, "/", {"Content-Type": FORM}, urlencode(params).encode())
    assert (status, json.loads(body)["Code"]) == (400, "SignatureDoesNotMatch")


# -- chunked bodies (the official Node SDK) -------------------------------------------------------

BATCH_QUERY = {"TemplateCode": "SMS_100000003"}
BATCH_FORM = urlencode(
    {
        "PhoneNumberJson": '["13800000005"]',
        "SignNameJson": '["Acme"]',
        "TemplateParamJson": '[{"name":"张三","order":"A1"}]',
    }
).encode()


def chunks(data: bytes, size: int = 7) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def batch_headers(entry: dict[str, Any], body: bytes = BATCH_FORM) -> dict[str, str]:
    return sdk_signed_headers(entry, "SendBatchSms", BATCH_QUERY, body=body, content_type=FORM)


def test_chunked_form_body_is_read_and_verified(sandbox):
    entry = sandbox.info()["sms"]
    status, _, body = send_raw(
        entry, "/?" + urlencode(BATCH_QUERY), batch_headers(entry), chunks(BATCH_FORM), chunked=True
    )
    answer = json.loads(body)
    assert (status, answer["Code"]) == (200, "OK"), answer
    assert (
        sandbox.alibaba.state.sms[-1].content
        == "【Acme】尊敬的张三，您的订单A1已发货，请注意查收。"
    )


def test_chunked_body_tampered_is_refused(sandbox):
    entry = sandbox.info()["sms"]
    tampered = BATCH_FORM.replace(b"A1", b"B2")
    status, _, body = send_raw(
        entry, "/?" + urlencode(BATCH_QUERY), batch_headers(entry), chunks(tampered), chunked=True
    )
    assert (status, json.loads(body)["Code"]) == (400, "SignatureDoesNotMatch")
    assert sandbox.alibaba.state.sms == []


def test_chunked_body_over_the_cap_is_refused_413(sandbox, monkeypatch):
    entry = sandbox.info()["sms"]
    monkeypatch.setattr(sandbox.alibaba, "max_body_bytes", 64)
    big = b"a=" + b"x" * 100
    status, content_type, body = send_raw(
        entry, "/", batch_headers(entry, big), chunks(big, 30), chunked=True
    )
    assert (status, content_type) == (413, "text/html")
    assert b"413 Request Entity Too Large" in body
    assert sandbox.alibaba.state.requests == []


def test_content_length_over_the_cap_is_refused_413(sandbox, monkeypatch):
    entry = sandbox.info()["sms"]
    monkeypatch.setattr(sandbox.alibaba, "max_body_bytes", 64)
    big = b"a=" + b"x" * 100
    status, _, _ = send_raw(entry, "/", batch_headers(entry, big), big)
    assert status == 413


def raw_exchange(entry: dict[str, Any], head: bytes, then: bytes = b"") -> bytes:
    """Send bytes as they are and read the whole answer (the server closes the connection)."""
    host, port = entry["endpoint"].removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(head + then)
        answer = b""
        while piece := sock.recv(65536):
            answer += piece
        return answer


def test_stalled_chunked_body_gets_408_at_the_deadline(sandbox, monkeypatch):
    entry = sandbox.info()["sms"]
    monkeypatch.setattr(sandbox.alibaba, "body_read_seconds", 0.2)
    head = (
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n"
    )
    answer = raw_exchange(entry, head, b"10\r\nonly-part")  # never finishes the chunk
    assert answer.startswith(b"HTTP/1.0 408 ")
    assert sandbox.alibaba.state.requests == []


def test_short_content_length_body_gets_408_at_the_deadline(sandbox, monkeypatch):
    entry = sandbox.info()["sms"]
    monkeypatch.setattr(sandbox.alibaba, "body_read_seconds", 0.2)
    head = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n\r\n"
    assert raw_exchange(entry, head, b"a=1").startswith(b"HTTP/1.0 408 ")


@pytest.mark.parametrize(
    "body",
    [b"zz\r\nab\r\n0\r\n\r\n", b"2\r\nabcd\r\n0\r\n\r\n", b"2\r\nab"],
    ids=["size-not-hex", "data-longer-than-size", "closed-inside-chunk"],
)
def test_malformed_chunked_body_is_400(sandbox, body):
    entry = sandbox.info()["sms"]
    head = b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    host, port = entry["endpoint"].removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(head + body)
        sock.shutdown(socket.SHUT_WR)
        answer = b""
        while piece := sock.recv(65536):
            answer += piece
    assert answer.startswith(b"HTTP/1.0 400 ")
