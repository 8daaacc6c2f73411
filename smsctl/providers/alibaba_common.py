"""What the Alibaba Cloud SMS and voice adapters share: credentials, client config, error
translation and the safe-retry policy (docs/contract.md §7).

The SDKs are imported inside functions only (architecture.md). Every failure leaves this module
as an SmsctlError built from safe fields (code, message, request id, status) and never chained to
the SDK exception: ``UnretryableException.last_request`` carries the signed request headers.
"""

from __future__ import annotations

import contextvars
import logging
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from smsctl.core.catalog import to_error
from smsctl.core.catalog.alibaba import flow_control_sentence, flow_control_window
from smsctl.core.debug import debug
from smsctl.core.endpoints import endpoint_in_use
from smsctl.core.errors import ConfigError, ProviderUnavailable, SmsctlError
from smsctl.providers import transport
from smsctl.providers.answers import Answer

T = TypeVar("T")

SMS_ENDPOINT = "dysmsapi.aliyuncs.com"
VOICE_ENDPOINT = "dyvmsapi.aliyuncs.com"
DEFAULT_REGION = "cn-hangzhou"

# smsctl's own codes for failures that carry no provider code.
NEVER_CONNECTED = "ConnectionFailed"
RESPONSE_LOST = "ResponseLost"
TLS_FAILED = "TLSError"
BAD_RESPONSE = "BadResponse"
MALFORMED = "MalformedResponse"  # JSON, but not of the shape the API documents
REDIRECTED = "Redirected"


@dataclass(frozen=True)
class AlibabaAccess:
    """Everything needed to call dysmsapi/dyvmsapi for one account. Timeouts in seconds."""

    access_key_id: str
    access_key_secret: str = field(repr=False)
    endpoint: str | None = None
    region: str | None = None
    connect_timeout: float = 5.0
    read_timeout: float = 10.0
    allow_insecure_endpoint: bool = False
    deadline: float = transport.DEFAULT_DEADLINE  # the most one HTTP exchange may take in all
    # An STS token: from the `sts` mode, or the session a role mode obtained.
    security_token: str | None = field(default=None, repr=False)
    credential: str = "access-key"  # the account's credential mode
    expires_at: datetime | None = None  # when temporary credentials end, when known

    def __repr__(self) -> str:
        return (
            f"AlibabaAccess(access_key_id={mask_key_id(self.access_key_id)!r}, "
            f"credential={self.credential!r}, "
            f"endpoint={self.endpoint!r}, region={self.region!r}, "
            f"connect_timeout={self.connect_timeout}, read_timeout={self.read_timeout}, "
            f"deadline={self.deadline})"
        )

    def limits(self) -> transport.Limits:
        return transport.Limits(
            connect_timeout=self.connect_timeout,
            read_timeout=self.read_timeout,
            deadline=self.deadline,
        )

    __str__ = __repr__


