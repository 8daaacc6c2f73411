"""The HTTP exchange of the Alibaba adapters (through the real SDK) and of the WeChat adapter
(through requests) against a hostile provider on loopback: redirects are never followed, a
loopback endpoint never goes through a proxy while other endpoints honour the proxy
variables, a trickling server meets a deadline, and no answer is read past the size cap."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from smsctl.core.config import Config
from smsctl.core.errors import ConfigError, ProviderUnavailable, SmsctlError
from smsctl.providers import transport
from smsctl.providers import wechat as wx
from smsctl.providers.alibaba_common import AlibabaAccess, RetryPolicy
from smsctl.providers.alibaba_sms import AlibabaSms
from tests.support import hostile_http as hostile

SECRET = "CANARY-s3cr3t-7f1e9a"
APP_ID = "wx0123456789abcdef"
SMS_OK = b'{"Code": "OK", "Message": "OK", "RequestId": "r-1", "SmsSignList": []}'
TOKEN_OK = b'{"access_token": "tok-123456", "expires_in": 7200}'


@pytest.fixture
def serve() -> Iterator[Callable[[hostile.Behaviour], hostile.HostileServer]]:
    servers: list[hostile.HostileServer] = []

    def start(behaviour: hostile.Behaviour) -> hostile.HostileServer:
        servers.append(hostile.HostileServer(behaviour).start())
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def proxy() -> Iterator[hostile.RecordingProxy]:
    listener = hostile.RecordingProxy().start()
    yield listener
    listener.stop()


@pytest.fixture
def deadline(monkeypatch: pytest.MonkeyPatch) -> hostile.ManualDeadline:
    manual = hostile.ManualDeadline()
    monkeypatch.setattr(transport, "make_timer", manual)
    return manual


def sms(endpoint: str | None, **fields: Any) -> AlibabaSms:
    access = AlibabaAccess("LTAI5tHostile01", SECRET, endpoint, None, 2.0, 2.0, **fields)
    return AlibabaSms(access, retry=RetryPolicy(max_attempts=1), sleep=lambda _s: None)


def wechat(endpoint: str, **fields: Any) -> wx.WechatAccess:
    return wx.WechatAccess(APP_ID, SECRET, endpoint, timeout=2.0, **fields)


def send_sms(adapter: AlibabaSms) -> Any:
    return adapter.send("+8613800138000", "Acme", "SMS_100000001", {"code": "1234"}, "out-1")


def failure(call: Callable[[], object]) -> SmsctlError:
    """The error `call` ends with, run in a thread so that a call that never ends fails the
    test instead of hanging it."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["result"] = call()
        except SmsctlError as err:
            outcome["error"] = err

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(30)
    assert not worker.is_alive(), "the call never ended"
    assert "error" in outcome, f"the call succeeded: {outcome.get('result')!r}"
    error = outcome["error"]
    assert SECRET not in f"{error.message} {error.hint} {error.details}"
    return error


# --- redirects -------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [302, 307, 308])
def test_the_sdk_never_follows_a_redirect(serve, status: int) -> None:
    elsewhere = serve(hostile.json_answer(SMS_OK))
    endpoint = serve(hostile.redirect(status, f"{elsewhere.url}/?Action=SendSms&Signature=x"))
    error = failure(lambda: send_sms(sms(endpoint.url)))
    assert (error.exit_code, error.code) == (7, "Redirected")
    assert f"HTTP {status} redirect to http://127.0.0.1:{elsewhere.port}/?…" in error.message
    assert "Signature" not in error.message
    assert len(endpoint.requests) == 1
    assert elsewhere.requests == []


def test_a_3xx_without_a_location_is_named_by_its_status_not_called_a_redirect(serve) -> None:
    endpoint = serve(hostile.bare_status(304, "Not Modified"))
    error = failure(lambda: send_sms(sms(endpoint.url)))
    assert (error.exit_code, error.code) == (7, "Redirected")
    assert "HTTP 304 Not Modified with no Location, which is not an API answer" in error.message
    assert "redirect to" not in error.message


