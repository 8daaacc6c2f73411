"""The provider worker (smsctl.providers.worker): an SMS or voice `send-test` started from the
console script does its SDK work in a forked child. Proven from the outside: the parent never
loads the SDK yet the provider gets the request; Ctrl-C stops both processes and the audit log
keeps the attempt; a worker that dies mid-call is reported as "maybe delivered"; one that is
gone before the call changes nothing."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from smsctl.core.errors import ProviderUnavailable
from smsctl.providers.worker import Worker, channels_of
from tests.reliability.helpers import SMSCTL, child_env
from tests.support.cli import add_sandbox_sms_account
from tests.support.probe import probe

PHONE = "+8613812345678"
RESPONSE_LOST_NUMBER = "+8613900000011"  # the sandbox records the SMS, answers after 5 s
SEND = ("send-test", "--scenario", "login", "--param", "code=1", "--yes", "--to")


@pytest.mark.parametrize(
    ("argv", "channels"),
    [
        (["send-test", "--to", PHONE, "--yes"], ("sms",)),
        (["--json", "--config", "c.toml", "send-test", "--to", PHONE], ("sms",)),
        (["--config", "voice", "send-test", "--to", PHONE], ("sms",)),
        (["voice", "send-test", "--to", PHONE], ("voice",)),
        (["-v", "voice", "call-result", "--call-id", "1"], ("voice",)),
        (["receipt", "--biz-id", "1"], ("sms",)),
        (["validate", "prod", "--check-only"], ("sms",)),
        (["template", "add", "SMS_1", "--account", "prod", "--scenario", "login"], ("sms",)),
        (["signature", "sync"], ("sms",)),
        (["voice", "template", "add", "a.wav", "--voice-file"], ("voice",)),
        (["voice", "template", "add", "TTS_1", "--content", "Hi"], ()),
        (["voice", "template", "sync"], ("voice",)),
        (["doctor"], ("sms", "voice")),
        (["doctor", "--channel", "voice", "--channel", "email"], ("voice",)),
        (["doctor", "--channel=email"], ()),
        (["doctor", "--offline"], ()),
        (["email", "send-test", "--to", "a@example.com"], ()),
        (["wechat", "send-test", "--openid", "o"], ()),
        (["send-test", "--to", PHONE, "--dry-run"], ()),
        (["voice", "send-test", "--help"], ()),
        (["template", "list"], ()),
        (["template", "show", "SMS_1"], ()),
        (["account", "show", "prod"], ()),
        ([], ()),
    ],
)
def test_which_command_lines_get_a_worker(argv: list[str], channels: tuple[str, ...]) -> None:
    assert channels_of(argv) == channels


@pytest.fixture
def prod(fresh_sandbox_state, config_file: Path) -> dict:
    info = fresh_sandbox_state.info()["sms"]
    add_sandbox_sms_account(info)
    return info


def _env(info: dict, **extra: str | None) -> dict[str, str]:
    return child_env(SMSCTL_SECRET_SMS_PROD=info["access_key_secret"], **extra)


def _sent_to(sandbox, number: str) -> list[dict]:
    national = number.removeprefix("+86")
    return [
        params
        for action, params in sandbox.alibaba.state.requests
        if action == "SendSms" and params.get("PhoneNumbers") == national
    ]


@pytest.mark.parametrize("worker", ["1", "0"])
def test_the_sdk_work_happens_in_the_worker(prod, fresh_sandbox_state, worker: str) -> None:
    report, _, stderr = probe([*SEND, PHONE], _env(prod, SMSCTL_PROVIDER_WORKER=worker))
    assert report["code"] == 0, stderr
    assert len(_sent_to(fresh_sandbox_state, PHONE)) == 1
    sdk_in_parent = [m for m in report["modules"] if m.startswith("alibabacloud_")]
    assert bool(sdk_in_parent) == (worker == "0")


@pytest.mark.parametrize(
    ("argv", "action"),
    [
        (["validate", "prod", "--check-only"], "QuerySmsSignList"),
        (["--json", "doctor", "--channel", "sms"], "QuerySmsSignList"),
        (["signature", "sync"], "GetSmsSign"),
    ],
)
def test_other_commands_that_call_alibaba_use_the_worker_too(
    prod, fresh_sandbox_state, argv: list[str], action: str
) -> None:
    state = fresh_sandbox_state.alibaba.state
    before = len(state.requests)
    report, stdout, stderr = probe(argv, _env(prod))
    assert report["code"] == 0, stdout + stderr
    assert action in [a for a, _ in state.requests[before:]]
    assert not [m for m in report["modules"] if m.startswith("alibabacloud_")]


def test_a_worker_gone_before_the_call_changes_nothing(prod, fresh_sandbox_state) -> None:
    """Nothing was handed over, so the call runs in the parent and is sent exactly once."""
    report, _, stderr = probe([*SEND, PHONE], _env(prod, PROBE_KILL_WORKER_FIRST="1"))
    assert report["code"] == 0, stderr
    assert len(_sent_to(fresh_sandbox_state, PHONE)) == 1
    assert any(m.startswith("alibabacloud_") for m in report["modules"])


def _start_hanging_send(prod: dict, sandbox) -> tuple[subprocess.Popen, int]:
    """A send the sandbox records at once but answers only after 5 s; returns the smsctl
    process and its worker's pid once the request has reached the provider."""
    process = subprocess.Popen(
        [str(SMSCTL), "--json", *SEND, RESPONSE_LOST_NUMBER],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(prod),
    )
    deadline = time.monotonic() + 30
    while not _sent_to(sandbox, RESPONSE_LOST_NUMBER):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the send never reached the sandbox"
        time.sleep(0.05)
    children = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
    assert len(children) == 1, children
    return process, int(children[0])


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0]
    except FileNotFoundError:
        return True
    return state == "Z"