def mask_key_id(key_id: str) -> str:
    if len(key_id) <= 8:
        return "****"
    return f"{key_id[:4]}****{key_id[-4:]}"


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded retries for the two safe cases: never connected, throttled with retry-after."""

    max_attempts: int = 3
    base_delay: float = 0.5
    max_wait: float = 10.0


@dataclass(frozen=True)
class Endpoint:
    host: str  # "host" or "host:port", as the SDK wants it
    protocol: str  # "https" | "http"


def parse_endpoint(
    endpoint: str | None, default_host: str, *, allow_insecure: bool = False
) -> Endpoint:
    """Accept "host", "host:port", "https://host[:port]" and "http://127.0.0.1:port", under the
    endpoint policy (core.endpoints: plain http only for loopback unless allowed).

    The SDK signs the Host header exactly as given, so the scheme is split off here and passed
    as Config.protocol instead.
    """
    checked = endpoint_in_use(endpoint, default_host, allow_insecure=allow_insecure)
    return Endpoint(checked.netloc, checked.scheme)


def build_config(access: AlibabaAccess, default_host: str) -> Any:
    """A tea-openapi Config for this account (timeouts converted to milliseconds)."""
    from alibabacloud_tea_openapi.utils_models import Config

    endpoint = parse_endpoint(
        access.endpoint, default_host, allow_insecure=access.allow_insecure_endpoint
    )
    return Config(
        access_key_id=access.access_key_id,
        access_key_secret=access.access_key_secret,
        security_token=access.security_token,
        endpoint=endpoint.host,
        protocol=endpoint.protocol,
        region_id=access.region or DEFAULT_REGION,
        connect_timeout=seconds_to_ms(access.connect_timeout),
        read_timeout=seconds_to_ms(access.read_timeout),
    )


def seconds_to_ms(seconds: float) -> int:
    return max(1, int(round(seconds * 1000)))


# --- error translation -------------------------------------------------------------------------


def error_from_body(body: dict[str, Any], *, action: str) -> SmsctlError:
    """An HTTP-200 answer whose Code is not OK (business errors arrive this way)."""
    code = _clean(body.get("Code"))
    return _provider_error(
        code, _clean(body.get("Message")), _clean(body.get("RequestId")), action=action
    )


def translate(exc: BaseException, *, action: str, is_send: bool = False) -> SmsctlError:
    """Turn any failure of an SDK call into an SmsctlError (never chained to ``exc``)."""
    if isinstance(exc, SmsctlError):
        return exc
    if isinstance(exc, transport.TransportLimitError):
        return _from_transport_limit(exc, action=action, is_send=is_send)
    from alibabacloud_tea_openapi.exceptions import AlibabaCloudException, ThrottlingException
    from darabonba.exceptions import ResponseException, UnretryableException

    if isinstance(exc, (AlibabaCloudException, ResponseException)):
        malformed = _malformed_error_answer(exc, action=action, is_send=is_send)
        if malformed is not None:
            return malformed
        return _from_response_exception(exc, action=action, throttled=_is(exc, ThrottlingException))
    if isinstance(exc, UnretryableException):
        return _from_transport_failure(exc.inner_exception, action=action, is_send=is_send)
    if isinstance(exc, (OSError, ValueError, RuntimeError)):
        return _from_transport_failure(exc, action=action, is_send=is_send)
    return ProviderUnavailable(
        f"Alibaba Cloud {action} failed unexpectedly ({type(exc).__name__}).",
        hint="Retry; run with -v and report it if it persists.",
        code=None,
        details={"action": action, "exception": type(exc).__name__},
    )


def _is(exc: BaseException, cls: type) -> bool:
    return isinstance(exc, cls)


def _malformed_error_answer(exc: Any, *, action: str, is_send: bool) -> SmsctlError | None:
    """An error answer whose Code, Message or RequestId is not a string is not trusted as the
    provider's refusal: it is a malformed answer (exit 7)."""
    data = getattr(exc, "data", None)
    if not isinstance(data, dict):
        return None
    answer = Answer(data, f"Alibaba Cloud {action}", MALFORMED, is_send)
    try:
        for key in ("Code", "Message", "RequestId"):
            answer.text(key)
    except SmsctlError as error:
        return error
    return None


