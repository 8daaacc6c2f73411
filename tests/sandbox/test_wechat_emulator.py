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


def test_stable_token_same_while_valid_new_on_force_refresh(wechat_server) -> None:
    first = stable_token(wechat_server)
    assert first["expires_in"] > 7000
    assert stable_token(wechat_server)["access_token"] == first["access_token"]
    refreshed = stable_token(wechat_server, force_refresh=True)["access_token"]
    assert refreshed != first["access_token"]
    assert token(wechat_server) == refreshed


def test_legacy_token_rotates_and_is_recorded(wechat_server) -> None:
    old = token(wechat_server)
    query = f"?grant_type=client_credential&appid={emu.APP_ID}&secret={emu.APP_SECRET}"
    new = call(wechat_server, "GET", "/cgi-bin/token" + query)["access_token"]
    assert new != old
    assert wechat_server.state.legacy_token_calls == 1
    assert push(wechat_server, old)["errcode"] == 40001
    assert push(wechat_server, new)["errcode"] == 0


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
