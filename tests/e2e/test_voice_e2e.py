"""The installed console script drives the voice channel against the sandbox, as a deployment
pipeline does: secrets from SMSCTL_SECRET_VOICE_<ACCOUNT>, --json, no TTY, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.conftest import smsctl

TTS = "TTS_100000001"
TTS_CONTENT = "您的验证码是${code}，请在5分钟内输入。"
VOICE_FILE = "4c3a1b2e-0d6f-4e35-9d4a-2f1e0c8b7a65.wav"
NUMBER = "13812345678"


@pytest.fixture
def box(fresh_sandbox_state):
    fresh_sandbox_state.alibaba.state.call_result_delay = 0.2
    return fresh_sandbox_state


@pytest.fixture
def env(box) -> dict[str, str]:
    return {"SMSCTL_SECRET_VOICE_CI": box.info()["voice"]["access_key_secret"]}


def run_json(*args: str, env: dict[str, str]):
    return smsctl("--json", *args, env=env)


COMMITTED_CONFIG = """\
# What a pipeline checks out with its code; the secret comes from SMSCTL_SECRET_VOICE_CI.
[voice]
active_account = "ci"

[voice.accounts.ci]
access_key_id = "{key}"
endpoint = "{endpoint}"

[voice.templates.{tts}]
account = "ci"
scenario = "login"
kind = "tts"
content = "{content}"
variables = ["code"]

