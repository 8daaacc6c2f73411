"""`smsctl email ...` against hostile SMTP servers on loopback: one that trickles, one that never
ends a reply, one that echoes the AUTH line (with the password in it) back."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from tests.conftest import CANARY
from tests.support.cli import invoke
from tests.support.hostile_smtp import hostile_smtp

FROM = "noreply@acme.test"
USER = "ops@acme.test"


def add_account(port: int, name: str = "hostile") -> None:
    added = invoke(
        "email", "account", "add", name, "--host", "127.0.0.1", "--port", str(port),
        "--security", "none", "--username", USER, "--from", FROM, "--secret-stdin",
        input=CANARY + "\n",
    )  # fmt: skip
    assert added.exit_code == 0, added.all_output


def add_template(tmp_path: Path) -> None:
    html = tmp_path / "code.html"
    html.write_text("<p>Your code is ${code}</p>\n")
    added = invoke(
        "email", "template", "add", "code", "--scenario", "login", "--subject", "Code",
        "--html", str(html),
    )  # fmt: skip
    assert added.exit_code == 0, added.all_output


def set_deadline(config_file: Path, seconds: float) -> None:
    text = config_file.read_text()
    config_file.write_text(f"[defaults]\ndeadline = {seconds}\n\n" + text)


def audit_sends(state_dir: Path) -> list[dict]:
    lines = (state_dir / "audit.jsonl").read_text().splitlines()
    return [r for r in map(json.loads, lines) if r.get("event") == "send"]


# --- deadlines --------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["trickle-banner", "endless-ehlo"])
def test_a_trickling_server_cannot_hold_validate_past_the_deadline(
    config_file: Path, mode: str
) -> None:
    # Without a deadline the server would hold the client for 60 s (30,000 bytes, 2 ms each).
    with hostile_smtp(mode, max_bytes=30_000) as port:
        add_account(port)
        set_deadline(config_file, 1)
        result = invoke("--json", "email", "validate", "hostile")
    assert result.exit_code == 7, result.all_output
    error = result.error()
    assert error["code"] == "DEADLINE"
    assert "1 s" in error["message"]
    assert "[defaults] deadline" in error["hint"]


def test_send_test_past_the_deadline_is_recorded_as_failed(
    config_file: Path, state_dir: Path, tmp_path: Path
) -> None:
    with hostile_smtp("trickle-banner", max_bytes=30_000) as port:
        add_account(port)
        add_template(tmp_path)
        set_deadline(config_file, 1)
        result = invoke(
            "--json", "email", "send-test", "--to", "alice@example.test", "--scenario", "login",
            "--account", "hostile", "--param", "code=123456", "--yes",
        )  # fmt: skip
    assert result.exit_code == 7, result.all_output
    assert result.error()["code"] == "DEADLINE"
    [record] = audit_sends(state_dir)
    assert (record["outcome"], record["code"]) == ("failed", "DEADLINE")


def test_the_deadline_setting_is_checked(config_file: Path) -> None:
    add_account(1025)
    set_deadline(config_file, 0)
    result = invoke("config", "check")
    assert result.exit_code == 3
    assert "deadline" in result.all_output


# --- secrets echoed back by the server ----------------------------------------------------------


def encoded_forms() -> list[str]:
    secret = CANARY.encode()
    return [
        base64.b64encode(secret).decode(),
        base64.b64encode(f"\0{USER}\0{CANARY}".encode()).decode(),  # AUTH PLAIN
        base64.b64encode(secret).decode().rstrip("="),
        secret.hex(),
    ]


@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN"])
def test_an_echoed_auth_line_never_shows_the_password_in_any_form(
    state_dir: Path, tmp_path: Path, mechanism: str
) -> None:
    with hostile_smtp("echo-auth", mechanisms=mechanism) as port:
        add_account(port)
        add_template(tmp_path)
        validate = invoke("-v", "email", "validate", "hostile")
        validate_json = invoke("--json", "email", "validate", "hostile")
        send = invoke(
            "-v", "email", "send-test", "--to", "alice@example.test", "--scenario", "login",
            "--account", "hostile", "--param", "code=123456", "--yes",
        )  # fmt: skip
        doctor = invoke("--json", "doctor", "--channel", "email")
    for result in (validate, validate_json, send):
        assert result.exit_code == 4, result.all_output
    audit = (state_dir / "audit.jsonl").read_text()
    outputs = [r.all_output for r in (validate, validate_json, send, doctor)] + [audit]
    for text in outputs:
        assert CANARY not in text
        for form in encoded_forms():
            assert form not in text, form
    # The server's reply is still shown and recorded, the echoed credential masked.
    assert "Authentication failed" in validate.stderr and "****" in validate.stderr
    assert "Authentication failed" in audit_sends(state_dir)[0]["message"]
