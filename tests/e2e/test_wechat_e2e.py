"""`smsctl wechat ...` through the installed console script, as a pipeline runs it: no TTY,
AppSecret from SMSCTL_SECRET_WECHAT_<ACCOUNT>, no usable keyring, --json everywhere."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from smsctl.sandbox import wechat as sbx
from tests.conftest import CANARY
from tests.e2e.conftest import smsctl

SEND = "/cgi-bin/message/template/send"
ENV = {
    "SMSCTL_SECRET_WECHAT_OA": CANARY,
    # A pipeline without a keyring: any keyring access would fail loudly.
    "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
}
RULE_VARS = ("--var", "first=Alert", "--var", "keyword1=${what}", "--var", "keyword2=${when}",
             "--var", "keyword3=P1", "--var", "remark=See the runbook")  # fmt: skip


@pytest.fixture
def emulator(wechat_server, monkeypatch):
    monkeypatch.setattr(wechat_server.seed, "app_secret", CANARY)
    yield wechat_server
    assert wechat_server.state.legacy_token_calls == 0


def run(*args: str, env: dict[str, str] | None = None):
    return smsctl("--json", *args, env={**ENV, **(env or {})})


@pytest.fixture
def ready(emulator):
    steps = [
        ("wechat", "account", "add", "oa", "--app-id", sbx.APP_ID, "--endpoint", emulator.endpoint),
        ("wechat", "rule", "add", "alert", "--account", "oa",
         "--template-id", sbx.ALERT_TEMPLATE_ID, *RULE_VARS, "--scenario", "alert"),
        ("wechat", "validate", "oa"),
    ]  # fmt: skip
    for step in steps:
        result = run(*step)
        assert result.exit_code == 0, result.stderr
    return emulator


def push(*extra: str, openid: str = sbx.FOLLOWER):
    return run(
        "wechat", "send-test", "--openid", openid, "--rule", "alert",
        "--var", "what=CPU 95%", "--var", "when=03:00", "--yes", *extra,
    )  # fmt: skip


def test_pipeline_flow_add_list_rule_push(ready, config_file: Path, state_dir: Path) -> None:
    templates = run("wechat", "template", "list", "oa")
    assert templates.exit_code == 0
    assert {t["template_id"] for t in templates.json()} == {
        sbx.VERIFY_TEMPLATE_ID, sbx.ALERT_TEMPLATE_ID,
    }  # fmt: skip
    result = push()
    assert result.exit_code == 0, result.stderr
    report = result.json()
    [pushed] = ready.state.pushes
    assert pushed["touser"] == sbx.FOLLOWER
    assert pushed["data"]["keyword1"] == {"value": "CPU 95%"}
    assert pushed["data"]["keyword2"] == {"value": "03:00"}
    assert report["msgid"] == str(pushed["msgid"])
    assert report["to"] == sbx.FOLLOWER
    assert report["out_id"] == pushed["client_msg_id"]
    outputs = templates.stdout + templates.stderr + result.stdout + result.stderr
    assert CANARY not in outputs
    assert CANARY not in config_file.read_text()
    log = (state_dir / "audit.jsonl").read_text()
    assert CANARY not in log and sbx.FOLLOWER not in log
    assert f'"msgid": "{pushed["msgid"]}"' in log


def test_bad_secret_exit_4_nothing_saved(emulator, config_file: Path) -> None:
    result = run(
        "wechat", "account", "add", "oa", "--app-id", sbx.APP_ID,
        "--endpoint", emulator.endpoint, env={"SMSCTL_SECRET_WECHAT_OA": "not-the-secret"},
    )  # fmt: skip
    assert result.exit_code == 4
    assert result.stdout == ""
    assert json.loads(result.stderr)["error"]["code"] == "40125"
    assert not config_file.exists()


def test_ip_whitelist_exit_4_names_the_ip(emulator, config_file: Path) -> None:
    result = run(
        "wechat", "account", "add", "oa", "--app-id", sbx.IP_BLOCKED_APP_ID,
        "--endpoint", emulator.endpoint,
    )  # fmt: skip
    assert result.exit_code == 4
    error = json.loads(result.stderr)["error"]
    assert error["code"] == "40164"
    assert "127.0.0.1" in error["message"] and "127.0.0.1" in error["hint"]
    assert not config_file.exists()


@pytest.mark.parametrize(
    ("openid", "exit_code", "code"),
    [(sbx.NON_FOLLOWER, 5, "43004"), (sbx.TOKEN_ALWAYS_INVALID_OPENID, 4, "40001")],
)
def test_push_errors_exit_codes(ready, openid, exit_code, code) -> None:
    result = push(openid=openid)
    assert result.exit_code == exit_code
    assert result.stdout == ""
    assert json.loads(result.stderr)["error"]["code"] == code
    assert openid not in result.stderr
    # 40001: the token is fetched again and the send retried exactly once.
    assert len(ready.state.calls(SEND)) == (2 if code == "40001" else 1)


def test_push_timeout_is_exit_7(ready, tmp_path: Path) -> None:
    result = push("--timeout", "0.4", openid=sbx.SLOW_OPENID)
    assert result.exit_code == 7
    assert json.loads(result.stderr)["error"]["code"] == "TIMEOUT-AFTER-SEND"
    assert len(ready.state.calls(SEND)) == 1


def test_delete_invalidates_rules_which_then_cannot_be_used(ready) -> None:
    refused = run("wechat", "account", "delete", "oa")
    assert refused.exit_code == 3
    deleted = run("wechat", "account", "delete", "oa", "--yes")
    assert deleted.exit_code == 0, deleted.stderr
    assert deleted.json()["invalidated"] == [{"kind": "rule", "name": "alert"}]
    [rule] = run("wechat", "rule", "list").json()
    assert rule["valid"] is False and rule["deleted_account"] == "oa"
    ready.state.reset()
    result = push()
    assert result.exit_code == 3
    assert json.loads(result.stderr)["error"]["code"] == "rule_invalid"
    assert ready.state.requests == []


def test_doctor_and_edit(ready) -> None:
    doctor = run("doctor", "--channel", "wechat")
    assert doctor.exit_code == 0, doctor.stdout
    assert doctor.json()["ok"] is True
    edit = run("wechat", "account", "edit", "oa")
    assert edit.exit_code == 2
    assert json.loads(edit.stderr)["error"]["code"] == "not_editable"
