"""A hostile HTTP provider on loopback, a proxy that records who used it, and a deadline the
test passes by hand.

`HostileServer(behaviour)` accepts connections on 127.0.0.1, reads each request (head and
Content-Length body), records it, and lets `behaviour(conn, server)` answer: redirect to
another address, trickle bytes forever, send a compression bomb or a body without end. Raw
sockets, so that every byte is under the test's control.
"""

from __future__ import annotations

import gzip
import socket
import socketserver
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Behaviour = Callable[[socket.socket, "HostileServer"], None]


@dataclass
class Request:
    line: str
    headers: dict[str, str]
    body: bytes


@dataclass
class HostileServer:
    behaviour: Behaviour
    host: str = "127.0.0.1"  # "0.0.0.0" to be reachable at this machine's other addresses
    requests: list[Request] = field(default_factory=list)
    bytes_sent: int = 0
    stopping: threading.Event = field(default_factory=threading.Event)

    def start(self) -> HostileServer:
        owner = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                conn: socket.socket = self.request
                request = _read_request(conn)
                if request is None:
                    return
                owner.requests.append(request)
                try:
                    owner.behaviour(conn, owner)
                except OSError:
                    pass  # the client went away: what a bounded client does

        self._server = socketserver.ThreadingTCPServer((self.host, 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def send(self, conn: socket.socket, data: bytes) -> None:
        conn.sendall(data)
        self.bytes_sent += len(data)

    def stop(self) -> None:
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()


def _read_request(conn: socket.socket) -> Request | None:
    conn.settimeout(10)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length") or 0)
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        body += chunk
    return Request(lines[0], headers, body)


# --- behaviours --------------------------------------------------------------------------------


def json_answer(body: bytes = b'{"Code": "OK", "errcode": 0}') -> Behaviour:
    def answer(conn: socket.socket, server: HostileServer) -> None:
        server.send(
            conn,
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body,
        )

    return answer


def redirect(status: int, location: str) -> Behaviour:
    def answer(conn: socket.socket, server: HostileServer) -> None:
        server.send(
            conn,
            f"HTTP/1.1 {status} Moved\r\nLocation: {location}\r\nContent-Length: 0\r\n"
            "Connection: close\r\n\r\n".encode(),
        )

    return answer


def bare_status(status: int, reason: str) -> Behaviour:
    """An answer of only a status line: no Location, no body."""

    def answer(conn: socket.socket, server: HostileServer) -> None:
        server.send(
            conn,
            f"HTTP/1.1 {status} {reason}\r\nContent-Length: 0\r\n\r\n".encode(),
        )

    return answer


def trickle(
    *,
    head: bytes,
    drip: bytes,
    pause: float,
    after: int = 0,
    then: Callable[[], None] | None = None,
) -> Behaviour:
    """Send `head`, then `drip` one byte at a time with `pause` between bytes, forever (until
    the client goes away). After `after` bytes of the drip, call `then` (once)."""

    def answer(conn: socket.socket, server: HostileServer) -> None:
        server.send(conn, head)
        count = 0
        while not server.stopping.is_set():
            for byte in drip:
                server.send(conn, bytes([byte]))
                count += 1
                if then is not None and count == after:
                    then()
                server.stopping.wait(pause)

    return answer


def slow_headers(**kwargs: Any) -> Behaviour:
    return trickle(head=b"HTTP/1.1 200 OK\r\n", drip=b"X-Slow: a\r\n", **kwargs)


def slow_body(**kwargs: Any) -> Behaviour:
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n"
    return trickle(head=head, drip=b" ", **kwargs)


def gzip_bomb(inflated_mib: int, answer: bytes = b"") -> bytes:
    """A gzip body that inflates to `answer` followed by `inflated_mib` MiB of spaces (valid
    JSON if `answer` is): one gzip member per MiB, about 1 KiB each, so that a 1 GiB bomb takes
    1 MiB and no time to build."""
    spaces = gzip.compress(b" " * (1024 * 1024), compresslevel=9)
    return gzip.compress(answer) + spaces * inflated_mib


def send_bomb(bomb: bytes) -> Behaviour:
    def answer(conn: socket.socket, server: HostileServer) -> None:
        server.send(
            conn,
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n"
            b"Connection: close\r\nContent-Length: " + str(len(bomb)).encode() + b"\r\n\r\n",
        )
        server.send(conn, bomb)

    return answer


def endless_body(*, declared: int | None = None) -> Behaviour:
    """A body that never ends (or claims `declared` bytes): megabytes of spaces until the
    client stops reading."""

    def answer(conn: socket.socket, server: HostileServer) -> None:
        length = f"Content-Length: {declared}\r\n" if declared is not None else ""
        server.send(
            conn,
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
            + length.encode()
            + b"\r\n",
        )
        chunk = b" " * 65536
        while not server.stopping.is_set():
            server.send(conn, chunk)

    return answer


# --- a proxy that must see nothing (or must see the CONNECT) ------------------------------------


@dataclass
class RecordingProxy:
    """Records the first line of every connection and answers 502: a proxy that would see the
    request if smsctl used it."""

    seen: list[str] = field(default_factory=list)

    def start(self) -> RecordingProxy:
        owner = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                conn: socket.socket = self.request
                conn.settimeout(10)
                data = b""
                try:
                    while b"\r\n" not in data:
                        chunk = conn.recv(4096)
                        if not chunk:
                            break
                        data += chunk
                    owner.seen.append(data.split(b"\r\n")[0].decode("latin-1"))
                    conn.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
                except OSError:
                    pass

        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


# --- a deadline the test passes --------------------------------------------------------------


class ManualDeadline:
    """A replacement for providers.transport.make_timer: the deadline of every exchange passes
    when the test (or a hostile server) calls `pass_now`, never by itself."""

    def __init__(self) -> None:
        self.timers: list[_ManualTimer] = []
        self.seconds: list[float] = []

    def __call__(self, seconds: float, fire: Callable[[], None]) -> _ManualTimer:
        timer = _ManualTimer(fire)
        self.timers.append(timer)
        self.seconds.append(seconds)
        return timer

    def pass_now(self) -> None:
        for timer in list(self.timers):
            timer.trigger()


class _ManualTimer:
    def __init__(self, fire: Callable[[], None]) -> None:
        self._fire = fire
        self.started = False
        self.cancelled = False

    def start(self) -> None:
        self.started = True

    def cancel(self) -> None:
        self.cancelled = True

    def trigger(self) -> None:
        if self.started and not self.cancelled:
            self.cancelled = True
            self._fire()
