"""Reading an HTTP/1.1 request body the way a front-end server does: by Content-Length or
`Transfer-Encoding: chunked` (as the official Node SDK sends form bodies), never more than a size
cap, and within one deadline for the whole body (a client that stalls does not hold a thread)."""

from __future__ import annotations

import socket
import time
from collections.abc import Mapping
from typing import BinaryIO

MAX_BODY_BYTES = 1024 * 1024
BODY_READ_SECONDS = 10.0
_MAX_LINE = 4096  # a chunk-size or trailer line

# What the gateway's front (Tengine) answers when a body cannot be read.
HTML_400 = (
    b"<html>\r\n<head><title>400 Bad Request</title></head>\r\n<body>\r\n"
    b"<center><h1>400 Bad Request</h1></center>\r\n<hr><center>Tengine</center>\r\n"
    b"</body>\r\n</html>\r\n"
)
HTML_408 = (
    b"<html>\r\n<head><title>408 Request Time-out</title></head>\r\n<body>\r\n"
    b"<center><h1>408 Request Time-out</h1></center>\r\n<hr><center>Tengine</center>\r\n"
    b"</body>\r\n</html>\r\n"
)
HTML_413 = (
    b"<html>\r\n<head><title>413 Request Entity Too Large</title></head>\r\n<body>\r\n"
    b"<center><h1>413 Request Entity Too Large</h1></center>\r\n<hr><center>Tengine</center>\r\n"
    b"</body>\r\n</html>\r\n"
)
HTML_501 = (
    b"<html>\r\n<head><title>501 Not Implemented</title></head>\r\n<body>\r\n"
    b"<center><h1>501 Not Implemented</h1></center>\r\n<hr><center>Tengine</center>\r\n"
    b"</body>\r\n</html>\r\n"
)


class BodyError(Exception):
    """The body cannot be read; `status` and `page` are the answer, then the connection closes."""

    def __init__(self, status: int, page: bytes, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.page = page


def _malformed(reason: str) -> BodyError:
    return BodyError(400, HTML_400, reason)


def _too_large(limit: int) -> BodyError:
    return BodyError(413, HTML_413, f"body larger than {limit} bytes")


class _Reader:
    def __init__(self, stream: BinaryIO, sock: socket.socket | None, seconds: float) -> None:
        self.stream = stream
        self.sock = sock
        self.deadline = time.monotonic() + seconds

    def _arm(self) -> None:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise BodyError(408, HTML_408, "body not received in time")
        if self.sock is not None:
            self.sock.settimeout(remaining)

    def exactly(self, count: int) -> bytes:
        data = bytearray()
        while len(data) < count:
            self._arm()
            try:
                piece = self.stream.read1(min(count - len(data), 65536))  # type: ignore[attr-defined]
            except TimeoutError:
                raise BodyError(408, HTML_408, "body not received in time") from None
            if not piece:
                raise _malformed("connection closed inside the body")
            data += piece
        return bytes(data)

    def line(self) -> bytes:
        self._arm()
        try:
            line = self.stream.readline(_MAX_LINE + 1)
        except TimeoutError:
            raise BodyError(408, HTML_408, "body not received in time") from None
        if not line.endswith(b"\n") or len(line) > _MAX_LINE:
            raise _malformed("chunk line too long or cut off")
        return line


def read_body(
    stream: BinaryIO,
    headers: Mapping[str, str],
    sock: socket.socket | None = None,
    *,
    limit: int = MAX_BODY_BYTES,
    seconds: float = BODY_READ_SECONDS,
) -> bytes:
    """The request body; raises BodyError (400 malformed, 408 too slow, 413 too large)."""
    reader = _Reader(stream, sock, seconds)
    encoding = (headers.get("Transfer-Encoding") or "").strip().lower()
    if encoding:
        if encoding != "chunked":
            raise BodyError(501, HTML_501, f"transfer encoding {encoding!r} not supported")
        return _chunked(reader, limit)
    raw_length = (headers.get("Content-Length") or "").strip()
    if not raw_length:
        return b""
    if not raw_length.isdigit():
        raise _malformed("Content-Length is not a number")
    length = int(raw_length)
    if length > limit:
        raise _too_large(limit)
    return reader.exactly(length) if length else b""


def _chunked(reader: _Reader, limit: int) -> bytes:
    body = bytearray()
    while True:
        size_text = reader.line().split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            raise _malformed("chunk size is not hexadecimal") from None
        if size < 0:
            raise _malformed("negative chunk size")
        if size == 0:
            while reader.line().strip():  # trailer fields, up to the blank line
                pass
            return bytes(body)
        if len(body) + size > limit:
            raise _too_large(limit)
        body += reader.exactly(size)
        if reader.line().strip():
            raise _malformed("chunk data longer than its size")
