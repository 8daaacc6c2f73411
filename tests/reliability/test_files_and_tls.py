"""Files and TLS (docs/contract.md §4, §7): modes whatever the umask, unsafe configs refused with
the reason, symlinks never written through; certificates verified, plain http only for loopback
or with the explicit flag."""

from __future__ import annotations

import http.server
import os
import ssl
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from smsctl.core import audit, guard
from smsctl.core.errors import ConfigError
from tests.reliability.helpers import assert_error_with_hint, child_env, smsctl
from tests.support.cli import invoke

ADD = ("account", "add", "prod", "--access-key-id", "LTAI5tFILE1")


def mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def test_config_and_state_files_are_private_even_with_umask_0(config_file, state_dir) -> None:
    env = child_env(SMSCTL_SECRET_SMS_PROD="x1234")
    old = os.umask(0)
    try:
        added = smsctl("--no-input", *ADD, env=env)
        guard.admit("sms", "+8613812345678", {"per_minute": 5})
    finally:
        os.umask(old)
    assert added.exit_code == 0, added.all_output
    assert mode(config_file) == 0o600
    assert mode(config_file.parent) == 0o700
    assert mode(state_dir) == 0o700
    assert mode(state_dir / "audit.jsonl") == 0o600
    assert mode(state_dir / "guard.jsonl") == 0o600


@pytest.mark.parametrize("bits", [0o620, 0o602, 0o666])
def test_group_or_world_writable_config_is_refused_with_the_fix(config_file, bits) -> None:
    config_file.parent.mkdir(mode=0o700, parents=True)
    config_file.write_text("")
    config_file.chmod(bits)
    result = smsctl("--json", "account", "list")
    error = assert_error_with_hint(result, 3)
    assert "writable by group or others" in error["message"]
    assert f"chmod 600 {config_file}" in error["hint"]


def test_config_owned_by_someone_else_is_refused(config_file, monkeypatch) -> None:
    config_file.parent.mkdir(mode=0o700, parents=True)
    config_file.write_text("")
    config_file.chmod(0o600)
    if os.getuid() == 0:
        os.chown(config_file, 65534, -1)
    else:  # cannot give a file away: pretend to be someone else instead
        monkeypatch.setattr(os, "getuid", lambda: os.stat(config_file).st_uid + 1)
    result = invoke("--json", "account", "list")
    assert result.exit_code == 3
    assert "owned by another user" in result.error()["message"]


def test_symlinked_config_is_neither_read_nor_written_through(config_file, tmp_path) -> None:
    victim = tmp_path / "victim.toml"
    victim.write_text("# precious\n")
    victim.chmod(0o600)
    config_file.parent.mkdir(mode=0o700, parents=True)
    config_file.symlink_to(victim)
    result = smsctl("--json", *ADD, env=child_env(SMSCTL_SECRET_SMS_PROD="x1234"))
    error = assert_error_with_hint(result, 3)
    assert "symbolic link" in error["message"]
    assert victim.read_text() == "# precious\n"


@pytest.mark.parametrize("kind", ["fifo", "directory", "character device"])
@pytest.mark.parametrize("args", [("template", "list"), ADD])
def test_a_config_that_is_not_a_regular_file_is_exit_3_at_once(config_file, kind, args) -> None:
    """A FIFO (nobody writing) or /dev/zero must not hang or fill memory: refused with why."""
    config_file.parent.mkdir(mode=0o700, parents=True)
    env = child_env(SMSCTL_SECRET_SMS_PROD="x1234")
    if kind == "fifo":
        os.mkfifo(config_file, 0o600)
    elif kind == "directory":
        config_file.mkdir(mode=0o700)
    else:
        env["SMSCTL_CONFIG"] = "/dev/zero"
    result = smsctl("--json", *args, env=env, timeout=20)
    error = assert_error_with_hint(result, 3, "config_not_regular")
    assert f"({'a ' + kind if kind != 'fifo' else 'a FIFO'})" in error["message"]


