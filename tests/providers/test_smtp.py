"""The SMTP adapter against a real SMTP server (the aiosmtpd emulator) on loopback."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from smsctl.core.errors import SmsctlError, UsageError
from smsctl.core.templating import render
from smsctl.providers import smtp
from smsctl.sandbox.smtp import SmtpEmulator

CANARY = "CANARY-smtp-pw-5d1c"
FROM = "noreply@acme.test"


@pytest.fixture
def access(smtp_server: SmtpEmulator) -> Callable[..., smtp.SmtpAccess]:
    info = smtp_server.info()["smtp"]

    def make(**overrides: Any) -> smtp.SmtpAccess:
        fields = {
            "host": "127.0.0.1",
            "port": info["starttls_port"],
            "security": "starttls",
            "username": info["username"],
            "password": info["password"],
            "from_address": FROM,
            "ca_file": info["ca_file"],
            "timeout": 3.0,
        }
        fields.update(overrides)
        return smtp.SmtpAccess(**fields)

    return make


def ssl_port(server: SmtpEmulator) -> int:
    return server.info()["smtp"]["ssl_port"]


def failure(call: Callable[[], object]) -> SmsctlError:
    with pytest.raises(SmsctlError) as caught:
        call()
    return caught.value


def simple_message(to: str | list[str] = "alice@example.test") -> Any:
    return smtp.build_message(FROM, "Acme", to, "Hello", "plain body", None)


def test_repr_hides_password(access) -> None:
    account = access(password=CANARY)
    assert CANARY not in repr(account)
    assert "password" not in repr(account)


def test_unknown_security_mode_is_a_usage_error(access) -> None:
    assert failure(lambda: access(security="tls")).exit_code == 2


def test_check_over_starttls_and_implicit_tls(access, smtp_server) -> None:
    smtp.check(access())
    smtp.check(access(security="ssl", port=ssl_port(smtp_server)))
    smtp.check(access(host="localhost"))
    assert smtp_server.messages == []


def test_send_verification_mail_and_parse_it_back(access, smtp_server) -> None:
    values = {"code": "<123&456>", "app": "Acme iOS"}
    html_template = "<p>Your ${app} code is <b>${code}</b>.</p><p>Costs $$0.</p>"
    html = render(html_template, values, escape_html=True)
    subject = render("${app} login code", values, allow_extra=True)
    message = smtp.build_message(FROM, "Acme Login", "alice@example.test", subject, None, html)
    outcome = smtp.send(access(), message)

    assert outcome.refused == {}
    assert outcome.message_id.startswith("<") and outcome.message_id.endswith("@acme.test>")
    [received] = smtp_server.messages
    assert received["Message-ID"] == outcome.message_id
    assert received["Subject"] == "Acme iOS login code"
    assert received["X-Sandbox-Mail-From"] == FROM
    assert received["X-Sandbox-Rcpt-To"] == "alice@example.test"
    assert received["From"].addresses[0].display_name == "Acme Login"
    assert received.get_content_type() == "multipart/alternative"
    text_part = received.get_body(("plain",)).get_content()
    html_part = received.get_body(("html",)).get_content()
    assert "Your Acme iOS code is <123&456>." in text_part
    assert "Costs $0." in text_part
    assert "<b>&lt;123&amp;456&gt;</b>" in html_part
    assert "<123&456>" not in html_part


def test_send_over_implicit_tls_writes_eml(access, smtp_server) -> None:
    smtp.send(access(security="ssl", port=ssl_port(smtp_server)), simple_message())
    [received] = smtp_server.messages
    assert received.get_content_type() == "text/plain"
    files = sorted(smtp_server.mailbox.glob("*.eml"))
    assert files and b"plain body" in files[-1].read_bytes()


def test_wrong_password_is_a_credential_error_without_the_password(access, smtp_server) -> None:
    error = failure(lambda: smtp.check(access(password=CANARY)))
    assert error.exit_code == 4
    assert error.code == "535"
    assert CANARY not in str(error.to_dict()) + repr(error)


@pytest.mark.parametrize("mode", ["starttls", "ssl"])
def test_untrusted_ca_is_refused_and_never_falls_back(access, smtp_server, mode) -> None:
    port = ssl_port(smtp_server) if mode == "ssl" else smtp_server.starttls_port
    error = failure(
        lambda: smtp.send(access(ca_file=None, security=mode, port=port), simple_message())
    )
    assert error.exit_code == 7
    assert error.code == "TLS-UNKNOWN-CA"
    assert "--ca-file" in error.hint
    assert smtp_server.messages == []


@pytest.fixture(scope="module")
def misnamed_server(tmp_path_factory) -> Iterator[SmtpEmulator]:
    with SmtpEmulator(
        mailbox_dir=tmp_path_factory.mktemp("misnamed"), cert_hosts=("mail.example.test",)
    ) as server:
        yield server


@pytest.fixture(scope="module")
def expired_server(tmp_path_factory) -> Iterator[SmtpEmulator]:
    with SmtpEmulator(mailbox_dir=tmp_path_factory.mktemp("expired"), cert_expired=True) as server:
        yield server


def server_access(server: SmtpEmulator, **overrides: Any) -> smtp.SmtpAccess:
    info = server.info()["smtp"]
    fields = dict(
        host="127.0.0.1", port=info["starttls_port"], security="starttls",
        username=info["username"], password=info["password"], from_address=FROM,
        ca_file=info["ca_file"], timeout=3.0,
    )  # fmt: skip
    fields.update(overrides)
    return smtp.SmtpAccess(**fields)


def test_name_mismatch_is_refused_even_with_the_right_ca(misnamed_server) -> None:
    error = failure(lambda: smtp.send(server_access(misnamed_server), simple_message()))
    assert error.exit_code == 7
    assert error.code == "TLS-HOSTNAME-MISMATCH"
    assert "name" in error.message
    assert misnamed_server.messages == []


def test_expired_certificate_is_refused(expired_server) -> None:
    port = expired_server.info()["smtp"]["ssl_port"]
    error = failure(lambda: smtp.check(server_access(expired_server, security="ssl", port=port)))
    assert error.exit_code == 7
    assert error.code == "TLS-EXPIRED"
    assert "expired" in error.message


def test_implicit_tls_against_starttls_port_names_the_settings(access) -> None:
    error = failure(lambda: smtp.check(access(security="ssl")))
    assert error.exit_code == 3
    assert error.code == "TLS-WRONG-MODE"
    assert "--security" in error.hint and "--port" in error.hint


def test_plain_connection_against_implicit_tls_port_times_out(access, smtp_server) -> None:
    error = failure(lambda: smtp.check(access(port=ssl_port(smtp_server), timeout=0.5)))
    assert error.exit_code == 7
    assert error.code == "TIMEOUT"
    assert "--security" in error.hint


def test_no_tls_means_no_auth_offered(access) -> None:
    error = failure(lambda: smtp.check(access(security="none")))
    assert error.exit_code == 3
    assert error.code == "AUTH-NOT-OFFERED"
    assert "--security" in error.hint


def test_starttls_not_offered_names_the_settings(access) -> None:
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Sink

    from smsctl.sandbox.smtp import free_port

    plain = Controller(Sink(), hostname="127.0.0.1", port=free_port("127.0.0.1"))
    plain.start()
    try:
        error = failure(lambda: smtp.check(access(port=plain.port)))
    finally:
        plain.stop()
    assert error.exit_code == 3
    assert error.code == "STARTTLS-NOT-OFFERED"
    assert "--security" in error.hint


def test_unreadable_ca_file_is_a_config_error(access, tmp_path) -> None:
    error = failure(lambda: smtp.check(access(ca_file=str(tmp_path / "missing.pem"))))
    assert error.exit_code == 3
    assert error.code == "CA-FILE-UNREADABLE"


def test_recipient_refused_is_a_provider_refusal(access, smtp_server) -> None:
    error = failure(lambda: smtp.send(access(), simple_message("reject@example.test")))
    assert error.exit_code == 5
    assert error.code == "550"
    assert "reject@example.test" in error.message
    assert smtp_server.messages == []


def test_partly_refused_recipients_are_reported(access, smtp_server) -> None:
    outcome = smtp.send(access(), simple_message(["reject@example.test", "bob@example.test"]))
    assert list(outcome.refused) == ["reject@example.test"]
    assert outcome.refused["reject@example.test"][0] == 550
    assert smtp_server.messages[0]["X-Sandbox-Rcpt-To"] == "bob@example.test"


def test_transient_recipient_refusal_is_retryable(access) -> None:
    error = failure(lambda: smtp.send(access(), simple_message("busy@example.test")))
    assert (error.exit_code, error.code) == (7, "451")


def test_sender_refused(access) -> None:
    message = smtp.build_message("blocked@acme.test", None, "a@example.test", "s", "t", None)
    error = failure(lambda: smtp.send(access(from_address="blocked@acme.test"), message))
    assert (error.exit_code, error.code) == (5, "SENDER-REFUSED")


def test_timeout_after_data_says_it_may_have_been_delivered(access) -> None:
    error = failure(lambda: smtp.send(access(timeout=0.5), simple_message("slow@example.test")))
    assert error.exit_code == 7
    assert error.code == "TIMEOUT-AFTER-DATA"
    assert "MAY have been delivered" in error.hint


def test_connection_refused_and_unknown_host_are_unavailable(access) -> None:
    from smsctl.sandbox.smtp import free_port

    refused = failure(lambda: smtp.check(access(port=free_port("127.0.0.1"))))
    assert (refused.exit_code, refused.code) == (7, "CONNECTION-REFUSED")
    unknown = failure(lambda: smtp.check(access(host="no-such-host.invalid")))
    assert (unknown.exit_code, unknown.code) == (7, "HOST-NOT-FOUND")


def test_build_message_generates_text_from_html_and_refuses_header_injection() -> None:
    message = smtp.build_message(
        FROM, None, ["a@example.test"], "Hi", None, '<p>Go <a href="https://x.test">here</a></p>',
        message_id_domain="mail.acme.test",
    )  # fmt: skip
    assert message.get_body(("plain",)).get_content() == "Go here (https://x.test)\n"
    assert message["Message-ID"].endswith("@mail.acme.test>")
    with pytest.raises(UsageError):
        smtp.build_message(FROM, None, "a@example.test", "Hi\r\nBcc: x@evil.test", "t", None)
