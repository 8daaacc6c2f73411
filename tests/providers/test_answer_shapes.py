"""Answers of the wrong shape (issue 16 item 8): a hostile fake provider on loopback answers
each call with JSON of the wrong types — `BizId: null`, numbers where strings are due, lists
where objects are. The real Alibaba SDK and smsctl's WeChat client read them; every one is a
provider failure (exit 7, MalformedResponse / MALFORMED-ANSWER) naming the field, never a
crash (exit 1) and never a success. Through send-test, such an answer to a send is recorded as
"unknown" (the provider may have accepted it) and keeps its guard slot."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from datetime import date, datetime, timezone
from typing import Any
from urllib.parse import urlsplit

import pytest

from smsctl.core.errors import ProviderUnavailable
from smsctl.providers.alibaba_common import AlibabaAccess, RetryPolicy
from smsctl.providers.alibaba_sms import AlibabaSms
from smsctl.providers.alibaba_voice import AlibabaVoice
from smsctl.providers.wechat import WechatAccess, list_templates, send_template
from tests.support.cli import add_sandbox_sms_account, invoke
from tests.support.worded import worded_hint

PHONE = "+8613812345678"


class _Hostile(http.server.BaseHTTPRequestHandler):
    """Answers each Alibaba action (x-acs-action) or WeChat path with the body set for it."""

    answers: dict[str, Any] = {}
    seen: list[str] = []
    status = 200

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        key = self.headers.get("x-acs-action") or urlsplit(self.path).path
        self.seen.append(key)
        body = json.dumps(self.answers.get(key, {"Code": "OK"})).encode()
        self.send_response(self.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST  # noqa: N815

    def log_message(self, *_args: Any) -> None:
        pass


@pytest.fixture
def hostile() -> Iterator[tuple[str, type[_Hostile]]]:
    handler = type("Handler", (_Hostile,), {"answers": {}, "seen": []})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", handler
    finally:
        server.shutdown()
        server.server_close()


def _access(endpoint: str) -> AlibabaAccess:
    return AlibabaAccess("LTAI5tHOSTILE01", "hostile-secret", endpoint=endpoint, read_timeout=5)


OK = {"Code": "OK", "RequestId": "R1"}
ALIBABA = [
    # (action, answer, the call, the field named)
    ("SendSms", {**OK, "BizId": None}, "send", "BizId"),
    ("SendSms", {**OK, "BizId": 900000000000000001}, "send", "BizId"),
    ("SendSms", {**OK, "BizId": ""}, "send", "BizId"),
    ("SendSms", {**OK, "BizId": "9", "RequestId": 5}, "send", "RequestId"),
    ("SendSms", {"Code": None, "BizId": "9"}, "send", "Code"),
    ("SendSms", {"Code": 7}, "send", "Code"),
    ("SendSms", {}, "send", "Code"),
    ("SendSms", [1, 2], "send", "the body"),
    ("SendSms", "OK", "send", "the body"),
    ("QuerySmsSignList", {"Code": True}, "check_credentials", "Code"),
    ("QuerySmsSignList", {**OK, "Message": ["x"]}, "check_credentials", "Message"),
    ("GetSmsSign", {**OK, "SignStatus": [1]}, "get_signature", "SignStatus"),
    ("GetSmsSign", {**OK, "SignStatus": 1, "AuditInfo": "x"}, "get_signature", "the body"),
    ("GetSmsSign", {**OK, "SignStatus": 1, "SignName": 5}, "get_signature", "SignName"),
    ("GetSmsTemplate", {**OK, "TemplateContent": 5}, "get_template", "TemplateContent"),
    ("GetSmsTemplate", {**OK, "TemplateStatus": {"a": 1}}, "get_template", "TemplateStatus"),
    ("QuerySendDetails", {**OK, "SmsSendDetailDTOs": "x"}, "query_receipt", "the body"),
    (
        "QuerySendDetails",
        {**OK, "SmsSendDetailDTOs": {"SmsSendDetailDTO": [{"SendStatus": 3, "ErrCode": 5}]}},
        "query_receipt",
        "SmsSendDetailDTOs.SmsSendDetailDTO[0].ErrCode",
    ),
    (
        "QuerySendDetails",
        {**OK, "SmsSendDetailDTOs": {"SmsSendDetailDTO": [{"SendStatus": {"a": 1}}]}},
        "query_receipt",
        "SmsSendDetailDTOs.SmsSendDetailDTO[0].SendStatus",
    ),
    ("SingleCallByTts", {**OK, "CallId": None}, "call_tts", "CallId"),
    ("SingleCallByTts", {**OK, "CallId": 116012354148}, "call_tts", "CallId"),
    ("QueryCallDetailByCallId", {**OK, "Data": 5}, "query_call", "Data"),
    ("QueryCallDetailByCallId", {**OK, "Data": "[1]"}, "query_call", "Data"),
    ("QueryCallDetailByCallId", {**OK, "Data": '{"state": [1]}'}, "query_call", "Data.state"),
    ("QueryVoiceFileAuditInfo", {**OK, "Data": [5]}, "voice_files", "the body"),
    (
        "QueryVoiceFileAuditInfo",
        {**OK, "Data": [{"VoiceCode": 5}]},
        "voice_files",
        "Data[0].VoiceCode",
    ),
]

CALLS = {
    "send": lambda sms, _voice: sms.send(PHONE, "Acme", "SMS_1", {"code": "1"}, "st1"),
    "check_credentials": lambda sms, _voice: sms.check_credentials(),
    "get_signature": lambda sms, _voice: sms.get_signature("Acme"),
    "get_template": lambda sms, _voice: sms.get_template("SMS_1"),
    "query_receipt": lambda sms, _voice: sms.query_receipt(PHONE, "9", date(2026, 11, 1)),
    "call_tts": lambda _sms, voice: voice.call_tts(PHONE, "TTS_1", {"code": "1"}, out_id="st1"),
    "query_call": lambda _sms, voice: voice.query_call(
        "116012354148", "tts", datetime(2026, 11, 1, tzinfo=timezone.utc)
    ),
    "voice_files": lambda _sms, voice: voice.voice_files(["a.wav"]),
}


@pytest.mark.parametrize(("action", "answer", "call", "field"), ALIBABA)
def test_alibaba_answers_of_the_wrong_shape_are_exit_7_naming_the_field(
    hostile, action, answer, call, field
) -> None:
    endpoint, handler = hostile
    handler.answers[action] = answer
    sms = AlibabaSms(_access(endpoint), retry=RetryPolicy(max_attempts=1))
    voice = AlibabaVoice(_access(endpoint), retry=RetryPolicy(max_attempts=1))
    with pytest.raises(ProviderUnavailable) as failed:
        CALLS[call](sms, voice)
    error = failed.value
    assert error.exit_code == 7
    assert error.code == "MalformedResponse", error.message
    assert f"Alibaba Cloud {action} answered with a malformed response: {field}" in error.message
    assert worded_hint(error, "sms")
    assert handler.seen.count(action) == 1  # never repeated
    if call in ("send", "call_tts"):
        assert "MAY have been delivered" in worded_hint(error, "sms")


@pytest.mark.parametrize(
    ("status", "answer", "field"),
    [
        (400, {"Code": 123, "Message": "x", "RequestId": "R1"}, "Code"),
        (400, {"Code": "isv.X", "Message": ["x"], "RequestId": "R1"}, "Message"),
        (500, {"Code": "isp.SYSTEM_ERROR", "RequestId": 5}, "RequestId"),
    ],
)
def test_an_error_answer_of_the_wrong_shape_is_not_taken_for_a_refusal(
    hostile, status, answer, field
) -> None:
    """Before: exit 5 "alibaba answered 123: ['x']" — a made-up provider code."""
    endpoint, handler = hostile
    handler.status = status
    handler.answers["SendSms"] = answer
    sms = AlibabaSms(_access(endpoint), retry=RetryPolicy(max_attempts=1))
    with pytest.raises(ProviderUnavailable) as failed:
        CALLS["send"](sms, None)
    assert failed.value.code == "MalformedResponse"
    assert f"answered with a malformed response: {field} is " in failed.value.message


def test_well_formed_answers_still_read_as_before(hostile) -> None:
    endpoint, handler = hostile
    handler.answers["SendSms"] = {**OK, "BizId": "900000000000000001"}
    handler.answers["GetSmsSign"] = {**OK, "SignName": "Acme", "SignStatus": "1"}
    handler.answers["QueryCallDetailByCallId"] = {**OK, "Data": '{"state": 200000}'}
    sms, voice = AlibabaSms(_access(endpoint)), AlibabaVoice(_access(endpoint))
    assert CALLS["send"](sms, voice).biz_id == "900000000000000001"
    assert CALLS["get_signature"](sms, voice).status == "approved"
    assert CALLS["query_call"](sms, voice).state == "200000"


TOKEN = {"access_token": "hostile-token", "expires_in": 7200}
WECHAT = [
    # (answer to the send or the template list, the call, the field named)
    ({"errcode": 0, "errmsg": "ok", "msgid": None}, "send", "msgid"),
    ({"errcode": 0, "errmsg": "ok"}, "send", "msgid"),
    ({"errcode": 0, "errmsg": "ok", "msgid": "not-an-id"}, "send", "msgid"),
    ({"errcode": 0, "errmsg": "ok", "msgid": True}, "send", "msgid"),
    ({"errcode": "0", "errmsg": "ok", "msgid": 1}, "send", "errcode"),
    ({"errcode": 40003, "errmsg": 5}, "send", "errmsg"),
    ({"template_list": "x"}, "list", "template_list"),
    ({"template_list": [5]}, "list", "template_list[0]"),
    ({"template_list": [{"template_id": 5}]}, "list", "template_list[0].template_id"),
]


@pytest.mark.parametrize(("answer", "call", "field"), WECHAT)
def test_wechat_answers_of_the_wrong_shape_are_exit_7_naming_the_field(
    hostile, answer, call, field
) -> None:
    endpoint, handler = hostile
    path = "/cgi-bin/message/template/send" if call == "send" else (
        "/cgi-bin/template/get_all_private_template"
    )  # fmt: skip
    handler.answers["/cgi-bin/stable_token"] = TOKEN
    handler.answers[path] = answer
    access = WechatAccess("wx0123456789abcdef", "wechat-secret-1", endpoint=endpoint, timeout=5)
    with pytest.raises(ProviderUnavailable) as failed:
        if call == "send":
            send_template(access, "oSbx_follower_alice_000000001", "T1", {"k": "v"})
        else:
            list_templates(access)
    error = failed.value
    assert error.exit_code == 7
    assert error.code == "MALFORMED-ANSWER", error.message
    assert f"answered with a malformed response: {field}" in error.message
    assert handler.seen.count(path) == 1


def test_a_digit_string_msgid_is_accepted(hostile) -> None:
    endpoint, handler = hostile
    handler.answers["/cgi-bin/stable_token"] = TOKEN
    handler.answers["/cgi-bin/message/template/send"] = {"errcode": 0, "msgid": "3147483647"}
    access = WechatAccess("wx0123456789abcdef", "wechat-secret-1", endpoint=endpoint, timeout=5)
    assert send_template(access, "oSbx_follower_alice_000000001", "T1", {"k": "v"}).msgid == (
        "3147483647"
    )


# --- through send-test ----------------------------------------------------------------------------


def test_an_ok_without_bizid_is_exit_7_recorded_unknown_and_keeps_its_guard_slot(
    fresh_sandbox_state, config_file, state_dir, hostile
) -> None:
    """Before: exit 0 "Accepted by Alibaba Cloud" with an empty BizId."""
    add_sandbox_sms_account(fresh_sandbox_state.info()["sms"])
    endpoint, handler = hostile
    text = config_file.read_text()
    start = text.index('endpoint = "') + len('endpoint = "')
    config_file.write_text(text[:start] + endpoint + text[text.index('"', start) :])
    handler.answers["SendSms"] = {**OK, "BizId": None}
    args = ("--json", "send-test", "--to", PHONE, "--scenario", "login", "--param", "code=1")
    sent = invoke(*args, "--yes")
    assert sent.exit_code == 7, sent.all_output
    error = sent.error()
    assert error["code"] == "MalformedResponse"
    assert "BizId is null" in error["message"]
    assert "MAY have been delivered" in error["hint"]
    [entry] = [e for e in invoke("--json", "log", "--sends").json()]
    assert (entry["outcome"], entry["code"]) == ("unknown", "MalformedResponse")
    again = invoke(*args, "--yes")
    assert again.exit_code == 6, again.all_output  # it may have gone out: it counts
    assert handler.seen.count("SendSms") == 1
