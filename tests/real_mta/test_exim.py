"""smsctl's email channel against a real MTA (exim4, see conftest.py), as an operator runs it."""

from __future__ import annotations

import smtplib
import ssl
from pathlib import Path

import pytest

from tests.real_mta.conftest import HOST, PASSWORD, USER, Exim
from tests.support.cli import invoke

FROM = "noreply@acme.test"
TO = "alice@example.test"
SUBJECT = "验证码 ${code} für Zoë"
HTML = "<p>您好 ${name}，您的验证码是 <b>${code}</b>。</p>\n<p>Café “Zoë” — ok</p>\n"


@pytest.fixture(scope="module")
def exim(start) -> Exim:
    """exim as configured by default: 8BITMIME offered."""
    return start()


@pytest.fixture(scope="module")
def exim_7bit(start) -> Exim:
    """exim without 8BITMIME (accept_8bitmime = false)."""
    return start(eightbitmime=False)


@pytest.fixture
def mta(exim: Exim) -> Exim:
    exim.clear()
    return exim


def port_of(exim: Exim, security: str) -> int:
    return exim.ssl_port if security == "ssl" else exim.starttls_port


def add_account(
    exim: Exim,
    security: str = "starttls",
    *,
    name: str = "mta",
    host: str = HOST,
    password: str = PASSWORD,
    ca: bool = True,
) -> None:
    args = ["email", "account", "add", name, "--host", host, "--port", str(port_of(exim, security))]
    args += ["--security", security, "--username", USER, "--from", FROM]
    args += ["--from-name", "Zoë Acme 运维", "--secret-stdin"]
    if ca:
        args += ["--ca-file", exim.ca_file]
    added = invoke(*args, input=password + "\n")
    assert added.exit_code == 0, added.all_output


@pytest.fixture
def template(tmp_path: Path) -> None:
    html = tmp_path / "code.html"
    html.write_text(HTML, encoding="utf-8")
    added = invoke(
        "email", "template", "add", "code", "--scenario", "login", "--subject", SUBJECT,
        "--html", str(html),
    )  # fmt: skip
    assert added.exit_code == 0, added.all_output


def send_test(to: str = TO):
    return invoke(
        "--json", "email", "send-test", "--to", to, "--scenario", "login", "--account", "mta",
        "--param", "code=424242", "--param", "name=王小明", "--yes",
    )  # fmt: skip


def quits_logged(exim: Exim) -> int:
    return exim.mainlog().count("QUIT received from [127.0.0.1]")


# --- the servers are what the tests need them to be ---------------------------------------------


def test_exim_offers_auth_only_over_tls_and_8bitmime_as_configured(exim, exim_7bit) -> None:
    context = ssl.create_default_context(cafile=exim.ca_file)
    with smtplib.SMTP(HOST, exim.starttls_port, timeout=10) as client:
        client.ehlo()
        assert client.has_extn("starttls") and not client.has_extn("auth")
        client.starttls(context=context)
        client.ehlo()
        assert client.has_extn("auth") and client.has_extn("8bitmime")
    context = ssl.create_default_context(cafile=exim_7bit.ca_file)
    with smtplib.SMTP_SSL(HOST, exim_7bit.ssl_port, timeout=10, context=context) as client:
        client.ehlo()
        assert client.has_extn("auth") and not client.has_extn("8bitmime")
    assert exim.version().startswith("Exim version 4.")


# --- sends that work ----------------------------------------------------------------------------


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_validate_and_send_over_verified_tls_with_a_private_ca(mta, template, security) -> None:
    add_account(mta, security)
    before = quits_logged(mta)
    validated = invoke("email", "validate", "mta")
    assert validated.exit_code == 0, validated.all_output
    sent = send_test()
    assert sent.exit_code == 0, sent.all_output
    [received] = mta.messages()
    assert received["Message-ID"] == sent.json()["message_id"]
    assert received["Subject"] == "验证码 424242 für Zoë"
    assert "esmtpsa" in received["Received"]  # ESMTP, TLS, authenticated
    assert "王小明" in received.get_body(("html",)).get_content()
    assert quits_logged(mta) == before + 2  # validate and send-test both ended with QUIT


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_a_server_without_8bitmime_gets_7bit_clean_mail_with_the_text_intact(
    exim_7bit, template, security
) -> None:
    exim_7bit.clear()
    add_account(exim_7bit, security)
    sent = send_test()
    assert sent.exit_code == 0, sent.all_output
    [message_id] = exim_7bit.queued_ids()
    raw = exim_7bit.raw_message(message_id)
    assert max(raw) < 0x80, "8-bit bytes reached a server that does not offer 8BITMIME"
    assert b"Content-Transfer-Encoding: 8bit" not in raw
    [received] = exim_7bit.messages()
    assert received["Subject"] == "验证码 424242 für Zoë"
    assert received["From"].addresses[0].display_name == "Zoë Acme 运维"
    html = received.get_body(("html",)).get_content()
    assert html == HTML.replace("${name}", "王小明").replace("${code}", "424242")
    text = received.get_body(("plain",)).get_content()
    assert "您好 王小明，您的验证码是 424242。" in text and "Café “Zoë” — ok" in text