def _from_response_exception(exc: Any, *, action: str, throttled: bool) -> SmsctlError:
    data = exc.data if isinstance(getattr(exc, "data", None), dict) else {}
    code = _clean(getattr(exc, "code", None)) or _clean(data.get("Code"))
    # exc.message is "code: <status>, <Message> request id: <id>"; the body's Message is cleaner.
    message = _clean(data.get("Message")) or _clean(getattr(exc, "message", None))
    if message and "server string to sign is:" in message:
        # Debug aid of the gateway; the hash is no secret, but it buries the useful sentence.
        message = message.split("server string to sign is:")[0].strip()
    request_id = _clean(getattr(exc, "request_id", None)) or _clean(data.get("RequestId"))
    status = getattr(exc, "status_code", None)
    retry_after_ms = getattr(exc, "retry_after", None) if throttled else None
    extra: dict[str, Any] = {"status_code": status}
    if retry_after_ms:
        extra["retry_after_seconds"] = round(retry_after_ms / 1000, 3)
    default_exit = 7 if isinstance(status, int) and status >= 500 else 5
    if throttled:
        default_exit = 6
    error = _provider_error(
        code, message, request_id, action=action, default_exit=default_exit, extra=extra
    )
    if retry_after_ms:
        error.hint = (
            f"Alibaba Cloud asks to retry after {retry_after_ms / 1000:g} s. {error.hint or ''}"
        ).strip()
    return error


def _provider_error(
    code: str | None,
    message: str | None,
    request_id: str | None,
    *,
    action: str,
    default_exit: int = 5,
    extra: dict[str, Any] | None = None,
) -> SmsctlError:
    details = {"action": action, **(extra or {})}
    if code == "isv.BUSINESS_LIMIT_CONTROL":
        window, permits = flow_control_window(message)
        details.update(limit_window=window, limit_permits=permits)
    error = to_error(
        "alibaba",
        code,
        message,
        request_id=request_id,
        default_exit=default_exit,
        details=details,
    )
    sentence = flow_control_sentence(message) if code == "isv.BUSINESS_LIMIT_CONTROL" else None
    if sentence:
        error.hint = f"{sentence} {error.hint or ''}".strip()
    return error


def _clean(value: Any) -> str | None:
    """The SDK formats missing fields as the string "None"."""
    if value is None:
        return None
    text = str(value).strip()
    return None if text in ("", "None") else text


def _from_transport_limit(
    limit: transport.TransportLimitError, *, action: str, is_send: bool
) -> SmsctlError:
    """A rule of the HTTP exchange (providers.transport) ended the call."""
    details = {"action": action, "failure": limit.kind, **limit.details}
    if limit.kind == "redirect":
        return ProviderUnavailable(
            f"The endpoint answered {action} with {limit.message}: nothing was resent.",
            hint="Alibaba Cloud's API never redirects: check the account's endpoint and any "
            "gateway or proxy in front of it.",
            code=REDIRECTED,
            details={**details, "check": "endpoint"},
        )
    if limit.kind == "insecure":  # build_config refuses such an endpoint first
        return ConfigError(
            f"{limit.message} The request was not sent.",
            hint="Use an https:// endpoint.",
            code="insecure_endpoint",
            details={**details, "check": "endpoint"},
        )
    if is_send:
        return ProviderUnavailable(
            f"The answer to {action} was lost ({limit.message}) after the request was sent: the "
            "message MAY have been delivered. smsctl did not retry it, to avoid a duplicate.",
            hint="Look the OutId up in the {records}, or {later}.",
            code=RESPONSE_LOST,
            details={**details, "maybe_sent": True},
        )
    if limit.kind == "deadline":
        return ProviderUnavailable(
            f"Alibaba Cloud gave {action} {limit.message}.",
            hint="Retry; a slow network needs a longer [defaults] deadline (and timeout).",
            code=RESPONSE_LOST,
            details=details,
        )
    return ProviderUnavailable(
        f"The endpoint's answer to {action} is not an API response: {limit.message}.",
        hint="Check the account's endpoint and any proxy.",
        code=BAD_RESPONSE,
        details={**details, "check": "endpoint"},
    )


