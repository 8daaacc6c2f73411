"""A hostile SMTP server on loopback (plain TCP, as `--security none` allows there): it trickles
its banner a byte at a time, never ends a `250-` reply, or echoes the AUTH line back.

Every behaviour is bounded (bytes sent, then the connection is closed) so that a client without
protection fails a test instead of hanging it.
"""

from __future__ import annotations

import socketserver
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

BANNER = b"220 hostile.smsctl.test ESMTP\r\n"


class _Handler(socketserver.BaseRequestHandler):
    server: _Server

    def handle(self) -> None:
        self.request.settimeout(10)
        try:
            getattr(self, "mode_" + self.server.mode.replace("-", "_"))()
        except OSError:  # the client gave up: that is what the tests want
            pass

    # -- helpers -------------------------------------------------------------------------------

    def send(self, data: bytes) -> None:
        self.request.sendall(data)

    def read_line(self) -> bytes:
        line = b""
        while not line.endswith(b"\n"):
            chunk = self.request.recv(1)
            if not chunk:
                raise ConnectionError("client closed")
            line += chunk
        return line.rstrip(b"\r\n")

    def trickle(self, data: bytes) -> None:
        for byte in data:
            self.request.sendall(bytes([byte]))
            time.sleep(self.server.byte_interval)

    # -- behaviours ----------------------------------------------------------------------------

    def mode_trickle_banner(self) -> None:
        """A banner that never ends, one byte at a time (`220-` continuation lines)."""
        self.trickle(b"220-hostile\r\n" * (self.server.max_bytes // 13))

    def mode_endless_ehlo(self) -> None:
        """A normal banner, then an EHLO answer made of `250-` lines that never stops."""
        self.send(BANNER)
        self.read_line()
        line = b"250-" + b"X" * 94 + b"\r\n"
        if self.server.byte_interval:
            self.trickle(line * (self.server.max_bytes // len(line)))
        else:
            self.send(line * (self.server.max_bytes // len(line)))

    def mode_echo_auth(self) -> None:
        """Offers AUTH without TLS and answers every AUTH exchange by repeating what it got."""
        self.send(BANNER)
        mechanisms = self.server.mechanisms
        while True:
            line = self.read_line()
            verb = line.split(b" ", 1)[0].upper()
            if verb in (b"EHLO", b"HELO"):
                self.send(b"250-hostile.smsctl.test\r\n250 AUTH " + mechanisms + b"\r\n")
            elif verb == b"AUTH" and line.upper().startswith(b"AUTH LOGIN"):
                self.send(b"334 UGFzc3dvcmQ6\r\n")  # "Password:"
                self.send(b"535 5.7.8 Authentication failed: " + self.read_line() + b"\r\n")
            elif verb == b"AUTH":
                self.send(b"535 5.7.8 Authentication failed for: " + line + b"\r\n")
            elif verb == b"QUIT":
                self.send(b"221 bye\r\n")
                return
            else:
                self.send(b"503 5.5.1 AUTH first\r\n")


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, mode: str, byte_interval: float, max_bytes: int, mechanisms: bytes):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.mode = mode
        self.byte_interval = byte_interval
        self.max_bytes = max_bytes
        self.mechanisms = mechanisms


@contextmanager
def hostile_smtp(
    mode: str,
    *,
    byte_interval: float = 0.002,
    max_bytes: int = 4000,
    mechanisms: str = "PLAIN LOGIN",
) -> Iterator[int]:
    """Serve `mode` (trickle-banner, endless-ehlo, echo-auth) on a loopback port, yielded."""
    server = _Server(mode, byte_interval, max_bytes, mechanisms.encode())
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
