"""Transport failures through the real SDK, without the sandbox: closed port, TLS mismatch."""

from __future__ import annotations

import socket
import threading
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from smsctl.core.errors import ProviderUnavailable
from smsctl.providers.alibaba_common import AlibabaAccess, RetryPolicy
from smsctl.providers.alibaba_sms import AlibabaSms
from smsctl.providers.alibaba_voice import AlibabaVoice

SECRET = "CANARY-s3cr3t-7f1e9a"


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # closed again when the block exits


def _access(endpoint: str) -> AlibabaAccess:
    return AlibabaAccess("LTAI5tTransport01", SECRET, endpoint, None, 0.5, 0.5)


def test_closed_port_is_retried_then_exit_7(closed_port):
    waits: list[float] = []
    sms = AlibabaSms(
        _access(f"http://127.0.0.1:{closed_port}"),
        retry=RetryPolicy(max_attempts=3, base_delay=0.01),
        sleep=waits.append,
    )
    with pytest.raises(ProviderUnavailable) as caught:
        sms.send("+8613800138000", "Acme", "SMS_100000001", {"code": "1234"}, "out-1")
    error = caught.value
    assert error.exit_code == 7
    assert error.code == "ConnectionFailed"
    assert "connection refused" in error.message
    assert error.details["attempts"] == 3
    assert waits == [0.01, 0.02]


@pytest.fixture
def plain_http_port():
    class Answer(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's naming
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Answer)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_https_against_a_plain_http_server_is_a_tls_error_not_retried(plain_http_port):
    waits: list[float] = []
    voice = AlibabaVoice(_access(f"https://127.0.0.1:{plain_http_port}"), sleep=waits.append)
    with pytest.raises(ProviderUnavailable) as caught:
        voice.check_credentials()
    assert caught.value.code == "TLSError"
    assert "TLS" in caught.value.message
    assert waits == []


def test_no_secret_in_errors_from_the_real_sdk(closed_port):
    sms = AlibabaSms(_access(f"http://127.0.0.1:{closed_port}"), sleep=lambda s: None)
    with pytest.raises(ProviderUnavailable) as caught:
        sms.check_credentials()
    error = caught.value
    texts = [
        str(error),
        str(error.hint),
        str(error.details),
        str(error.to_dict()),
        repr(sms),
        "".join(traceback.format_exception(error)),
    ]
    for text in texts:
        assert SECRET not in text
        assert "Authorization" not in text
    assert error.__context__ is None and error.__cause__ is None
