"""No accepted send goes unrecorded (issue 16 item 7), through the installed console script:
smsctl killed with SIGKILL while the provider holds the request (the sandbox records the
message at once and answers only after 5 s) leaves an attempt record that `smsctl log` shows as
"unknown", with the OutId the provider filed the message under, and the guard keeps counting
it; an audit log that cannot be written (symlink, directory) means nothing is sent, exit 3."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.reliability.helpers import SMSCTL, assert_error_with_hint, child_env, smsctl
from tests.support.cli import add_sandbox_sms_account, invoke

RESPONSE_LOST_NUMBER = "+8613900000011"  # the sandbox records it, answers after 5 s
OK_NUMBER = "+8613812345678"
VOICE_TTS = "TTS_100000001"


@pytest.fixture
def sms_and_voice(fresh_sandbox_state, config_file: Path) -> dict:
    """An SMS account (with its login template) and a voice account with a TTS login template."""
    info = fresh_sandbox_state.info()
    add_sandbox_sms_account(info["sms"])
    voice = info["voice"]
    steps = [
        ("voice", "account", "add", "prod", "--access-key-id", voice["access_key_id"],
         "--endpoint", voice["endpoint"], "--secret-stdin"),
        ("voice", "template", "add", VOICE_TTS, "--account", "prod", "--scenario", "login",
         "--content", "您的验证码是${code}，请在5分钟内输入。"),
        ("voice", "validate", "prod"),
    ]  # fmt: skip
    for step in steps:
        done = invoke(*step, input=voice["access_key_secret"] + "\n")
        assert done.exit_code == 0, done.all_output
    return info


def _env(info: dict) -> dict[str, str]:
    return child_env(
        SMSCTL_SECRET_SMS_PROD=info["sms"]["access_key_secret"],
        SMSCTL_SECRET_VOICE_PROD=info["voice"]["access_key_secret"],
    )


COMMANDS = {
    "sms": ("send-test", "--scenario", "login", "--param", "code=1", "--yes", "--to"),
    "voice": ("voice", "send-test", "--scenario", "login", "--param", "code=1", "--yes", "--to"),
}


def _filed(sandbox, channel: str) -> list:
    """What the provider holds for the number: delivered SMS, placed calls."""
    state = sandbox.alibaba.state
    records = state.sms if channel == "sms" else state.calls
    national = RESPONSE_LOST_NUMBER.removeprefix("+86")
    return [r for r in records if getattr(r, "phone", getattr(r, "callee", None)) == national]


@pytest.mark.parametrize("channel", ["sms", "voice"])
def test_sigkill_during_the_provider_call_leaves_an_unknown_attempt_in_the_log(
    sms_and_voice, fresh_sandbox_state, state_dir: Path, channel: str
) -> None:
    env = _env(sms_and_voice)
    process = subprocess.Popen(
        [str(SMSCTL), "--json", *COMMANDS[channel], RESPONSE_LOST_NUMBER],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    deadline = time.monotonic() + 30
    while not _filed(fresh_sandbox_state, channel):  # the provider has it; no answer for 5 s
        assert process.poll() is None, "smsctl ended before the provider had the request"
        assert time.monotonic() < deadline, "the request never reached the sandbox"
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    assert process.wait(timeout=10) == -signal.SIGKILL
    [filed] = _filed(fresh_sandbox_state, channel)

    shown = smsctl("--json", "log", "--sends", "--channel", channel, env=env)
    assert shown.exit_code == 0, shown.all_output
    [entry] = shown.json()
    assert entry["outcome"] == "unknown"
    assert entry["code"] == "NoOutcomeRecorded"
    assert entry["out_id"] == filed.out_id  # what finds the message at the provider
    assert entry["to"] == "+86 139****0011"
    human = smsctl("log", "--sends", "--channel", channel, env=env)
    assert "unknown (NoOutcomeRecorded)" in human.stdout
    assert f"out_id={filed.out_id}" in human.stdout

    again = smsctl("--json", *COMMANDS[channel], RESPONSE_LOST_NUMBER, env=env)
    assert_error_with_hint(again, 6, "guard_limit")  # a send of unknown outcome counts
    assert len(_filed(fresh_sandbox_state, channel)) == 1


@pytest.mark.parametrize("broken", ["symlink", "directory"])
def test_an_audit_log_that_cannot_be_written_means_nothing_is_sent(
    sms_and_voice, fresh_sandbox_state, state_dir: Path, tmp_path: Path, broken: str
) -> None:
    log = state_dir / "audit.jsonl"
    log.unlink()
    victim = tmp_path / "victim"
    if broken == "symlink":
        victim.write_text("precious")
        log.symlink_to(victim)
    else:
        log.mkdir()
    before = len(fresh_sandbox_state.alibaba.state.requests)
    env = _env(sms_and_voice)
    for channel in COMMANDS:
        result = smsctl("--json", *COMMANDS[channel], OK_NUMBER, env=env)
        error = assert_error_with_hint(result, 3, "audit_log_unusable")
        assert str(log) in error["message"]
        assert "Nothing was sent" in error["hint"]
    assert fresh_sandbox_state.alibaba.state.requests[before:] == []
    if broken == "symlink":
        assert victim.read_text() == "precious"
    # The guard gave the slots back: with the log repaired, the sends go out at once.
    if broken == "symlink":
        log.unlink()
    else:
        log.rmdir()
    for channel in COMMANDS:
        assert smsctl("--json", *COMMANDS[channel], OK_NUMBER, env=env).exit_code == 0
    assert [json.loads(line)["event"] for line in log.read_text().splitlines()] == [
        "send.attempt",
        "send",
        "send.attempt",
        "send",
    ]
