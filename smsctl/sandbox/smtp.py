"""A local SMTP server for the sandbox and the tests (aiosmtpd + a trustme certificate).

Two ports: STARTTLS (TLS required before AUTH and mail) and implicit TLS. AUTH PLAIN/LOGIN
against one user. Received mail is kept in memory (`messages`) and written as .eml files into a
mailbox directory. Reserved recipient local parts trigger faults:

    reject@...   550 at RCPT (recipient refused)
    busy@...     451 at RCPT (transient)
    slow@...     DATA answered only after `slow_seconds` (a client timeout after DATA)
and the sender local part `blocked@...` is refused at MAIL FROM (553).

`eightbitmime=False` makes it a server without 8BITMIME (RFC 6152): EHLO does not offer it,
`BODY=8BITMIME` is refused at MAIL (555) and a message with 8-bit bytes is refused at the end of
DATA (554), so a client that sends 8-bit data to such a server fails visibly. Every connection is
recorded in `sessions` (the commands it sent with the reply codes, and whether it ended with QUIT).
"""

from __future__ import annotations

import asyncio
import hmac
import itertools
import logging
import shutil
import socket
import ssl
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

from smsctl.sandbox.emulator import Emulator

DEFAULT_USER = "sandbox@smsctl.test"
DEFAULT_PASSWORD = "sandbox-smtp-password"
REJECT_LOCAL_PART = "reject"
BUSY_LOCAL_PART = "busy"
SLOW_LOCAL_PART = "slow"
BLOCKED_SENDER_LOCAL_PART = "blocked"


