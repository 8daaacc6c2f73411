"""SMTP adapter: verified TLS always, every failure translated into an SmsctlError.

smtplib, ssl and socket are imported inside functions (the command layer must stay light).

- One overall deadline per SMTP session (connect to QUIT), on top of the per-read timeout: every
  socket operation waits at most for what is left of it, so a server that trickles a byte at a
  time or never ends a multi-line reply cannot hold smsctl. What a session may receive is capped.
- Messages are always 7-bit clean on the wire (quoted-printable or base64 bodies, RFC 2047
  headers), so they are valid whether or not the server offers 8BITMIME, and no relay has to
  convert them.
- After the server refused something (a reply code), the session still ends with QUIT.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from smsctl.core import clock
from smsctl.core.catalog import to_error
from smsctl.core.errors import SmsctlError, UsageError

if TYPE_CHECKING:
    from email.message import EmailMessage

SECURITY_MODES = ("starttls", "ssl", "none")
DEFAULT_DEADLINE = 60.0
# Far more than any honest server's replies to one session (an EHLO answer is a few hundred bytes).
MAX_RECEIVED_BYTES = 1024 * 1024

Clock = Callable[[], float]


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
    timeout: float = 10.0  # each read, and the connect
    deadline: float = DEFAULT_DEADLINE  # the whole session, connect to QUIT

    def __post_init__(self) -> None:
        if self.security not in SECURITY_MODES:
            raise UsageError(
                f"Unknown SMTP security mode {self.security!r} (one of {', '.join(SECURITY_MODES)})"
            )


@dataclass(frozen=True)
class SendOutcome:
    message_id: str
    refused: dict[str, tuple[int, str]] = field(default_factory=dict)


class SmtpEmail:
    """The email adapter (interfaces.EmailAdapter) of one account: its SMTP server."""

    def __init__(self, access: SmtpAccess, *, clock: Clock = time.monotonic) -> None:
        self._access = access
        self._clock = clock

    def __repr__(self) -> str:
        return f"SmtpEmail({self._access!r})"

    def check_credentials(self) -> None:
        check(self._access, clock=self._clock)

    def compose(
        self, to: str | list[str], subject: str, text: str | None, html: str | None
    ) -> EmailMessage:
        """A message from the account's address (build_message)."""
        access = self._access
        return build_message(access.from_address, access.from_name, to, subject, text, html)

    def send(self, message: EmailMessage) -> SendOutcome:
        return send(self._access, message, clock=self._clock)


def check(access: SmtpAccess, *, clock: Clock = time.monotonic) -> None:
    """Connect, negotiate TLS as configured, authenticate, and quit without sending."""
    with _Session(access, clock) as session:
        session.open()


def send(
    access: SmtpAccess, message: EmailMessage, *, clock: Clock = time.monotonic
) -> SendOutcome:
    """Send message from access.from_address to its To/Cc/Bcc recipients.

    A Message-ID is added when the message has none, and the message is serialized 7-bit clean
    whatever policy it was built with. Recipients refused while others were accepted are returned
    in `refused`; if all are refused, ProviderRefused is raised.
    """
    from email.utils import make_msgid

    if message["Message-ID"] is None:
        message["Message-ID"] = make_msgid(domain=_domain_of(access.from_address))
    if message.policy.cte_type != "7bit":
        message.policy = message.policy.clone(cte_type="7bit")
    message_id = str(message["Message-ID"])
    with _Session(access, clock) as session:
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

    When text is None it is generated from the HTML. Bodies that are not plain ASCII are
    quoted-printable or base64 (whichever is shorter), never 8bit.
    """
    from email import policy
    from email.headerregistry import Address
    from email.message import EmailMessage
    from email.utils import formatdate, make_msgid

    from smsctl.core.html_text import html_to_text

    recipients = [to] if isinstance(to, str) else list(to)
    if not recipients:
        raise UsageError("No recipient given")
    if text is None and html is None:
        raise UsageError("The message has neither a text nor an HTML body")
    message = EmailMessage(policy=policy.default.clone(cte_type="7bit"))
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


class _DeadlinePassed(TimeoutError):
    pass


class _TooMuchReceived(OSError):
    pass


class _ProtocolViolation(Exception):
    """The server said something SMTP does not allow (e.g. an AUTH challenge that is not base64)."""


class _Deadline:
    """What is left of the session's time and of what it may receive."""

    def __init__(self, seconds: float, read_timeout: float, clock: Clock) -> None:
        self.seconds = seconds
        self.read_timeout = read_timeout
        self.clock = clock
        self.end = clock() + seconds
        self.passed = False
        self.received = 0
        self.too_much = False

    def timeout(self) -> float:
        """The timeout of the next socket operation; raises once the deadline has passed."""
        remaining = self.end - self.clock()
        if remaining <= 0:
            self.passed = True
            raise _DeadlinePassed(f"the {self.seconds:g} s deadline passed")
        return min(self.read_timeout, remaining)

    def expired(self) -> bool:
        if not self.passed and self.clock() >= self.end:
            self.passed = True
        return self.passed

    def count(self, received: int) -> None:
        self.received += received
        if self.received > MAX_RECEIVED_BYTES:
            self.too_much = True
            raise _TooMuchReceived(f"the server sent more than {MAX_RECEIVED_BYTES} bytes")


