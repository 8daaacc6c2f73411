"""doctor and log against the sandbox."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.test_send_test import ready  # noqa: F401 - fixture
from tests.conftest import CANARY
from tests.support.cli import invoke


def failing(result) -> dict:
    return {c["check"]: c for c in result.json()["checks"] if not c["ok"]}


def test_doctor_green_on_a_good_setup(ready) -> None:  # noqa: F811
    result = invoke("--json", "doctor", "--channel", "sms")
    assert result.exit_code == 0, result.all_output
    data = result.json()
    assert data["ok"] is True
    names = [c["check"] for c in data["checks"]]
    assert "account prod: credentials" in names
    assert "template SMS_100000001: signature" in names
    assert "resolve login" in names


def test_doctor_red_when_a_template_lost_its_approval(ready) -> None:  # noqa: F811
    ready.alibaba.state.set_template_status("SMS_100000001", "rejected", "content changed")
    result = invoke("--json", "doctor", "--channel", "sms")
    assert result.exit_code == 5
    assert "rejected" in failing(result)["template SMS_100000001"]["detail"]


def test_doctor_red_on_wrong_credentials(ready, monkeypatch) -> None:  # noqa: F811
    monkeypatch.setenv("SMSCTL_SECRET_SMS_PROD", "wrong-secret-value")
    result = invoke("--json", "doctor", "--channel", "sms")
    assert result.exit_code == 4
    assert "SignatureDoesNotMatch" in failing(result)["account prod: credentials"]["detail"]


def test_doctor_missing_secret_needs_no_keyring_when_env_is_used(ready, monkeypatch) -> None:  # noqa: F811
    from tests.support.memory_keyring import MemoryKeyring

    MemoryKeyring.entries.clear()
    result = invoke("--json", "doctor", "--channel", "sms")
    assert result.exit_code == 4
    assert "SMSCTL_SECRET_SMS_PROD" in failing(result)["account prod: secret"]["detail"]


def test_doctor_no_active_account_and_broken_config(ready, config_file: Path) -> None:  # noqa: F811
    text = config_file.read_text().replace('active_account = "prod"\n', "")
    config_file.write_text(text)
    result = invoke("--json", "doctor", "--channel", "sms", "--offline")
    assert result.exit_code == 3
    assert "active account" in failing(result)
    config_file.write_text("[sms\n")
    broken = invoke("doctor")
    assert broken.exit_code == 3
    assert "✗ [config] config file" in broken.stdout


def test_log_shows_sends_and_changes_masked_and_without_secrets(ready, monkeypatch) -> None:  # noqa: F811
    invoke(
        "send-test", "--to", "+8613812345678", "--scenario", "login", "--param", "code=1", "--yes"
    )
    result = invoke("--json", "log", "--channel", "sms")
    entries = result.json()
    assert any(e["event"] == "config.change" for e in entries)
    send = [e for e in entries if e["event"] == "send"][-1]
    assert send["to"] == "+86 138****5678"
    human = invoke("log", "--sends")
    assert "+86 138****5678" in human.stdout
    assert "13812345678" not in human.stdout
    assert invoke("--json", "log", "--limit", "1").json()[-1]["event"] == "send"
    assert invoke("--json", "log", "--since", "1h").json()
    assert invoke("--json", "log", "--since", "2999-01-01").json() == []


@pytest.mark.parametrize("since", ["yesterdayish", "5x", ""])
def test_log_bad_since_is_usage_error(since: str) -> None:
    assert invoke("log", "--since", since).exit_code == 2


def test_canary_secret_never_in_any_output_or_file(
    fresh_sandbox_state, state_dir, config_file: Path, monkeypatch
) -> None:
    info = fresh_sandbox_state.info()["sms"]
    fresh_sandbox_state.alibaba.state.add_access_key("LTAI5tCanaryKey000001", CANARY)
    outputs = []
    for mode in ([], ["--json"], ["-v"]):
        outputs.append(
            invoke(
                *mode,
                "account",
                "add",
                "canary",
                "--access-key-id",
                "LTAI5tCanaryKey000001",
                "--endpoint",
                info["endpoint"],
                "--secret-stdin",
                input=CANARY + "\n",
            )
        )
        for args in (
            ("validate", "canary"),
            ("signature", "add", "Acme", "--account", "canary"),
            ("template", "add", "SMS_100000001", "--account", "canary", "--scenario", "login"),
            ("account", "show", "canary"),
            ("config", "show"),
            ("doctor",),
            (
                "send-test",
                "--to",
                "+8613812345678",
                "--scenario",
                "login",
                "--param",
                "code=1",
                "--yes",
                "--wait",
                "3",
            ),
            (
                "send-test",
                "--to",
                "+8613900000009",
                "--scenario",
                "login",
                "--param",
                "code=1",
                "--yes",
            ),
            ("log",),
        ):
            outputs.append(invoke(*mode, *args))
    monkeypatch.setenv("SMSCTL_DEBUG", "1")
    outputs.append(
        invoke(
            "-v",
            "send-test",
            "--to",
            "+8613900000010",
            "--scenario",
            "login",
            "--param",
            "code=1",
            "--yes",
        )
    )
    assert any(o.exit_code == 0 for o in outputs)
    for outcome in outputs:
        assert CANARY not in outcome.all_output
    for path in [config_file, *state_dir.rglob("*")]:
        if path.is_file():
            assert CANARY not in path.read_text(errors="replace"), path