def test_symlinked_lock_cannot_overwrite_another_file_through_the_cli(config_file, tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("precious")
    config_file.parent.mkdir(mode=0o700, parents=True)
    config_file.with_name(config_file.name + ".lock").symlink_to(victim)
    env = child_env(SMSCTL_SECRET_SMS_PROD="x1234", SMSCTL_LOCK_TIMEOUT="0.5")
    result = smsctl("--json", *ADD, env=env)
    assert result.exit_code == 3, result.all_output
    assert "symbolic link" in result.stderr
    assert victim.read_text() == "precious"
    assert not config_file.exists()


def test_symlinked_audit_log_is_not_written_through(state_dir, tmp_path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("precious")
    state_dir.mkdir(mode=0o700, parents=True)
    (state_dir / "audit.jsonl").symlink_to(victim)
    result = smsctl("--no-input", *ADD, env=child_env(SMSCTL_SECRET_SMS_PROD="x1234"))
    assert result.exit_code == 0, result.all_output  # the change stands; the log warns
    assert "could not write the audit log" in result.stderr
    assert victim.read_text() == "precious"


def test_symlinked_ledger_is_not_written_through(state_dir, tmp_path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("precious")
    state_dir.mkdir(mode=0o700, parents=True)
    (state_dir / "guard.jsonl").symlink_to(victim)
    with pytest.raises(ConfigError, match="Cannot use the test-send ledger"):
        guard.admit("sms", "+8613812345678", {"per_minute": 5})
    assert victim.read_text() == "precious"
    assert audit.read_lines(victim) == []


# --- TLS --------------------------------------------------------------------------------------


class _Recorder(http.server.BaseHTTPRequestHandler):
    seen: list[str] = []

    def do_POST(self) -> None:  # noqa: N802
        self.seen.append(self.path)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b'{"Code": "OK"}')

    do_GET = do_POST  # noqa: N815

    def log_message(self, *_args) -> None:
        pass


@pytest.fixture
def self_signed_https(tmp_path: Path) -> Iterator[tuple[str, list[str]]]:
    """An HTTPS server on loopback whose certificate no trusted CA signed."""
    import trustme

    ca = trustme.CA()  # never installed anywhere: the client does not trust it
    cert = ca.issue_cert("127.0.0.1", "localhost")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    cert.configure_cert(context)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    _Recorder.seen = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}", _Recorder.seen
    finally:
        server.shutdown()
        server.server_close()


def test_alibaba_https_endpoint_with_an_untrusted_certificate_is_exit_7_and_nothing_sent(
    self_signed_https, config_file
) -> None:
    endpoint, seen = self_signed_https
    env = child_env(SMSCTL_SECRET_SMS_PROD="x1234")
    added = smsctl("--no-input", *ADD, "--endpoint", endpoint, env=env)
    assert added.exit_code == 0, added.all_output
    with config_file.open("a") as handle:  # an approved signature and template, as if synced
        handle.write(
            '\n[sms.signatures.Acme]\naccount = "prod"\nstatus = "approved"\n'
            '\n[sms.templates.SMS_1]\naccount = "prod"\nscenario = "login"\n'
            'content = "code ${code}"\nvariables = ["code"]\nstatus = "approved"\n'
        )
    for args in (
        ("--json", "validate", "prod"),
        ("--json", "send-test", "--to", "+8613812345678", "--account", "prod",
         "--template", "SMS_1", "--signature", "Acme", "--param", "code=1", "--yes"),
    ):  # fmt: skip
        result = smsctl(*args, env=env)
        error = assert_error_with_hint(result, 7, "TLSError")
        assert "never skips certificate verification" in error["hint"]
    assert seen == []  # no request ever reached the server


def test_wechat_https_endpoint_with_an_untrusted_certificate_is_refused(
    self_signed_https, config_file
) -> None:
    endpoint, seen = self_signed_https
    env = child_env(SMSCTL_SECRET_WECHAT_OA="wechat-secret-1")
    result = smsctl(
        "--json", "wechat", "account", "add", "oa", "--app-id", "wx0123456789abcdef",
        "--endpoint", endpoint, env=env,
    )  # fmt: skip
    assert result.exit_code == 7, result.all_output
    assert "Traceback" not in result.all_output
    assert seen == []
    assert not config_file.exists() or "oa" not in config_file.read_text()


@pytest.mark.parametrize(
    "args",
    [
        ("account", "add", "a", "--access-key-id", "LTAI5tX", "--endpoint", "http://10.0.0.5"),
        ("voice", "account", "add", "a", "--access-key-id", "LTAI5tX",
         "--endpoint", "http://sms.example.com:8080"),
        ("wechat", "account", "add", "a", "--app-id", "wx0123456789abcdef",
         "--endpoint", "http://api.example.com"),
        ("email", "account", "add", "a", "--host", "smtp.example.com", "--security", "none",
         "--username", "u", "--from", "a@example.com"),
    ],
)  # fmt: skip
def test_plain_transport_needs_loopback_or_the_explicit_flag(args, config_file) -> None:
    env = {f"SMSCTL_SECRET_{args[0].upper() if args[0] != 'account' else 'SMS'}_A": "s3cret1"}
    refused = invoke("--json", *args, env=env)
    assert refused.exit_code == 2, refused.all_output
    assert "--allow-insecure-endpoint" in (refused.error()["hint"] or "")
    assert not config_file.exists() or "[" + args[0] not in config_file.read_text()


def test_a_hand_edited_plain_http_endpoint_is_refused_at_use(config_file) -> None:
    config_file.parent.mkdir(mode=0o700, parents=True)
    config_file.write_text(
        '[sms.accounts.prod]\naccess_key_id = "LTAI5tX"\nendpoint = "http://10.0.0.5:80"\n'
    )
    config_file.chmod(0o600)
    result = invoke("--json", "validate", "prod", env={"SMSCTL_SECRET_SMS_PROD": "s3cret1"})
    assert result.exit_code == 3, result.all_output
    assert "http://" in result.error()["message"]
