"""What every emulator shares: its lifecycle as a sandbox component, and for those that speak
HTTP the server thread on loopback and the request plumbing.

A provider's emulator subclasses `HttpEmulator` and writes only its API: `handle(request) ->
Reply` (and `info()`). The base reads each request the way a front-end server does (a capped
body, one deadline for it, `Transfer-Encoding: chunked`), answers it, holds it back for
`Reply.delay` seconds (cut short by `stop()`) or drops the connection for `Reply.drop`.
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar
from urllib.parse import parse_qsl

from smsctl.sandbox.http_body import BODY_READ_SECONDS, MAX_BODY_BYTES, BodyError, read_body
from smsctl.sandbox.signing import IncomingRequest

E = TypeVar("E", bound="Emulator")
H = TypeVar("H", bound="HttpEmulator")


class Emulator:
    """A sandbox component: `start()` returns it, `stop()` releases what it holds, `info()` says
    how to reach it, keyed by channel. Also a context manager."""

    def start(self: E) -> E:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def info(self) -> dict[str, dict[str, Any]]:
        raise NotImplementedError

    def __enter__(self: E) -> E:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@dataclass
class Reply:
    status: int
    body: bytes
    content_type: str = "application/json;charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to hold the answer back
    drop: bool = False  # close the connection without answering
    document: dict[str, Any] | None = None  # the JSON body as data (e.g. to answer in XML)


class HttpEmulator(Emulator):
    """An HTTP API on `host:port` (port 0: any free one), served by a daemon thread."""

    thread_name = "emulator"
    protocol_version = "HTTP/1.0"
    server_version = BaseHTTPRequestHandler.server_version
    sys_version = BaseHTTPRequestHandler.sys_version

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self._port = port
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self.max_body_bytes = MAX_BODY_BYTES
        self.body_read_seconds = BODY_READ_SECONDS
        self.tls_context: Any = None  # an ssl.SSLContext: serve HTTPS instead of HTTP

    def handle(self, request: IncomingRequest) -> Reply:
        raise NotImplementedError

    def start(self: H) -> H:
        handler = type(
            f"{type(self).__name__}Handler",
            (_Handler,),
            {
                "emulator": self,
                "protocol_version": self.protocol_version,
                "server_version": self.server_version,
                "sys_version": self.sys_version,
            },
        )
        self._stopping.clear()
        self._server = ThreadingHTTPServer((self.host, self._port), handler)
        self._server.daemon_threads = True
        if self.tls_context is not None:
            self._server.socket = self.tls_context.wrap_socket(
                self._server.socket, server_side=True
            )
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=self.thread_name,
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def port(self) -> int:
        assert self._server is not None, "start() the emulator first"
        return self._server.server_address[1]

    @property
    def endpoint(self) -> str:
        scheme = "https" if self.tls_context is not None else "http"
        return f"{scheme}://{self.host}:{self.port}"

    def wait_stopping(self, seconds: float) -> bool:
        """Sleep up to `seconds`; True if the emulator is shutting down."""
        return self._stopping.wait(seconds)


def lingering_close(connection: Any, wfile: Any, seconds: float = 1.0) -> None:
    """After an early answer, read what the client still sends (for a while) before closing, as
    front-end servers do: closing at once would reset the connection and lose the answer."""
    try:
        wfile.flush()
        connection.shutdown(socket.SHUT_WR)
        deadline = time.monotonic() + seconds
        drained = 0
        while drained < 16 * MAX_BODY_BYTES:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            connection.settimeout(remaining)
            piece = connection.recv(65536)
            if not piece:
                return
            drained += len(piece)
    except OSError:
        return


class _Handler(BaseHTTPRequestHandler):
    emulator: HttpEmulator
    timeout = 60  # seconds a silent client may hold a connection before sending its request

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        self._serve()

    def do_GET(self) -> None:  # noqa: N802
        self._serve()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (quiet: tests read state)
        pass

    def _serve(self) -> None:
        try:
            request = self._incoming()
        except BodyError as error:
            self.close_connection = True
            self.connection.settimeout(self.timeout)
            self._write(Reply(error.status, error.page, content_type="text/html"))
            lingering_close(self.connection, self.wfile)
            return
        self.connection.settimeout(self.timeout)
        reply = self.emulator.handle(request)
        if reply.delay and self.emulator.wait_stopping(reply.delay):
            self.close_connection = True
            return
        if reply.drop:
            self.close_connection = True
            return
        self._write(reply)

    def _write(self, reply: Reply) -> None:
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(reply.body)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(reply.body)
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            self.close_connection = True  # the client gave up (a timeout test)

    def _incoming(self) -> IncomingRequest:
        body = read_body(
            self.rfile,
            self.headers,
            self.connection,
            limit=self.emulator.max_body_bytes,
            seconds=self.emulator.body_read_seconds,
        )
        path, _, query = self.path.partition("?")
        headers: dict[str, list[str]] = {}
        for name, value in self.headers.items():
            headers.setdefault(name.lower(), []).append(value)
        form: list[tuple[str, str]] = []
        content_type = self.headers.get("Content-Type", "")
        if content_type.startswith("application/x-www-form-urlencoded"):
            form = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
        return IncomingRequest(
            method=self.command,
            path=path,
            query=parse_qsl(query, keep_blank_values=True),
            headers=headers,
            body=body,
            form=form,
        )
