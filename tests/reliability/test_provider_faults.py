"""Provider faults through the CLI that tests/cli and tests/providers do not already cover
(issue 10): DNS failure, connection refused, 503, a slow answer past the timeout, persistent
throttling, truncated JSON and HTML bodies — each its documented exit code, a next step, no
traceback, no duplicate send. (SMTP faults: tests/providers/test_smtp.py, tests/cli/test_email.py;
WeChat errcodes and token invalidation: tests/providers/test_wechat.py, tests/cli/test_wechat.py.)
"""

from __future__ import annotations

import http.server
import socket
import threading
from collections.abc import Iterator

import pytest

from tests.cli.test_send_test import ready  # noqa: F401 - fixture
from tests.reliability.helpers import assert_error_with_hint
from tests.support.cli import invoke

SEND = ("--json", "send-test", "--scenario", "login", "--param", "code=1", "--yes")


def sends(sandbox) -> list:
    return [p for action, p in sandbox.alibaba.state.requests if action == "SendSms"]


@pytest.mark.parametrize(
    ("number", "extra", "exit_code", "code", "requests"),
    [
        ("+8613900000007", (), 7, "ServiceUnavailable", 1),  # 503: not retried (may be sent)
        ("+8613900000008", ("--timeout", "1"), 7, "ResponseLost", 1),  # slow: never retried
        ("+8613900000001", (), 6, "Throttling.User", 3),  # retry-after honoured, bounded
    ],
)
def test_sandbox_faults_through_send_test(ready, number, extra, exit_code, code, requests):  # noqa: F811
    result = invoke(*SEND, "--to", number, *extra)
    error = assert_error_with_hint(result, exit_code, code)
    assert error["message"]
    assert len(sends(ready)) == requests


def _point_prod_at(config_file, endpoint: str) -> None:
    text = config_file.read_text()
    start = text.index('endpoint = "')
    end = text.index('"', start + len('endpoint = "'))
    config_file.write_text(text[:start] + f'endpoint = "{endpoint}' + text[end:])


def test_dns_failure_is_exit_7_retried_safely_and_says_what_to_check(ready, config_file):  # noqa: F811
    _point_prod_at(config_file, "https://dysmsapi.smsctl-test.invalid")
    result = invoke(*SEND, "--to", "+8613812345678")
    error = assert_error_with_hint(result, 7, "ConnectionFailed")
    assert "could not be resolved" in error["message"]
    assert "was not sent" in error["message"]
    assert "DNS" in error["hint"]


def test_connection_refused_is_exit_7_and_not_sent(ready, config_file):  # noqa: F811
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    _point_prod_at(config_file, f"http://127.0.0.1:{port}")
    result = invoke(*SEND, "--to", "+8613812345678")
    error = assert_error_with_hint(result, 7, "ConnectionFailed")
    assert "refused" in error["message"]
    assert sends(ready) == []


class _Canned(http.server.BaseHTTPRequestHandler):
    status = 200
    body = b""
    content_type = "application/json"
    hits = 0

    def do_POST(self) -> None:  # noqa: N802
        type(self).hits += 1
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        self.send_response(self.status)
        self.send_header("Content-Type", self.content_type)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    do_GET = do_POST  # noqa: N815

    def log_message(self, *_args) -> None:
        pass


@pytest.fixture
def canned() -> Iterator[tuple[str, type[_Canned]]]:
    handler = type("Handler", (_Canned,), {"hits": 0})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", handler
    finally:
        server.shutdown()
        server.server_close()


BODIES = [
    (200, b'{"Code": "OK", "BizId": "1234', "application/json"),  # truncated JSON
    (502, b"<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html"),
    (200, b"<html>captive portal</html>", "text/html"),
]


@pytest.mark.parametrize(("status", "body", "content_type"), BODIES)
def test_alibaba_bodies_that_are_not_api_answers_are_exit_7_sent_once(
    ready,  # noqa: F811
    config_file,
    canned,
    status,
    body,
    content_type,  # noqa: F811
) -> None:
    endpoint, handler = canned
    handler.status, handler.body, handler.content_type = status, body, content_type
    _point_prod_at(config_file, endpoint)
    result = invoke(*SEND, "--to", "+8613812345678")
    assert_error_with_hint(result, 7)
    assert handler.hits == 1  # a send is never repeated after an answer it could not read


@pytest.mark.parametrize(("status", "body", "content_type"), BODIES)
def test_wechat_bodies_that_are_not_api_answers_are_exit_7(
    canned, config_file, status, body, content_type
) -> None:
    endpoint, handler = canned
    handler.status, handler.body, handler.content_type = status, body, content_type
    result = invoke(
        "--json", "wechat", "account", "add", "oa", "--app-id", "wx0123456789abcdef",
        "--endpoint", endpoint, env={"SMSCTL_SECRET_WECHAT_OA": "wechat-secret-1"},
    )  # fmt: skip
    assert_error_with_hint(result, 7)
    assert not config_file.exists() or "oa" not in config_file.read_text()