def _from_transport_failure(
    inner: BaseException | None, *, action: str, is_send: bool
) -> SmsctlError:
    for exc in _exception_chain(inner):
        if isinstance(exc, transport.TransportLimitError):
            return _from_transport_limit(exc, action=action, is_send=is_send)
    kind = classify_transport_failure(inner)
    details = {"action": action, "failure": kind}
    if kind == "never_connected":
        return ProviderUnavailable(
            f"Could not connect to Alibaba Cloud ({_connect_reason(inner)}); "
            "the request was not sent.",
            hint="Check the network, DNS, proxy settings and the account's endpoint, then retry.",
            code=NEVER_CONNECTED,
            details={**details, "check": "endpoint"},
        )
    if kind == "tls":
        return ProviderUnavailable(
            "The TLS connection to Alibaba Cloud failed: the certificate could not be verified "
            "or the endpoint does not speak HTTPS.",
            hint="Check the endpoint's scheme and host (sandbox endpoints are "
            "http://127.0.0.1:PORT) and any TLS-intercepting proxy; smsctl never skips "
            "certificate verification.",
            code=TLS_FAILED,
            details=details,
        )
    if kind == "bad_response":
        return ProviderUnavailable(
            "Alibaba Cloud answered with something that is not an API response (not JSON, e.g. an "
            "HTML error page from a gateway or proxy).",
            hint="Retry in a moment; if it persists, check the endpoint and proxy settings.",
            code=BAD_RESPONSE,
            details=details,
        )
    if is_send:
        return ProviderUnavailable(
            f"The response to {action} was lost (timeout or connection dropped after the request "
            "was sent): the message MAY have been delivered. smsctl did not retry it, to avoid a "
            "duplicate.",
            hint="Look the OutId up in the {records}, or {later}.",
            code=RESPONSE_LOST,
            details={**details, "maybe_sent": True},
        )
    return ProviderUnavailable(
        f"Alibaba Cloud did not answer {action} in time (or dropped the connection).",
        hint="Retry; raise the read timeout in [defaults] timeout if the network is slow.",
        code=RESPONSE_LOST,
        details=details,
    )


def classify_transport_failure(inner: BaseException | None) -> str:
    """never_connected | tls | bad_response | response_lost.

    darabonba wraps requests' IOError in a RetryError carrying only a message; the original
    exception survives as its ``__context__``.
    """
    import requests

    chain = _exception_chain(inner)
    for exc in chain:
        if isinstance(exc, requests.exceptions.SSLError):
            return "tls"
        if isinstance(
            exc,
            (
                requests.exceptions.ProxyError,
                requests.exceptions.InvalidProxyURL,
                requests.exceptions.InvalidSchema,
            ),
        ):
            return "never_connected"  # the proxy refused or failed: the request never left
        if isinstance(exc, requests.exceptions.ConnectTimeout):
            return "never_connected"
        if isinstance(exc, requests.exceptions.ReadTimeout):
            return "response_lost"
        if isinstance(exc, requests.exceptions.ConnectionError):
            return "never_connected" if _never_opened(exc) else "response_lost"
        if isinstance(exc, ValueError) or "parse the value as json" in str(exc):
            return "bad_response"
        if isinstance(exc, ConnectionRefusedError):
            return "never_connected"
    return "response_lost"


def _never_opened(exc: BaseException) -> bool:
    """requests.ConnectionError covers both refused/DNS (safe) and a dropped response (not)."""
    import urllib3.exceptions as u3

    for cause in _exception_chain(exc):
        reason = getattr(cause, "reason", None)
        for candidate in (cause, reason):
            if isinstance(candidate, (u3.NewConnectionError, u3.ConnectTimeoutError)):
                return True
            if isinstance(candidate, ConnectionRefusedError):
                return True
    for arg in getattr(exc, "args", ()):
        if isinstance(arg, u3.MaxRetryError) and isinstance(
            arg.reason, (u3.NewConnectionError, u3.ConnectTimeoutError)
        ):
            return True
    return False


