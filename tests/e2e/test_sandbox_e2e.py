"""The installed console script against `smsctl sandbox serve` in another process, as a pipeline
would use it (secrets from the environment, --json, exit codes)."""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest

from smsctl.sandbox import wechat as sbx
from tests.e2e.conftest import SMSCTL, smsctl
from tests.test_help_examples import parse


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
    assert report["final"]["state"] == "delivered"
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


@dataclass
class Walk:
    """One run of `smsctl sandbox try --keep DIR` by a new user: a fresh home, no keyring, and
    smsctl not on PATH (the README's first command runs it as .venv/bin/smsctl)."""

    exit_code: int
    stdout: str
    stderr: str
    keep: Path
    home: Path
    env: dict[str, str]

    def section(self, title: str) -> str:
        """The output under the `== <title>... ==` heading, up to the next one."""
        [part] = [p for p in self.stdout.split("\n== ")[1:] if p.startswith(title)]
        return part

    def commands(self) -> list[str]:
        return [line[2:] for line in self.stdout.splitlines() if line.startswith("$ smsctl ")]

    def exports(self) -> list[str]:
        return [line[2:] for line in self.stdout.splitlines() if line.startswith("$ export ")]

    def shell(self, *lines: str) -> subprocess.CompletedProcess:
        """`lines` in bash, after the PATH line the walkthrough printed before its commands."""
        [path_line] = [line for line in self.stdout.splitlines() if "export PATH=" in line]
        return subprocess.run(
            ["bash", "-c", "\n".join([path_line.strip(), *lines])],
            env=self.env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=60,
        )


@pytest.fixture(scope="module")
def walked(tmp_path_factory) -> Walk:
    root = tmp_path_factory.mktemp("walk")
    home = root / "fresh-home"
    home.mkdir()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SMSCTL_", "XDG_", "PYTHON_KEYRING"))
        and not key.lower().endswith("_proxy")
    }
    env.update(
        HOME=str(home),
        PATH=os.pathsep.join(
            p for p in env.get("PATH", "").split(os.pathsep) if p and Path(p) != SMSCTL.parent
        ),
        PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
        NO_PROXY="*",
    )
    keep = root / "kept"
    done = subprocess.run(
        [str(SMSCTL), "sandbox", "try", "--keep", str(keep)],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=180,
    )
    return Walk(done.returncode, done.stdout, done.stderr, keep, home, env)


def test_walkthrough_runs_from_a_clean_home(walked) -> None:
    assert walked.exit_code == 0, walked.stdout + walked.stderr
    assert "$ smsctl send-test --to +8613812345678" in walked.stdout
    assert "✓ Delivered to +8613812345678" in walked.stdout
    assert "All checks passed." in walked.stdout
    assert "$ smsctl email send-test --to ops@example.com" in walked.stdout
    assert "# The sandbox's SMTP server received:" in walked.stdout
    assert "your login code is 4711." in walked.stdout
    assert not (walked.home / ".config" / "smsctl").exists()
    assert not (walked.home / ".local" / "state" / "smsctl").exists()
    assert not (walked.home / ".cache" / "smsctl").exists()  # the tour keeps its cache too


def test_walkthrough_says_how_to_run_its_commands_before_the_first(walked) -> None:
    before_first = walked.stdout.split("\n$ ", 1)[0]
    assert f'  export PATH="{SMSCTL.parent}:$PATH"' in before_first.splitlines()
    assert f"  smsctl --config {walked.keep / 'config.toml'} ..." in before_first.splitlines()


def test_walkthrough_sms_ends_with_a_delivered_receipt(walked) -> None:
    sms = walked.section("SMS")
    for command in ("account add sandbox", "validate sandbox", "signature add Acme",
                    "template add SMS_100000001", "authorize template SMS_100000001"):  # fmt: skip
        assert f"\n$ smsctl {command}" in sms, command
    sent = sms.split("\n$ smsctl send-test --to +8613812345678 ", 1)[1]
    assert "--wait 15" in sent.splitlines()[0]
    [biz_id] = re.findall(r"✓ Accepted by Alibaba Cloud: BizId (\S+),", sent)
    assert "✓ Delivered to +8613812345678 at " in sent
    assert f"was delivered (BizId {biz_id})" in walked.section("What this proved")


def test_walkthrough_voice_call_is_answered(walked) -> None:
    voice = walked.section("Voice")
    assert "\n$ smsctl voice account add sandbox " in voice
    assert "\n$ smsctl voice validate sandbox\n" in voice
    assert "\n$ smsctl voice template add TTS_100000001 " in voice
    called = voice.split("\n$ smsctl voice send-test --to +8613812345678 ", 1)[1]
    assert "--wait 15" in called.splitlines()[0]
    [call_id] = re.findall(r"✓ Call accepted by Alibaba Cloud: CallId (\S+),", called)
    assert "✓ Answered by +8613812345678: " in called
    assert f"was answered (CallId {call_id})" in walked.section("What this proved")


