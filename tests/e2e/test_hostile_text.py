"""Nothing a provider or an operator writes can drive the terminal.

Real commands of the installed console script run on a real pseudo-terminal (so Rich tables, the
colour marks and the receipt spinner are all in play) with hostile text from every side: an
operator note, template content, name and rejection reason from the provider (the sandbox), and
error codes and messages from a hostile fake Alibaba Cloud, WeChat API and SMTP server on
loopback. Every byte the terminal receives is checked: the only escape sequences are smsctl's
own styling, the hostile text shows as visible escapes, and Rich markup in it stays literal.
With --json the same text is carried as JSON escapes only, and decodes back to exactly what the
provider sent.
"""

from __future__ import annotations

import fcntl
import http.server
import json
import os
import pty
import re
import select
import socketserver
import struct
import subprocess
import termios
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from smsctl.sandbox.state import Template
from tests.e2e.conftest import SMSCTL
from tests.reliability.helpers import child_env

# What a hostile party would write: clear the screen, set the window title, write the clipboard
# (OSC 52), a hyperlink (OSC 8), a lone CR that overwrites the line, a C1 CSI, a bidi override
# and a zero-width space, and Rich markup.
MARKUP = ["[bold]loud[/bold]", "[link=http://evil.example/]click[/link]"]
ATTACK = (
    f"{MARKUP[0]} {MARKUP[1]} "
    "\x1b[2J\x1b[H\x1b]0;pwned\x07\x1b]52;c;cm0gLXJmIH4=\x07"
    "\x1b]8;;http://evil.example/\x1b\\here\x1b]8;;\x1b\\\rFAKE\x9b31m\u202eevil\u200b"
)
CODE = "SMS_900000001"
PHONE = "13812345678"

# Bytes that must never reach the terminal raw.
FORBIDDEN_RAW = [
    b"\x1b[2J",
    b"\x1b[H",
    b"\x1b]",  # any OSC: title, clipboard, hyperlink
    b"\x07",
    b"\x9b",  # C1 CSI as a byte (never valid UTF-8 on its own, but check)
    "\x9b".encode(),
    "\u202e".encode(),
    "\u200b".encode(),
    b"\rFAKE",
]
# smsctl's own styling (SGR colours) and Rich's spinner (hide/show the cursor, erase the line,
# move up) are the only escape sequences allowed.
ALLOWED_SEQUENCE = re.compile(rb"\x1b\[[0-9;]*m|\x1b\[\?25[lh]|\x1b\[2K|\x1b\[[0-9]*[AG]")
ANY_SEQUENCE = re.compile(rb"\x1b(\[[0-?]*[ -/]*[@-~]|.)", re.S)


def run_in_pty(args: list[str], env: dict[str, str], timeout: float = 60) -> tuple[int, bytes]:
    """The command with stdin, stdout and stderr on a 200x50 pseudo-terminal; every byte it
    (and any child of it) wrote there."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 200, 0, 0))
    process = subprocess.Popen(
        [str(SMSCTL), *args], stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True
    )
    os.close(slave)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 1.0)
            if not ready:
                continue
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: every writer of the terminal has closed it
                break
            if not data:
                break
            chunks.append(data)
        else:
            process.kill()
            raise AssertionError(f"{args} did not finish in {timeout} s")
        return process.wait(timeout=timeout), b"".join(chunks)
    finally:
        os.close(master)


def assert_terminal_safe(output: bytes, what: str) -> None:
    for raw in FORBIDDEN_RAW:
        assert raw not in output, f"{what}: {raw!r} reached the terminal raw:\n{output!r}"
    for match in ANY_SEQUENCE.finditer(output):
        assert ALLOWED_SEQUENCE.fullmatch(match.group()), (
            f"{what}: escape sequence {match.group()!r} is not smsctl's own styling:\n{output!r}"
        )
    text = output.decode("utf-8")
    assert "\x1b]" not in text and "\x9b" not in text


# --- a hostile provider on loopback --------------------------------------------------------------


class HostileProvider(http.server.BaseHTTPRequestHandler):
    """Answers every Alibaba Cloud call with an error and every WeChat call with an errmsg, each
    made of the attack."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self._answer()

    def do_GET(self) -> None:
        self._answer()

    def _answer(self) -> None:
        if self.path.startswith("/cgi-bin/"):
            status, body = 200, {"errcode": 40013, "errmsg": "invalid appid " + ATTACK}
        else:
            status, body = (
                400,
                {
                    "Code": "Hostile.\x1b]0;code\x07Code",
                    "Message": "Refused: " + ATTACK,
                    "RequestId": "req-\x1b[2J-1",
                },
            )
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def hostile_provider() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), HostileProvider)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class HostileSmtp(socketserver.StreamRequestHandler):
    """An SMTP server whose banner, EHLO lines and AUTH refusal carry the attack."""

    def handle(self) -> None:
        attack = ATTACK.encode()
        self.wfile.write(b"220 mail.example ESMTP " + attack + b"\r\n")
        while line := self.rfile.readline():
            verb = line[:4].upper()
            if verb in (b"EHLO", b"HELO"):
                self.wfile.write(b"250-mail.example " + attack + b"\r\n250 AUTH PLAIN LOGIN\r\n")
            elif verb == b"AUTH":
                self.wfile.write(b"535 5.7.8 Denied " + attack + b"\r\n")
            elif verb == b"QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"502 " + attack + b"\r\n")


