"""A local emulator of the WeChat official-account API (stdlib HTTP server on loopback).

Endpoints: POST /cgi-bin/stable_token, GET /cgi-bin/token (legacy; recorded so tests can assert
smsctl never calls it), GET /cgi-bin/template/get_all_private_template,
POST /cgi-bin/message/template/send. Errors are HTTP 200 with errcode/errmsg ending in ` rid: ...`,
like the real API.

Tokens as WeChat hands them out: the stable and the legacy token are two separate pools, so a
legacy call never touches the stable token. A stable token is the same on every call while it
is valid (a new one in its last 5 minutes, the old one staying valid to its end);
`force_refresh` replaces it at once, at most once per 30 s (45011) and 20 times a China day
(45009). Every legacy call hands out a new token and leaves the previous one valid for 5 more
minutes. A missing or wrong `grant_type` is 40002. Time is the emulator's clock (`now()`), which
tests move with `state.advance_clock(seconds)` or share with the Alibaba emulator's.

Faults reachable from outside (e.g. through `smsctl sandbox serve`) by reserved values:
- app ids: IP_BLOCKED_APP_ID (40164 on every call), RISKY_IP_APP_ID (89503 on token),
  TEST_ACCOUNT_APP_ID (48001 on send), QUOTA_APP_ID (45009 on send); all use the seed secret;
- openids: NON_FOLLOWER (43004), unknown ones (40003), TOKEN_EXPIRES_OPENID (every other send
  answers 40001 and rotates the token), TOKEN_ALWAYS_INVALID_OPENID (always 40001),
  BUSY_OPENID (-1 always), SLOW_OPENID (answers after `slow_seconds`),
  BAD_GATEWAY_OPENID (HTML 502).
And from Python through `state`: ip_blocked, busy_next, expire_next, token_always_invalid,
delay_seconds, bad_gateway_next (see WechatState).
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from smsctl.sandbox.emulator import HttpEmulator, Reply
from smsctl.sandbox.signing import IncomingRequest

APP_ID = "wx5c0ffee0sandbox"
APP_SECRET = "sandbox0secret0f1e2d3c4b5a69788"
IP_BLOCKED_APP_ID = "wx40164notwhitelst"
RISKY_IP_APP_ID = "wx89503riskyipaddr"
TEST_ACCOUNT_APP_ID = "wx48001testaccount"
QUOTA_APP_ID = "wx45009dailyquota0"

VERIFY_TEMPLATE_ID = "sbxVerifyCode_Q7mK2pX9wL4nR8tY"
ALERT_TEMPLATE_ID = "sbxSystemAlert_H3jF6vB1cZ5dN0sG"

FOLLOWER = "oSbx_follower_alice_000000001"
FOLLOWER_2 = "oSbx_follower_bob_00000000002"
NON_FOLLOWER = "oSbx_not_following_000000003"
TOKEN_EXPIRES_OPENID = "oSbx_token_expires_once_0004"
TOKEN_ALWAYS_INVALID_OPENID = "oSbx_token_always_invalid_05"
BUSY_OPENID = "oSbx_system_busy_00000000006"
SLOW_OPENID = "oSbx_slow_answer_00000000007"
BAD_GATEWAY_OPENID = "oSbx_bad_gateway_00000000008"

GRANT_TYPE = "client_credential"
# Token rules of the official-account API.
TOKEN_OVERLAP_SECONDS = 5 * 60  # an old token's grace, and the stable token's early renewal
FORCE_REFRESH_INTERVAL_SECONDS = 30
FORCE_REFRESH_PER_DAY = 20
CHINA_TZ = timezone(timedelta(hours=8))  # WeChat's daily quotas reset at China midnight

_VARIABLE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\.DATA\s*\}\}")
CLIENT_IP_TEXT = "invalid ip 127.0.0.1 ipv6 ::ffff:127.0.0.1, not in whitelist"

_TEMPLATES = [
    {
        "template_id": VERIFY_TEMPLATE_ID,
        "title": "验证码通知",
        "primary_industry": "IT科技",
        "deputy_industry": "互联网|电子商务",
        "content": "{{first.DATA}}\n验证码：{{keyword1.DATA}}\n有效期：{{keyword2.DATA}}\n"
        "{{remark.DATA}}",
        "example": "您正在登录\n验证码：123456\n有效期：5分钟\n如非本人操作请忽略",
    },
    {
        "template_id": ALERT_TEMPLATE_ID,
        "title": "系统告警通知",
        "primary_industry": "IT科技",
        "deputy_industry": "互联网|电子商务",
        "content": "{{first.DATA}}\n告警内容：{{keyword1.DATA}}\n告警时间：{{keyword2.DATA}}\n"
        "告警级别：{{keyword3.DATA}}\n{{remark.DATA}}",
        "example": "服务告警\n告警内容：CPU 95%\n告警时间：2026-11-22 03:00\n告警级别：P1\n请处理",
    },
]


def template_variables(content: str) -> list[str]:
    """The `name` of every `{{name.DATA}}` of a template, in order."""
    return list(dict.fromkeys(_VARIABLE.findall(content)))


@dataclass
class WechatSeed:
    app_id: str = APP_ID
    app_secret: str = APP_SECRET
    templates: list[dict[str, str]] = field(default_factory=lambda: [dict(t) for t in _TEMPLATES])
    followers: set[str] = field(
        default_factory=lambda: {
            FOLLOWER,
            FOLLOWER_2,
            TOKEN_EXPIRES_OPENID,
            TOKEN_ALWAYS_INVALID_OPENID,
            BUSY_OPENID,
            SLOW_OPENID,
            BAD_GATEWAY_OPENID,
        }  # fmt: skip
    )
    non_followers: set[str] = field(default_factory=lambda: {NON_FOLLOWER})
    token_lifetime: int = 7200


@dataclass
class RequestRecord:
    method: str
    path: str
    query: dict[str, str]
    body: Any
    errcode: int | None
    at: float


@dataclass
class WechatState:
    requests: list[RequestRecord] = field(default_factory=list)
    pushes: list[dict[str, Any]] = field(default_factory=list)
    # Python-side switches for tests.
    ip_blocked: bool = False  # every call answers 40164
    busy_next: int = 0  # the next N calls answer -1
    expire_next: int = 0  # the next N sends answer 40001 and rotate the token
    token_always_invalid: bool = False  # every call with a token answers 40001
    delay_seconds: float = 0.0  # every answer is delayed
    bad_gateway_next: int = 0  # the next N calls answer an HTML 502
    clock_offset: float = 0.0  # added to the emulator's clock (advance_clock)
    force_refreshes: dict[str, list[float]] = field(default_factory=dict)  # app id -> times

    def advance_clock(self, seconds: float) -> None:
        """Move the emulator's clock forward (token expiry, force_refresh quotas)."""
        self.clock_offset += seconds

    def calls(self, path: str) -> list[RequestRecord]:
        """Requests to a path such as "/cgi-bin/stable_token"."""
        return [record for record in self.requests if record.path == path]

    @property
    def legacy_token_calls(self) -> int:
        return len(self.calls("/cgi-bin/token"))

    generation: int = 0  # bumped by reset()

    def reset(self) -> None:
        """Forget requests, pushes and force_refresh quotas, clear every switch and the clock
        offset (tokens stay as they are)."""
        generation = self.generation + 1
        self.__init__()  # type: ignore[misc]
        self.generation = generation


