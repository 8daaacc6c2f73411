"""A real MTA for the email channel's tests: exim4 from Debian, on loopback only.

Each instance runs in the foreground (`-bdf`) with its own configuration, spool, logs and
certificate in a private temp dir, on two free loopback ports (STARTTLS and implicit TLS); nothing
of the system's mail setup is read or changed, and port 25 is never touched. Messages are kept in
the spool (`queue_only`) and read back with `exim -Mvc`, exactly as received.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

import pytest

from smsctl.sandbox.smtp import free_port
from tests.support.tools import require_tool

USER = "mailer@smsctl.test"
PASSWORD = "exim-mta-password-4c1d"  # no `$`, `}` or `\`: it is written into the exim config
HOST = "127.0.0.1"

CONFIG = """\
keep_environment =
primary_hostname = mail.smsctl.test
spool_directory = <dir>/spool
log_file_path = <dir>/log/%slog
pid_file_path = <dir>/exim.pid
local_interfaces = <host>
daemon_smtp_ports = <starttls_port> : <ssl_port>
tls_on_connect_ports = <ssl_port>
tls_advertise_hosts = *
tls_certificate = <dir>/cert.pem
tls_privatekey = <dir>/key.pem
accept_8bitmime = <eightbitmime>
queue_only = true
host_lookup =
rfc1413_hosts =
smtp_receive_timeout = 30s
log_selector = +smtp_connection +tls_cipher
acl_smtp_mail = acl_mail
acl_smtp_rcpt = acl_rcpt
acl_smtp_quit = acl_quit

begin acl

acl_mail:
  deny    !authenticated = *
          message = Authentication required
  accept

acl_rcpt:
  deny    local_parts = reject
          message = Recipient address rejected: User unknown
  accept

acl_quit:
  # Written before the 221 goes out: a client that has its answer finds the line in the log.
  accept  logwrite = QUIT received from [$sender_host_address]

begin routers

blackhole:
  driver = redirect
  data = :blackhole:

begin authenticators

plain:
  driver = plaintext
  public_name = PLAIN
  server_prompts = :
  server_condition = ${if and {{eq{$auth2}{<user>}}{eq{$auth3}{<password>}}}}
  server_set_id = $auth2
  server_advertise_condition = ${if def:tls_in_cipher}

login:
  driver = plaintext
  public_name = LOGIN
  server_prompts = Username:: : Password::
  server_condition = ${if and {{eq{$auth1}{<user>}}{eq{$auth2}{<password>}}}}
  server_set_id = $auth1
  server_advertise_condition = ${if def:tls_in_cipher}
"""


@dataclass
class Exim:
    binary: str
    dir: Path
    starttls_port: int
    ssl_port: int
    ca_file: str
    process: subprocess.Popen

    @property
    def config(self) -> str:
        return str(self.dir / "exim.conf")

    def mainlog(self) -> str:
        path = self.dir / "log" / "mainlog"
        return path.read_text(errors="replace") if path.exists() else ""

    def queued_ids(self) -> list[str]:
        headers = sorted((self.dir / "spool" / "input").glob("*-H"), key=os.path.getmtime)
        return [path.name[:-2] for path in headers]

    def raw_message(self, message_id: str) -> bytes:
        shown = subprocess.run(
            [self.binary, "-C", self.config, "-Mvc", message_id],
            capture_output=True,
            timeout=30,
            check=True,
        )
        return shown.stdout

    def messages(self) -> list[EmailMessage]:
        parser = BytesParser(policy=policy.default)
        return [parser.parsebytes(self.raw_message(i)) for i in self.queued_ids()]

    def clear(self) -> None:
        for path in (self.dir / "spool" / "input").glob("*"):
            path.unlink()

    def version(self) -> str:
        shown = subprocess.run(
            [self.binary, "-C", self.config, "-bV"], capture_output=True, text=True, timeout=30
        )
        return shown.stdout.splitlines()[0]


def _write_certificate(directory: Path, hosts: tuple[str, ...]) -> str:
    import trustme

    ca = trustme.CA(organization_name="smsctl exim test CA")
    ca_file = directory / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    cert = ca.issue_cert(*hosts)
    cert.cert_chain_pems[0].write_to_path(str(directory / "cert.pem"))
    cert.private_key_pem.write_to_path(str(directory / "key.pem"))
    return str(ca_file)


def _exim_user(binary: str, config: str) -> pwd.struct_passwd | None:
    """The unprivileged user exim's daemon runs as (Debian: Debian-exim) when started as root."""
    if os.geteuid() != 0:
        return None  # without root, exim runs as the caller and writes as the caller
    shown = subprocess.run(
        [binary, "-C", config, "-bP", "exim_user"], capture_output=True, text=True, timeout=30
    )
    name = shown.stdout.partition("=")[2].strip()
    return pwd.getpwnam(name) if name else None