def _socket_classes(deadline: _Deadline) -> tuple[type, type]:
    """A plain and a TLS socket class whose every operation waits at most for what is left."""
    import socket
    import ssl

    class DeadlineSocket(socket.socket):
        def recv(self, bufsize: int, flags: int = 0) -> bytes:
            self.settimeout(deadline.timeout())
            data = super().recv(bufsize, flags)
            deadline.count(len(data))
            return data

        def recv_into(self, buffer: Any, nbytes: int = 0, flags: int = 0) -> int:
            self.settimeout(deadline.timeout())
            received = super().recv_into(buffer, nbytes, flags)
            deadline.count(received)
            return received

        def send(self, data: Any, flags: int = 0) -> int:
            self.settimeout(deadline.timeout())
            return super().send(data, flags)

        def sendall(self, data: Any, flags: int = 0) -> None:
            self.settimeout(deadline.timeout())  # sendall's timeout covers the whole call
            return super().sendall(data, flags)

    class DeadlineSSLSocket(ssl.SSLSocket):
        def do_handshake(self, block: bool = False) -> None:
            self.settimeout(deadline.timeout())  # the timeout covers the whole handshake
            return super().do_handshake(block)

        def recv(self, buflen: int = 1024, flags: int = 0) -> bytes:
            self.settimeout(deadline.timeout())
            data = super().recv(buflen, flags)
            deadline.count(len(data))
            return data

        def recv_into(self, buffer: Any, nbytes: int | None = None, flags: int = 0) -> int:
            self.settimeout(deadline.timeout())
            received = super().recv_into(buffer, nbytes, flags)
            deadline.count(received)
            return received

        def send(self, data: Any, flags: int = 0) -> int:
            self.settimeout(deadline.timeout())
            return super().send(data, flags)

    return DeadlineSocket, DeadlineSSLSocket


def _client(access: SmtpAccess, deadline: _Deadline, context: Any) -> Any:
    """A connected smtplib client (SMTP or SMTP_SSL) whose sockets keep to the deadline."""
    import smtplib
    import socket

    plain_socket, tls_socket = _socket_classes(deadline)
    if context is not None:
        context.sslsocket_class = tls_socket  # also used by STARTTLS's wrap_socket
    base = smtplib.SMTP_SSL if access.security == "ssl" else smtplib.SMTP

    class Client(base):  # type: ignore[misc, valid-type]
        def _get_socket(self, host: str, port: int, timeout: float) -> Any:
            raw = socket.create_connection((host, port), deadline.timeout(), self.source_address)
            sock = plain_socket(fileno=raw.detach())
            if isinstance(self, smtplib.SMTP_SSL):
                return self.context.wrap_socket(sock, server_hostname=self._host)
            return sock

        def auth(self, mechanism: str, authobject: Any, *, initial_response_ok: bool = True):
            # smtplib's own encodes credentials as ASCII, so a non-ASCII password crashed;
            # SASL PLAIN is UTF-8 (RFC 4616), and servers take LOGIN the same way.
            import base64
            import binascii

            mechanism = mechanism.upper()
            initial = authobject() if initial_response_ok else None
            # smtplib's auth_login() reads _auth_challenge_count to tell user from password.
            if initial is not None:
                response = base64.b64encode(initial.encode("utf-8")).decode("ascii")
                code, reply = self.docmd("AUTH", f"{mechanism} {response}")
                self._auth_challenge_count = 1
            else:
                code, reply = self.docmd("AUTH", mechanism)
                self._auth_challenge_count = 0
            while code == 334:
                self._auth_challenge_count += 1
                if self._auth_challenge_count > 5:  # LOGIN needs two, CRAM-MD5 one
                    raise _ProtocolViolation(f"AUTH {mechanism} challenges never end")
                try:
                    challenge = base64.b64decode(reply, validate=True)
                except binascii.Error:
                    raise _ProtocolViolation(f"AUTH {mechanism} challenge is not base64") from None
                answer = authobject(challenge).encode("utf-8")
                code, reply = self.docmd(base64.b64encode(answer).decode("ascii"))
            if code in (235, 503):
                return code, reply
            raise smtplib.SMTPAuthenticationError(code, reply)

        def auth_login(self, challenge: bytes | None = None) -> str:
            # The same on every Python: the user first (initial response), then the password.
            if challenge is None or self._auth_challenge_count < 2:
                return self.user
            return self.password

        def auth_cram_md5(self, challenge: bytes | None = None) -> str | None:
            import hmac

            if challenge is None:
                return None
            digest = hmac.HMAC(self.password.encode("utf-8"), challenge, "md5").hexdigest()
            return f"{self.user} {digest}"

    if base is smtplib.SMTP_SSL:
        return Client(access.host, access.port, timeout=access.timeout, context=context)
    return Client(access.host, access.port, timeout=access.timeout)


