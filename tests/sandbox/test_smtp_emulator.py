"""The SMTP emulator itself, driven with plain smtplib (independent of smsctl's adapter)."""

from __future__ import annotations

import smtplib
import ssl
from email import policy
from email.parser import BytesParser

import pytest

from smsctl.sandbox.smtp import SmtpEmulator


def client_context(server: SmtpEmulator) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=server.info()["smtp"]["ca_file"])


def starttls_client(server: SmtpEmulator) -> smtplib.SMTP:
    client = smtplib.SMTP("127.0.0.1", server.starttls_port, timeout=3)
    client.starttls(context=client_context(server))
    client.ehlo()
    return client


def test_info_describes_how_to_connect(smtp_server: SmtpEmulator) -> None:
    info = smtp_server.info()["smtp"]
    assert set(info) == {
        "host", "starttls_port", "ssl_port", "username", "password", "ca_file", "mailbox",
    }  # fmt: skip
    assert info["host"] == "127.0.0.1"
    assert 0 < info["starttls_port"] != info["ssl_port"] > 0
    with open(info["ca_file"]) as pem:
        assert "BEGIN CERTIFICATE" in pem.read()


def test_starttls_port_requires_tls_before_auth_and_mail(smtp_server: SmtpEmulator) -> None:
    with smtplib.SMTP("127.0.0.1", smtp_server.starttls_port, timeout=3) as client:
        client.ehlo()
        assert client.has_extn("starttls")
        assert not client.has_extn("auth")
        code, _ = client.mail("a@example.test")
        assert code == 530


def test_mail_needs_authentication_on_both_ports(smtp_server: SmtpEmulator) -> None:
    with starttls_client(smtp_server) as client:
        assert client.mail("a@example.test")[0] == 530
    with smtplib.SMTP_SSL(
        "127.0.0.1", smtp_server.ssl_port, timeout=3, context=client_context(smtp_server)
    ) as client:
        client.ehlo()
        assert client.has_extn("auth")
        assert client.mail("a@example.test")[0] == 530


@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN"])
def test_auth_mechanisms_accept_only_the_seeded_password(smtp_server, mechanism) -> None:
    with starttls_client(smtp_server) as client:
        client.ehlo()
        client.user, client.password = smtp_server.user, "wrong"
        with pytest.raises(smtplib.SMTPAuthenticationError) as caught:
            client.auth(mechanism, getattr(client, f"auth_{mechanism.lower()}"))
        assert caught.value.smtp_code == 535
        client.user, client.password = smtp_server.user, smtp_server.password
        code, _ = client.auth(mechanism, getattr(client, f"auth_{mechanism.lower()}"))
        assert code == 235


def test_received_mail_kept_in_memory_and_as_eml(smtp_server: SmtpEmulator) -> None:
    with starttls_client(smtp_server) as client:
        client.login(smtp_server.user, smtp_server.password)
        refused = client.sendmail(
            "from@acme.test",
            ["a@example.test", "reject@example.test"],
            b"Subject: hi\r\nTo: a@example.test\r\n\r\nbody\r\n",
        )
    assert refused == {"reject@example.test": (550, refused["reject@example.test"][1])}
    [message] = smtp_server.messages
    assert message["Subject"] == "hi"
    assert message["X-Sandbox-Mail-From"] == "from@acme.test"
    assert message["X-Sandbox-Rcpt-To"] == "a@example.test"
    eml = sorted(smtp_server.mailbox.glob("*.eml"))[-1]
    parsed = BytesParser(policy=policy.default).parsebytes(eml.read_bytes())
    assert parsed["Subject"] == "hi"
    assert parsed.get_content().strip() == "body"


def test_reserved_addresses_trigger_faults(smtp_server: SmtpEmulator) -> None:
    with starttls_client(smtp_server) as client:
        client.login(smtp_server.user, smtp_server.password)
        assert client.mail("blocked@acme.test")[0] == 553
        client.rset()
        client.mail("from@acme.test")
        assert client.rcpt("busy@example.test")[0] == 451
        assert client.rcpt("reject@example.test")[0] == 550
        assert client.rcpt("fine@example.test")[0] == 250
    assert smtp_server.messages == []


def test_stop_releases_ports(tmp_path) -> None:
    server = SmtpEmulator(mailbox_dir=tmp_path / "box").start()
    port = server.starttls_port
    assert (tmp_path / "box").is_dir()
    server.stop()
    with pytest.raises(OSError):
        smtplib.SMTP("127.0.0.1", port, timeout=1)


# --- a server without 8BITMIME, and what each session did ---------------------------------------

EIGHT_BIT = "Subject: hi\r\nFrom: a@acme.test\r\nTo: b@example.test\r\n\r\ncafé\r\n".encode()
SEVEN_BIT = b"Subject: hi\r\nFrom: a@acme.test\r\nTo: b@example.test\r\n\r\ncaf=C3=A9\r\n"


@pytest.fixture
def without_8bitmime(smtp_server: SmtpEmulator):
    smtp_server.eightbitmime = False
    yield smtp_server
    smtp_server.eightbitmime = True


def test_8bitmime_is_offered_by_default(smtp_server: SmtpEmulator) -> None:
    with starttls_client(smtp_server) as client:
        assert client.has_extn("8bitmime")
        client.login(smtp_server.user, smtp_server.password)
        assert client.mail("a@acme.test", ["BODY=8BITMIME"])[0] == 250


def test_without_8bitmime_ehlo_does_not_offer_it(without_8bitmime: SmtpEmulator) -> None:
    with starttls_client(without_8bitmime) as client:
        assert not client.has_extn("8bitmime")
        assert client.has_extn("auth")
        client.login(without_8bitmime.user, without_8bitmime.password)
        code, reply = client.mail("a@acme.test", ["BODY=8BITMIME"])
        assert code == 555 and b"8BITMIME" in reply


def test_without_8bitmime_8bit_data_is_refused_and_7bit_data_accepted(
    without_8bitmime: SmtpEmulator,
) -> None:
    with starttls_client(without_8bitmime) as client:
        client.login(without_8bitmime.user, without_8bitmime.password)
        with pytest.raises(smtplib.SMTPDataError) as refused:
            client.sendmail("a@acme.test", ["b@example.test"], EIGHT_BIT)
        assert refused.value.smtp_code == 554
        assert without_8bitmime.messages == []
        assert client.sendmail("a@acme.test", ["b@example.test"], SEVEN_BIT) == {}
    assert len(without_8bitmime.messages) == 1


def test_sessions_record_commands_without_arguments_and_the_quit(
    smtp_server: SmtpEmulator,
) -> None:
    with starttls_client(smtp_server) as client:
        client.login(smtp_server.user, smtp_server.password)
        client.mail("a@acme.test")
        client.rcpt("reject@example.test")
    # smtplib's context manager ends with QUIT; a plain close() does not.
    implicit = smtplib.SMTP_SSL(
        "127.0.0.1", smtp_server.ssl_port, timeout=3, context=client_context(smtp_server)
    )
    implicit.ehlo()
    implicit.close()
    first, second = smtp_server.sessions
    assert first.port == "starttls"
    assert first.commands == [
        "EHLO 250", "STARTTLS 220", "EHLO 250", "AUTH 235", "MAIL 250", "RCPT 550", "QUIT 221",
    ]  # fmt: skip
    assert first.quit
    assert smtp_server.password not in repr(first)
    assert second.port == "ssl" and second.commands == ["EHLO 250"]
    assert not second.quit
