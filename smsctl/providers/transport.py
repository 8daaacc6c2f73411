"""The one HTTP exchange every HTTP provider adapter uses (Alibaba Cloud through its SDK, WeChat
directly): a request and its whole answer, under four rules a hostile or broken server cannot
bend.

- **No redirects.** A 3xx answer is a failure that names where it pointed; the request (signed,
  or carrying the AppSecret) is never repeated to another address.
- **No proxy for loopback.** An endpoint on this machine (the sandbox) is always called
  directly; any other endpoint honours HTTPS_PROXY / HTTP_PROXY / ALL_PROXY / NO_PROXY (upper or
  lower case) like other tools do. No other environment setting (.netrc credentials) is used.
- **A deadline.** Besides the connect and read timeouts (which bound each socket operation),
  the whole exchange ends when its deadline passes, however slowly a server trickles its
  headers or body: a watchdog shuts the exchange's sockets down.
- **A size cap.** At most MAX_ANSWER_BYTES of answer are read, counted after decompression, so
  neither a huge body nor a compression bomb can exhaust memory.

requests and urllib3 are imported inside functions (architecture.md); the classes that extend
them are built on first use.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

from smsctl.core.endpoints import is_loopback

MAX_ANSWER_BYTES = 4 * 1024 * 1024
DEFAULT_DEADLINE = 30.0
_CHUNK = 64 * 1024


class Timer(Protocol):
    def start(self) -> None: ...
    def cancel(self) -> None: ...


def _thread_timer(seconds: float, fire: Callable[[], None]) -> Timer:
    timer = threading.Timer(seconds, fire)
    timer.daemon = True
    return timer


# Makes the deadline's watchdog: calls `fire` once `seconds` have passed unless cancelled.
# Tests replace it with one that fires when they say so.
make_timer: Callable[[float, Callable[[], None]], Timer] = _thread_timer

# Called as each exchange begins: the provider worker (providers.worker) tells smsctl through it
# that the call it was handed is still making progress.
on_exchange: Callable[[], None] | None = None


@dataclass(frozen=True)
class Limits:
    """The bounds of one exchange, in seconds and bytes."""

    connect_timeout: float = 5.0
    read_timeout: float = 10.0
    deadline: float = DEFAULT_DEADLINE
    max_bytes: int = MAX_ANSWER_BYTES

    @property
    def effective_deadline(self) -> float:
        """Never shorter than the read timeout: a longer --timeout raises it to match."""
        return max(self.deadline, self.read_timeout)


@dataclass(frozen=True)
class Answer:
    status: int
    reason: str
    headers: dict[str, str]  # names in lower case
    body: bytes


class TransportLimitError(Exception):
    """A rule of this module ended the exchange; `kind` is redirect | too_large | deadline |
    insecure. The message is safe to show (no query string, no credentials)."""

    kind = "transport"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class Redirected(TransportLimitError):
    kind = "redirect"


class AnswerTooLarge(TransportLimitError):
    kind = "too_large"


class DeadlinePassed(TransportLimitError):
    kind = "deadline"


class InsecureEndpoint(TransportLimitError):
    kind = "insecure"


def exchange(
    method: str,
    url: str,
    *,
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
    limits: Limits | None = None,
    allow_insecure: bool = False,
) -> Answer:
    """Send one request and read its whole answer under the rules above. Connection failures
    raise requests' own exceptions (the adapters classify them); the rules raise a
    TransportLimitError."""
    if on_exchange is not None:
        on_exchange()
    limits = limits or Limits()
    parts = urlsplit(url)
    host = parts.hostname or ""
    loopback = is_loopback(host)
    if parts.scheme != "https" and not loopback and not allow_insecure:
        raise InsecureEndpoint(
            f"Refusing plain http:// to {host}: the request would cross the network unencrypted."
        )
    session = _session(parts.scheme, loopback)
    proxies = {} if loopback else _environment_proxies(url)
    watch = _Watch(limits.effective_deadline, make_timer)
    _current.watch = watch
    response = None
    try:
        watch.start()
        import requests

        prepared = requests.Request(method, url, headers=headers, data=body).prepare()
        response = session.send(
            prepared,
            stream=True,
            allow_redirects=False,
            proxies=proxies,
            timeout=(limits.connect_timeout, limits.read_timeout),
            verify=True,
        )
        if 300 <= response.status_code < 400:
            raise _redirected(response)
        content = _read_capped(response, limits.max_bytes)
        answer = Answer(
            response.status_code,
            response.reason or "",
            {name.lower(): value for name, value in response.headers.items()},
            content,
        )
    except TransportLimitError:
        raise
    except Exception:
        if watch.fired:
            raise _deadline(limits) from None
        raise
    finally:
        watch.stop()
        _current.watch = None
        if response is not None:
            response.close()
    if watch.fired:
        # The watchdog may cut a body without a length short, which reads like its end.
        raise _deadline(limits)
    return answer


def _deadline(limits: Limits) -> DeadlinePassed:
    return DeadlinePassed(
        f"no complete answer within the {limits.effective_deadline:g} s deadline",
        deadline=limits.effective_deadline,
    )


def _read_capped(response: Any, cap: int) -> bytes:
    declared = response.headers.get("Content-Length", "")
    encoded = response.headers.get("Content-Encoding", "identity").strip().lower()
    if declared.isdigit() and int(declared) > cap and encoded in ("", "identity"):
        raise _too_large(cap)
    chunks: list[bytes] = []
    total = 0
    while True:
        # urllib3 (>= 2.6) inflates at most `amt` bytes per read, so a bomb never expands
        # beyond one chunk past the cap.
        chunk = response.raw.read(_CHUNK, decode_content=True)
        if not chunk:
            break
        total += len(chunk)
        if total > cap:
            raise _too_large(cap)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(cap: int) -> AnswerTooLarge:
    return AnswerTooLarge(
        f"the answer is larger than {cap // (1024 * 1024)} MiB (after decompression); smsctl "
        "stopped reading it",
        max_bytes=cap,
    )


def _redirected(response: Any) -> Redirected:
    """A 3xx is never an API answer. One with a Location is a redirect, named with where it
    pointed; one without (a 304 Not Modified, a 300 with no choice made) is named by its status."""
    status = response.status_code
    if not response.headers.get("Location"):
        reason = "".join(ch if ch.isprintable() else "?" for ch in (response.reason or ""))[:80]
        return Redirected(
            f"HTTP {status} {reason}".rstrip() + " with no Location, which is not an API answer",
            status=status,
            location=None,
        )
    location = _shown(response.headers["Location"])
    return Redirected(
        f"HTTP {status} redirect to {location}; smsctl never follows redirects of provider "
        "API calls",
        status=status,
        location=location,
    )


def _shown(location: str | None) -> str:
    """A Location header as it may be shown: no query string or fragment (they can carry a
    token), no user info, no control characters, bounded length."""
    if not location:
        return "(no Location)"
    try:
        parts = urlsplit(location.strip())
        netloc = parts.netloc.rpartition("@")[2]
        text = urlunsplit((parts.scheme, netloc, parts.path, "", ""))
        if parts.query:
            text += "?…"
    except ValueError:
        text = "(unreadable Location)"
    text = "".join(ch if ch.isprintable() else "?" for ch in text)
    return text if len(text) <= 200 else text[:200] + "…"


def _environment_proxies(url: str) -> dict[str, str]:
    from requests.utils import get_environ_proxies

    return get_environ_proxies(url)


# --- the deadline watchdog ---------------------------------------------------------------------

_current = threading.local()


class _Watch:
    """Shuts the sockets of one exchange down when its deadline passes. The sockets are held as
    duplicates of their descriptors: shutting one down ends every blocked read on the
    connection (TLS included), and closing it later leaves the connection itself alone."""

    def __init__(self, seconds: float, timer: Callable[[float, Callable[[], None]], Timer]):
        self.fired = False
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._timer = timer(seconds, self._fire)

    def start(self) -> None:
        self._timer.start()

    def add(self, sock: Any) -> None:
        try:
            duplicate = socket.socket(fileno=os.dup(sock.fileno()))
        except (OSError, ValueError, AttributeError):
            return
        with self._lock:
            self._sockets.append(duplicate)
            if self.fired:
                _shut(duplicate)

    def _fire(self) -> None:
        with self._lock:
            self.fired = True
            for sock in self._sockets:
                _shut(sock)

    def stop(self) -> None:
        self._timer.cancel()
        with self._lock:
            for sock in self._sockets:
                sock.close()
            self._sockets.clear()


def _shut(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


class _WatchedConnection:
    """Mixed into urllib3's connection classes: registers the connection's socket with the
    exchange running in this thread (a new socket as soon as it exists, before any TLS
    handshake; a kept-alive one when it is used again)."""

    def _new_conn(self) -> Any:
        sock = super()._new_conn()  # type: ignore[misc]
        self._register(sock)
        return sock

    def request(self, *args: Any, **kwargs: Any) -> Any:
        if getattr(self, "sock", None) is not None:
            self._register(self.sock)  # type: ignore[attr-defined]
        return super().request(*args, **kwargs)  # type: ignore[misc]

    def _register(self, sock: Any) -> None:
        watch = getattr(_current, "watch", None)
        if watch is not None and getattr(self, "_smsctl_watch", None) is not watch:
            self._smsctl_watch = watch
            watch.add(sock)


_watched_pools: dict[type, type] = {}


def _watched_pool(pool_class: type) -> type:
    if pool_class not in _watched_pools:
        connection = type(
            "Watched" + pool_class.ConnectionCls.__name__,
            (_WatchedConnection, pool_class.ConnectionCls),
            {},
        )
        _watched_pools[pool_class] = type(
            "Watched" + pool_class.__name__, (pool_class,), {"ConnectionCls": connection}
        )
    return _watched_pools[pool_class]


def _watch_pools(manager: Any) -> Any:
    manager.pool_classes_by_scheme = {
        scheme: _watched_pool(cls) for scheme, cls in manager.pool_classes_by_scheme.items()
    }
    return manager


# --- sessions ----------------------------------------------------------------------------------

_sessions: dict[tuple[str, bool], Any] = {}


def _session(scheme: str, loopback: bool) -> Any:
    """One kept-alive session per kind of endpoint, built on first use. trust_env is off: the
    proxies are chosen here, and no .netrc credentials are ever added to a provider call."""
    key = (scheme, loopback)
    if key not in _sessions:
        import requests

        session = requests.Session()
        session.trust_env = False
        adapter = _adapter_class()(_tls_context() if scheme == "https" else None)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        _sessions[key] = session
    return _sessions[key]


_adapter: type | None = None


def _adapter_class() -> type:
    """requests' HTTPAdapter with the watchdog's connection classes, no urllib3 retries, and the
    TLS trust the Alibaba SDK uses: the system's store plus certifi's."""
    global _adapter
    if _adapter is None:
        from requests.adapters import HTTPAdapter

        class SafeAdapter(HTTPAdapter):
            def __init__(self, tls: Any) -> None:
                self._tls = tls
                super().__init__(pool_connections=4, pool_maxsize=4, max_retries=0)

            def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
                if self._tls is not None:
                    kwargs["ssl_context"] = self._tls
                super().init_poolmanager(*args, **kwargs)
                _watch_pools(self.poolmanager)

            def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
                if proxy not in self.proxy_manager:
                    if self._tls is not None:
                        proxy_kwargs.setdefault("ssl_context", self._tls)
                    return _watch_pools(super().proxy_manager_for(proxy, **proxy_kwargs))
                return super().proxy_manager_for(proxy, **proxy_kwargs)

        _adapter = SafeAdapter
    return _adapter


def preload() -> None:
    """Import what an exchange needs now (the provider worker does it ahead of the first call)."""
    import requests.adapters  # noqa: F401
    import requests.utils  # noqa: F401

    _adapter_class()


def _tls_context() -> Any:
    import ssl

    import certifi

    context = ssl.create_default_context()
    context.load_verify_locations(certifi.where())
    return context
