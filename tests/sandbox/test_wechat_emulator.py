"""The WeChat API emulator itself, driven with plain HTTP (independent of smsctl's adapter)."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from typing import Any

import pytest

from smsctl.sandbox import wechat as emu

RID = re.compile(r" rid: [0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}$")
VALUES = {"first": "a", "keyword1": "b", "keyword2": "c", "remark": "d"}


def call(server: emu.WechatEmulator, method: str, path: str, body: Any = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(server.endpoint + path, data=data, method=method)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=3) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Content-Type"), error.read()


def stable_token(server: emu.WechatEmulator, app_id: str = emu.APP_ID, **extra: Any) -> Any:
    body = {"grant_type": "client_credential", "appid": app_id, "secret": emu.APP_SECRET, **extra}
    return call(server, "POST", "/cgi-bin/stable_token", body)


def token(server: emu.WechatEmulator, app_id: str = emu.APP_ID) -> str:
    return stable_token(server, app_id)["access_token"]


def push(server: emu.WechatEmulator, access_token: str, **body: Any) -> Any:
    payload = {"touser": emu.FOLLOWER, "template_id": emu.VERIFY_TEMPLATE_ID}
    payload["data"] = {k: {"value": v} for k, v in VALUES.items()}
    payload.update(body)
    return call(
        server, "POST", f"/cgi-bin/message/template/send?access_token={access_token}", payload
    )


def test_info(wechat_server: emu.WechatEmulator) -> None:
    info = wechat_server.info()["wechat"]
    assert info["endpoint"].startswith("http://127.0.0.1:")
    assert (info["app_id"], info["app_secret"]) == (emu.APP_ID, emu.APP_SECRET)


def test_stable_token_same_while_valid_new_on_force_refresh(clocked) -> None:
    # An emulator of its own: the shared one keeps its tokens across tests, on the real clock.
    first = stable_token(clocked)
    assert first["expires_in"] == 7200
    assert stable_token(clocked)["access_token"] == first["access_token"]
    refreshed = stable_token(clocked, force_refresh=True)["access_token"]
    assert refreshed != first["access_token"]
    assert token(clocked) == refreshed


def legacy_token(server: emu.WechatEmulator, query: str | None = None) -> Any:
    query = query or f"grant_type=client_credential&appid={emu.APP_ID}&secret={emu.APP_SECRET}"
    return call(server, "GET", "/cgi-bin/token?" + query)


def test_legacy_token_is_recorded_and_never_touches_the_stable_token(wechat_server) -> None:
    stable = token(wechat_server)
    legacy = legacy_token(wechat_server)["access_token"]
    assert legacy != stable
    assert wechat_server.state.legacy_token_calls == 1
    assert push(wechat_server, stable)["errcode"] == 0
    assert push(wechat_server, legacy)["errcode"] == 0
    assert token(wechat_server) == stable  # still the same stable token
    assert stable_token(wechat_server, force_refresh=True)["access_token"] != stable
    assert push(wechat_server, legacy)["errcode"] == 0  # and the other way round


CHINA_NOON = 1767240000.0  # 2026-01-01T04:00:00Z, 12:00 in China


@pytest.fixture
def clocked() -> Any:
    """An emulator of its own on a fixed clock, moved only by state.advance_clock."""
    emulator = emu.WechatEmulator(clock=lambda: CHINA_NOON).start()
    try:
        yield emulator
    finally:
        emulator.stop()


def test_legacy_token_stays_valid_5_minutes_after_a_new_one(clocked) -> None:
    first = legacy_token(clocked)["access_token"]
    second = legacy_token(clocked)["access_token"]
    assert first != second
    clocked.state.advance_clock(299)
    assert push(clocked, first)["errcode"] == 0
    clocked.state.advance_clock(2)
    assert push(clocked, first)["errcode"] == 40001
    assert push(clocked, second)["errcode"] == 0
    assert legacy_token(clocked)["expires_in"] == 7200


def test_stable_token_is_renewed_in_its_last_5_minutes_the_old_one_running_out(clocked) -> None:
    first = stable_token(clocked)
    assert first["expires_in"] == 7200
    clocked.state.advance_clock(7200 - 301)
    assert token(clocked) == first["access_token"]
    clocked.state.advance_clock(2)  # 299 s left
    renewed = stable_token(clocked)
    assert renewed["access_token"] != first["access_token"]
    assert renewed["expires_in"] == 7200
    assert push(clocked, first["access_token"])["errcode"] == 0
    clocked.state.advance_clock(300)
    assert push(clocked, first["access_token"])["errcode"] == 42001
    assert push(clocked, renewed["access_token"])["errcode"] == 0


def test_force_refresh_at_most_once_per_30_seconds(clocked) -> None:
    first = stable_token(clocked, force_refresh=True)["access_token"]
    clocked.state.advance_clock(29)
    again = stable_token(clocked, force_refresh=True)
    assert again["errcode"] == 45011 and RID.search(again["errmsg"])
    assert token(clocked) == first  # nothing was refreshed
    clocked.state.advance_clock(1)
    assert stable_token(clocked, force_refresh=True)["access_token"] != first


def test_force_refresh_at_most_20_times_a_china_day(clocked) -> None:
    for _ in range(20):
        assert "access_token" in stable_token(clocked, force_refresh=True)
        clocked.state.advance_clock(30)
    current = token(clocked)
    refused = stable_token(clocked, force_refresh=True)
    assert refused["errcode"] == 45009
    assert token(clocked) == current
    clocked.state.advance_clock(12 * 3600)  # past China midnight
    assert stable_token(clocked, force_refresh=True)["access_token"] != current


@pytest.mark.parametrize("grant_type", [None, "", "authorization_code"])
def test_missing_or_wrong_grant_type_is_40002(wechat_server, grant_type) -> None:
    body = {"appid": emu.APP_ID, "secret": emu.APP_SECRET}
    if grant_type is not None:
        body["grant_type"] = grant_type
    answer = call(wechat_server, "POST", "/cgi-bin/stable_token", body)
    assert answer["errcode"] == 40002 and RID.search(answer["errmsg"])
    query = f"appid={emu.APP_ID}&secret={emu.APP_SECRET}"
    if grant_type is not None:
        query += f"&grant_type={grant_type}"
    assert legacy_token(wechat_server, query)["errcode"] == 40002


@pytest.mark.parametrize(
    ("app_id", "secret", "errcode"),
    [
        (emu.APP_ID, "wrong", 40125),
        ("wxnosuchapp00000", emu.APP_SECRET, 40013),
        (emu.IP_BLOCKED_APP_ID, emu.APP_SECRET, 40164),
        (emu.RISKY_IP_APP_ID, emu.APP_SECRET, 89503),
    ],
)
def test_token_errors_end_with_rid(wechat_server, app_id, secret, errcode) -> None:
    body = {"grant_type": "client_credential", "appid": app_id, "secret": secret}
    answer = call(wechat_server, "POST", "/cgi-bin/stable_token", body)
    assert answer["errcode"] == errcode
    assert RID.search(answer["errmsg"])


def test_ip_whitelist_switch_blocks_every_call_naming_the_ip(wechat_server) -> None:
    access_token = token(wechat_server)
    wechat_server.state.ip_blocked = True
    for answer in (stable_token(wechat_server), push(wechat_server, access_token)):
        assert answer["errcode"] == 40164
        assert answer["errmsg"].startswith("invalid ip 127.0.0.1 ipv6 ::ffff:127.0.0.1")


def test_template_list(wechat_server) -> None:
    path = f"/cgi-bin/template/get_all_private_template?access_token={token(wechat_server)}"
    templates = call(wechat_server, "GET", path)["template_list"]
    ids = [t["template_id"] for t in templates]
    assert ids == [emu.VERIFY_TEMPLATE_ID, emu.ALERT_TEMPLATE_ID]
    assert "{{keyword1.DATA}}" in templates[0]["content"]
    assert {"title", "primary_industry", "deputy_industry", "example"} <= set(templates[0])


def test_send_checks_token_template_data_and_recipient(wechat_server) -> None:
    access_token = token(wechat_server)
    ok = push(wechat_server, access_token)
    assert ok["errcode"] == 0 and ok["msgid"] == wechat_server.state.pushes[-1]["msgid"]
    assert push(wechat_server, "bogus")["errcode"] == 40001
    assert push(wechat_server, access_token, template_id="nope")["errcode"] == 40037
    assert push(wechat_server, access_token, touser=emu.NON_FOLLOWER)["errcode"] == 43004
    assert push(wechat_server, access_token, touser="oStranger")["errcode"] == 40003
    partial = {k: {"value": v} for k, v in VALUES.items() if k != "keyword2"}
    missing = push(wechat_server, access_token, data=partial)
    assert missing["errcode"] == 47003
    assert "data.keyword2.value" in missing["errmsg"]
    assert len(wechat_server.state.pushes) == 1


def test_account_kind_faults(wechat_server) -> None:
    assert push(wechat_server, token(wechat_server, emu.TEST_ACCOUNT_APP_ID))["errcode"] == 48001
    assert push(wechat_server, token(wechat_server, emu.QUOTA_APP_ID))["errcode"] == 45009


def test_token_expiry_switches(wechat_server) -> None:
    access_token = token(wechat_server)
    wechat_server.state.expire_next = 1
    assert push(wechat_server, access_token)["errcode"] == 40001
    assert push(wechat_server, access_token)["errcode"] == 40001  # it was rotated away
    renewed = token(wechat_server)
    assert renewed != access_token
    assert push(wechat_server, renewed)["errcode"] == 0
    assert push(wechat_server, renewed, touser=emu.TOKEN_ALWAYS_INVALID_OPENID)["errcode"] == 40001
    assert push(wechat_server, renewed, touser=emu.TOKEN_ALWAYS_INVALID_OPENID)["errcode"] == 40001


def test_busy_and_bad_gateway_switches(wechat_server) -> None:
    wechat_server.state.busy_next = 1
    assert stable_token(wechat_server)["errcode"] == -1
    assert "access_token" in stable_token(wechat_server)
    wechat_server.state.bad_gateway_next = 1
    status, content_type, body = stable_token(wechat_server)
    assert status == 502 and content_type.startswith("text/html") and b"Bad Gateway" in body
    assert "access_token" in stable_token(wechat_server)


def test_request_log_records_calls(wechat_server) -> None:
    token(wechat_server)
    [record] = wechat_server.state.requests
    assert (record.method, record.path, record.errcode) == ("POST", "/cgi-bin/stable_token", 0)
    wechat_server.state.reset()
    assert wechat_server.state.requests == []
