"""Ctrl-C during a send-test, on every channel: before the request nothing went out; during it
the message may have gone out (OutId, and how to check); while waiting it was accepted (how to
look it up). Always exit 130; the audit log has the attempt. The real keypress in a real
terminal is tests/e2e/test_terminal.py; here the interrupt is raised where it would land."""

from __future__ import annotations

import json

import pytest

from tests.support.cli import invoke
from tests.support.hints import check_hint_commands
from tests.support.sends import SENDS, ready  # noqa: F401 - the fixture

# Where a Ctrl-C lands while the request is with the provider, per channel.
IN_FLIGHT = {
    "sms": "smsctl.providers.alibaba_sms.AlibabaSms.send",
    "voice": "smsctl.providers.alibaba_voice.AlibabaVoice.call_tts",
    "email": "smsctl.providers.smtp.send",
    "wechat": "smsctl.providers.wechat.send_template",
}
WHAT = {
    "sms": "SMS was being sent",
    "voice": "call was being placed",
    "email": "email was being sent",
    "wechat": "message was being pushed",
}


def ctrl_c(*args, **kwargs):
    raise KeyboardInterrupt


def audit_sends(state_dir) -> list[dict]:
    path = state_dir / "audit.jsonl"
    lines = path.read_text().splitlines() if path.exists() else []
    return [e for e in map(json.loads, lines) if e["event"] == "send"]


@pytest.mark.parametrize("ready", list(SENDS), indirect=True)
def test_ctrl_c_during_the_request_says_it_may_have_gone_out(
    ready,  # noqa: F811
    monkeypatch,
    state_dir,
) -> None:
    monkeypatch.setattr(IN_FLIGHT[ready], ctrl_c)
    argv, _ = SENDS[ready]
    result = invoke("--json", *argv, "--yes")
    assert result.exit_code == 130, result.all_output
    assert result.stdout == ""
    error = result.error()
    [attempt] = audit_sends(state_dir)
    out_id = attempt["out_id"]
    assert error["code"] == "interrupted_send"
    assert error["message"] == (
        f"Interrupted while the {WHAT[ready]}: it may have gone out (OutId {out_id})."
    )
    assert error["details"] == {"out_id": out_id, "sent": "unknown"}
    assert out_id in error["hint"]
    assert attempt["outcome"] == "unknown" and attempt["code"] == "Interrupted"


ready_sms = pytest.mark.parametrize("ready", ["sms"], indirect=True)


@ready_sms
def test_the_sms_hint_is_the_receipt_lookup_by_out_id(ready, monkeypatch, config_file) -> None:  # noqa: F811
    from smsctl.core.config import ConfigStore

    monkeypatch.setattr(IN_FLIGHT["sms"], ctrl_c)
    result = invoke("--json", *SENDS["sms"][0], "--yes")
    error = result.error()
    [command] = check_hint_commands(error["hint"], ConfigStore(config_file).load())
    assert command.path == ("receipt",)
    assert command.params["out_id"] == error["details"]["out_id"]


@ready_sms
def test_ctrl_c_before_the_request_says_nothing_went_out(ready, monkeypatch, state_dir) -> None:  # noqa: F811
    monkeypatch.setattr("smsctl.core.testsend.admit", ctrl_c)  # during the guard's check
    result = invoke("--json", *SENDS["sms"][0], "--yes")
    assert result.exit_code == 130
    error = result.error()
    assert error["message"] == "Interrupted before the SMS was sent: nothing went out."
    assert error["details"]["sent"] is False
    assert audit_sends(state_dir) == []


@pytest.mark.parametrize(
    ("ready", "target", "command_path", "id_word"),
    [
        ("sms", "smsctl.core.sms.wait_receipt", ("receipt",), "BizId"),
        ("voice", "smsctl.core.voice.wait_call", ("voice", "call-result"), "CallId"),
    ],
    indirect=["ready"],
)
def test_ctrl_c_while_waiting_says_it_was_accepted_and_how_to_look_it_up(
    ready,  # noqa: F811
    target,
    command_path,
    id_word,
    monkeypatch,
    config_file,
) -> None:
    from smsctl.core.config import ConfigStore

    monkeypatch.setattr(target, ctrl_c)
    result = invoke("--json", *SENDS[ready][0], "--yes", "--wait", "30")
    assert result.exit_code == 130, result.all_output
    error = result.error()
    assert error["code"] == "interrupted_wait"
    noun = WHAT[ready].split()[0]
    assert error["message"].startswith(f"Interrupted while waiting: the {noun} was ")
    assert f"({id_word} " in error["message"]
    assert error["details"]["sent"] is True
    [command] = check_hint_commands(error["hint"], ConfigStore(config_file).load())
    assert command.path == command_path


@ready_sms
def test_human_output_says_it_in_one_error_with_the_command(ready, monkeypatch) -> None:  # noqa: F811
    monkeypatch.setattr(IN_FLIGHT["sms"], ctrl_c)
    result = invoke(*SENDS["sms"][0], "--yes")
    assert result.exit_code == 130
    lines = result.stderr.splitlines()
    assert lines[0].startswith("Error: Interrupted while the SMS was being sent")
    assert lines[-1].startswith("Hint: Check before sending again: `smsctl receipt --to ")


@ready_sms
def test_ctrl_c_in_any_other_command_is_130_with_one_line(ready, monkeypatch) -> None:  # noqa: F811
    monkeypatch.setattr("smsctl.core.secrets.SecretStore.lookup", ctrl_c)
    result = invoke("validate", "prod")
    assert result.exit_code == 130
    assert result.stderr == "Error: Interrupted.\n"
    as_json = invoke("--json", "validate", "prod")
    assert as_json.exit_code == 130
    assert as_json.error()["type"] == "interrupted"