@pytest.mark.parametrize("status", [302, 307, 308])
def test_wechat_never_follows_a_redirect_with_the_app_secret(serve, status: int) -> None:
    elsewhere = serve(hostile.json_answer(TOKEN_OK))
    endpoint = serve(hostile.redirect(status, f"{elsewhere.url}/cgi-bin/stable_token"))
    error = failure(lambda: wx.verify(wechat(endpoint.url)))
    assert (error.exit_code, error.code) == (7, "REDIRECT")
    assert f"redirect to http://127.0.0.1:{elsewhere.port}/cgi-bin/stable_token" in error.message
    assert elsewhere.requests == []
    assert SECRET.encode() in endpoint.requests[0].body  # it went to the endpoint only


# --- proxies ---------------------------------------------------------------------------------


@pytest.fixture
def proxy_everything(monkeypatch: pytest.MonkeyPatch, proxy: hostile.RecordingProxy) -> None:
    monkeypatch.delenv("NO_PROXY", raising=False)
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "all_proxy"):
        monkeypatch.setenv(name, proxy.url)


def test_a_loopback_endpoint_never_goes_through_a_proxy_sdk(
    proxy_everything, proxy, fresh_sandbox_state
) -> None:
    info = fresh_sandbox_state.info()["sms"]
    access = AlibabaAccess(info["access_key_id"], info["access_key_secret"], info["endpoint"])
    AlibabaSms(access).check_credentials()
    assert proxy.seen == []


def test_a_loopback_endpoint_never_goes_through_a_proxy_wechat(
    proxy_everything, proxy, wechat_server
) -> None:
    info = wechat_server.info()["wechat"]
    wx.verify(wx.WechatAccess(info["app_id"], info["app_secret"], info["endpoint"]))
    assert proxy.seen == []


@pytest.mark.parametrize("variable", ["HTTPS_PROXY", "https_proxy", "ALL_PROXY"])
def test_an_https_endpoint_honours_the_proxy_variables(monkeypatch, proxy, variable: str) -> None:
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.setenv(variable, proxy.url)
    error = failure(lambda: sms(None).check_credentials())
    assert (error.exit_code, error.code) == (7, "ConnectionFailed")
    assert "proxy" in error.message
    error = failure(lambda: wx.verify(wechat("https://api.weixin.qq.com")))
    assert error.exit_code == 7
    assert proxy.seen == [
        "CONNECT dysmsapi.aliyuncs.com:443 HTTP/1.0",
        "CONNECT api.weixin.qq.com:443 HTTP/1.0",
    ]


def test_no_proxy_is_honoured(monkeypatch, proxy) -> None:
    monkeypatch.setenv("HTTPS_PROXY", proxy.url)
    monkeypatch.setenv("NO_PROXY", ".smsctl-test.invalid")
    error = failure(lambda: sms("https://dysmsapi.smsctl-test.invalid").check_credentials())
    assert (error.exit_code, error.code) == (7, "ConnectionFailed")
    assert proxy.seen == []


# --- deadlines -------------------------------------------------------------------------------


@pytest.mark.parametrize("trickle", [hostile.slow_headers, hostile.slow_body])
def test_a_trickling_server_meets_the_deadline_sdk(serve, deadline, trickle) -> None:
    server = serve(trickle(pause=0.01, after=5, then=deadline.pass_now))
    error = failure(lambda: sms(server.url).check_credentials())
    assert (error.exit_code, error.code) == (7, "ResponseLost")
    assert "deadline" in error.message
    assert error.details["failure"] == "deadline"


def test_a_send_past_its_deadline_may_have_been_delivered(serve, deadline) -> None:
    server = serve(hostile.slow_body(pause=0.01, after=5, then=deadline.pass_now))
    error = failure(lambda: send_sms(sms(server.url)))
    assert (error.exit_code, error.code) == (7, "ResponseLost")
    assert "MAY have been delivered" in error.message
    assert len(server.requests) == 1  # never retried


@pytest.mark.parametrize("trickle", [hostile.slow_headers, hostile.slow_body])
def test_a_trickling_server_meets_the_deadline_wechat(serve, deadline, trickle) -> None:
    server = serve(trickle(pause=0.01, after=5, then=deadline.pass_now))
    error = failure(lambda: wx.verify(wechat(server.url)))
    assert (error.exit_code, error.code) == (7, "TIMEOUT")
    assert "deadline" in error.message


