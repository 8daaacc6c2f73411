"""The provider worker (smsctl.providers.worker): an SMS or voice `send-test` started from the
console script does its SDK work in a forked child. Proven from the outside: the parent never
loads the SDK yet the provider gets the request; Ctrl-C stops both processes and the audit log
keeps the attempt; a worker that dies mid-call is reported as "maybe delivered"; one that is
gone before the call changes nothing."""

from __future__ import annotations

import inspect
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from smsctl.core.errors import ProviderUnavailable
from smsctl.providers.alibaba_common import AlibabaAccess
from smsctl.providers.worker import Worker, channels_of
from tests.reliability.helpers import SMSCTL, child_env
from tests.support.cli import add_sandbox_sms_account
from tests.support.probe import probe

PHONE = "+8613812345678"
RESPONSE_LOST_NUMBER = "+8613900000011"  # the sandbox records the SMS, answers after 5 s
ACCESS = AlibabaAccess("LTAI5tWorkerTest", "not-used")
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
        (["send-test", "--dry-run", "--to", PHONE], ()),
        (["--config", "c.toml", "voice", "-v", "send-test", "--to", PHONE], ("voice",)),
        (["voice", "send-test", "--to", PHONE, "--dry-run"], ()),
        (["doctor", "--channel", "sms", "--offline"], ()),
        (["voice", "--", "send-test"], ()),
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
            worker.call("sms", ACCESS, "query_receipt", ("biz",), {})
        assert caught.value.code == "ResponseLost"
        assert not _alive(stand_in.pid)
        assert worker.call("sms", ACCESS, "query_receipt", ("biz",), {}) == "delivered"
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
        assert worker.call("sms", ACCESS, "query_receipt", ("biz",), {}) == "delivered"
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


