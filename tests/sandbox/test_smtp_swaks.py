"""The sandbox's SMTP server driven by swaks, a real SMTP client nobody here wrote (Debian's
`swaks`), in STARTTLS and implicit TLS with the sandbox's generated CA."""

from __future__ import annotations

import subprocess

import pytest

from smsctl.sandbox.smtp import SmtpEmulator
from tests.support.tools import require_tool


@pytest.fixture(scope="module")
def swaks() -> str:
    return require_tool("swaks", "swaks")


def run_swaks(
    swaks: str,
    server: SmtpEmulator,
    *extra: str,
    security: str = "starttls",
    auth: str = "PLAIN",
    password: str | None = None,
    to: str = "alice@example.test",
    body: str = "Hello from swaks",
) -> subprocess.CompletedProcess:
    info = server.info()["smtp"]
    port = info["ssl_port"] if security == "ssl" else info["starttls_port"]
    tls = ["--tls-on-connect"] if security == "ssl" else ["--tls"]
    command = [
        swaks, "--server", f"{info['host']}:{port}", *tls,
        "--tls-verify", "--tls-ca-path", info["ca_file"],
        "--auth", auth, "--auth-user", info["username"],
        "--auth-password", password or info["password"],
        "--from", "noreply@acme.test", "--to", to,
        "--header", "Subject: swaks test", "--body", body, "--timeout", "10", *extra,
    ]  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize(("security", "auth"), [("starttls", "PLAIN"), ("ssl", "LOGIN")])
def test_swaks_sends_over_verified_tls(swaks, smtp_server, security, auth) -> None:
    done = run_swaks(swaks, smtp_server, security=security, auth=auth)
    assert done.returncode == 0, done.stdout + done.stderr
    [message] = smtp_server.messages
    assert message["Subject"] == "swaks test"
    assert message["X-Sandbox-Rcpt-To"] == "alice@example.test"
    assert "Hello from swaks" in message.get_content()
    [session] = smtp_server.sessions
    assert session.port == security
    assert "AUTH 235" in session.commands and session.quit
    assert ("STARTTLS 220" in session.commands) == (security == "starttls")


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_swaks_refuses_the_sandbox_certificate_without_its_ca(swaks, smtp_server, security):
    info = smtp_server.info()["smtp"]
    port = info["ssl_port"] if security == "ssl" else info["starttls_port"]
    tls = "--tls-on-connect" if security == "ssl" else "--tls"
    done = subprocess.run(
        [swaks, "--server", f"127.0.0.1:{port}", tls, "--tls-verify", "--to", "a@example.test",
         "--timeout", "10"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 29, done.stdout + done.stderr  # error in TLS transaction
    assert smtp_server.messages == []


def test_swaks_with_a_wrong_password_is_refused(swaks, smtp_server) -> None:
    done = run_swaks(swaks, smtp_server, password="wrong-password")
    assert done.returncode == 28, done.stdout + done.stderr  # error in AUTH transaction
    assert "535" in done.stdout
    assert smtp_server.messages == []


def test_swaks_gets_the_reserved_recipient_refusal(swaks, smtp_server) -> None:
    done = run_swaks(swaks, smtp_server, to="reject@example.test")
    assert done.returncode == 24, done.stdout + done.stderr  # no RCPTs accepted
    assert "550 5.1.1" in done.stdout
    [session] = smtp_server.sessions
    assert session.commands[-2:] == ["RCPT 550", "QUIT 221"] and session.quit


def test_a_sandbox_without_8bitmime_refuses_swaks_8bit_body(swaks, smtp_server) -> None:
    smtp_server.eightbitmime = False
    try:
        refused = run_swaks(swaks, smtp_server, body="Grüße, 你好")
        accepted = run_swaks(swaks, smtp_server, body="Gruesse, plain ASCII")
    finally:
        smtp_server.eightbitmime = True
    assert refused.returncode == 26, refused.stdout  # server did not accept mail after data
    assert "554 5.6.1" in refused.stdout
    assert "250-8BITMIME" not in refused.stdout  # not offered, before or after STARTTLS
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
    [message] = smtp_server.messages
    assert "plain ASCII" in message.get_content()