@pytest.fixture
def hostile_smtp() -> Iterator[int]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), HostileSmtp)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def hostile_sandbox(fresh_sandbox_state: Any) -> Iterator[Any]:
    state = fresh_sandbox_state.alibaba.state
    with state.lock:
        state.templates[CODE] = Template(
            code=CODE,
            name="Login " + ATTACK,
            content="Your code is ${code}. " + ATTACK,
            type="verification",
        )
    try:
        yield fresh_sandbox_state
    finally:
        fresh_sandbox_state.reset()


def _env(sandbox: Any) -> dict[str, str]:
    return child_env(
        TERM="xterm-256color",
        COLUMNS="200",
        LANG="C.UTF-8",
        SMSCTL_SECRET_SMS_PROD=sandbox.info()["sms"]["access_key_secret"],
        SMSCTL_SECRET_SMS_EVIL="evil-secret-value",
        SMSCTL_SECRET_WECHAT_EVILWX="evil-app-secret",
        SMSCTL_SECRET_EMAIL_EVILMAIL="evil-mail-password",
        SMSCTL_NO_INPUT="1",
        NO_COLOR=None,
    )


def _set_up(sandbox: Any, env: dict[str, str], evil_endpoint: str, smtp_port: int = 0) -> None:
    sms = sandbox.info()["sms"]
    mail = ["email", "account", "add", "evilmail", "--host", "127.0.0.1", "--port"]
    mail += [str(smtp_port), "--security", "none", "--username", "u", "--from", "a@example.com"]
    for step in (
        *([mail] if smtp_port else []),
        ["account", "add", "prod", "--access-key-id", sms["access_key_id"]]
        + ["--endpoint", sms["endpoint"], "--note", "ops " + ATTACK],
        ["account", "add", "evil", "--access-key-id", "LTAI5tEvil0001"]
        + ["--endpoint", evil_endpoint, "--note", "evil"],
        ["signature", "add", "Acme", "--account", "prod"],
    ):
        done = subprocess.run([str(SMSCTL), *step], env=env, capture_output=True, timeout=60)
        assert done.returncode == 0, (step, done.stderr)