@dataclass
class _Token:
    app_id: str
    kind: str  # "stable" | "legacy": two pools that never touch each other
    expires_at: float
    superseded: bool = False  # a newer legacy token was handed out: this one runs out early


class _Reply(Exception):
    def __init__(self, status: int, body: bytes, content_type: str) -> None:
        self.reply = Reply(status, body, f"{content_type}; charset=utf-8")


class WechatEmulator(HttpEmulator):
    thread_name = "wechat-emulator"
    protocol_version = "HTTP/1.1"

    def __init__(
        self,
        host: str = "127.0.0.1",
        seed: WechatSeed | None = None,
        *,
        port: int = 0,
        slow_seconds: float = 3.0,
        clock: Callable[[], float] | None = None,
    ) -> None:
        super().__init__(host, port)
        self.seed = seed or WechatSeed()
        self._clock = clock or time.time
        self.slow_seconds = slow_seconds
        self.state = WechatState()
        self._lock = threading.Lock()
        self._tokens: dict[str, _Token] = {}
        self._current: dict[tuple[str, str], str] = {}  # (kind, app_id) -> newest token
        self._expire_toggle: dict[str, bool] = {}
        self._msgid = 2_000_000_000_000_000_000
        self._app_ids = {
            self.seed.app_id, IP_BLOCKED_APP_ID, RISKY_IP_APP_ID, TEST_ACCOUNT_APP_ID, QUOTA_APP_ID,
        }  # fmt: skip

    def info(self) -> dict[str, dict[str, Any]]:
        return {
            "wechat": {
                "endpoint": self.endpoint,
                "app_id": self.seed.app_id,
                "app_secret": self.seed.app_secret,
                "follower_openid": FOLLOWER,
                "template_ids": [t["template_id"] for t in self.seed.templates],
            }
        }

    def now(self) -> float:
        """The emulated service's clock."""
        return self._clock() + self.state.clock_offset

    # -- request handling ------------------------------------------------------------------------

    def handle(self, request: IncomingRequest) -> Reply:
        # Like parse_qs: a parameter given empty counts as absent, the last one given wins.
        query = {key: value for key, value in request.query if value}
        parsed_body = _json_or_none(request.body)
        record = RequestRecord(request.method, request.path, query, parsed_body, None, self.now())
        with self._lock:
            self.state.requests.append(record)
        try:
            answer = self._route(request.method, request.path, query, parsed_body)
        except _Reply as refusal:
            return refusal.reply
        record.errcode = answer.get("errcode", 0)
        body = json.dumps(answer, ensure_ascii=False).encode()
        return Reply(200, body, "application/json; charset=utf-8")

    def _route(self, method: str, path: str, query: dict[str, str], body: Any) -> dict[str, Any]:
        self._apply_global_faults(body)
        routes = {
            ("POST", "/cgi-bin/stable_token"): self._stable_token,
            ("GET", "/cgi-bin/token"): self._legacy_token,
            ("GET", "/cgi-bin/template/get_all_private_template"): self._templates,
            ("POST", "/cgi-bin/message/template/send"): self._send,
        }
        route = routes.get((method, path))
        if route is None:
            raise _Reply(404, b"<html><body>404 Not Found</body></html>", "text/html")
        with self._lock:
            return route(query, body)

    def _apply_global_faults(self, body: Any) -> None:
        touser = body.get("touser") if isinstance(body, dict) else None
        delay = self.state.delay_seconds or (self.slow_seconds if touser == SLOW_OPENID else 0)
        if delay:
            generation = self.state.generation
            self._stopping.wait(delay)
            if self.state.generation != generation:
                # The state was reset while this request waited (its client gave up long ago):
                # do not let it act on the next test's state.
                raise _Reply(503, b"<html><body>503 Service Unavailable</body></html>", "text/html")
        with self._lock:
            if self.state.bad_gateway_next > 0 or touser == BAD_GATEWAY_OPENID:
                self.state.bad_gateway_next = max(0, self.state.bad_gateway_next - 1)
                raise _Reply(
                    502, b"<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html"
                )

    def _stable_token(self, query: dict[str, str], body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            return _error(47001, "data format error")
        app_id = body.get("appid")
        refused = self._check_credentials(app_id, body.get("secret"), body.get("grant_type"))
        if refused:
            return refused
        now = self.now()
        token = self._current.get(("stable", app_id))
        entry = self._tokens.get(token or "")
        if body.get("force_refresh") is True:
            limited = self._force_refresh_limit(app_id, now)
            if limited:
                return limited
            self.state.force_refreshes.setdefault(app_id, []).append(now)
            if token:
                self._tokens.pop(token, None)  # invalidated at once
            token = self._issue(app_id, "stable")
        elif entry is None or entry.expires_at <= now:
            token = self._issue(app_id, "stable")
        elif entry.expires_at - now <= TOKEN_OVERLAP_SECONDS:
            token = self._issue(app_id, "stable")  # renewed early; the old one runs out
        return self._answer_token(token, now)

    def _legacy_token(self, query: dict[str, str], body: Any) -> dict[str, Any]:
        app_id = query.get("appid")
        refused = self._check_credentials(app_id, query.get("secret"), query.get("grant_type"))
        if refused:
            return refused
        now = self.now()
        for entry in self._tokens.values():
            if entry.app_id == app_id and entry.kind == "legacy" and not entry.superseded:
                entry.expires_at = min(entry.expires_at, now + TOKEN_OVERLAP_SECONDS)
                entry.superseded = True
        return self._answer_token(self._issue(app_id, "legacy"), now)

    def _check_credentials(
        self, app_id: Any, secret: Any, grant_type: Any
    ) -> dict[str, Any] | None:
        fault = self._common_fault(app_id)
        if fault:
            return fault
        if grant_type != GRANT_TYPE:
            return _error(40002, "invalid grant_type")
        if not app_id:
            return _error(41002, "appid missing")
        if not secret:
            return _error(41004, "appsecret missing")
        if app_id not in self._app_ids:
            return _error(40013, "invalid appid")
        if app_id == RISKY_IP_APP_ID:
            return _error(89503, "此次调用需要管理员确认，请耐心等候")
        if not secrets.compare_digest(str(secret), self.seed.app_secret):
            return _error(40125, "invalid appsecret, view more at http://t.cn/RAEkdVq")
        return None

    def _force_refresh_limit(self, app_id: str, now: float) -> dict[str, Any] | None:
        history = self.state.force_refreshes.get(app_id, [])
        if history and now - history[-1] < FORCE_REFRESH_INTERVAL_SECONDS:
            return _error(45011, "api minute-quota reach limit  mustslower  retry next minute")
        today = _china_date(now)
        if sum(1 for stamp in history if _china_date(stamp) == today) >= FORCE_REFRESH_PER_DAY:
            return _error(45009, "reach max api daily quota limit")
        return None

    def _answer_token(self, token: str, now: float) -> dict[str, Any]:
        return {"access_token": token, "expires_in": int(self._tokens[token].expires_at - now)}

    def _issue(self, app_id: str, kind: str) -> str:
        token = f"SBX_{secrets.token_urlsafe(48)}"
        self._tokens[token] = _Token(app_id, kind, self.now() + self.seed.token_lifetime)
        self._current[(kind, app_id)] = token
        return token

    def _common_fault(self, app_id: Any) -> dict[str, Any] | None:
        if self.state.ip_blocked or app_id == IP_BLOCKED_APP_ID:
            return _error(40164, CLIENT_IP_TEXT)
        if self.state.busy_next > 0:
            self.state.busy_next -= 1
            return _error(-1, "system error")
        return None

    def _authorize(self, query: dict[str, str]) -> tuple[str | None, dict[str, Any] | None]:
        """The app id the token belongs to, or the error to answer."""
        token = query.get("access_token")
        if not token:
            return None, _error(41001, "access_token missing")
        entry = self._tokens.get(token)
        superseded = entry is not None and entry.superseded and entry.expires_at <= self.now()
        if entry is None or superseded or self.state.token_always_invalid:
            return None, _error(
                40001,
                "invalid credential, access_token is invalid or not latest, could get "
                "access_token by getStableAccessToken",
            )
        if entry.expires_at <= self.now():
            return None, _error(42001, "access_token expired")
        fault = self._common_fault(entry.app_id)
        return (None, fault) if fault else (entry.app_id, None)

    def _templates(self, query: dict[str, str], body: Any) -> dict[str, Any]:
        app_id, error = self._authorize(query)
        if error:
            return error
        return {"template_list": [dict(t) for t in self.seed.templates]}

    def _send(self, query: dict[str, str], body: Any) -> dict[str, Any]:
        app_id, error = self._authorize(query)
        if error:
            return error
        if not isinstance(body, dict):
            return _error(47001, "data format error")
        openid = body.get("touser")
        if self._token_trouble(openid, query["access_token"]):
            return _error(40001, "invalid credential, access_token is invalid or not latest")
        if openid == BUSY_OPENID:
            return _error(-1, "system error")
        if app_id == TEST_ACCOUNT_APP_ID:
            return _error(48001, "api unauthorized")
        if app_id == QUOTA_APP_ID:
            return _error(45009, "reach max api daily quota limit")
        return self._deliver(app_id, openid, body)

    def _token_trouble(self, openid: Any, token: str) -> bool:
        """Whether this send answers 40001 (rotating the token, as if someone refreshed it)."""
        if openid == TOKEN_ALWAYS_INVALID_OPENID:
            return True
        expire = self.state.expire_next > 0
        if expire:
            self.state.expire_next -= 1
        elif openid == TOKEN_EXPIRES_OPENID:
            expire = self._expire_toggle[openid] = not self._expire_toggle.get(openid, False)
        if expire:
            entry = self._tokens.pop(token)
            self._issue(entry.app_id, entry.kind)
        return expire

    def _deliver(self, app_id: str, openid: Any, body: dict[str, Any]) -> dict[str, Any]:
        template = next(
            (t for t in self.seed.templates if t["template_id"] == body.get("template_id")), None
        )
        if template is None:
            return _error(40037, "invalid template_id")
        if openid in self.seed.non_followers:
            return _error(43004, "require subscribe")
        if openid not in self.seed.followers:
            return _error(40003, "invalid openid")
        data = body.get("data") if isinstance(body.get("data"), dict) else {}
        for name in dict.fromkeys(_VARIABLE.findall(template["content"])):
            value = data.get(name, {}).get("value") if isinstance(data.get(name), dict) else None
            if not value:
                return _error(47003, f"argument invalid! data.{name}.value is empty")
        self._msgid += 1
        push = {"app_id": app_id, "msgid": self._msgid, **body}
        self.state.pushes.append(push)
        return {"errcode": 0, "errmsg": "ok", "msgid": self._msgid}


def _json_or_none(body: bytes) -> Any:
    if not body:
        return None
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None


def _china_date(stamp: float) -> str:
    return datetime.fromtimestamp(stamp, CHINA_TZ).strftime("%Y-%m-%d")


def _rid() -> str:
    return f"{int(time.time()):08x}-{secrets.token_hex(4)}-{secrets.token_hex(4)}"


def _error(errcode: int, errmsg: str) -> dict[str, Any]:
    return {"errcode": errcode, "errmsg": f"{errmsg} rid: {_rid()}"}
