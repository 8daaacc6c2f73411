"""SMTP adapter: verified TLS always, every failure translated into an SmsctlError.

smtplib, ssl and socket are imported inside functions (the command layer must stay light).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from smsctl.core import clock
from smsctl.core.catalog import to_error
from smsctl.core.errors import SmsctlError, UsageError

if TYPE_CHECKING:
    from email.message import EmailMessage

SECURITY_MODES = ("starttls", "ssl", "none")


@dataclass(frozen=True)
class SmtpAccess:
    host: str
    port: int
    security: str  # "starttls" | "ssl" | "none"
    username: str
    password: str = field(repr=False)
    from_address: str
    from_name: str | None = None
    ca_file: str | None = None
    timeout: float = 10.0

    def __post_init__(self) -> None:
        if self.security not in SECURITY_MODES:
            raise UsageError(
                f"Unknown SMTP security mode {self.security!r}",
                hint="Use --security starttls, ssl or none.",
            )


@dataclass(frozen=True)
class SendOutcome:
    message_id: str
    refused: dict[str, tuple[int, str]] = field(default_factory=dict)


def check(access: SmtpAccess) -> None:
    """Connect, negotiate TLS as configured, authenticate, and quit without sending."""
    with _Session(access) as session:
        session.open()


def send(access: SmtpAccess, message: EmailMessage) -> SendOutcome:
    """Send message from access.from_address to its To/Cc/Bcc recipients.

    A Message-ID is added when the message has none. Recipients refused while others were
    accepted are returned in `refused`; if all are refused, ProviderRefused is raised.
    """
    from email.utils import make_msgid

    if message["Message-ID"] is None:
        message["Message-ID"] = make_msgid(domain=_domain_of(access.from_address))
    message_id = str(message["Message-ID"])
    with _Session(access) as session:
        session.open()
        refused = session.send(message)
    return SendOutcome(message_id=message_id, refused=refused)


def build_message(
    from_address: str,
    from_name: str | None,
    to: str | list[str],
    subject: str,
    text: str | None,
    html: str | None,
    message_id_domain: str | None = None,
) -> EmailMessage:
    """A text/plain + text/html multipart/alternative message (text only when html is None).

    When text is None it is generated from the HTML.
    """
    from email.headerregistry import Address
    from email.message import EmailMessage
    from email.utils import formatdate, make_msgid

    from smsctl.core.html_text import html_to_text

    recipients = [to] if isinstance(to, str) else list(to)
    if not recipients:
        raise UsageError("No recipient given", hint="Give --to ADDRESS.")
    if text is None and html is None:
        raise UsageError("The message has neither a text nor an HTML body")
    message = EmailMessage()
    try:
        message["From"] = Address(display_name=from_name or "", addr_spec=from_address)
        message["To"] = ", ".join(recipients)
        message["Subject"] = subject
    except (ValueError, IndexError, TypeError) as exc:
        raise UsageError(f"Cannot build the message headers: {exc}") from None
    message["Date"] = formatdate(clock.timestamp(), localtime=True)
    message["Message-ID"] = make_msgid(domain=message_id_domain or _domain_of(from_address))
    message.set_content(text if text is not None else html_to_text(html or ""))
    if html is not None:
        message.add_alternative(html, subtype="html")
    return message


def _domain_of(address: str) -> str | None:
    domain = address.rpartition("@")[2].strip().strip(">")
    return domain or None


class _Session:
    """One SMTP connection; records how far it got so failures can be explained precisely."""

    def __init__(self, access: SmtpAccess) -> None:
        self.access = access
        self.client: Any = None
        self.phase = "connect"

    def __enter__(self) -> _Session:
        return self

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        self._close(clean=exc is None)
        if exc is not None and not isinstance(exc, SmsctlError):
            raise _translate(exc, self.phase, self.access) from None

    def open(self) -> None:
        import smtplib

        access = self.access
        context = _tls_context(access) if access.security != "none" else None
        if access.security == "ssl":
            self.phase = "tls"
            self.client = smtplib.SMTP_SSL(
                access.host, access.port, timeout=access.timeout, context=context
            )
        else:
            self.client = smtplib.SMTP(access.host, access.port, timeout=access.timeout)
        self.phase = "ehlo"
        self.client.ehlo()
        if access.security == "starttls":
            self.phase = "starttls"
            self.client.starttls(context=context)
            self.client.ehlo()
        if access.username:
            self.phase = "auth"
            # login() (not auth()) after starttls(): it re-sends EHLO and reports 503 properly.
            self.client.login(access.username, access.password)
        self.phase = "ready"

    def send(self, message: EmailMessage) -> dict[str, tuple[int, str]]:
        self.phase = "envelope"
        original_data = self.client.data

        def data_tracked(msg: Any) -> Any:
            self.phase = "data"  # from here on the server may have the message
            return original_data(msg)

        self.client.data = data_tracked
        refused = self.client.send_message(message, from_addr=self.access.from_address)
        self.phase = "sent"
        return {rcpt: (code, _text(reply)) for rcpt, (code, reply) in refused.items()}

    def _close(self, *, clean: bool) -> None:
        if self.client is None:
            return
        try:
            if clean:
                self.client.quit()
            else:
                self.client.close()
        except Exception:  # the outcome is already decided; closing is best effort
            self.client.close()


def _tls_context(access: SmtpAccess) -> Any:
    import ssl

    try:
        return ssl.create_default_context(cafile=access.ca_file)
    except (OSError, ssl.SSLError) as exc:
        raise to_error("smtp", "CA-FILE-UNREADABLE", f"{access.ca_file}: {exc}") from None


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


def _scrub(text: str, access: SmtpAccess) -> str:
    if access.password:
        text = text.replace(access.password, "***")
    return text


def _translate(exc: BaseException, phase: str, access: SmtpAccess) -> SmsctlError:
    """Map an smtplib/ssl/socket exception to the SmsctlError a command raises."""
    code, provider_message, details = _classify(exc, phase, access)
    where = f"{access.host}:{access.port} ({access.security})"
    details = {"server": where, "phase": phase, **details}
    error = to_error(
        "smtp", code, _scrub(provider_message, access), default_exit=_default_exit(code),
        details=details,
    )  # fmt: skip
    error.message = f"SMTP {where}: {error.message}"
    return error


def _default_exit(code: str) -> int:
    return 7 if code.startswith("4") else 5 if code.startswith("5") else 7


def _classify(exc: BaseException, phase: str, access: SmtpAccess) -> tuple[str, str, dict]:
    import smtplib
    import socket
    import ssl

    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return _recipients_refused(exc.recipients)
    if isinstance(exc, smtplib.SMTPSenderRefused):
        reply = f"{exc.smtp_code} {_text(exc.smtp_error)}"
        code = "SENDER-REFUSED" if exc.smtp_code >= 500 else str(exc.smtp_code)
        return code, f"sender {exc.sender} refused: {reply}", {"smtp_code": exc.smtp_code}
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        code = "STARTTLS-NOT-OFFERED" if phase == "starttls" else "AUTH-NOT-OFFERED"
        return code, str(exc), {}
    if isinstance(exc, smtplib.SMTPResponseException):
        return str(exc.smtp_code), f"{exc.smtp_code} {_text(exc.smtp_error)}", {}
    if isinstance(exc, ssl.SSLCertVerificationError):
        return _certificate_problem(exc), exc.verify_message or str(exc), {}
    if isinstance(exc, ssl.SSLError):
        reason = getattr(exc, "reason", "") or ""
        if reason in ("WRONG_VERSION_NUMBER", "UNKNOWN_PROTOCOL", "HTTP_REQUEST"):
            return "TLS-WRONG-MODE", f"TLS handshake failed ({reason})", {}
        return "TLS-HANDSHAKE", str(exc), {}
    if isinstance(exc, TimeoutError) or _is_timeout_disconnect(exc):
        if phase in ("data", "sent"):
            return "TIMEOUT-AFTER-DATA", f"no answer within {access.timeout:g} s", {}
        return "TIMEOUT", f"no answer within {access.timeout:g} s during {phase}", {}
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        if phase in ("data", "sent"):
            return "TIMEOUT-AFTER-DATA", f"connection lost after the message was sent: {exc}", {}
        return "DISCONNECTED", str(exc) or "connection closed", {}
    if isinstance(exc, ConnectionRefusedError):
        return "CONNECTION-REFUSED", f"connection to {access.host}:{access.port} refused", {}
    if isinstance(exc, socket.gaierror):
        return "HOST-NOT-FOUND", f"cannot resolve {access.host!r}: {exc.strerror or exc}", {}
    if isinstance(exc, OSError):
        return "NETWORK", str(exc) or type(exc).__name__, {}
    if isinstance(exc, smtplib.SMTPException):
        return "DISCONNECTED", str(exc), {}
    raise exc  # not an SMTP failure: a bug, let it surface


def _is_timeout_disconnect(exc: BaseException) -> bool:
    import smtplib

    # smtplib turns a read timeout into SMTPServerDisconnected("... timed out").
    return isinstance(exc, smtplib.SMTPServerDisconnected) and "timed out" in str(exc)


def _recipients_refused(recipients: dict) -> tuple[str, str, dict]:
    refused = {rcpt: (code, _text(reply)) for rcpt, (code, reply) in recipients.items()}
    codes = [code for code, _ in refused.values()]
    # Transient only when every refusal is transient: a permanent one will not heal by retrying.
    code = min(codes) if all(400 <= c < 500 for c in codes) else max(codes)
    listed = "; ".join(f"{rcpt}: {c} {reply}" for rcpt, (c, reply) in refused.items())
    return str(code), f"recipient refused: {listed}", {"refused": refused}


def _certificate_problem(exc: Any) -> str:
    # OpenSSL X509_V_ERR_* codes.
    unknown_ca = {2, 18, 19, 20, 21, 27}
    validity = {9, 10}
    name_mismatch = {62, 63, 64}
    verify_code = getattr(exc, "verify_code", None)
    message = (getattr(exc, "verify_message", "") or str(exc)).lower()
    if verify_code in name_mismatch or "mismatch" in message:
        return "TLS-HOSTNAME-MISMATCH"
    if verify_code in validity or "expired" in message or "not yet valid" in message:
        return "TLS-EXPIRED"
    if verify_code in unknown_ca or "issuer" in message or "self-signed" in message:
        return "TLS-UNKNOWN-CA"
    return "TLS-VERIFY-FAILED"
