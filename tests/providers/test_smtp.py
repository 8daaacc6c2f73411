"""The SMTP adapter against a real SMTP server (the aiosmtpd emulator) on loopback."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from smsctl.core.errors import SmsctlError, UsageError
from smsctl.core.templating import render
from smsctl.providers import smtp
from smsctl.sandbox.smtp import SmtpEmulator
from tests.support.worded import worded_hint

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
    assert "--ca-file" in worded_hint(error, "email")
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
    assert "--security" in worded_hint(error, "email") and "--port" in worded_hint(error, "email")


def test_plain_connection_against_implicit_tls_port_times_out(access, smtp_server) -> None:
    error = failure(lambda: smtp.check(access(port=ssl_port(smtp_server), timeout=0.5)))
    assert error.exit_code == 7
    assert error.code == "TIMEOUT"
    assert "--security" in worded_hint(error, "email")


def test_no_tls_means_no_auth_offered(access) -> None:
    error = failure(lambda: smtp.check(access(security="none")))
    assert error.exit_code == 3
    assert error.code == "AUTH-NOT-OFFERED"
    assert "--security" in worded_hint(error, "email")


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
    assert "--security" in worded_hint(error, "email")


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
    assert "MAY have been delivered" in worded_hint(error, "email")


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


# --- 7-bit transfer encoding, QUIT after a refusal ----------------------------------------------

SUBJECT = "验证码 for Zoë"
TEXT = "您的验证码是 123456。\nZoë — “quoted” and café\n"
HTML = "<p>您的验证码是 <b>123456</b>, Zoë</p>\n"


@pytest.fixture(scope="module")
def seven_bit_server(tmp_path_factory) -> Iterator[SmtpEmulator]:
    """A server without 8BITMIME: it refuses 8-bit data at the end of DATA."""
    with SmtpEmulator(
        mailbox_dir=tmp_path_factory.mktemp("seven-bit"), eightbitmime=False
    ) as server:
        yield server


def assert_arrived_7bit_clean(server: SmtpEmulator) -> None:
    [received] = server.messages
    raw = sorted(server.mailbox.glob("*.eml"))[-1].read_bytes()
    assert max(raw) < 0x80, "8-bit bytes on the wire"
    assert received["Subject"] == SUBJECT
    assert received["From"].addresses[0].display_name == "Zoë Acme"
    text_part = received.get_body(("plain",))
    assert text_part["Content-Transfer-Encoding"] in ("quoted-printable", "base64")
    assert text_part.get_content() == TEXT
    assert received.get_body(("html",)).get_content() == HTML


@pytest.mark.parametrize("mode", ["starttls", "ssl"])
def test_non_ascii_mail_is_7bit_clean_for_a_server_without_8bitmime(seven_bit_server, mode) -> None:
    seven_bit_server.clear()
    port = ssl_port(seven_bit_server) if mode == "ssl" else seven_bit_server.starttls_port
    message = smtp.build_message(FROM, "Zoë Acme", "alice@example.test", SUBJECT, TEXT, HTML)
    smtp.send(server_access(seven_bit_server, security=mode, port=port), message)
    assert_arrived_7bit_clean(seven_bit_server)


def test_a_message_built_elsewhere_with_8bit_bodies_is_sent_7bit(seven_bit_server) -> None:
    from email.headerregistry import Address
    from email.message import EmailMessage

    seven_bit_server.clear()
    message = EmailMessage()  # the default policy: set_content picks 8bit for non-ASCII text
    message["From"] = Address("Zoë Acme", addr_spec=FROM)
    message["To"] = "alice@example.test"
    message["Subject"] = SUBJECT
    message.set_content(TEXT)
    message.add_alternative(HTML, subtype="html")
    assert message.get_body(("plain",))["Content-Transfer-Encoding"] == "8bit"
    smtp.send(server_access(seven_bit_server), message)
    assert_arrived_7bit_clean(seven_bit_server)


def test_non_ascii_mail_is_7bit_clean_with_8bitmime_too(access, smtp_server) -> None:
    message = smtp.build_message(FROM, "Zoë Acme", "alice@example.test", SUBJECT, TEXT, HTML)
    smtp.send(access(), message)
    assert_arrived_7bit_clean(smtp_server)


def test_quit_after_a_refused_recipient(access, smtp_server) -> None:
    error = failure(lambda: smtp.send(access(), simple_message("reject@example.test")))
    assert (error.exit_code, error.code) == (5, "550")
    [session] = smtp_server.sessions
    assert session.commands[-3:] == ["RCPT 550", "RSET 250", "QUIT 221"]
    assert session.quit


@pytest.mark.parametrize("mode", ["starttls", "ssl"])
def test_quit_after_a_refused_login(access, smtp_server, mode) -> None:
    port = ssl_port(smtp_server) if mode == "ssl" else smtp_server.starttls_port
    error = failure(lambda: smtp.check(access(password=CANARY, security=mode, port=port)))
    assert error.exit_code == 4
    [session] = smtp_server.sessions
    assert session.port == mode
    assert session.commands[-1] == "QUIT 221" and "AUTH 535" in session.commands


def test_quit_after_a_refused_sender(access, smtp_server) -> None:
    message = smtp.build_message("blocked@acme.test", None, "a@example.test", "s", "t", None)
    failure(lambda: smtp.send(access(from_address="blocked@acme.test"), message))
    [session] = smtp_server.sessions
    assert session.commands[-3:] == ["MAIL 553", "RSET 250", "QUIT 221"]


def test_quit_after_a_message_refused_at_data(seven_bit_server) -> None:
    seven_bit_server.clear()
    raw = "Subject: hi\r\nFrom: noreply@acme.test\r\nTo: a@example.test\r\n\r\ncafé\r\n"

    class EightBitSession(smtp._Session):
        def send(self, message):  # bypasses the adapter's encoding: the server must refuse
            self.phase = "data"
            return self.client.sendmail(FROM, ["a@example.test"], raw.encode())

    with pytest.raises(SmsctlError) as caught:
        with EightBitSession(server_access(seven_bit_server)) as session:
            session.open()
            session.send(None)
    assert (caught.value.exit_code, caught.value.code) == (5, "554")
    [record] = seven_bit_server.sessions
    assert record.commands[-3:] == ["DATA 554", "RSET 250", "QUIT 221"]
    assert seven_bit_server.messages == []


def test_no_quit_after_a_timeout(access, smtp_server) -> None:
    failure(lambda: smtp.send(access(timeout=0.5), simple_message("slow@example.test")))
    [session] = smtp_server.sessions
    assert not session.quit  # the connection is in an unknown state: it is only closed


# --- deadlines ----------------------------------------------------------------------------------


class StepClock:
    """A monotonic clock that advances one second each time it is read."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