def _last_audit(state_dir: Path) -> dict:
    return json.loads((state_dir / "audit.jsonl").read_text().splitlines()[-1])


def test_ctrl_c_stops_smsctl_and_its_worker_and_keeps_the_attempt(
    prod, fresh_sandbox_state, state_dir: Path
) -> None:
    process, worker_pid = _start_hanging_send(prod, fresh_sandbox_state)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=10)
    assert process.returncode == 130, err
    assert "Traceback" not in err
    assert _gone(worker_pid)
    entry = _last_audit(state_dir)
    assert (entry["outcome"], entry["code"]) == ("unknown", "Interrupted")


def test_a_worker_that_dies_mid_call_is_reported_as_maybe_delivered(
    prod, fresh_sandbox_state, state_dir: Path
) -> None:
    process, worker_pid = _start_hanging_send(prod, fresh_sandbox_state)
    os.kill(worker_pid, signal.SIGKILL)
    out, err = process.communicate(timeout=10)
    assert process.returncode == 7, err
    error = json.loads(err.strip().splitlines()[-1])["error"]
    assert error["code"] == "ResponseLost"
    assert "MAY have been delivered" in error["message"]
    assert "smsctl log --sends" in error["hint"]
    entry = _last_audit(state_dir)
    assert (entry["outcome"], entry["code"]) == ("unknown", "ResponseLost")


def test_the_worker_dies_with_smsctl(prod, fresh_sandbox_state) -> None:
    """smsctl killed mid-send (SIGKILL: no atexit) takes its worker along, so nothing it does
    can go unrecorded."""
    process, worker_pid = _start_hanging_send(prod, fresh_sandbox_state)
    process.kill()
    process.wait(timeout=10)  # not communicate(): the worker would hold its stderr open
    deadline = time.monotonic() + 2  # the sandbox answers the send only after 5 s
    while not _gone(worker_pid):
        assert time.monotonic() < deadline, "the worker outlived smsctl"
        time.sleep(0.05)
    process.communicate(timeout=10)


class _HereAdapter:
    """Stands in for the in-process adapter: the worker's own fallback is what is tested."""

    calls: list[tuple] = []

    def query_receipt(self, *args: str) -> str:
        self.calls.append(args)
        return "delivered"


def _worker_with_replies(replies_fd: int, requests_fd: int) -> tuple[Worker, subprocess.Popen]:
    stand_in = subprocess.Popen(["sleep", "30"])
    return Worker(stand_in.pid, os.fdopen(requests_fd, "wb"), os.fdopen(replies_fd, "rb")), (
        stand_in
    )


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture
def here(monkeypatch: pytest.MonkeyPatch) -> list[tuple]:
    from smsctl.providers import worker as worker_module

    _HereAdapter.calls = []
    monkeypatch.setattr(worker_module, "local_adapter", lambda channel, access: _HereAdapter())
    return _HereAdapter.calls


def test_after_the_worker_died_mid_call_later_calls_run_here(here: list[tuple]) -> None:
    """A receipt poll that lost the worker is ResponseLost (the poll retries it); the next poll
    runs in this process instead of writing to a dead worker."""
    replies_r, replies_w = os.pipe()
    os.close(replies_w)  # the worker is gone before it answered
    requests_r, requests_w = os.pipe()
    worker, stand_in = _worker_with_replies(replies_r, requests_w)
    try:
        with pytest.raises(ProviderUnavailable) as caught:
            worker.call("sms", ("key",), "query_receipt", ("biz",), {})
        assert caught.value.code == "ResponseLost"
        assert not _alive(stand_in.pid)
        assert worker.call("sms", ("key",), "query_receipt", ("biz",), {}) == "delivered"
        assert here == [("biz",)]
    finally:
        os.close(requests_r)
        stand_in.kill()


def test_a_request_that_cannot_reach_the_worker_runs_here(here: list[tuple]) -> None:
    replies_r, replies_w = os.pipe()
    requests_r, requests_w = os.pipe()
    os.close(requests_r)  # nobody reads requests any more: the hand-over fails
    worker, stand_in = _worker_with_replies(replies_r, requests_w)
    try:
        assert worker.call("sms", ("key",), "query_receipt", ("biz",), {}) == "delivered"
        assert here == [("biz",)]
        assert worker.channel_failed and not _alive(stand_in.pid)
        reused = subprocess.Popen(["sleep", "30"])  # what a recycled pid would be
        worker.pid = reused.pid
        worker.stop()  # already stopped: it must not kill whatever has that pid now
        assert _alive(reused.pid)
        reused.kill()
        reused.wait()
    finally:
        os.close(replies_w)
        stand_in.kill()