class _Session:
    """One SMTP connection; records how far it got so failures can be explained precisely."""

    def __init__(self, access: SmtpAccess, clock: Clock = time.monotonic) -> None:
        self.access = access
        self.deadline = _Deadline(access.deadline, access.timeout, clock)
        self.client: Any = None
        self.phase = "connect"

    def __enter__(self) -> _Session:
        return self

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        self._close(polite=exc is None or _is_server_reply(exc))
        if exc is not None and not isinstance(exc, SmsctlError):
            raise _translate(exc, self.phase, self.access, self.deadline) from None

    def open(self) -> None:
        from smsctl.core.redaction import register_smtp_login

        access = self.access
        context = _tls_context(access) if access.security != "none" else None
        if access.security == "ssl":
            self.phase = "tls"
        self.client = _client(access, self.deadline, context)
        self.phase = "ehlo"
        self.client.ehlo()
        if access.security == "starttls":
            self.phase = "starttls"
            self.client.starttls(context=context)
            self.client.ehlo()
        if access.username:
            self.phase = "auth"
            # A server may echo the AUTH line in its reply: its encoded forms are secrets too.
            register_smtp_login(access.username, access.password)
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

    def _close(self, *, polite: bool) -> None:
        """QUIT when the server is still talking to us (also after it refused something), else
        just close. Never longer than the deadline."""
        if self.client is None:
            return
        try:
            if polite and not self.deadline.expired() and self.client.sock is not None:
                self.client.quit()
            else:
                self.client.close()
        except Exception:  # the outcome is already decided; closing is best effort
            self.client.close()


def _is_server_reply(exc: BaseException) -> bool:
    """The server answered with a refusal: the connection itself is fine, end it with QUIT."""
    import smtplib

    return isinstance(
        exc,
        smtplib.SMTPResponseException
        | smtplib.SMTPRecipientsRefused
        | smtplib.SMTPNotSupportedError,
    )


def _tls_context(access: SmtpAccess) -> Any:
    import ssl

    try:
        return ssl.create_default_context(cafile=access.ca_file)
    except (OSError, ssl.SSLError) as exc:
        raise to_error("smtp", "CA-FILE-UNREADABLE", f"{access.ca_file}: {exc}") from None


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


def _scrub(text: str, access: SmtpAccess) -> str:
    from smsctl.core.redaction import redact

    if access.password:
        text = text.replace(access.password, "***")
    return redact(text)


def _translate(
    exc: BaseException, phase: str, access: SmtpAccess, deadline: _Deadline
) -> SmsctlError:
    """Map an smtplib/ssl/socket exception to the SmsctlError a command raises."""
    code, provider_message, details = _classify(exc, phase, access, deadline)
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


def _classify(
    exc: BaseException, phase: str, access: SmtpAccess, deadline: _Deadline
) -> tuple[str, str, dict]:
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
    if deadline.too_much:
        return "REPLY-TOO-LARGE", f"the server sent more than {MAX_RECEIVED_BYTES} bytes", {}
    if isinstance(exc, OSError | smtplib.SMTPServerDisconnected) and deadline.expired():
        if phase in ("data", "sent"):
            return "DEADLINE-AFTER-DATA", f"the session took longer than {access.deadline:g} s", {}
        return "DEADLINE", f"the session took longer than {access.deadline:g} s, during {phase}", {}
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
    if isinstance(exc, _ProtocolViolation):
        return "PROTOCOL", str(exc), {}
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