def test_hostile_text_is_shown_escaped_on_a_real_terminal(
    hostile_sandbox, hostile_provider, hostile_smtp
) -> None:
    env = _env(hostile_sandbox)
    _set_up(hostile_sandbox, env, hostile_provider, hostile_smtp)
    commands: list[tuple[list[str], int]] = [
        (["template", "add", CODE, "--account", "prod", "--scenario", "login"], 0),
        (["account", "list"], 0),
        (["account", "show", "prod"], 0),
        (["template", "list"], 0),
        (["template", "show", CODE], 0),
        (["template", "render", CODE, "--param", "code=1234"], 0),
        (["validate", "prod"], 0),
        (
            ["send-test", "--to", PHONE, "--scenario", "login", "--template", CODE]
            + ["--param", "code=1234", "--wait", "20", "--yes"],
            0,
        ),
        (["validate", "evil"], None),
        (
            ["wechat", "account", "add", "evilwx", "--app-id", "wx0123456789abcdef"]
            + ["--endpoint", hostile_provider],
            None,
        ),
        (["email", "validate", "evilmail"], None),
    ]
    screens: dict[str, str] = {}

    def reject() -> None:  # the provider withdraws its approval, with a hostile reason
        state = hostile_sandbox.alibaba.state
        with state.lock:
            state.templates[CODE].status = "rejected"
            state.templates[CODE].reason = "Rejected: " + ATTACK

    commands.append((["template", "sync", CODE], 0))
    for args, expected in commands:
        if args[:2] == ["template", "sync"]:
            reject()
        code, output = run_in_pty(args, env)
        what = " ".join(args[:3])
        if expected is not None:
            assert code == expected, (what, output)
        else:
            assert code in (4, 5, 7), (what, code, output)
        assert_terminal_safe(output, what)
        screens[what] = output.decode()
    # The attack is visible for what it is, not acted upon.
    shown = "\\x1b]52;c;cm0gLXJmIH4=\\x07"
    for what in ("template show SMS_900000001", "template add SMS_900000001", "account show prod"):
        assert shown in screens[what], (what, screens[what])
    assert "\\u202eevil\\u200b" in screens["template show SMS_900000001"]
    assert "\\rFAKE" in screens["template show SMS_900000001"]
    for what in ("template list", "template show SMS_900000001", "account list"):
        for markup in MARKUP:
            assert markup in screens[what], f"{what}: Rich markup was interpreted"
    assert "\\x1b[2J\\x1b[H" in screens["validate evil"]
    assert "\\x1b[2J\\x1b[H" in screens["wechat account add"]
    assert "\\x1b[2J\\x1b[H" in screens["email validate evilmail"]
    assert (
        "approved -> rejected (Rejected: [bold]loud[/bold]"
        in screens["template sync SMS_900000001"]
    )
    assert "\\x1b]52;c;" in screens["template sync SMS_900000001"]


def test_hostile_text_in_json_is_escaped_and_decodes_back_exactly(
    hostile_sandbox, hostile_provider
) -> None:
    env = _env(hostile_sandbox)
    _set_up(hostile_sandbox, env, hostile_provider)

    def run(*args: str) -> tuple[int, bytes, bytes]:
        done = subprocess.run(
            [str(SMSCTL), "--json", *args], env=env, capture_output=True, timeout=60
        )
        for stream in (done.stdout, done.stderr):
            for raw in [*FORBIDDEN_RAW, b"\x1b"]:
                assert raw not in stream, (args, raw, stream)
        return done.returncode, done.stdout, done.stderr

    code, out, _ = run("template", "add", CODE, "--account", "prod", "--scenario", "login")
    assert code == 0
    assert json.loads(out)["content"] == "Your code is ${code}. " + ATTACK
    code, out, _ = run("template", "show", CODE)
    assert code == 0
    shown = json.loads(out)
    assert (shown["label"], shown["content"]) == (
        "Login " + ATTACK,
        "Your code is ${code}. " + ATTACK,
    )
    code, out, _ = run("account", "list")
    assert [a["note"] for a in json.loads(out) if a["name"] == "prod"] == ["ops " + ATTACK]
    code, out, err = run("validate", "evil")
    assert code in (4, 5, 7) and out == b""
    error = json.loads(err.decode().strip().splitlines()[-1])["error"]
    assert error["message"].startswith("Refused: " + ATTACK) or ATTACK in error["message"]
    # The same run on a terminal: --json writes no escape sequence at all.
    code, output = run_in_pty(["--json", "template", "show", CODE], env)
    assert code == 0 and b"\x1b" not in output and "\u202e".encode() not in output