def _connect_reason(inner: BaseException | None) -> str:
    import requests
    import urllib3.exceptions as u3

    for exc in _exception_chain(inner):
        if isinstance(
            exc,
            (
                requests.exceptions.ProxyError,
                requests.exceptions.InvalidProxyURL,
                requests.exceptions.InvalidSchema,
            ),
        ):
            return "the proxy named by HTTPS_PROXY / ALL_PROXY refused or failed"
        for candidate in (exc, getattr(exc, "reason", None), *getattr(exc, "args", ())):
            reason = getattr(candidate, "reason", candidate)
            # Most specific first: NameResolutionError < NewConnectionError < ConnectTimeoutError.
            if isinstance(reason, u3.NameResolutionError):
                return "the host name could not be resolved"
            if isinstance(reason, u3.NewConnectionError):
                text = str(reason).lower()
                return "connection refused" if "refused" in text else "no connection"
            if isinstance(reason, u3.ConnectTimeoutError):
                return "connect timed out"
    return "connection failed"


def _exception_chain(exc: BaseException | None) -> list[BaseException]:
    chain: list[BaseException] = []
    while exc is not None and exc not in chain:
        chain.append(exc)
        exc = exc.__cause__ or exc.__context__
    return chain


# --- calling with the safe-retry policy --------------------------------------------------------


