"""A local SMTP server for the sandbox and the tests (aiosmtpd + a trustme certificate).

Two ports: STARTTLS (TLS required before AUTH and mail) and implicit TLS. AUTH PLAIN/LOGIN
against one user. Received mail is kept in memory (`messages`) and written as .eml files into a
mailbox directory. Reserved recipient local parts trigger faults:

    reject@...   550 at RCPT (recipient refused)
    busy@...     451 at RCPT (transient)
    slow@...     DATA answered only after `slow_seconds` (a client timeout after DATA)
and the sender local part `blocked@...` is refused at MAIL FROM (553).
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
from datetime import datetime, timedelta, timezone
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

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


class _Handler:
    def __init__(self, emulator: SmtpEmulator) -> None:
        self.emulator = emulator

    async def handle_MAIL(self, server, session, envelope, address, mail_options):  # noqa: N802
        # Enforced here rather than with auth_required=True, which aiosmtpd warns about on
        # the implicit-TLS port (it cannot tell that the whole connection is TLS).
        if not session.authenticated:
            return "530 5.7.0 Authentication required"
        if _local_part(address) == BLOCKED_SENDER_LOCAL_PART:
            return f"553 5.7.1 <{address}>: Sender address rejected: not owned by user"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        local = _local_part(address)
        if local == REJECT_LOCAL_PART:
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        if local == BUSY_LOCAL_PART:
            return "451 4.3.0 Temporary failure: mailbox busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        if any(_local_part(rcpt) == SLOW_LOCAL_PART for rcpt in envelope.rcpt_tos):
            generation = self.emulator.generation
            await asyncio.sleep(self.emulator.slow_seconds)
            if generation != self.emulator.generation:
                # clear() ran while this client was timing out: keep the next test's view clean.
                return "451 4.3.0 Mailbox cleared meanwhile"
        self.emulator._store(envelope.mail_from, list(envelope.rcpt_tos), envelope.content)
        return "250 2.0.0 OK: queued"


def _local_part(address: str) -> str:
    return address.strip("<>").rpartition("@")[0].lower()


class SmtpEmulator:
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
    ) -> None:
        self.host = host
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
            _Handler(self),
            port=self.starttls_port,
            tls_context=server_context,
            require_starttls=True,
            **common,
        )
        self.ssl_port = self._requested_ports[1] or free_port(self.host)
        implicit = Controller(
            _Handler(self),
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

    def __enter__(self) -> SmtpEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

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
        """Forget received messages (the .eml files stay)."""
        with self._lock:
            self.messages.clear()
            self.generation += 1

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