[voice.templates."{voice_file}"]
account = "ci"
scenario = "alert"
kind = "voice-file"
status = "approved"
"""


def setup_steps(info: dict) -> list[tuple[str, ...]]:
    return [
        ("voice", "account", "add", "ci", "--access-key-id", info["access_key_id"],
         "--endpoint", info["endpoint"]),
        ("voice", "validate", "ci"),
        ("voice", "template", "add", TTS, "--account", "ci", "--scenario", "login",
         "--content", TTS_CONTENT),
        ("voice", "template", "add", VOICE_FILE, "--account", "ci", "--scenario", "alert",
         "--voice-file"),
    ]  # fmt: skip


@pytest.fixture
def configured(box, config_file: Path):
    """The config a pipeline has committed (what `setup_steps` produce: see the pipeline test)."""
    info = box.info()["voice"]
    config_file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    config_file.write_text(
        COMMITTED_CONFIG.format(
            key=info["access_key_id"],
            endpoint=info["endpoint"],
            tts=TTS,
            content=TTS_CONTENT,
            voice_file=VOICE_FILE,
        )
    )
    config_file.chmod(0o600)
    return box


def placed_calls(box) -> list[dict]:
    return [
        params
        for action, params in box.alibaba.state.requests
        if action in ("SingleCallByTts", "SingleCallByVoice")
    ]


def errors(result) -> dict:
    assert result.stdout == ""
    return json.loads(result.stderr.strip().splitlines()[-1])["error"]


def test_pipeline_tts_call_answered_then_guarded_and_logged(box, env, state_dir) -> None:
    for step in setup_steps(box.info()["voice"]):
        result = run_json(*step, env=env)
        assert result.exit_code == 0, (step, result.stderr)
        json.loads(result.stdout)
    box.alibaba.state.requests.clear()
    configured = box
    sent = run_json(
        "voice", "send-test", "--to", NUMBER, "--scenario", "login",
        "--params-json", '{"code": "2468"}', "--wait", "15", "--yes", env=env,
    )  # fmt: skip
    assert sent.exit_code == 0, sent.stderr
    report = sent.json()
    assert report["text"] == "您的验证码是2468，请在5分钟内输入。"
    assert report["final"]["state"] == "answered" and report["final"]["code"] == "200000"
    assert report["resolved"]["account"]["name"] == "ci"
    [params] = placed_calls(configured)
    assert params["TtsCode"] == TTS and json.loads(params["TtsParam"]) == {"code": "2468"}

    again = run_json(
        "voice", "send-test", "--to", NUMBER, "--scenario", "login", "--param", "code=1",
        "--yes", env=env,
    )  # fmt: skip
    assert again.exit_code == 6
    assert errors(again)["code"] == "guard_limit"
    assert len(placed_calls(configured)) == 1  # the sandbox never saw the second call

    log = run_json("log", "--channel", "voice", "--sends", env=env)
    assert log.exit_code == 0, log.stderr
    entries = log.json()
    sends = [e for e in entries if e["event"] == "send"]
    assert sends[-1]["to"] == "+86 138****5678"
    assert sends[-1]["call_id"] == report["call_id"]
    assert any(e["event"] == "send.call_result" and e.get("code") == "200000" for e in entries)
    assert NUMBER not in (state_dir / "audit.jsonl").read_text()

    doctor = run_json("doctor", "--channel", "voice", env=env)
    assert doctor.exit_code == 0, doctor.stdout


def test_voice_file_call_not_answered_is_exit_8_and_explained(configured, env) -> None:
    result = run_json(
        "voice", "send-test", "--to", "13900000021", "--scenario", "alert", "--wait", "15",
        "--yes", env=env,
    )  # fmt: skip
    assert result.exit_code == 8, result.stderr
    error = errors(result)
    assert error["code"] == "200003"
    assert "Not answered" in error["message"]
    assert error["hint"]
    [params] = placed_calls(configured)
    assert params["VoiceCode"] == VOICE_FILE


@pytest.mark.parametrize(
    ("number", "state", "meaning"),
    [
        ("13900000020", "200002", "busy"),
        ("13900000022", "200010", "powered off"),
        ("13900000023", "200004", "does not exist"),
    ],
)
def test_call_states_explained_for_people(configured, env, number, state, meaning) -> None:
    result = smsctl(
        "voice", "send-test", "--to", number, "--scenario", "alert", "--wait", "15", "--yes",
        env=env,
    )  # fmt: skip
    assert result.exit_code == 8, result.stderr
    assert f"state {state}" in result.stderr
    assert meaning in result.stderr
    assert "Next:" in result.stderr
    assert "CallId" in result.stdout


def test_wait_running_out_is_exit_8_with_how_to_check(configured, env) -> None:
    configured.alibaba.state.call_result_delay = 30
    result = run_json(
        "voice", "send-test", "--to", NUMBER, "--scenario", "login", "--param", "code=1",
        "--wait", "0.5", "--yes", env=env,
    )  # fmt: skip
    assert result.exit_code == 8
    error = errors(result)
    assert error["code"] == "call_result_timeout"
    assert "smsctl voice call-result --call-id" in error["hint"]
    later = run_json("voice", "call-result", "--call-id", error["details"]["call_id"], env=env)
    assert later.exit_code == 8
    configured.alibaba.state.call_result_delay = 0
    done = run_json("voice", "call-result", "--call-id", error["details"]["call_id"], env=env)
    assert done.exit_code == 0, done.stderr
    assert done.json()["answered"] is True


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (("--to", "12345", "--param", "code=1"), "invalid_phone"),
        (("--to", NUMBER), "template_variables"),
        (("--to", NUMBER, "--param", "code=1", "--param", "extra=2"), "template_variables"),
        (("--to", NUMBER, "--params-json", '{"code": '), "invalid_json"),
    ],
)
def test_parameters_checked_before_calling(configured, env, state_dir, args, code) -> None:
    result = run_json("voice", "send-test", "--scenario", "login", "--yes", *args, env=env)
    assert result.exit_code == 2, result.stderr
    error = errors(result)
    assert error["code"] == code
    assert placed_calls(configured) == []
    assert not (state_dir / "guard.jsonl").exists()


@pytest.mark.parametrize(
    ("number", "exit_code", "provider_code"),
    [
        ("13900000005", 5, "isv.AMOUNT_NOT_ENOUGH"),
        ("13900000006", 7, "isp.SYSTEM_ERROR"),
        ("13900000004", 6, "isv.BUSINESS_LIMIT_CONTROL"),
    ],
)
def test_faults_exit_codes(configured, env, number, exit_code, provider_code) -> None:
    result = run_json(
        "voice", "send-test", "--to", number, "--scenario", "login", "--param", "code=1",
        "--yes", env=env,
    )  # fmt: skip
    assert result.exit_code == exit_code, result.stderr
    error = errors(result)
    assert error["code"] == provider_code
    assert error["request_id"]


def test_dry_run_and_missing_yes_place_no_call(configured, env) -> None:
    dry = run_json(
        "voice", "send-test", "--to", NUMBER, "--scenario", "login", "--param", "code=1",
        "--dry-run", env=env,
    )  # fmt: skip
    assert dry.exit_code == 0, dry.stderr
    assert dry.json()["sent"] is False
    no_yes = run_json(
        "voice", "send-test", "--to", NUMBER, "--scenario", "login", "--param", "code=1", env=env
    )
    assert no_yes.exit_code == 3
    assert "--yes" in errors(no_yes)["hint"]
    assert placed_calls(configured) == []


@pytest.mark.parametrize(
    ("secret", "key", "endpoint", "exit_code", "provider_code"),
    [
        (None, None, None, 0, None),
        ("wrong-secret-for-ci", None, None, 4, "SignatureDoesNotMatch"),
        (None, "LTAI5tUnknownKey0000001", None, 4, "InvalidAccessKeyId.NotFound"),
        (None, None, "http://127.0.0.1:1", 7, "ConnectionFailed"),
    ],
)
def test_validate(
    box, env, config_file: Path, secret, key, endpoint, exit_code, provider_code
) -> None:
    info = box.info()["voice"]
    env = dict(env, **({"SMSCTL_SECRET_VOICE_CI": secret} if secret else {}))
    added = run_json(
        "voice", "account", "add", "ci", "--access-key-id", key or info["access_key_id"],
        "--endpoint", endpoint or info["endpoint"], env=env,
    )  # fmt: skip
    assert added.exit_code == 0, added.stderr
    before = config_file.read_text()
    result = run_json("voice", "validate", "ci", env=env)
    assert result.exit_code == exit_code, result.stderr
    if exit_code:
        assert errors(result)["code"] == provider_code
        assert config_file.read_text() == before
        assert "wrong-secret-for-ci" not in result.stderr
    else:
        assert result.json() == {
            "channel": "voice",
            "account": "ci",
            "credentials": {"accepted": True, "via": "QueryCallDetailByCallId"},
            "active": True,
            "activated": True,
            "previous_active": None,
            "items": [],
        }
        assert 'active_account = "ci"' in config_file.read_text()
