"""`[log] syslog`: every audit record also reaches a real syslog daemon (rsyslogd, started by the
fixture on a socket and a UDP port of its own), redacted like the file; an unreachable system
log costs a warning, never the command."""

from __future__ import annotations

import json
import socket
import subprocess
import time
from pathlib import Path

import pytest

from tests.e2e.conftest import smsctl
from tests.support.tools import require_tool

CANARY = "CANARY-s3cr3t-7f1e9a"


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def rsyslog(tmp_path):
    daemon = require_tool("rsyslogd", "rsyslog", also=("/usr/sbin/rsyslogd",))
    work = tmp_path / "rsyslog"
    work.mkdir()
    port = _free_udp_port()
    (work / "rsyslog.conf").write_text(
        f"""global(workDirectory="{work}")
module(load="imuxsock" SysSock.Use="off")
input(type="imuxsock" Socket="{work}/log.sock")
module(load="imudp")
input(type="imudp" address="127.0.0.1" port="{port}")
template(name="raw" type="string" string="%syslogfacility-text% %programname% %msg%\\n")
*.* action(type="omfile" file="{work}/received.log" template="raw")
"""
    )
    process = subprocess.Popen(
        [daemon, "-n", "-f", str(work / "rsyslog.conf"), "-i", str(work / "pid")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 15
    while not (work / "log.sock").exists():
        assert process.poll() is None, process.stderr.read().decode()
        assert time.monotonic() < deadline, "rsyslogd did not create its socket"
        time.sleep(0.05)
    yield work, port
    process.terminate()
    process.wait(timeout=10)


def received(work: Path, count: int) -> list[tuple[str, str, dict]]:
    """The first `count` records rsyslogd wrote: (facility, program, record)."""
    log = work / "received.log"
    deadline = time.monotonic() + 15
    while True:
        lines = log.read_text().splitlines() if log.exists() else []
        if len(lines) >= count or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    found = []
    for line in lines:
        facility, program, message = line.split(" ", 2)
        found.append((facility, program, json.loads(message)))
    return found


def _config(config_file: Path, log_table: str) -> None:
    config_file.parent.mkdir(parents=True, exist_ok=True)
    config_file.write_text(f"[log]\n{log_table}\n")
    config_file.chmod(0o600)


def _add(name: str = "prod"):
    """An account whose secret comes from its env var, as in a pipeline (no keyring)."""
    return smsctl(
        "--no-input", "account", "add", name, "--access-key-id", "LTAI5tSyslogTest01",
        env={f"SMSCTL_SECRET_SMS_{name.upper()}": CANARY},
    )  # fmt: skip


def _add_account(name: str = "prod") -> None:
    done = _add(name)
    assert done.exit_code == 0, done.stderr


def test_every_audit_record_reaches_the_system_log_socket(rsyslog, config_file, state_dir):
    work, _port = rsyslog
    _config(config_file, f'syslog = "unix:{work}/log.sock"\nsyslog_facility = "local3"')
    _add_account("prod")
    _add_account("staging")
    records = received(work, 2)
    assert [(f, p) for f, p, _r in records] == [("local3", "smsctl")] * 2
    assert [r["account"] for _f, _p, r in records] == ["prod", "staging"]
    in_file = [json.loads(line) for line in (state_dir / "audit.jsonl").read_text().splitlines()]
    assert [r for _f, _p, r in records] == in_file
    assert CANARY not in (work / "received.log").read_text()


def test_records_reach_a_syslog_daemon_over_udp(rsyslog, config_file):
    work, port = rsyslog
    _config(config_file, f'syslog = "udp:127.0.0.1:{port}"')
    _add_account()
    [(facility, program, record)] = received(work, 1)
    assert (facility, program, record["action"]) == ("user", "smsctl", "account.add")


def test_an_unreachable_system_log_is_a_warning_and_the_file_keeps_the_record(
    tmp_path, config_file, state_dir
):
    _config(config_file, f'syslog = "unix:{tmp_path}/nobody-listens.sock"')
    done = _add("prod")
    assert done.exit_code == 0, done.stderr
    assert "could not send the audit record to the system log" in done.stderr
    assert '"account": "prod"' in (state_dir / "audit.jsonl").read_text()


def test_off_by_default(rsyslog, config_file):
    work, _port = rsyslog
    _config(config_file, "keep = 5")
    _add_account()
    assert not (work / "received.log").exists()