def call(
    fn: Callable[[], T],
    *,
    action: str,
    is_send: bool = False,
    retry: RetryPolicy | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[T, int]:
    """Run ``fn`` (one SDK call); returns (result, attempts) or raises an SmsctlError.

    Retries only when the connection never opened, or on throttling with a retry-after (honoured,
    capped at ``retry.max_wait``). A lost response is never retried: a send may have gone out.
    """
    policy = retry or RetryPolicy()
    attempt = 0
    while True:
        attempt += 1
        debug(f"Alibaba Cloud {action}: attempt {attempt}")
        error = _attempt(fn, action=action, is_send=is_send)
        if not isinstance(error, SmsctlError):
            return error, attempt
        debug(f"Alibaba Cloud {action}: {error.code or type(error).__name__}")
        wait = retry_delay(error, attempt, policy)
        if wait is None or attempt >= policy.max_attempts:
            error.details["attempts"] = attempt
            raise error
        sleep(wait)


def _attempt(fn: Callable[[], T], *, action: str, is_send: bool) -> T | SmsctlError:
    # The error is built and returned outside the except block so that it carries no
    # __context__ pointing at the SDK exception (whose last_request holds signed headers).
    try:
        return fn()
    except Exception as exc:  # noqa: BLE001 - every SDK failure is translated
        failure = exc
    error = translate(failure, action=action, is_send=is_send)
    del failure
    return error


def retry_delay(error: SmsctlError, attempt: int, policy: RetryPolicy) -> float | None:
    """Seconds to wait before the next attempt, or None when a retry is not safe."""
    if error.code == NEVER_CONNECTED:
        return min(policy.base_delay * (2 ** (attempt - 1)), policy.max_wait)
    retry_after = error.details.get("retry_after_seconds")
    if error.exit_code == 6 and retry_after:
        if retry_after > policy.max_wait:
            return None  # longer than an interactive command should block: report it instead
        return float(retry_after)
    return None


# --- the SDK's own debug logging ---------------------------------------------------------------

SDK_LOGGER = "darabonba-core"


class _RedactingFilter(logging.Filter):
    """Rewrites each darabonba debug record through smsctl's redaction before it is printed."""

    def filter(self, record: logging.LogRecord) -> bool:
        from smsctl.core.redaction import redact
        from smsctl.core.terminal_text import visible

        text = visible(redact(record.getMessage()), multiline=True)
        record.msg = re.sub(r"(AccessKeyId=)[^&\s]+", r"\1****", text)
        record.args = ()
        return True


def redact_sdk_debug_logging() -> None:
    """With DEBUG=sdk in the environment, darabonba prints every request's headers to stderr,
    bypassing smsctl's output: the Authorization header carries the full AccessKey ID and the
    request signature (found by tests/reliability/test_no_leaks.py). Keep the debug aid, but
    redacted like everything else smsctl prints."""
    logger = logging.getLogger(SDK_LOGGER)
    if not any(isinstance(f, _RedactingFilter) for f in logger.filters):
        logger.addFilter(_RedactingFilter())


# --- the SDK's HTTP transport ------------------------------------------------------------------

# The limits of the SDK call running in this context; None outside smsctl's calls.
_EXCHANGE_LIMITS: contextvars.ContextVar[tuple[transport.Limits, bool] | None] = (
    contextvars.ContextVar("smsctl_alibaba_exchange", default=None)
)


def use_smsctl_transport() -> None:
    """Route the SDK's HTTP exchanges made by smsctl's adapters through providers.transport.

    darabonba sends every request through ``DaraCore.do_action`` with a requests Session that
    follows redirects (a 307/308 re-sends the signed request to wherever it points), takes
    HTTP_PROXY/HTTPS_PROXY from the environment even for a loopback endpoint (and ignores
    NO_PROXY), reads the whole body into memory, and bounds only each socket read. It offers no
    option or hook for any of these (Config/RuntimeOptions carry proxies but cannot remove an
    environment one), so ``do_action`` is replaced, once, by a function that hands the calls
    made inside ``AlibabaAdapter._invoke`` to smsctl's transport and leaves every other caller
    on the original.
    """
    from darabonba.core import DaraCore

    if getattr(DaraCore.do_action, "smsctl_transport", False):
        return
    original = DaraCore.do_action

    def do_action(request: Any, runtime_option: Any = None) -> Any:
        current = _EXCHANGE_LIMITS.get()
        if current is None:
            return original(request, runtime_option)
        return _sdk_exchange(request, runtime_option or {}, *current)

    do_action.smsctl_transport = True  # type: ignore[attr-defined]
    DaraCore.do_action = staticmethod(do_action)


def _sdk_exchange(
    request: Any, runtime_option: dict[str, Any], limits: transport.Limits, allow_insecure: bool
) -> Any:
    """What ``DaraCore.do_action`` does (the URL the SDK composes, its headers and body), over
    providers.transport; returns the SDK's DaraResponse."""
    from darabonba.core import DaraCore
    from darabonba.response import DaraResponse

    url = DaraCore.compose_url(request)
    body = request.body.encode("utf-8") if isinstance(request.body, str) else request.body
    method = request.method.upper()
    answer = transport.exchange(
        method,
        url,
        headers=dict(request.headers),
        body=body,
        limits=limits,
        allow_insecure=allow_insecure,
    )
    if (runtime_option.get("debug") or os.environ.get("DEBUG") or "").lower() == "sdk":
        _log_exchange(method, url, request.headers, answer)
    response = DaraResponse()
    response.status_code = answer.status
    response.status_message = answer.reason
    response.headers = answer.headers
    response.body = answer.body
    return response


def _log_exchange(method: str, url: str, headers: dict[str, str], answer: Any) -> None:
    """The SDK's DEBUG=sdk trace (request line and headers, status and headers), on the SDK's
    logger so that its redacting filter applies."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    logger = logging.getLogger(SDK_LOGGER)
    sent = "".join(f"\n> {key} : {value}" for key, value in headers.items())
    logger.debug(f"\n> {method} {parts.path + parts.query} HTTP/1.1{sent}")
    got = "".join(f"\n< {key} : {value}" for key, value in answer.headers.items())
    logger.debug(f"\n< HTTP/1.1 {answer.status} {answer.reason.upper()}{got}")


# --- shared adapter base -----------------------------------------------------------------------


class AlibabaAdapter:
    """One lazily built SDK client per adapter; every call goes through ``invoke``."""

    default_host = SMS_ENDPOINT
    records = "SMS console's send records"  # where the console lists what was sent
    later = "wait for its receipt"  # what else shows whether a lost send went out

    def __init__(
        self,
        access: AlibabaAccess,
        *,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._access = access
        self._retry = retry or RetryPolicy()
        self._sleep = sleep
        self._sdk_client: Any = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._access!r})"

    @staticmethod
    def _client_class() -> Any:  # pragma: no cover - overridden
        raise NotImplementedError

    @staticmethod
    def _models() -> Any:  # pragma: no cover - overridden
        raise NotImplementedError

    @classmethod
    def preload(cls) -> None:
        """Import this product's SDK now (the provider worker does it ahead of the first call)."""
        from alibabacloud_tea_openapi.utils_models import Config  # noqa: F401

        transport.preload()
        cls._client_class()
        cls._models()

    def _client(self) -> Any:
        if self._sdk_client is None:
            redact_sdk_debug_logging()
            use_smsctl_transport()
            config = build_config(self._access, self.default_host)
            self._sdk_client = self._client_class()(config)
        return self._sdk_client

    @classmethod
    def localize(cls, error: SmsctlError) -> SmsctlError:
        """Name this product's console and its later evidence in what the adapter says
        (`{records}`, `{later}`)."""
        values = {"{records}": cls.records, "{later}": cls.later}

        def fill(text: Any) -> Any:
            if isinstance(text, str):
                for placeholder, value in values.items():
                    text = text.replace(placeholder, value)
            return text

        error.message, error.hint = fill(error.message), fill(error.hint)
        error.details = {key: fill(value) for key, value in error.details.items()}
        return error

    def invoke(
        self, method: str, request: Any, *, action: str, is_send: bool = False
    ) -> tuple[dict[str, Any], int]:
        try:
            return self._invoke(method, request, action=action, is_send=is_send)
        except SmsctlError as error:
            self.localize(error)
            raise

    def _invoke(
        self, method: str, request: Any, *, action: str, is_send: bool = False
    ) -> tuple[dict[str, Any], int]:
        """Call ``client.<method>(request)``; returns (body as a wire-name dict, attempts).

        A body whose Code is not "OK" raises, like an HTTP error does.
        """
        client = self._client()
        limits = (self._access.limits(), self._access.allow_insecure_endpoint)

        def once() -> dict[str, Any]:
            token = _EXCHANGE_LIMITS.set(limits)
            try:
                return answer_body(getattr(client, method)(request), action=action, is_send=is_send)
            finally:
                _EXCHANGE_LIMITS.reset(token)

        body, attempts = call(
            once, action=action, is_send=is_send, retry=self._retry, sleep=self._sleep
        )
        envelope = Answer(body, f"Alibaba Cloud {action}", MALFORMED, is_send)
        envelope.text("Code", required=True)
        envelope.text("RequestId")
        envelope.text("Message")
        if _clean(body.get("Code")) != "OK":
            error = error_from_body(body, action=action)
            error.details["attempts"] = attempts
            raise error
        return body, attempts


def answer_body(response: Any, *, action: str, is_send: bool) -> dict[str, Any]:
    """The JSON body of an SDK response. The SDK swallows its own failure to read an answer of
    the wrong shape (an object where a list is due, a list where the body is) and leaves the
    raw answer: that is a malformed answer, not a bug of smsctl."""
    if response.body is not None:
        return response.body.to_map()
    raw = response.to_map().get("body")
    answer = Answer(raw, f"Alibaba Cloud {action}", MALFORMED, is_send, "the body")
    raise answer.malformed(
        "the body", raw, f"a {action} answer (a nested field has the wrong type)"
    )


def provider_number(phone: str) -> str:
    """The number as Alibaba Cloud expects it: mainland as 11 digits, others as country code +
    number, both without "+" (e.g. +8613800138000 -> 13800138000, +85261234567 -> 85261234567)."""
    digits = "".join(ch for ch in phone if ch.isdigit())
    if phone.strip().startswith("+"):
        if digits.startswith("86") and len(digits) == 13:
            return digits[2:]
        return digits
    return digits
