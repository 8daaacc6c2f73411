"""WeChat official-account API adapter (stable_token, template list, template send).

Called over providers.transport (no redirects, no proxy for loopback, a deadline and a size cap on
every exchange) with a settable endpoint, checked against the endpoint policy when the
WechatAccess is made. Rules:
- tokens come from `cgi-bin/stable_token` with force_refresh=false, never from the legacy
  `cgi-bin/token` call, which would invalidate the token a production sender is using;
- an invalid/expired token (40001/40014/42001) is dropped, fetched once more, and the call
  retried ONCE;
- -1 (system busy) is retried with a short bounded backoff.
The AppSecret and access tokens never appear in a message, a repr or an exception: the secret
travels only in the stable_token POST body, and URLs (which carry the access token) are never
quoted in errors.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any

from smsctl.core.catalog import to_error
from smsctl.core.endpoints import endpoint_in_use
from smsctl.core.errors import ConfigError, SmsctlError
from smsctl.providers import transport
from smsctl.providers.answers import Answer

TOKEN_INVALID_CODES = frozenset({40001, 40014, 42001})
MALFORMED = "MALFORMED-ANSWER"  # JSON, but not of the shape the API documents
BUSY_CODE = -1
# Pauses before the retries of a "system busy" answer; bounded: len() retries at most.
BUSY_BACKOFF_SECONDS: tuple[float, ...] = (0.3, 1.0)

_VARIABLE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\.DATA\s*\}\}")
_RID = re.compile(r"rid:\s*([0-9A-Za-z-]+)")
_IP = re.compile(r"invalid ip\s+([0-9A-Fa-f.:]+)")
_FIELD = re.compile(r"data\.([A-Za-z_][A-Za-z0-9_]*)")


DEFAULT_ENDPOINT = "https://api.weixin.qq.com"


@dataclass(frozen=True)
class WechatAccess:
    """One account's credentials and endpoint. Making one checks the endpoint policy (plain
    http only to loopback, unless allow_insecure_endpoint), whatever the endpoint came from."""

    app_id: str
    app_secret: str = field(repr=False)
    endpoint: str = DEFAULT_ENDPOINT
    timeout: float = 10.0
    allow_insecure_endpoint: bool = False
    deadline: float = transport.DEFAULT_DEADLINE

    def __post_init__(self) -> None:
        checked = endpoint_in_use(
            self.endpoint,
            DEFAULT_ENDPOINT,
            allow_insecure=self.allow_insecure_endpoint,
            what="WeChat endpoint",
        )
        object.__setattr__(self, "endpoint", checked.base_url)

    def limits(self) -> transport.Limits:
        return transport.Limits(
            connect_timeout=self.timeout, read_timeout=self.timeout, deadline=self.deadline
        )


@dataclass(frozen=True)
class WechatTemplate:
    template_id: str
    title: str
    content: str
    example: str
    variables: tuple[str, ...]


@dataclass(frozen=True)
class SendResult:
    msgid: str  # WeChat answers a number above 2**53: as a JSON number, jq and JavaScript round it
    rid: str | None = None


def template_variables(content: str) -> tuple[str, ...]:
    """The `name` of every `{{name.DATA}}` in order of first appearance."""
    return tuple(dict.fromkeys(_VARIABLE.findall(content)))


def get_stable_token(access: WechatAccess, force_refresh: bool = False) -> str:
    """An access token from `stable_token` (the call that does not invalidate other users')."""
    body = {
        "grant_type": "client_credential",
        "appid": access.app_id,
        "secret": access.app_secret,
        "force_refresh": bool(force_refresh),
    }
    answer = _call_with_busy_retry(access, "POST", "stable_token", json_body=body)
    token = answer.get("access_token")
    if not isinstance(token, str) or not token:
        raise to_error("wechat", "BAD-RESPONSE", "stable_token answered without access_token")
    return token


def verify(access: WechatAccess) -> None:
    """Check that a token is obtainable: AppID, AppSecret and IP whitelist are all fine."""
    get_stable_token(access)


def list_templates(access: WechatAccess) -> list[WechatTemplate]:
    """The account's approved (private) message templates."""
    answer = _call_with_token(access, "GET", "template/get_all_private_template")
    listing = Answer(answer, "WeChat get_all_private_template", MALFORMED)
    return [_template(entry) for entry in listing.objects("template_list")]


def send_template(
    access: WechatAccess,
    openid: str,
    template_id: str,
    data: dict[str, str],
    url: str | None = None,
    miniprogram: tuple[str, str] | None = None,
    client_msg_id: str | None = None,
) -> SendResult:
    """Push a template message to a follower; returns WeChat's msgid."""
    body: dict[str, Any] = {
        "touser": openid,
        "template_id": template_id,
        "data": {name: {"value": str(value)} for name, value in data.items()},
    }
    if url:
        body["url"] = url
    if miniprogram:
        appid, pagepath = miniprogram
        body["miniprogram"] = {"appid": appid, "pagepath": pagepath}
    if client_msg_id:
        body["client_msg_id"] = client_msg_id
    answer = _call_with_token(access, "POST", "message/template/send", json_body=body, is_send=True)
    return SendResult(msgid=_msgid(answer), rid=_rid(answer.get("errmsg")))


class WechatApi:
    """The WeChat adapter (interfaces.WechatAdapter) of one official account."""

    def __init__(self, access: WechatAccess) -> None:
        self._access = access

    def __repr__(self) -> str:
        return f"WechatApi({self._access!r})"

    def check_credentials(self) -> None:
        verify(self._access)

    def list_templates(self) -> list[WechatTemplate]:
        return list_templates(self._access)

    def send(
        self,
        openid: str,
        template_id: str,
        data: dict[str, str],
        *,
        url: str | None = None,
        miniprogram: tuple[str, str] | None = None,
        client_msg_id: str | None = None,
    ) -> SendResult:
        return send_template(
            self._access,
            openid,
            template_id,
            data,
            url=url,
            miniprogram=miniprogram,
            client_msg_id=client_msg_id,
        )


# -- calls ------------------------------------------------------------------------------------


class _WechatAnswerError(Exception):
    """A non-zero errcode, before it is translated (lets the retry logic see the code)."""

    def __init__(self, answer: dict[str, Any]) -> None:
        super().__init__(answer.get("errcode"))
        self.answer = answer
        self.errcode = answer.get("errcode")


def _call_with_token(
    access: WechatAccess,
    method: str,
    path: str,
    *,
    json_body: dict[str, Any] | None = None,
    is_send: bool = False,
) -> dict[str, Any]:
    token = get_stable_token(access)
    try:
        return _call_with_busy_retry(
            access, method, path, token=token, json_body=json_body, is_send=is_send, raw=True
        )
    except _WechatAnswerError as first:
        if first.errcode not in TOKEN_INVALID_CODES:
            raise _translate(first.answer) from None
    # The token was rejected: drop it, fetch the current one, retry exactly once.
    token = get_stable_token(access)
    return _call_with_busy_retry(
        access, method, path, token=token, json_body=json_body, is_send=is_send
    )


def _call_with_busy_retry(
    access: WechatAccess,
    method: str,
    path: str,
    *,
    token: str | None = None,
    json_body: dict[str, Any] | None = None,
    is_send: bool = False,
    raw: bool = False,
) -> dict[str, Any]:
    """One API call, retried on -1 after each pause of BUSY_BACKOFF_SECONDS.

    With raw=True, an errcode other than -1 is raised as _WechatAnswerError (for the caller to
    decide); otherwise it is raised as the SmsctlError the catalog gives.
    """
    pauses = list(BUSY_BACKOFF_SECONDS)
    while True:
        answer = _request(access, method, path, token=token, json_body=json_body, is_send=is_send)
        errcode = _errcode(answer, path, is_send)
        if errcode in (0, None):
            return answer
        if errcode == BUSY_CODE and pauses:
            time.sleep(pauses.pop(0))
            continue
        if raw:
            raise _WechatAnswerError(answer)
        raise _translate(answer)


def _request(
    access: WechatAccess,
    method: str,
    path: str,
    *,
    token: str | None,
    json_body: dict[str, Any] | None,
    is_send: bool,
) -> dict[str, Any]:
    import json
    from urllib.parse import urlencode

    import requests

    url = f"{_base_url(access)}/cgi-bin/{path}"
    if token:
        url += "?" + urlencode({"access_token": token})
    data = None
    headers = {"Accept": "application/json"}
    if json_body is not None:
        data = json.dumps(json_body, ensure_ascii=False).encode("utf-8")
        headers["Content-Type"] = "application/json; charset=utf-8"
    try:
        response = transport.exchange(
            method,
            url,
            headers=headers,
            body=data,
            limits=access.limits(),
            allow_insecure=access.allow_insecure_endpoint,
        )
    except transport.TransportLimitError as limit:
        raise _limit_error(limit, access, path, is_send) from None
    except requests.exceptions.ConnectTimeout:
        raise _network_error(
            "TIMEOUT", access, f"no connection within {access.timeout:g} s"
        ) from None
    except requests.exceptions.Timeout:
        code = "TIMEOUT-AFTER-SEND" if is_send else "TIMEOUT"
        raise _network_error(code, access, f"no answer within {access.timeout:g} s") from None
    except requests.exceptions.RequestException as exc:
        raise _network_error("NETWORK", access, _reason(exc)) from None
    answer = _parse(response, path)
    if isinstance(answer.get("errmsg"), str):
        answer["errmsg"] = _scrub(answer["errmsg"], access, token)
    return answer


def _limit_error(
    limit: transport.TransportLimitError, access: WechatAccess, path: str, is_send: bool
) -> SmsctlError:
    """A rule of the HTTP exchange ended the call (providers.transport)."""
    if limit.kind == "insecure":  # WechatAccess refuses such an endpoint first
        return ConfigError(
            f"{limit.message} The request was not sent.",
            hint="Use an https:// endpoint.",
            code="insecure_endpoint",
        )
    if limit.kind == "redirect":
        code = "REDIRECT"
    elif is_send and limit.kind in ("deadline", "too_large"):
        code = "TIMEOUT-AFTER-SEND"  # the send went out; its answer did not come back whole
    elif limit.kind == "deadline":
        code = "TIMEOUT"
    else:
        code = "BAD-RESPONSE"
    error = to_error("wechat", code, f"cgi-bin/{path}: {limit.message} ({_base_url(access)})")
    error.details.update(failure=limit.kind, **limit.details)
    return error


def _scrub(text: str, access: WechatAccess, token: str | None) -> str:
    for secret in (access.app_secret, token):
        if secret:
            text = text.replace(secret, "***")
    return text


def _base_url(access: WechatAccess) -> str:
    return access.endpoint  # checked and normalized when the WechatAccess was made


def _parse(response: transport.Answer, path: str) -> dict[str, Any]:
    import json

    if response.status != 200:
        raise to_error(
            "wechat",
            "HTTP-ERROR",
            f"HTTP {response.status} {response.reason or ''} from cgi-bin/{path}".strip(),
            details={"http_status": response.status},
        )
    try:
        answer = json.loads(response.body)
    except (ValueError, RecursionError):
        answer = None
    if not isinstance(answer, dict):
        content_type = response.headers.get("content-type", "unknown")
        raise to_error(
            "wechat", "BAD-RESPONSE", f"cgi-bin/{path} answered {content_type}, not a JSON object"
        )
    return answer


def _network_error(code: str, access: WechatAccess, reason: str) -> SmsctlError:
    return to_error(
        "wechat", code, f"{reason} ({_base_url(access)})", details={"check": "endpoint"}
    )


def _reason(exc: BaseException) -> str:
    """A short cause for a requests failure, without the URL (it may carry the access token)."""
    text = str(exc)
    for marker in ("Connection refused", "Name or service not known", "No route to host",
                   "Temporary failure in name resolution", "Connection reset", "certificate",
                   "Network is unreachable", "Remote end closed connection"):  # fmt: skip
        if marker.lower() in text.lower():
            return marker
    return type(exc).__name__


# -- answers ----------------------------------------------------------------------------------


def _errcode(answer: dict[str, Any], path: str, is_send: bool) -> int | None:
    """errcode (absent on success) is an integer and errmsg a string; anything else is a
    malformed answer, never read as a success or as a made-up error code."""
    checked = Answer(answer, f"WeChat {path.rsplit('/', 1)[-1]}", MALFORMED, is_send)
    checked.text("errmsg")
    return checked.integer("errcode")


def _msgid(answer: dict[str, Any]) -> str:
    """The id WeChat gives the pushed message (an integer, or its digits as a string), as a
    string: ids above 2**53 would be rounded by JSON readers."""
    checked = Answer(answer, "WeChat template send", MALFORMED, is_send=True)
    msgid = answer.get("msgid")
    if isinstance(msgid, str) and msgid.strip().isdigit():
        return msgid.strip()
    if checked.integer("msgid") is None:
        raise checked.malformed("msgid", msgid, "the message id (an integer)")
    return str(msgid)


def _template(entry: Answer) -> WechatTemplate:
    content = entry.text("content") or ""
    return WechatTemplate(
        template_id=entry.text("template_id", required=True) or "",
        title=entry.text("title") or "",
        content=content,
        example=entry.text("example") or "",
        variables=template_variables(content),
    )


def _rid(errmsg: Any) -> str | None:
    match = _RID.search(errmsg) if isinstance(errmsg, str) else None
    return match.group(1) if match else None


def _translate(answer: dict[str, Any]) -> SmsctlError:
    errcode = str(answer.get("errcode"))
    errmsg = str(answer.get("errmsg", ""))
    request_id = _rid(errmsg)
    error = to_error("wechat", errcode, errmsg, request_id=request_id, default_exit=5)
    if errcode == "40164":
        ip_match = _IP.search(errmsg)
        if ip_match:
            ip = ip_match.group(1)
            error.message = f"This machine's IP {ip} is not in the account's IP whitelist (40164)"
            error.details["ip"] = ip
    elif errcode == "47003":
        field_match = _FIELD.search(errmsg)
        if field_match:
            name = field_match.group(1)
            error.message = f"Template data invalid for field {name!r} (47003): {errmsg}"
            error.details["field"] = name
    return error
