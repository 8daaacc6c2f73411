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