def test_walkthrough_email_is_received_by_the_sandbox_smtp_server(walked) -> None:
    assert "\n$ smsctl email validate sandbox\n" in walked.section("Email")
    [received] = sorted((walked.keep / "mailbox").glob("*.eml"))
    message = BytesParser(policy=policy.default).parsebytes(received.read_bytes())
    assert message["To"] == "ops@example.com"
    assert message["Subject"] == "Your login code"
    assert "your login code is 4711." in message.get_body(("plain",)).get_content()
    assert f"(kept in {received})" in walked.section("What this proved")


def test_walkthrough_wechat_push_gets_a_msgid(walked) -> None:
    wechat = walked.section("WeChat")
    assert f"\n$ smsctl wechat account add sandbox --app-id {sbx.APP_ID} " in wechat
    assert "\n$ smsctl wechat template list sandbox\n" in wechat
    assert sbx.VERIFY_TEMPLATE_ID in wechat.split("$ smsctl wechat template list", 1)[1]
    assert f" --template-id {sbx.VERIFY_TEMPLATE_ID} " in wechat
    pushed = wechat.split(f"\n$ smsctl wechat send-test --openid {sbx.FOLLOWER} ", 1)[1]
    [msgid] = re.findall(r"✓ Pushed by WeChat to oSbx\*\*\*\*0001: msgid (\d+),", pushed)
    assert f"was accepted (msgid {msgid})" in walked.section("What this proved")


def test_walkthrough_ends_with_what_it_proved_per_channel(walked) -> None:
    summary = walked.section("What this proved").splitlines()
    channels = [line.split()[0] for line in summary[1:] if line and not line.startswith(" ")]
    assert channels[:4] == ["SMS", "Voice", "Email", "WeChat"]


def test_walkthrough_prints_only_commands_the_command_tree_accepts(walked) -> None:
    parsed = {parse(command) for command in walked.commands()}
    assert parsed >= {
        ("account", "add"), ("validate",), ("signature", "add"), ("template", "add"),
        ("authorize", "template"), ("send-test",),
        ("voice", "account", "add"), ("voice", "validate"), ("voice", "template", "add"),
        ("voice", "send-test"),
        ("email", "account", "add"), ("email", "validate"), ("email", "template", "add"),
        ("email", "send-test"),
        ("wechat", "account", "add"), ("wechat", "validate"), ("wechat", "template", "list"),
        ("wechat", "rule", "add"), ("wechat", "send-test"),
    }  # fmt: skip


def test_walkthrough_gives_secrets_in_the_environment_never_in_argv(walked) -> None:
    secrets = {
        "SMSCTL_SECRET_SMS_SANDBOX": "SandboxSecretNotForProduction1",
        "SMSCTL_SECRET_VOICE_SANDBOX": "SandboxSecretNotForProduction1",
        "SMSCTL_SECRET_EMAIL_SANDBOX": "sandbox-smtp-password",
        "SMSCTL_SECRET_WECHAT_SANDBOX": sbx.WechatSeed().app_secret,
    }
    exported = {f"{name}={value}" for line in walked.exports() for name, value in
                [word.split("=", 1) for word in shlex.split(line)[1:]]}  # fmt: skip
    assert {f"{name}={value}" for name, value in secrets.items()} <= exported
    for command in walked.commands():
        assert not any(value in command for value in secrets.values()), command
    config = (walked.keep / "config.toml").read_text()
    assert not any(value in config for value in secrets.values())


def test_printed_local_commands_work_as_printed_on_the_kept_config(walked) -> None:
    """After the tour, with its printed exports, a local command gives what the tour showed."""
    exports = ["export " + line.removeprefix("export ") for line in walked.exports()]
    [render] = [c for c in walked.commands() if c.startswith("smsctl template render ")]
    done = walked.shell(*exports, render)
    assert done.returncode == 0, done.stderr
    assert done.stdout in walked.stdout.split(f"$ {render}\n", 1)[1]
    assert done.stdout == "【Acme】您的验证码为：4711，5分钟内有效，请勿泄露于他人！\n"
    [log] = [c for c in walked.commands() if c.startswith("smsctl log ")]
    done = walked.shell(*exports, log)
    assert done.returncode == 0, done.stderr
    assert done.stdout in walked.stdout.split(f"$ {log}\n", 1)[1]
    for channel, outcome in [("sms", "delivered"), ("voice", "answered"), ("email", "accepted"),
                             ("wechat", "accepted")]:  # fmt: skip
        assert any(f" {channel} " in line and outcome in line for line in done.stdout.splitlines())


def test_the_commands_it_suggests_for_the_kept_dir_work(walked) -> None:
    suggested = walked.stdout.split(f"Kept in {walked.keep}: ", 1)[1].splitlines()[1:]
    assert suggested[0] == f"  smsctl --config {walked.keep / 'config.toml'} template list"
    templates = walked.shell(suggested[0])
    assert templates.returncode == 0, templates.stderr
    assert "SMS_100000001" in templates.stdout
    log = walked.shell(suggested[1])
    assert log.returncode == 0, log.stderr
    assert "delivered" in log.stdout and "msgid=" in log.stdout
