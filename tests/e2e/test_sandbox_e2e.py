"""The installed console script against `smsctl sandbox serve` in another process, as a pipeline
would use it (secrets from the environment, --json, exit codes)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections.abc import Iterator

import pytest

from tests.e2e.conftest import SMSCTL, smsctl


@pytest.fixture
def served() -> Iterator[dict]:
    process = subprocess.Popen(
        [str(SMSCTL), "--json", "sandbox", "serve"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        first_line = process.stdout.readline()
        info = json.loads(first_line)
        yield info
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0


def test_serve_json_first_line_then_clean_stop_on_sigterm(served) -> None:
    assert set(served) >= {"sms", "voice", "smtp", "wechat"}
    assert served["sms"]["endpoint"].startswith("http://127.0.0.1:")
    assert served["sms"]["access_key_id"].startswith("LTAI")


def test_pipeline_flow_against_the_served_sandbox(served) -> None:
    sms = served["sms"]
    env = {"SMSCTL_SECRET_SMS_CI": sms["access_key_secret"], "SMSCTL_NO_INPUT": "1"}
    steps = [
        (
            "account",
            "add",
            "ci",
            "--access-key-id",
            sms["access_key_id"],
            "--endpoint",
            sms["endpoint"],
        ),
        ("validate", "ci"),
        ("signature", "add", "Acme", "--account", "ci"),
        ("template", "add", "SMS_100000002", "--account", "ci", "--scenario", "register"),
    ]
    for step in steps:
        result = smsctl("--json", *step, env=env)
        assert result.exit_code == 0, (step, result.stderr)
        json.loads(result.stdout)
    sent = smsctl(
        "--json",
        "send-test",
        "--to",
        "13812345678",
        "--scenario",
        "register",
        "--params-json",
        '{"code": "1234", "minutes": "5"}',
        "--wait",
        "20",
        "--yes",
        env=env,
    )
    assert sent.exit_code == 0, sent.stderr
    report = sent.json()
    assert report["receipt"]["status"] == "delivered"
    assert report["text"] == "【Acme】Your Acme code is 1234. It expires in 5 minutes."
    refused = smsctl(
        "--json",
        "send-test",
        "--to",
        "13812345678",
        "--scenario",
        "register",
        "--params-json",
        '{"code": "1234", "minutes": "5"}',
        "--yes",
        env=env,
    )
    assert refused.exit_code == 6
    assert refused.stdout == ""
    assert json.loads(refused.stderr)["error"]["code"] == "guard_limit"
    doctor = smsctl("--json", "doctor", "--channel", "sms", env=env)
    assert doctor.exit_code == 0, doctor.stdout


def test_walkthrough_runs_from_a_clean_home(tmp_path) -> None:
    env = {
        "HOME": str(tmp_path / "fresh-home"),
        "SMSCTL_CONFIG": None,
        "SMSCTL_STATE_DIR": None,
        "XDG_CONFIG_HOME": None,
        "XDG_STATE_HOME": None,
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
    }
    os.makedirs(env["HOME"])
    result = smsctl("sandbox", "try", env=env, timeout=120)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "$ smsctl send-test --to +8613812345678" in result.stdout
    assert "✓ Delivered to +8613812345678" in result.stdout
    assert "All checks passed." in result.stdout
    assert "$ smsctl email send-test --to ops@example.com" in result.stdout
    assert "# The sandbox's SMTP server received:" in result.stdout
    assert "your login code is 4711." in result.stdout
    assert not (tmp_path / "fresh-home" / ".config" / "smsctl").exists()