def plain_access(port: int, **overrides: Any) -> smtp.SmtpAccess:
    fields = dict(
        host="127.0.0.1", port=port, security="none", username="u@acme.test", password=CANARY,
        from_address=FROM, timeout=3.0, deadline=5.0,
    )  # fmt: skip
    fields.update(overrides)
    return smtp.SmtpAccess(**fields)


def test_a_banner_trickled_a_byte_at_a_time_meets_the_deadline() -> None:
    from tests.support.hostile_smtp import hostile_smtp

    with hostile_smtp("trickle-banner", max_bytes=2000) as port:
        error = failure(lambda: smtp.check(plain_access(port), clock=StepClock()))
    assert (error.exit_code, error.code) == (7, "DEADLINE")
    assert "5 s" in error.message and "[defaults] deadline" in worded_hint(error, "email")


def test_an_endless_trickled_250_reply_meets_the_deadline() -> None:
    from tests.support.hostile_smtp import hostile_smtp

    with hostile_smtp("endless-ehlo", max_bytes=2000) as port:
        error = failure(lambda: smtp.check(plain_access(port), clock=StepClock()))
    assert (error.exit_code, error.code) == (7, "DEADLINE")
    assert error.details["phase"] == "ehlo"


def test_an_endless_fast_250_reply_is_cut_at_the_size_cap() -> None:
    from tests.support.hostile_smtp import hostile_smtp

    with hostile_smtp("endless-ehlo", byte_interval=0, max_bytes=3 * 1024 * 1024) as port:
        error = failure(lambda: smtp.check(plain_access(port, deadline=600)))
    assert (error.exit_code, error.code) == (7, "REPLY-TOO-LARGE")