def test_without_a_readable_command_tree_no_worker_starts_and_debug_says_why(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from smsctl.providers import worker as worker_module

    monkeypatch.setattr(worker_module, "TREE_FILE", str(tmp_path / "missing.json"))
    monkeypatch.setenv("SMSCTL_DEBUG", "1")
    assert channels_of(["send-test", "--to", PHONE]) == ()
    assert "debug: provider worker: not started: the command tree is unreadable" in (
        capsys.readouterr().err
    )


# --- the adapters' stand-ins have exactly the adapters' methods --------------------------------


def _interface(cls: type) -> dict[str, inspect.Signature]:
    """The public methods of an adapter class (or of its stand-in, or protocol), without the
    plumbing every Alibaba adapter inherits (invoke, localize, preload)."""
    from smsctl.providers.alibaba_common import AlibabaAdapter

    return {
        name: inspect.signature(getattr(cls, name))
        for name in dir(cls)
        if not name.startswith("_")
        and name not in vars(AlibabaAdapter)
        and callable(getattr(cls, name))
    }


def _adapter_kinds() -> list[tuple[type, type, type]]:
    from smsctl.providers import interfaces, worker
    from smsctl.providers.alibaba_sms import AlibabaSms
    from smsctl.providers.alibaba_voice import AlibabaVoice

    return [
        (AlibabaSms, worker.RemoteSms, interfaces.SmsAdapter),
        (AlibabaVoice, worker.RemoteVoice, interfaces.VoiceAdapter),
    ]


@pytest.mark.parametrize(("real", "remote", "protocol"), _adapter_kinds(), ids=["sms", "voice"])
def test_the_stand_ins_and_the_protocols_have_every_method_of_the_adapters(
    real: type, remote: type, protocol: type
) -> None:
    methods = _interface(real)
    assert methods, real
    assert _interface(remote) == methods
    assert _interface(protocol) == methods


SENDING = {"send", "call_tts", "call_voice_file"}  # a lost answer: MAY have gone out


class _RecordingWorker:
    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def call(self, channel, access, method, args, kwargs, *, send=False) -> str:
        self.calls.append((channel, access, method, args, kwargs, send))
        return "answer"


@pytest.mark.parametrize(("real", "remote", "protocol"), _adapter_kinds(), ids=["sms", "voice"])
def test_each_stand_in_method_hands_its_own_arguments_to_the_worker(
    real: type, remote: type, protocol: type
) -> None:
    """Every argument reaches the adapter method of the same name under its own parameter."""
    for name, signature in _interface(real).items():
        recorder = _RecordingWorker()
        parameters = list(signature.parameters.values())[1:]  # without self
        positional = [f"<{p.name}>" for p in parameters if p.kind is p.POSITIONAL_OR_KEYWORD]
        keywords = {p.name: f"<{p.name}>" for p in parameters if p.kind is p.KEYWORD_ONLY}
        stand_in = remote(recorder, ACCESS)
        assert getattr(stand_in, name)(*positional, **keywords) == "answer"
        [(channel, access, method, args, kwargs, send)] = recorder.calls
        assert (channel, access, method, send) == (remote.channel, ACCESS, name, name in SENDING)
        bound = signature.bind("self", *args, **kwargs).arguments
        assert {key: value for key, value in bound.items() if key != "self"} == {
            p.name: f"<{p.name}>" for p in parameters
        }


# --- a deadline on the worker's answer ---------------------------------------------------------


def test_the_reply_budget_is_one_exchange_a_retry_wait_and_the_margin() -> None:
    from smsctl.providers import worker as worker_module

    access = AlibabaAccess("LTAI5tWorkerTest", "x", connect_timeout=2, read_timeout=3, deadline=7)
    assert worker_module.reply_budget(access) == 2 + 7 + 10 + worker_module.REPLY_MARGIN
    slow_reads = AlibabaAccess("LTAI5tWorkerTest", "x", read_timeout=90, deadline=7)
    assert worker_module.reply_budget(slow_reads) == 5 + 90 + 10 + worker_module.REPLY_MARGIN


class _Silence:
    """Stands in for select(): nothing ever arrives, and each wait is recorded."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, fd: int, seconds: float) -> bool:
        self.waits.append(seconds)
        return False


@pytest.mark.parametrize(
    ("method", "send", "maybe_sent"),
    [("send", True, True), ("query_receipt", False, False)],
)
def test_a_silent_worker_is_stopped_at_the_budget_and_its_call_reported_lost(
    here: list[tuple], method: str, send: bool, maybe_sent: bool
) -> None:
    from smsctl.providers.worker import reply_budget

    replies_r, replies_w = os.pipe()  # open at both ends, and nobody ever answers
    requests_r, requests_w = os.pipe()
    stand_in = subprocess.Popen(["sleep", "30"])
    silence = _Silence()
    worker = Worker(
        stand_in.pid,
        os.fdopen(requests_w, "wb"),
        os.fdopen(replies_r, "rb"),
        clock=lambda: 1000.0,
        wait=silence,
    )
    try:
        with pytest.raises(ProviderUnavailable) as caught:
            worker.call("sms", ACCESS, method, ("biz",), {}, send=send)
        assert silence.waits == [reply_budget(ACCESS)]
        assert caught.value.exit_code == 7 and caught.value.code == "ResponseLost"
        assert f"gave no answer to {method} within" in caught.value.message
        assert ("MAY have been delivered" in caught.value.message) == maybe_sent
        assert caught.value.details.get("maybe_sent", False) == maybe_sent
        assert not _alive(stand_in.pid)
        assert worker.call("sms", ACCESS, "query_receipt", ("biz",), {}) == "delivered"
        assert here == [("biz",)]  # later calls run here, none was repeated
    finally:
        os.close(requests_r)
        os.close(replies_w)
        stand_in.kill()


class _Clock:
    def __init__(self, step: float) -> None:
        self.now = 0.0
        self.step = step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


def _frame(reply: tuple) -> bytes:
    import pickle

    data = pickle.dumps(reply)
    return len(data).to_bytes(8, "big") + data


def test_each_exchange_the_worker_reports_gives_it_a_new_budget() -> None:
    """Three reports of progress then the answer, over 3.6 budgets in all but never one
    budget between two messages: a long listing of many pages is not cut off."""
    from smsctl.providers.worker import reply_budget

    budget = reply_budget(ACCESS)
    replies_r, replies_w = os.pipe()
    requests_r, requests_w = os.pipe()
    os.write(replies_w, _frame(("progress", None)) * 3 + _frame(("ok", {"SMS_1": "approved"})))
    stand_in = subprocess.Popen(["sleep", "30"])
    clock = _Clock(step=budget * 0.3)  # each look at the clock: 30 % of a budget later
    worker = Worker(
        stand_in.pid, os.fdopen(requests_w, "wb"), os.fdopen(replies_r, "rb"), clock=clock
    )
    try:
        assert worker.call("sms", ACCESS, "list_templates", (None,), {}) == {"SMS_1": "approved"}
        assert clock.now > 3 * budget
        assert stand_in.poll() is None  # not stopped
    finally:
        os.close(requests_r)
        os.close(replies_w)
        stand_in.kill()
        stand_in.wait()


def _pid_file_prelude(pid_file: Path, extra: str = "") -> str:
    """Probe prelude: record the worker's pid in `pid_file` when it starts, then `extra`."""
    return (
        "from smsctl.providers import worker as _worker\n"
        "_start = _worker.start\n"
        "def _recording_start(channels):\n"
        "    _start(channels)\n"
        f"    open({str(pid_file)!r}, 'w').write(str(_worker._running.pid))\n"
        "_worker.start = _recording_start\n" + extra
    )


HANG_SEND = """
import threading
from smsctl.providers import alibaba_sms
_worker.reply_budget = lambda access: 1.0
alibaba_sms.AlibabaSms.send = lambda self, *args, **kwargs: threading.Event().wait()
"""


def test_a_worker_that_hangs_in_a_send_is_stopped_and_the_send_reported_maybe_delivered(
    prod, fresh_sandbox_state, state_dir: Path, tmp_path: Path
) -> None:
    pid_file = tmp_path / "worker.pid"
    report, stdout, stderr = probe(
        ["--json", *SEND, PHONE],
        _env(prod, SMSCTL_DEBUG="1", PROBE_PRELUDE=_pid_file_prelude(pid_file, HANG_SEND)),
    )
    assert report["code"] == 7, stdout + stderr
    error = json.loads(stderr.strip().splitlines()[-1])["error"]
    assert error["code"] == "ResponseLost"
    assert "gave no answer to send within 1 s" in error["message"]
    assert "MAY have been delivered" in error["message"]
    assert "debug: provider worker: no answer to send within 1 s: stopped it" in stderr
    assert _gone(int(pid_file.read_text()))
    assert _sent_to(fresh_sandbox_state, PHONE) == []  # it hung before sending: never resent
    entry = _last_audit(state_dir)
    assert (entry["outcome"], entry["code"]) == ("unknown", "ResponseLost")


COUNT_MESSAGES = """
_read_frame = _worker.Worker._read_frame
def _counting_read_frame(self, budget):
    status, value = _read_frame(self, budget)
    import sys
    sys.stderr.write(f"FRAME {status}\\n")
    return status, value
_worker.Worker._read_frame = _counting_read_frame
"""


def test_the_worker_reports_each_http_exchange_it_makes(
    prod, fresh_sandbox_state, tmp_path: Path
) -> None:
    state = fresh_sandbox_state.alibaba.state
    before = len(state.requests)
    report, stdout, stderr = probe(
        ["validate", "prod"],
        _env(prod, PROBE_PRELUDE=_pid_file_prelude(tmp_path / "pid", COUNT_MESSAGES)),
    )
    assert report["code"] == 0, stdout + stderr
    exchanges = len(state.requests) - before
    assert exchanges > 1
    frames = [line.split()[1] for line in stderr.splitlines() if line.startswith("FRAME ")]
    assert frames.count("progress") == exchanges
    assert frames[-1] == "ok"


# --- no fork while other threads run -----------------------------------------------------------

THREADS = {
    # a thread of the threading module, blocked for good
    "threading": "import threading\n"
    "threading.Thread(target=threading.Event().wait, daemon=True).start()\n",
    # one started below it (as C code would), which the threading module does not know of
    "_thread": "import _thread\n"
    "_lock = _thread.allocate_lock()\n"
    "_lock.acquire()\n"
    "_thread.start_new_thread(_lock.acquire, ())\n",
}


@pytest.mark.parametrize("how", sorted(THREADS))
def test_no_worker_is_forked_while_another_thread_runs(prod, fresh_sandbox_state, how: str) -> None:
    report, stdout, stderr = probe(
        [*SEND, PHONE], _env(prod, SMSCTL_DEBUG="1", PROBE_PRELUDE=THREADS[how])
    )
    assert report["code"] == 0, stdout + stderr
    assert len(_sent_to(fresh_sandbox_state, PHONE)) == 1
    assert any(m.startswith("alibabacloud_") for m in report["modules"])  # sent from here
    assert "debug: provider worker: not started: 1 other thread(s) running" in stderr


def test_other_threads_counts_every_thread_of_the_process() -> None:
    import threading

    from smsctl.providers.worker import other_threads

    before = other_threads()
    release = threading.Event()
    thread = threading.Thread(target=release.wait)
    thread.start()
    try:
        assert other_threads() == before + 1
    finally:
        release.set()
        thread.join()


# --- what the worker does instead of its usual path shows under SMSCTL_DEBUG ------------------

FAILING_PRELOAD = """
from smsctl.providers import alibaba_common
def _no_preload(cls):
    raise ImportError("no SDK here")
alibaba_common.AlibabaAdapter.preload = classmethod(_no_preload)
"""


@pytest.mark.parametrize("debug", ["1", None])
def test_a_failed_preload_in_the_worker_is_a_debug_note_and_the_call_still_works(
    prod, fresh_sandbox_state, debug: str | None
) -> None:
    report, stdout, stderr = probe(
        [*SEND, PHONE], _env(prod, SMSCTL_DEBUG=debug, PROBE_PRELUDE=FAILING_PRELOAD)
    )
    assert report["code"] == 0, stdout + stderr
    assert len(_sent_to(fresh_sandbox_state, PHONE)) == 1
    assert not [m for m in report["modules"] if m.startswith("alibabacloud_")]  # the worker sent
    note = (
        "debug: provider worker: could not load the sms SDK ahead of its first call "
        "(ImportError('no SDK here'))"
    )
    assert (note in stderr) == (debug == "1")
    assert ("provider worker" in stderr) == (debug == "1")


def test_a_worker_gone_before_the_call_is_a_debug_note(prod, fresh_sandbox_state) -> None:
    report, stdout, stderr = probe(
        [*SEND, PHONE], _env(prod, SMSCTL_DEBUG="1", PROBE_KILL_WORKER_FIRST="1")
    )
    assert report["code"] == 0, stdout + stderr
    assert "debug: provider worker: gone before send was handed over" in stderr
    assert "it runs in this process" in stderr


def test_worker_notes_are_redacted(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from smsctl.core.redaction import register_secret
    from smsctl.providers import worker as worker_module
    from tests.conftest import CANARY

    register_secret(CANARY)
    monkeypatch.setenv("SMSCTL_DEBUG", "1")
    worker_module._note(f"stopped by ValueError: bad value {CANARY}")
    err = capsys.readouterr().err
    assert err == "debug: provider worker: stopped by ValueError: bad value ****\n"


def test_worker_notes_need_smsctl_debug(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from smsctl.providers import worker as worker_module

    monkeypatch.setenv("SMSCTL_DEBUG", "0")
    worker_module._note("not started: fork failed")
    assert capsys.readouterr().err == ""