# --- refusals -----------------------------------------------------------------------------------


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_an_unknown_ca_is_refused(mta, template, security) -> None:
    add_account(mta, security, ca=False)
    result = invoke("--json", "email", "validate", "mta")
    assert result.exit_code == 7, result.all_output
    assert result.error()["code"] == "TLS-UNKNOWN-CA"
    assert send_test().exit_code == 7
    assert mta.queued_ids() == []


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_a_wrong_host_name_is_refused_even_with_the_right_ca(mta, template, security) -> None:
    add_account(mta, security, host="localhost")  # the certificate names 127.0.0.1 only
    result = invoke("--json", "email", "validate", "mta")
    assert result.exit_code == 7, result.all_output
    assert result.error()["code"] == "TLS-HOSTNAME-MISMATCH"
    assert send_test().exit_code == 7
    assert mta.queued_ids() == []


def test_a_wrong_password_is_exit_4_and_the_session_ends_with_quit(mta, template) -> None:
    add_account(mta, password="not-the-password")
    before = quits_logged(mta)
    result = invoke("--json", "email", "validate", "mta")
    assert result.exit_code == 4, result.all_output
    assert result.error()["code"] == "535"
    assert "not-the-password" not in result.all_output
    assert quits_logged(mta) == before + 1
    assert send_test().exit_code == 4
    assert mta.queued_ids() == []


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_a_rejected_recipient_is_exit_5_and_the_session_ends_with_quit(
    mta, template, security
) -> None:
    add_account(mta, security)
    before = quits_logged(mta)
    result = send_test(to="reject@example.test")
    assert result.exit_code == 5, result.all_output
    error = result.error()
    assert error["code"] == "550"
    assert "Recipient address rejected" in error["message"]
    # The QUIT ACL logs before exim answers 221, so this count is settled when smsctl exits; the
    # "closed by QUIT" line and any TLS teardown note are written after it, in no fixed order.
    assert quits_logged(mta) == before + 1
    assert mta.queued_ids() == []


# --- the installed console script, as a pipeline runs it ----------------------------------------


@pytest.mark.e2e
def test_the_installed_smsctl_sends_through_exim_with_the_secret_from_the_environment(
    exim_7bit, tmp_path: Path
) -> None:
    from tests.e2e.conftest import smsctl

    exim_7bit.clear()
    env = {
        "SMSCTL_SECRET_EMAIL_PIPELINE": PASSWORD,
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",  # no keyring is needed
    }
    html = tmp_path / "alert.html"
    html.write_text("<p>磁盘告警：${host} — ${code}</p>\n", encoding="utf-8")
    steps = [
        ("email", "account", "add", "pipeline", "--host", HOST,
         "--port", str(exim_7bit.ssl_port), "--security", "ssl", "--username", USER,
         "--from", FROM, "--ca-file", exim_7bit.ca_file),
        ("email", "template", "add", "alert", "--scenario", "alert", "--subject", "告警 ${host}",
         "--html", str(html)),
        ("email", "validate", "pipeline"),
        ("email", "send-test", "--to", TO, "--scenario", "alert", "--param", "host=db-1",
         "--param", "code=E42", "--yes"),
    ]  # fmt: skip
    for step in steps:
        done = smsctl("--json", "--no-input", *step, env=env)
        assert done.exit_code == 0, (step, done.stderr)
    [received] = exim_7bit.messages()
    assert received["Message-ID"] == done.json()["message_id"]
    assert received["Subject"] == "告警 db-1"
    assert received.get_body(("html",)).get_content() == "<p>磁盘告警：db-1 — E42</p>\n"
    assert max(exim_7bit.raw_message(exim_7bit.queued_ids()[0])) < 0x80
