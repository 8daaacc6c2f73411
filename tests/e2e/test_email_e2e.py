"""End-to-end: the installed console script (no TTY, secret from the environment, --json) against
the SMTP emulator running in the test process."""

from __future__ import annotations

from pathlib import Path

import pytest

from smsctl.sandbox.smtp import SmtpEmulator
from tests.conftest import CANARY
from tests.e2e.conftest import smsctl

FROM = "noreply@acme.test"
TO = "carol@example.test"


@pytest.fixture
def env(smtp_server: SmtpEmulator) -> dict[str, str]:
    """Secrets from the environment only: a keyring that always fails proves none is needed."""
    password = smtp_server.info()["smtp"]["password"]
    return {
        "SMSCTL_SECRET_EMAIL_TLS": password,
        "SMSCTL_SECRET_EMAIL_IMPLICIT": password,
        "SMSCTL_SECRET_EMAIL_WRONG": CANARY,
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
    }


def add(server: SmtpEmulator, name: str, security: str, env: dict[str, str], *, ca: bool = True):
    smtp = server.info()["smtp"]
    port = smtp["ssl_port"] if security == "ssl" else smtp["starttls_port"]
    args = ["--json", "--no-input", "email", "account", "add", name, "--host", "127.0.0.1"]
    args += ["--port", str(port), "--security", security, "--username", smtp["username"]]
    args += ["--from", FROM]
    if ca:
        args += ["--ca-file", smtp["ca_file"]]
    return smsctl(*args, env=env)


@pytest.fixture
def template(tmp_path: Path, env: dict[str, str]) -> None:
    html = tmp_path / "reset.html"
    html.write_text("<p>Reset code for ${user}: <b>${code}</b></p>\n")
    added = smsctl(
        "--json", "email", "template", "add", "reset", "--scenario", "reset-password",
        "--subject", "Password reset for ${user}", "--html", str(html), env=env,
    )  # fmt: skip
    assert added.exit_code == 0, added.stderr
    assert added.json()["variables"] == ["user", "code"]


def send_test(env: dict[str, str], *extra: str, to: str = TO):
    return smsctl(
        "--json", "email", "send-test", "--to", to, "--scenario", "reset-password",
        "--param", "user=<dave>", "--param", "code=42&7", "--yes", *extra, env=env,
    )  # fmt: skip


@pytest.mark.parametrize(("name", "security"), [("tls", "starttls"), ("implicit", "ssl")])
def test_add_validate_send_and_read_the_log(
    smtp_server: SmtpEmulator, env, template, name: str, security: str, config_file: Path
) -> None:
    added = add(smtp_server, name, security, env)
    assert added.exit_code == 0, added.stderr
    assert added.json()["secret"] == {
        "source": "env",
        "name": f"SMSCTL_SECRET_EMAIL_{name.upper()}",
        "reason": None,
    }
    validated = smsctl("--json", "email", "validate", name, env=env)
    assert validated.exit_code == 0, validated.stderr
    assert validated.json()["active"] is True

    sent = send_test(env)
    assert sent.exit_code == 0, sent.stderr
    report = sent.json()
    [message] = smtp_server.messages
    assert message.get_content_type() == "multipart/alternative"
    assert message["Subject"] == "Password reset for <dave>"
    assert message["Message-ID"] == report["message_id"]
    assert "<b>42&amp;7</b>" in message.get_body(("html",)).get_content()
    assert "Reset code for <dave>: 42&7" in message.get_body(("plain",)).get_content()

    log = smsctl("--json", "log", "--channel", "email", "--sends", env=env)
    assert log.exit_code == 0, log.stderr
    [entry] = log.json()
    assert entry["message_id"] == report["message_id"]
    assert entry["to"] == "ca***@example.test" and entry["outcome"] == "accepted"
    password = env[f"SMSCTL_SECRET_EMAIL_{name.upper()}"]
    everything = added.stdout + validated.stdout + sent.stdout + sent.stderr + log.stdout
    assert password not in everything
    assert password not in config_file.read_text()


def test_wrong_password_is_exit_4_and_nothing_is_sent(
    smtp_server: SmtpEmulator, env, template
) -> None:
    assert add(smtp_server, "wrong", "starttls", env).exit_code == 0
    result = send_test(env, "--account", "wrong")
    assert result.exit_code == 4
    assert '"code": "535"' in result.stderr and result.stdout == ""
    assert CANARY not in result.stderr
    assert smtp_server.messages == []
    validated = smsctl("email", "validate", "wrong", env=env)
    assert validated.exit_code == 4 and "Traceback" not in validated.stderr


def test_untrusted_certificate_is_exit_7_and_nothing_is_sent(
    smtp_server: SmtpEmulator, env, template
) -> None:
    assert add(smtp_server, "tls", "starttls", env, ca=False).exit_code == 0
    result = send_test(env, "--account", "tls")
    assert result.exit_code == 7
    assert "TLS-UNKNOWN-CA" in result.stderr
    assert smtp_server.messages == []


def test_bad_variables_are_refused_before_connecting(
    smtp_server: SmtpEmulator, env, template, state_dir: Path
) -> None:
    assert add(smtp_server, "tls", "starttls", env).exit_code == 0
    result = smsctl(
        "--json", "email", "send-test", "--to", TO, "--scenario", "reset-password",
        "--account", "tls", "--param", "code=1", "--param", "colour=red", "--yes", env=env,
    )  # fmt: skip
    assert result.exit_code == 2
    assert "missing value for user" in result.stderr and "unknown variable colour" in result.stderr
    assert smtp_server.messages == []
    assert not (state_dir / "guard.jsonl").exists()


def test_security_none_to_a_remote_host_is_refused(env, config_file: Path) -> None:
    result = smsctl(
        "email", "account", "add", "plain", "--host", "smtp.example.com", "--security", "none",
        "--username", "u", "--from", FROM, env={**env, "SMSCTL_SECRET_EMAIL_PLAIN": "pw"},
    )  # fmt: skip
    assert result.exit_code == 2
    assert "--allow-insecure-endpoint" in result.stderr
    assert not config_file.exists()


def test_delete_needs_yes_without_a_tty(smtp_server: SmtpEmulator, env, template) -> None:
    assert add(smtp_server, "tls", "starttls", env).exit_code == 0
    refused = smsctl("email", "account", "delete", "tls", env=env)
    assert refused.exit_code == 3 and "--yes" in refused.stderr
    deleted = smsctl("--json", "email", "account", "delete", "tls", "--yes", env=env)
    assert deleted.exit_code == 0, deleted.stderr
    assert deleted.json()["keyring_entry_deleted"] is False  # the secret lives in the env
    assert smsctl("--json", "email", "account", "list", env=env).json() == []
