"""The test-send guard counts what the provider counts (issue 14 item 8), on every channel: a
send the provider refused before accepting it (here: the credentials, the most common case)
gives its slot back, so the retry after fixing the secret goes out; an accepted send, or one
whose outcome is unknown, keeps its slot. Email addresses count case-insensitively."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from smsctl.sandbox import wechat as sbx
from tests.cli import test_email as email_t
from tests.cli import test_voice as voice_t
from tests.cli import test_wechat as wechat_t
from tests.support.cli import add_sandbox_sms_account, invoke

NUMBER = "+8613812345678"


@dataclass
class Channel:
    name: str
    secret_variable: str
    send: Callable[..., object]
    sent: Callable[[], int]


def _sms(box, _tmp) -> Channel:
    add_sandbox_sms_account(box.info()["sms"])
    box.alibaba.state.flow_control_enabled = False  # only smsctl's guard counts here

    def send(env=None, to=NUMBER):
        return invoke(
            "--json", "send-test", "--to", to, "--scenario", "login", "--param", "code=1",
            "--yes", env=env,
        )  # fmt: skip

    def sent() -> int:
        return sum(1 for action, _ in box.alibaba.state.requests if action == "SendSms")

    return Channel("sms", "SMSCTL_SECRET_SMS_PROD", send, sent)


def _voice(box, _tmp) -> Channel:
    info = box.info()["voice"]
    box.alibaba.state.flow_control_enabled = False
    steps = [
        ("voice", "template", "add", voice_t.TTS, "--account", "prod", "--scenario", "login",
         "--content", voice_t.TTS_CONTENT),
        ("voice", "validate", "prod"),
    ]  # fmt: skip
    assert voice_t.add_account(info).exit_code == 0
    for step in steps:
        done = invoke(*step)
        assert done.exit_code == 0, done.all_output

    def send(env=None, to=NUMBER):
        return invoke(
            "--json", "voice", "send-test", "--to", to, "--scenario", "login", "--param",
            "code=1", "--yes", env=env,
        )  # fmt: skip

    def sent() -> int:
        return len(voice_t.calls(box))

    return Channel("voice", "SMSCTL_SECRET_VOICE_PROD", send, sent)


def _email(server, tmp: Path) -> Channel:
    html = tmp / "login.html"
    html.write_text(email_t.HTML)
    assert email_t.add_account(server).exit_code == 0
    assert invoke("email", "validate", "mail").exit_code == 0
    assert email_t.add_template(html).exit_code == 0

    def send(env=None, to=email_t.TO):
        return invoke(
            "--json", "email", "send-test", "--to", to, "--scenario", "login", "--param",
            "code=1", "--param", "name=Bob", "--yes", env=env,
        )  # fmt: skip

    return Channel("email", "SMSCTL_SECRET_EMAIL_MAIL", send, lambda: len(server.messages))


def _wechat(server, _tmp) -> Channel:
    for step in (wechat_t.add_account(server), wechat_t.add_rule()):
        assert step.exit_code == 0, step.all_output
    assert invoke("wechat", "validate", "oa").exit_code == 0

    def send(env=None, to=sbx.FOLLOWER):
        return invoke(
            "--json", "wechat", "send-test", "--openid", to, "--rule", "login", "--var",
            "code=246810", "--yes", env=env,
        )  # fmt: skip

    return Channel("wechat", "SMSCTL_SECRET_WECHAT_OA", send, lambda: len(wechat_t.sends(server)))


SETUPS = {"sms": _sms, "voice": _voice, "email": _email, "wechat": _wechat}
SERVERS = {
    "sms": "fresh_sandbox_state",
    "voice": "fresh_sandbox_state",
    "email": "smtp_server",
    "wechat": "wechat_server",
}


@pytest.fixture(params=list(SETUPS))
def channel(request, config_file: Path, tmp_path: Path) -> Channel:
    """The channel set up against its sandbox, with a guard of one test send a minute."""
    server = request.getfixturevalue(SERVERS[request.param])
    ready = SETUPS[request.param](server, tmp_path)
    with config_file.open("a") as handle:
        handle.write(f"\n[guard.{ready.name}]\nper_minute = 1\nper_hour = 10\nper_day = 10\n")
    return ready


def ledger_lines(state_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (state_dir / "guard.jsonl").read_text().splitlines()]


def test_a_send_refused_for_its_credentials_does_not_use_up_the_quota(channel, state_dir):
    before = channel.sent()
    refused = channel.send(env={channel.secret_variable: "wrong-secret-0000"})
    assert refused.exit_code == 4, refused.all_output
    assert channel.sent() == before  # refused: nothing was delivered

    retried = channel.send()  # the secret fixed, at once
    assert retried.exit_code == 0, retried.all_output
    assert channel.sent() == before + 1

    again = channel.send()  # the accepted one counts
    assert again.exit_code == 6, again.all_output
    assert again.error()["code"] == "guard_limit"
    releases = [e for e in ledger_lines(state_dir) if "release" in e]
    assert len(releases) == 1


@pytest.mark.parametrize(
    ("setup", "target", "extra"),
    [
        ("sms", "+8613900000011", ("--timeout", "1")),  # answered after the read timeout
        ("voice", "+8613900000011", ("--timeout", "1")),
        ("email", "slow@example.test", ("--timeout", "0.5")),  # DATA answered too late
        ("wechat", sbx.SLOW_OPENID, ("--timeout", "0.5")),
    ],
)
def test_a_send_whose_outcome_is_unknown_keeps_counting(
    request, config_file, tmp_path, state_dir, setup, target, extra
):
    server = request.getfixturevalue(SERVERS[setup])
    ready = SETUPS[setup](server, tmp_path)
    with config_file.open("a") as handle:
        handle.write(f"\n[guard.{setup}]\nper_minute = 1\n")
    flag, to = ("--openid", target) if setup == "wechat" else ("--to", target)
    lost = invoke(*_args_of(ready, to, flag), *extra)
    assert lost.exit_code == 7, lost.all_output
    assert [e for e in ledger_lines(state_dir) if "release" in e] == []
    again = invoke(*_args_of(ready, to, flag))
    assert again.exit_code == 6, again.all_output


def _args_of(ready: Channel, to: str, flag: str) -> tuple[str, ...]:
    command = {
        "sms": ("send-test", "--scenario", "login", "--param", "code=1"),
        "voice": ("voice", "send-test", "--scenario", "login", "--param", "code=1"),
        "email": ("email", "send-test", "--scenario", "login", "--param", "code=1",
                  "--param", "name=Bob"),
        "wechat": ("wechat", "send-test", "--rule", "login", "--var", "code=246810"),
    }[ready.name]  # fmt: skip
    return ("--json", *command, flag, to, "--yes")


def test_a_refused_number_gives_its_slot_back(fresh_sandbox_state, config_file, state_dir):
    ready = _sms(fresh_sandbox_state, None)
    refused = ready.send(to="+8613900000005")  # isv.AMOUNT_NOT_ENOUGH, no BizId
    assert refused.exit_code == 5, refused.all_output
    assert ready.send(to="+8613900000005").exit_code == 5  # not 6: the first did not count


@pytest.mark.parametrize("spelling", ["Alice@Example.Test", "ALICE@EXAMPLE.TEST"])
def test_one_address_in_any_case_is_one_recipient(smtp_server, config_file, tmp_path, spelling):
    ready = _email(smtp_server, tmp_path)
    with config_file.open("a") as handle:
        handle.write("\n[guard.email]\nper_minute = 1\n")
    assert ready.send(to="alice@example.test").exit_code == 0
    other = ready.send(to=spelling)
    assert other.exit_code == 6, other.all_output
    assert len(smtp_server.messages) == 1


def test_no_audit_record_no_send_and_no_slot_used_on_every_channel(channel, state_dir):
    """Issue 16 item 7: the attempt is recorded before the request, or nothing is sent."""
    log = state_dir / "audit.jsonl"
    log.rename(state_dir / "audit.jsonl.old")
    log.mkdir()
    before = channel.sent()
    refused = channel.send()
    assert refused.exit_code == 3, refused.all_output
    assert refused.error()["code"] == "audit_log_unusable"
    assert channel.sent() == before
    log.rmdir()
    sent = channel.send()  # the slot was given back: the limit of one a minute is not used up
    assert sent.exit_code == 0, sent.all_output
    assert channel.sent() == before + 1


def test_a_corrupt_ledger_never_stops_a_send(channel, state_dir):
    """Issue 16 item 8: an ill-typed or deeply nested ledger line made every send-test exit 1."""
    ledger = state_dir / "guard.jsonl"
    ledger.write_bytes(b"[" * 100_000 + b"\n" + b'{"at": "x", "channel": [], "target": 5}\n')
    sent = channel.send()
    assert sent.exit_code == 0, sent.all_output
    assert f"skipped 2 unreadable lines of {ledger} (lines 1, 2)" in sent.stderr
    assert len(ledger_lines(state_dir)) == 1  # rewritten without them