def _wait_listening(process: subprocess.Popen, port: int, directory: Path) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            panic = directory / "log" / "paniclog"
            log = panic.read_text(errors="replace") if panic.exists() else ""
            raise RuntimeError(f"exim exited with {process.returncode}: {log}")
        with socket.socket() as probe:
            probe.settimeout(1)
            if probe.connect_ex((HOST, port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError("exim did not start listening within 15 s")


def start_exim(binary: str, *, eightbitmime: bool, cert_hosts: tuple[str, ...]) -> Exim:
    directory = Path(tempfile.mkdtemp(prefix="smsctl-exim-"))
    directory.chmod(0o755)  # exim's daemon drops to its own user, which must reach its files
    for sub in ("spool", "log"):
        (directory / sub).mkdir()
    ca_file = _write_certificate(directory, cert_hosts)
    (directory / "key.pem").chmod(0o644)
    starttls_port, ssl_port = free_port(HOST), free_port(HOST)
    config = directory / "exim.conf"
    values = {
        "dir": str(directory), "host": HOST, "starttls_port": str(starttls_port),
        "ssl_port": str(ssl_port), "eightbitmime": "true" if eightbitmime else "false",
        "user": USER, "password": PASSWORD,
    }  # fmt: skip
    text = CONFIG
    for key, value in values.items():
        text = text.replace(f"<{key}>", value)
    config.write_text(text)
    owner = _exim_user(binary, str(config))
    if owner is not None:
        for sub in ("spool", "log"):
            os.chown(directory / sub, owner.pw_uid, owner.pw_gid)
    process = subprocess.Popen(
        [binary, "-C", str(config), "-bdf"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    exim = Exim(binary, directory, starttls_port, ssl_port, ca_file, process)
    try:
        _wait_listening(process, starttls_port, directory)
    except BaseException:
        stop_exim(exim)
        raise
    return exim


def stop_exim(exim: Exim) -> None:
    if exim.process.poll() is None:
        exim.process.terminate()
        try:
            exim.process.wait(10)
        except subprocess.TimeoutExpired:
            exim.process.kill()
            exim.process.wait(10)
    shutil.rmtree(exim.dir, ignore_errors=True)


@pytest.fixture(scope="session")
def exim_binary() -> str:
    return require_tool("exim4", "exim4-daemon-light", also=("/usr/sbin/exim4", "/usr/sbin/exim"))


@pytest.fixture(scope="module")
def start(exim_binary: str) -> Iterator[Callable[..., Exim]]:
    """Start exim instances for the module; all are stopped and removed at its end."""
    started: list[Exim] = []

    def make(*, eightbitmime: bool = True, cert_hosts: tuple[str, ...] = (HOST,)) -> Exim:
        exim = start_exim(exim_binary, eightbitmime=eightbitmime, cert_hosts=cert_hosts)
        started.append(exim)
        return exim

    yield make
    for exim in started:
        stop_exim(exim)