def test_the_deadline_is_the_configured_one_never_below_the_read_timeout(serve, deadline):
    server = serve(hostile.json_answer(SMS_OK))
    sms(server.url, deadline=12.0).check_credentials()
    wx.verify(wechat(serve(hostile.json_answer(TOKEN_OK)).url, deadline=0.5))
    assert deadline.seconds == [12.0, 2.0]  # WeChat's 2 s read timeout wins over 0.5


def test_the_deadline_setting_reaches_both_adapters() -> None:
    from smsctl.core import connect

    config = Config(
        {
            "defaults": {"deadline": 12.5},
            "sms": {"accounts": {"prod": {"access_key_id": "LTAI5tX"}}},
            "wechat": {"accounts": {"oa": {"app_id": APP_ID}}},
        },
        Path("config.toml"),
    )

    class Secrets:
        def require(self, channel: str, account: str) -> str:
            return SECRET

    sms = connect.account_of(config, Secrets(), "sms", "prod")
    assert connect.alibaba_access(sms).deadline == 12.5
    assert (
        connect.wechat_access(connect.account_of(config, Secrets(), "wechat", "oa")).deadline
        == 12.5
    )


# --- size cap --------------------------------------------------------------------------------


def test_a_compression_bomb_stops_at_the_cap_sdk(serve) -> None:
    server = serve(hostile.send_bomb(hostile.gzip_bomb(64, SMS_OK)))
    error = failure(lambda: sms(server.url).check_credentials())
    assert (error.exit_code, error.code) == (7, "BadResponse")
    assert "larger than 4 MiB" in error.message
    assert error.details["failure"] == "too_large"


def test_a_compression_bomb_stops_at_the_cap_wechat(serve) -> None:
    server = serve(hostile.send_bomb(hostile.gzip_bomb(64, TOKEN_OK)))
    error = failure(lambda: wx.verify(wechat(server.url)))
    assert (error.exit_code, error.code) == (7, "BAD-RESPONSE")
    assert "larger than 4 MiB" in error.message


def test_an_oversized_answer_to_a_send_may_have_been_delivered(serve) -> None:
    server = serve(hostile.send_bomb(hostile.gzip_bomb(64, b'{"Code": "OK", "BizId": "1"}')))
    error = failure(lambda: send_sms(sms(server.url)))
    assert (error.exit_code, error.code) == (7, "ResponseLost")
    assert "MAY have been delivered" in error.message


@pytest.mark.parametrize("declared", [None, 100_000_000])
def test_an_endless_or_huge_body_is_not_read_past_the_cap(serve, declared) -> None:
    server = serve(hostile.endless_body(declared=declared))
    error = failure(lambda: sms(server.url).check_credentials())
    assert error.details["failure"] == "too_large"
    error = failure(lambda: wx.verify(wechat(server.url)))
    assert error.code == "BAD-RESPONSE"
    # Each client stopped at 4 MiB; what the server got out beyond it is socket buffers.
    assert server.bytes_sent < 2 * (transport.MAX_ANSWER_BYTES + 16 * 1024 * 1024)


# --- the endpoint policy wherever the endpoint comes from ------------------------------------


@pytest.mark.parametrize("endpoint", ["http://10.0.0.5", "http://api.example.com:8080"])
def test_a_wechat_access_with_plain_http_elsewhere_cannot_be_made(endpoint: str) -> None:
    with pytest.raises(ConfigError) as caught:
        wechat(endpoint)
    assert caught.value.code == "insecure_endpoint"
    assert wechat(endpoint, allow_insecure_endpoint=True).endpoint == endpoint


def test_the_transport_itself_refuses_plain_http_elsewhere() -> None:
    with pytest.raises(transport.InsecureEndpoint):
        transport.exchange("POST", "http://10.0.0.5/cgi-bin/stable_token", body=b"{}")


def test_transport_failures_carry_no_request_details(serve) -> None:
    server = serve(hostile.redirect(307, "http://user:pw@127.0.0.1:1/x?access_token=tok"))
    with pytest.raises(ProviderUnavailable) as caught:
        send_sms(sms(server.url))
    assert "pw" not in caught.value.message and "tok" not in caught.value.message
