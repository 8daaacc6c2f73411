"""The WeChat adapter against the API emulator over loopback HTTP."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from smsctl.core.errors import SmsctlError
from smsctl.providers import wechat
from smsctl.sandbox import wechat as emu
from tests.support.worded import worded_hint

CANARY = "CANARY-wechat-secret-9b2e"
VALUES = {"first": "Login", "keyword1": "123456", "keyword2": "5 min", "remark": "Not you?"}
STABLE = "/cgi-bin/stable_token"
SEND = "/cgi-bin/message/template/send"


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(wechat, "BUSY_BACKOFF_SECONDS", (0.01, 0.01))


@pytest.fixture
def access(wechat_server: emu.WechatEmulator) -> Callable[..., wechat.WechatAccess]:
    info = wechat_server.info()["wechat"]

    def make(**overrides: Any) -> wechat.WechatAccess:
        fields = {
            "app_id": info["app_id"],
            "app_secret": info["app_secret"],
            "endpoint": info["endpoint"],
            "timeout": 3.0,
        }
        fields.update(overrides)
        return wechat.WechatAccess(**fields)

    return make


def failure(call: Callable[[], object]) -> SmsctlError:
    with pytest.raises(SmsctlError) as caught:
        call()
    return caught.value


def all_text(error: SmsctlError) -> str:
    return f"{error} {error.to_dict()} {error!r} {error.__cause__!r} {error.__context__!r}"


def send(access: wechat.WechatAccess, openid: str = emu.FOLLOWER, **kwargs: Any):
    data = kwargs.pop("data", VALUES)
    return wechat.send_template(access, openid, emu.VERIFY_TEMPLATE_ID, data, **kwargs)


def test_repr_hides_secret(access) -> None:
    assert CANARY not in repr(access(app_secret=CANARY))


def test_verify_uses_stable_token_without_force_refresh(access, wechat_server) -> None:
    wechat.verify(access())
    [call] = wechat_server.state.calls(STABLE)
    assert call.method == "POST"
    assert call.body["force_refresh"] is False
    assert call.body["grant_type"] == "client_credential"
    assert "secret" not in call.query and "access_token" not in call.query


def test_stable_token_is_the_same_while_valid(access) -> None:
    assert wechat.get_stable_token(access()) == wechat.get_stable_token(access())


@pytest.mark.parametrize(
    ("overrides", "code"),
    [({"app_secret": CANARY}, "40125"), ({"app_id": "wx0000000000unknown"}, "40013")],
)
def test_bad_credentials_are_exit_4_and_never_show_the_secret(access, overrides, code) -> None:
    error = failure(lambda: wechat.verify(access(**overrides)))
    assert error.exit_code == 4
    assert error.code == code
    assert error.request_id and error.request_id in error.details["provider_message"]
    assert CANARY not in all_text(error)


def test_ip_not_whitelisted_names_the_ip(access) -> None:
    error = failure(lambda: wechat.verify(access(app_id=emu.IP_BLOCKED_APP_ID)))
    assert error.exit_code == 4
    assert error.code == "40164"
    assert "127.0.0.1" in error.message and "127.0.0.1" in worded_hint(error, "wechat")
    assert "whitelist" in worded_hint(error, "wechat")
    assert error.details["ip"] == "127.0.0.1"


def test_risky_ip_needs_an_admin(access) -> None:
    error = failure(lambda: wechat.verify(access(app_id=emu.RISKY_IP_APP_ID)))
    assert (error.exit_code, error.code) == (4, "89503")


def test_template_list_with_variables(access) -> None:
    templates = {t.template_id: t for t in wechat.list_templates(access())}
    assert set(templates) == {emu.VERIFY_TEMPLATE_ID, emu.ALERT_TEMPLATE_ID}
    verify = templates[emu.VERIFY_TEMPLATE_ID]
    assert verify.variables == ("first", "keyword1", "keyword2", "remark")
    assert verify.title == "验证码通知"
    assert "123456" in verify.example
    alert = templates[emu.ALERT_TEMPLATE_ID]
    assert alert.variables == ("first", "keyword1", "keyword2", "keyword3", "remark")


def test_template_variables_parser() -> None:
    content = "{{first.DATA}} {{ thing3.DATA }} {{first.DATA}} {{x.VALUE}} {{time4.DATA}}"
    assert wechat.template_variables(content) == ("first", "thing3", "time4")


def test_send_success_with_all_options(access, wechat_server) -> None:
    result = send(
        access(), url="https://acme.test/o/1", miniprogram=("wxmini0001", "pages/index"),
        client_msg_id="msg-001", data={**VALUES, "keyword1": "验证码 654321"},
    )  # fmt: skip
    [push] = wechat_server.state.pushes
    assert push["msgid"] > 2**53  # as WeChat's are: a JSON number that doubles cannot hold
    assert result.msgid == str(push["msgid"])  # exactly, as a string
    assert push["touser"] == emu.FOLLOWER
    assert push["data"]["keyword1"] == {"value": "验证码 654321"}
    assert push["url"] == "https://acme.test/o/1"
    assert push["miniprogram"] == {"appid": "wxmini0001", "pagepath": "pages/index"}
    assert push["client_msg_id"] == "msg-001"
    assert wechat_server.state.legacy_token_calls == 0


@pytest.mark.parametrize(
    ("call", "exit_code", "code"),
    [
        (lambda a: send(a(), emu.NON_FOLLOWER), 5, "43004"),
        (lambda a: send(a(), "oUnknownOpenid0000000000000"), 5, "40003"),
        (lambda a: wechat.send_template(a(), emu.FOLLOWER, "no-such-template", VALUES), 5, "40037"),
        (lambda a: send(a(app_id=emu.TEST_ACCOUNT_APP_ID)), 5, "48001"),
        (lambda a: send(a(app_id=emu.QUOTA_APP_ID)), 6, "45009"),
        (lambda a: send(a(), emu.BUSY_OPENID), 7, "-1"),
        (lambda a: send(a(), emu.BAD_GATEWAY_OPENID), 7, "HTTP-ERROR"),
    ],
)
def test_errcodes_map_to_exit_codes(access, call, exit_code, code) -> None:
    error = failure(lambda: call(access))
    assert (error.exit_code, error.code) == (exit_code, code)
    assert worded_hint(error, "wechat") and "Next:" in worded_hint(error, "wechat")
    if code[0].isdigit() or code == "-1":
        assert error.request_id


def test_invalid_template_data_names_the_field(access) -> None:
    error = failure(lambda: send(access(), data={**VALUES, "keyword2": ""}))
    assert (error.exit_code, error.code) == (5, "47003")
    assert "keyword2" in error.message
    assert error.details["field"] == "keyword2"


def test_invalid_token_is_retried_exactly_once(access, wechat_server) -> None:
    wechat_server.state.expire_next = 1
    result = send(access())
    assert result.msgid
    paths = [record.path for record in wechat_server.state.requests]
    assert paths == [STABLE, SEND, STABLE, SEND]
    assert [r.errcode for r in wechat_server.state.calls(SEND)] == [40001, 0]
    first, second = (r.query["access_token"] for r in wechat_server.state.calls(SEND))
    assert first != second


def test_reserved_openid_expires_the_token_once_per_send(access, wechat_server) -> None:
    send(access(), emu.TOKEN_EXPIRES_OPENID)
    assert [r.errcode for r in wechat_server.state.calls(SEND)] == [40001, 0]


def test_always_invalid_token_gives_up_after_one_retry(access, wechat_server) -> None:
    error = failure(lambda: send(access(), emu.TOKEN_ALWAYS_INVALID_OPENID))
    assert (error.exit_code, error.code) == (4, "40001")
    assert "retried once" in worded_hint(error, "wechat")
    assert len(wechat_server.state.calls(SEND)) == 2
    assert len(wechat_server.state.calls(STABLE)) == 2


def test_always_invalid_token_on_template_list(access, wechat_server) -> None:
    wechat_server.state.token_always_invalid = True
    error = failure(lambda: wechat.list_templates(access()))
    assert error.code == "40001"
    assert len(wechat_server.state.requests) == 4


def test_system_busy_is_retried_with_bounded_backoff(access, wechat_server) -> None:
    wechat_server.state.busy_next = 2
    wechat.verify(access())
    assert [r.errcode for r in wechat_server.state.calls(STABLE)] == [-1, -1, 0]
    wechat_server.state.reset()
    wechat_server.state.busy_next = 10
    error = failure(lambda: wechat.verify(access()))
    assert (error.exit_code, error.code) == (7, "-1")
    assert len(wechat_server.state.calls(STABLE)) == 1 + len(wechat.BUSY_BACKOFF_SECONDS)


def test_legacy_token_endpoint_is_never_called(access, wechat_server) -> None:
    wechat.verify(access())
    wechat.list_templates(access())
    send(access())
    send(access(), emu.TOKEN_EXPIRES_OPENID)
    failure(lambda: send(access(), emu.TOKEN_ALWAYS_INVALID_OPENID))
    assert wechat_server.state.legacy_token_calls == 0
    assert all(r.path != "/cgi-bin/token" for r in wechat_server.state.requests)


def test_send_timeout_says_it_may_have_been_delivered(access, wechat_server) -> None:
    error = failure(lambda: send(access(timeout=0.3), emu.SLOW_OPENID))
    assert (error.exit_code, error.code) == (7, "TIMEOUT-AFTER-SEND")
    assert "MAY have been delivered" in worded_hint(error, "wechat")
    assert len(wechat_server.state.calls(SEND)) == 1  # never retried blindly


def test_token_timeout_is_retryable(access, wechat_server) -> None:
    wechat_server.state.delay_seconds = 0.6
    error = failure(lambda: wechat.verify(access(timeout=0.2)))
    assert (error.exit_code, error.code) == (7, "TIMEOUT")


def test_unreachable_endpoint_and_non_json(access, wechat_server) -> None:
    from smsctl.sandbox.smtp import free_port

    closed = f"http://127.0.0.1:{free_port('127.0.0.1')}"
    error = failure(lambda: wechat.verify(access(endpoint=closed)))
    assert (error.exit_code, error.code) == (7, "NETWORK")
    wechat_server.state.bad_gateway_next = 1
    error = failure(lambda: wechat.verify(access()))
    assert (error.exit_code, error.code) == (7, "HTTP-ERROR")
    error = failure(lambda: access(endpoint=wechat_server.endpoint + "/elsewhere"))
    assert (error.exit_code, error.code) == (3, "invalid_endpoint")  # a base URL, no path


def test_canary_secret_and_tokens_never_in_error_text(access, wechat_server) -> None:
    secret = CANARY
    wechat_server.seed.app_secret = secret
    try:
        calls = [
            lambda: send(access(app_secret=secret, timeout=0.3), emu.SLOW_OPENID),
            lambda: send(access(app_secret=secret), emu.TOKEN_ALWAYS_INVALID_OPENID),
            lambda: send(access(app_secret=secret), emu.NON_FOLLOWER),
            lambda: wechat.verify(access(app_secret=secret, endpoint="http://127.0.0.1:1")),
            lambda: wechat.verify(access(app_secret=secret, app_id=emu.IP_BLOCKED_APP_ID)),
        ]
        errors = [failure(call) for call in calls]
    finally:
        wechat_server.seed.app_secret = emu.APP_SECRET
    tokens = {r.query["access_token"] for r in wechat_server.state.calls(SEND)}
    assert tokens
    for error in errors:
        text = all_text(error)
        assert secret not in text
        assert "access_token=" not in text
        assert not any(token in text for token in tokens)