def test_the_deadline_covers_the_tls_handshake(access, smtp_server) -> None:
    # Read when the session starts and at the connect; past the deadline at the handshake.
    readings = iter([0.0, 0.0])

    def clock() -> float:
        return next(readings, 100.0)

    implicit = access(security="ssl", port=ssl_port(smtp_server), deadline=5.0)
    error = failure(lambda: smtp.check(implicit, clock=clock))
    assert (error.exit_code, error.code) == (7, "DEADLINE")
    assert error.details["phase"] == "tls"


# --- AUTH with a non-ASCII password, every mechanism smtplib may pick ----------------------------

UNICODE_PASSWORD = "pässwörd-密码-Zoë"


class _OneMechanismHandler:
    """Accepts UNICODE_PASSWORD by PLAIN/LOGIN (aiosmtpd's) or CRAM-MD5 (here)."""

    challenge = b"<1896.697170952@sandbox.smsctl.test>"

    async def auth_CRAM__MD5(self, server, args):  # noqa: N802
        import hmac

        from aiosmtpd.smtp import AuthResult

        response = await server.challenge_auth(self.challenge)
        user, _, digest = response.decode("utf-8").rpartition(" ")
        key = UNICODE_PASSWORD.encode("utf-8")
        expected = hmac.new(key, self.challenge, "md5").hexdigest()
        return AuthResult(success=user == "u@acme.test" and digest == expected, handled=False)


def _utf8_authenticator(server, session, envelope, mechanism, auth_data):
    from aiosmtpd.smtp import AuthResult

    ok = auth_data.login == b"u@acme.test" and auth_data.password.decode() == UNICODE_PASSWORD
    return AuthResult(success=ok, handled=False)


@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN", "CRAM-MD5"])
def test_a_non_ascii_password_logs_in_with_every_mechanism(mechanism) -> None:
    from aiosmtpd.controller import Controller

    from smsctl.sandbox.smtp import free_port

    others = [m for m in ("PLAIN", "LOGIN", "CRAM-MD5") if m != mechanism]
    server = Controller(
        _OneMechanismHandler(), hostname="127.0.0.1", port=free_port("127.0.0.1"),
        authenticator=_utf8_authenticator, auth_require_tls=False,
        auth_exclude_mechanism=others,
    )  # fmt: skip
    server.start()
    try:
        smtp.check(plain_access(server.port, password=UNICODE_PASSWORD))
        wrong = failure(lambda: smtp.check(plain_access(server.port, password="pässwörd")))
    finally:
        server.stop()
    assert (wrong.exit_code, wrong.code) == (4, "535")


def test_an_auth_challenge_that_is_not_base64_is_a_provider_failure() -> None:
    from aiosmtpd.controller import Controller

    from smsctl.sandbox.smtp import free_port

    class Garbled:
        async def auth_CRAM__MD5(self, server, args):  # noqa: N802
            return await server.challenge_auth(b"not base64 at all!", encode_to_b64=False)

    server = Controller(
        Garbled(), hostname="127.0.0.1", port=free_port("127.0.0.1"),
        auth_require_tls=False, auth_exclude_mechanism=["PLAIN", "LOGIN"],
    )  # fmt: skip
    server.start()
    try:
        error = failure(lambda: smtp.check(plain_access(server.port)))
    finally:
        server.stop()
    assert (error.exit_code, error.code) == (7, "PROTOCOL")