def free_port(host: str) -> int:
    """A port that is free right now (aiosmtpd's Controller cannot start on port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


@dataclass
class SessionRecord:
    """One client connection: `commands` are verbs with the reply code (`"RCPT 550"`), never
    their arguments (AUTH carries the password)."""

    port: str  # "starttls" | "ssl"
    commands: list[str] = field(default_factory=list)
    quit: bool = False  # the client ended the session with QUIT


class _Handler:
    def __init__(self, emulator: SmtpEmulator, port: str) -> None:
        self.emulator = emulator
        self.port = port

    async def handle_EHLO(self, server, session, envelope, hostname, responses):  # noqa: N802
        session.host_name = hostname
        self._note(server, "EHLO 250")
        if self.emulator.eightbitmime:
            return responses
        return [line for line in responses if line[4:].upper() != "8BITMIME"]

    async def handle_MAIL(self, server, session, envelope, address, mail_options):  # noqa: N802
        reply = self._mail(session, envelope, address, mail_options)
        self._note(server, "MAIL " + reply[:3])
        return reply

    def _mail(self, session, envelope, address, mail_options) -> str:
        # Enforced here rather than with auth_required=True, which aiosmtpd warns about on
        # the implicit-TLS port (it cannot tell that the whole connection is TLS).
        if not session.authenticated:
            return "530 5.7.0 Authentication required"
        if not self.emulator.eightbitmime and "BODY=8BITMIME" in (o.upper() for o in mail_options):
            return "555 5.5.4 BODY=8BITMIME is not supported: this server has no 8BITMIME"
        if _local_part(address) == BLOCKED_SENDER_LOCAL_PART:
            return f"553 5.7.1 <{address}>: Sender address rejected: not owned by user"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        local = _local_part(address)
        if local == REJECT_LOCAL_PART:
            reply = f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        elif local == BUSY_LOCAL_PART:
            reply = "451 4.3.0 Temporary failure: mailbox busy, try again later"
        else:
            envelope.rcpt_tos.append(address)
            reply = "250 OK"
        self._note(server, "RCPT " + reply[:3])
        return reply

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        reply = await self._data(envelope)
        self._note(server, "DATA " + reply[:3])
        return reply

    async def _data(self, envelope) -> str:
        if any(_local_part(rcpt) == SLOW_LOCAL_PART for rcpt in envelope.rcpt_tos):
            generation = self.emulator.generation
            await asyncio.sleep(self.emulator.slow_seconds)
            if generation != self.emulator.generation:
                # clear() ran while this client was timing out: keep the next test's view clean.
                return "451 4.3.0 Mailbox cleared meanwhile"
        if not self.emulator.eightbitmime and any(byte > 0x7F for byte in envelope.content):
            return "554 5.6.1 8-bit data refused: this server does not offer 8BITMIME"
        self.emulator._store(envelope.mail_from, list(envelope.rcpt_tos), envelope.content)
        return "250 2.0.0 OK: queued"

    def handle_STARTTLS(self, server, session, envelope) -> bool:  # noqa: N802
        self._note(server, "STARTTLS 220")
        return True

    async def handle_RSET(self, server, session, envelope):  # noqa: N802
        self._note(server, "RSET 250")
        return "250 OK"

    async def handle_QUIT(self, server, session, envelope):  # noqa: N802
        # Runs before the 221 goes out: a client that has read it finds the session marked.
        self._note(server, "QUIT 221").quit = True
        return "221 Bye"

    def _note(self, server: Any, command: str) -> SessionRecord:
        """Add a command to the record of this connection (one aiosmtpd server object each,
        kept across STARTTLS); the record starts with the first command."""
        record = getattr(server, "sandbox_record", None)
        if record is None:
            record = server.sandbox_record = self.emulator._new_session(self.port)
        record.commands.append(command)
        return record


def _local_part(address: str) -> str:
    return address.strip("<>").rpartition("@")[0].lower()


class SmtpEmulator(Emulator):
    def __init__(
        self,
        host: str = "127.0.0.1",
        user: str = DEFAULT_USER,
        password: str = DEFAULT_PASSWORD,
        mailbox_dir: str | Path | None = None,
        *,
        starttls_port: int = 0,
        ssl_port: int = 0,
        cert_hosts: tuple[str, ...] = ("127.0.0.1", "localhost"),
        cert_expired: bool = False,
        slow_seconds: float = 3.0,
        eightbitmime: bool = True,
    ) -> None:
        self.host = host
        self.eightbitmime = eightbitmime  # read at every EHLO, MAIL and DATA: may be switched
        self.user = user
        self.password = password
        self.slow_seconds = slow_seconds
        self.cert_hosts = cert_hosts
        self.cert_expired = cert_expired
        self._requested_ports = (starttls_port, ssl_port)
        # The CA and (without mailbox_dir) the mailbox; removed by stop().
        self._workdir = tempfile.mkdtemp(prefix="smsctl-smtp-sandbox-")
        self.mailbox = Path(mailbox_dir) if mailbox_dir else Path(self._workdir) / "mailbox"
        self.ca_file = str(Path(self._workdir) / "sandbox-ca.pem")
        self.messages: list[EmailMessage] = []
        self.sessions: list[SessionRecord] = []
        self.generation = 0  # bumped by clear()
        self.starttls_port = 0
        self.ssl_port = 0
        self._controllers: list[Any] = []
        self._counter = itertools.count(1)
        self._lock = threading.Lock()

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> SmtpEmulator:
        from aiosmtpd.controller import Controller

        # Client-side failures (bad CA, wrong mode) are expected here; keep their tracebacks quiet.
        logging.getLogger("mail.log").setLevel(logging.CRITICAL)
        Path(self._workdir).mkdir(mode=0o700, exist_ok=True)
        self.mailbox.mkdir(parents=True, exist_ok=True)
        server_context = self._server_tls_context()
        common = {
            "hostname": self.host,
            "authenticator": self._authenticate,
            "server_hostname": "sandbox.smsctl.test",
        }
        self.starttls_port = self._requested_ports[0] or free_port(self.host)
        starttls = Controller(
            _Handler(self, "starttls"),
            port=self.starttls_port,
            tls_context=server_context,
            require_starttls=True,
            **common,
        )
        self.ssl_port = self._requested_ports[1] or free_port(self.host)
        implicit = Controller(
            _Handler(self, "ssl"),
            port=self.ssl_port,
            ssl_context=server_context,
            auth_require_tls=False,  # the whole connection is TLS, but aiosmtpd cannot tell
            **common,
        )
        for controller in (starttls, implicit):
            controller.start()
            self._controllers.append(controller)
        return self

    def stop(self) -> None:
        while self._controllers:
            self._controllers.pop().stop()
        shutil.rmtree(self._workdir, ignore_errors=True)

    def info(self) -> dict[str, dict[str, Any]]:
        return {
            "smtp": {
                "host": self.host,
                "starttls_port": self.starttls_port,
                "ssl_port": self.ssl_port,
                "username": self.user,
                "password": self.password,
                "ca_file": self.ca_file,
                "mailbox": str(self.mailbox),
            }
        }

    def clear(self) -> None:
        """Forget received messages and sessions (the .eml files stay)."""
        with self._lock:
            self.messages.clear()
            self.sessions.clear()
            self.generation += 1

    def _new_session(self, port: str) -> SessionRecord:
        record = SessionRecord(port)
        with self._lock:
            self.sessions.append(record)
        return record

    # -- internals -----------------------------------------------------------------------------

    def _server_tls_context(self) -> ssl.SSLContext:
        import trustme

        ca = trustme.CA(organization_name="smsctl sandbox")
        ca.cert_pem.write_to_path(self.ca_file)
        validity: dict[str, datetime] = {}
        if self.cert_expired:
            now = datetime.now(timezone.utc)
            validity = {
                "not_before": now - timedelta(days=30),
                "not_after": now - timedelta(days=1),
            }
        cert = ca.issue_cert(*self.cert_hosts, **validity)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        cert.configure_cert(context)
        return context

    def _authenticate(self, server, session, envelope, mechanism, auth_data) -> Any:
        from aiosmtpd.smtp import AuthResult, LoginPassword

        if mechanism not in ("LOGIN", "PLAIN") or not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login = auth_data.login.decode("utf-8", "replace")
        password = auth_data.password.decode("utf-8", "replace")
        valid = hmac.compare_digest(login, self.user) & hmac.compare_digest(password, self.password)
        server.event_handler._note(server, "AUTH 235" if valid else "AUTH 535")
        return AuthResult(success=bool(valid), handled=False)

    def _store(self, mail_from: str, rcpt_tos: list[str], content: bytes) -> None:
        envelope_headers = (
            f"X-Sandbox-Mail-From: {mail_from}\r\nX-Sandbox-Rcpt-To: {', '.join(rcpt_tos)}\r\n"
        ).encode()
        raw = envelope_headers + content
        message = BytesParser(policy=policy.default).parsebytes(raw)
        with self._lock:
            number = next(self._counter)
            stamp = time.strftime("%Y%m%dT%H%M%S")
            path = self.mailbox / f"{stamp}-{number:04d}.eml"
            path.write_bytes(raw)
            self.messages.append(message)
