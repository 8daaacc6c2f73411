"""The emulator base: a provider's emulator writes only its API (`handle`, `info`); the server
thread, the request reading and the answering are the base's, the same for every emulator."""

from __future__ import annotations

import http.client
import json
import threading
from typing import Any
from urllib.parse import urlsplit

from smsctl.sandbox import wechat as emu
from smsctl.sandbox.emulator import HttpEmulator, Reply
from smsctl.sandbox.signing import IncomingRequest


class EchoEmulator(HttpEmulator):
    """A whole emulator: what it answers, nothing about serving."""

    thread_name = "echo-emulator"

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[IncomingRequest] = []
        self.delay = 0.0
        self.received = threading.Event()

    def handle(self, request: IncomingRequest) -> Reply:
        self.seen.append(request)
        self.received.set()
        body = json.dumps({"method": request.method, "path": request.path, "query": request.query})
        return Reply(200, body.encode(), headers={"X-Echo": "1"}, delay=self.delay)

    def info(self) -> dict[str, dict[str, Any]]:
        return {"echo": {"endpoint": self.endpoint}}


def connect(emulator: HttpEmulator) -> http.client.HTTPConnection:
    return http.client.HTTPConnection(emulator.host, emulator.port, timeout=5)


def test_a_subclass_with_only_its_api_serves_get_and_post() -> None:
    with EchoEmulator() as emulator:
        connection = connect(emulator)
        connection.request("GET", "/a/b?x=1&y=")
        response = connection.getresponse()
        assert response.status == 200
        assert response.getheader("X-Echo") == "1"
        assert json.loads(response.read()) == {
            "method": "GET",
            "path": "/a/b",
            "query": [["x", "1"], ["y", ""]],
        }
        form = connect(emulator)
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        form.request("POST", "/f", body=b"k=v&e=", headers=headers)
        assert form.getresponse().status == 200
        assert emulator.seen[-1].form == [("k", "v"), ("e", "")]
        assert emulator.info() == {"echo": {"endpoint": f"http://127.0.0.1:{emulator.port}"}}


def test_it_restarts_after_stop_and_stop_cuts_a_held_answer_short() -> None:
    emulator = EchoEmulator()
    emulator.start().stop()
    emulator.start()
    emulator.delay = 60.0
    connection = connect(emulator)
    connection.request("GET", "/slow")
    assert emulator.received.wait(5)
    stopper = threading.Thread(target=emulator.stop)
    stopper.start()
    stopper.join(timeout=10)
    assert not stopper.is_alive()  # stop() did not wait out the 60 s answer
    try:
        connection.getresponse()
        answered = True
    except (http.client.RemoteDisconnected, ConnectionResetError):
        answered = False
    assert answered is False


def test_the_wechat_emulator_reads_a_chunked_body_through_the_base() -> None:
    with emu.WechatEmulator() as server:
        body = {"grant_type": "client_credential", "appid": emu.APP_ID, "secret": emu.APP_SECRET}
        connection = http.client.HTTPConnection(
            server.host, urlsplit(server.endpoint).port, timeout=5
        )
        payload = json.dumps(body).encode()
        connection.request(
            "POST", "/cgi-bin/stable_token", body=iter([payload[:10], payload[10:]]),
            encode_chunked=True,
        )  # fmt: skip
        response = connection.getresponse()
        assert response.getheader("Content-Type") == "application/json; charset=utf-8"
        assert "access_token" in json.loads(response.read())
        assert server.state.requests[-1].body == body


def test_the_wechat_emulator_refuses_a_body_over_the_cap_like_the_alibaba_one() -> None:
    with emu.WechatEmulator() as server:
        server.max_body_bytes = 64
        connection = http.client.HTTPConnection(
            server.host, urlsplit(server.endpoint).port, timeout=5
        )
        connection.request("POST", "/cgi-bin/stable_token", body=b"{" + b" " * 100 + b"}")
        assert connection.getresponse().status == 413
        assert server.state.requests == []
