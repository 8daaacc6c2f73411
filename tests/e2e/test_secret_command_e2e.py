"""End-to-end: the installed console script, every channel's account reading its secret from a
`secret_command` (a real program in a tmp dir standing in for `vault kv get` or `op read`), with
no keyring at all; failing and hanging commands are exit 4 with nothing sent; the variable wins
over the command, the command over the keyring."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from smsctl.sandbox import wechat as sbx
from tests.conftest import CANARY
from tests.e2e.conftest import smsctl
from tests.support.programs import failing, hanging, printing, runs

NO_KEYRING = {"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring", "SMSCTL_NO_INPUT": "1"}
PHONE = "13812345678"


def run(*args: str, env: dict[str, str] | None = None):
    return smsctl("--json", *args, env={**NO_KEYRING, **(env or {})})


def ok(*args: str, env: dict[str, str] | None = None):
    result = run(*args, env=env)
    assert result.exit_code == 0, (args, result.stderr)
    return result


def error(result) -> dict:
    assert result.stdout == ""
    return json.loads(result.stderr.strip().splitlines()[-1])["error"]


def outputs(*results) -> str:
    return "".join(r.stdout + r.stderr for r in results)


def files(config_file: Path, state_dir: Path) -> str:
    return config_file.read_text() + (state_dir / "audit.jsonl").read_text()


def sms_sends(box) -> list:
    return [p for action, p in box.alibaba.state.requests if action == "SendSms"]


def sms_send(*extra: str, env: dict[str, str] | None = None):
    return run("-v", "send-test", "--to", PHONE, "--scenario", "register", "--params-json",
               '{"code": "1234", "minutes": "5"}', "--yes", *extra, env=env)  # fmt: skip


@pytest.fixture
def sms(fresh_sandbox_state, tmp_path: Path):
    """SMS account `ci`, validated and active, with the Acme signature and a register
    template; its secret printed by `get-secret`."""
    info = fresh_sandbox_state.info()["sms"]
    get = printing(tmp_path / "bin", info["access_key_secret"], stderr="vault: token ok")
    added = ok("account", "add", "ci", "--access-key-id", info["access_key_id"],
               "--endpoint", info["endpoint"],
               "--secret-command", f"{get} -field=secret")  # fmt: skip
    assert added.json()["secret"] == {
        "source": "command",
        "name": f"{get} -field=secret",
        "reason": None,
    }
    ok("validate", "ci")
    ok("signature", "add", "Acme", "--account", "ci")
    ok("template", "add", "SMS_100000002", "--account", "ci", "--scenario", "register")
    return fresh_sandbox_state, get, info


def test_sms_send_test_with_the_secret_from_a_command(sms, config_file, state_dir) -> None:
    box, get, info = sms
    before = runs(get)
    sent = sms_send()
    assert sent.exit_code == 0, sent.stderr
    assert len(sms_sends(box)) == 1
    assert runs(get) == before + 1  # once in the whole run
    assert "vault: token ok" in sent.stderr  # its stderr goes through
    assert "debug: secret command `get-secret` for sms account `ci` ran in" in sent.stderr
    doctor = run("doctor", "--channel", "sms")
    assert doctor.exit_code == 0, doctor.stdout
    [secret_check] = [c for c in doctor.json()["checks"] if c["check"] == "account ci: secret"]
    assert secret_check["detail"] == f"set (command `{get} -field=secret`)"
    shown = run("config", "show").json()["settings"]
    [setting] = [s for s in shown if s["key"] == "sms.accounts.ci.secret"]
    assert setting["value"]["source"] == "command"
    secret = info["access_key_secret"]
    assert secret not in outputs(sent, doctor) + files(config_file, state_dir)


def test_sms_failing_command_is_exit_4_and_nothing_is_sent(sms, tmp_path: Path) -> None:
    box, _, _ = sms
    bad = failing(
        tmp_path, stdout=CANARY, stderr="Error making API request.\nCode: 403. permission denied"
    )
    ok("account", "edit", "ci", "--secret-command", f"{bad} kv get kv/smsctl/ci")
    sent = sms_send(env={"SMSCTL_DEBUG": "1"})
    assert sent.exit_code == 4
    found = error(sent)
    assert found["code"] == "secret_command_failed"
    assert "exit status 2" in found["message"]
    assert "Code: 403. permission denied" in found["message"]  # the tail of its stderr
    assert CANARY not in sent.stderr and "Traceback" not in sent.stderr
    assert sms_sends(box) == []


def test_sms_hanging_command_is_stopped_exit_4_and_nothing_is_sent(sms, tmp_path: Path) -> None:
    box, _, _ = sms
    ok("account", "edit", "ci", "--secret-command", str(hanging(tmp_path)))
    sent = sms_send(env={"SMSCTL_SECRET_COMMAND_TIMEOUT": "0.5"})
    assert sent.exit_code == 4
    found = error(sent)
    assert found["code"] == "secret_command_timeout"
    assert "did not finish within 0.5 s" in found["message"]
    assert "waiting for login" in found["message"]
    assert sms_sends(box) == []


def test_sms_missing_program_and_empty_output_are_exit_4(sms, tmp_path: Path) -> None:
    box, _, _ = sms
    ok("account", "edit", "ci", "--secret-command", "smsctl-test-no-such-vault kv get x")
    missing = sms_send()
    assert (missing.exit_code, error(missing)["code"]) == (4, "secret_command_not_found")
    empty = printing(tmp_path / "empty", "")
    ok("account", "edit", "ci", "--secret-command", str(empty))
    nothing = sms_send()
    assert (nothing.exit_code, error(nothing)["code"]) == (4, "secret_command_empty_output")
    assert sms_sends(box) == []


def test_voice_send_test_with_the_secret_from_a_command(fresh_sandbox_state, tmp_path: Path):
    box = fresh_sandbox_state
    box.alibaba.state.call_result_delay = 0.2
    info = box.info()["voice"]
    get = printing(tmp_path, info["access_key_secret"])
    ok("voice", "account", "add", "ci", "--access-key-id", info["access_key_id"],
       "--endpoint", info["endpoint"], "--secret-command", str(get))  # fmt: skip
    ok("voice", "validate", "ci")
    ok("voice", "template", "add", "TTS_100000001", "--account", "ci", "--scenario", "login",
       "--content", "您的验证码是${code}，请在5分钟内输入。")  # fmt: skip
    called = ok("voice", "send-test", "--to", PHONE, "--scenario", "login", "--param",
                "code=2468", "--yes")  # fmt: skip
    calls = [p for action, p in box.alibaba.state.requests if action == "SingleCallByTts"]
    assert len(calls) == 1 and called.json()["call_id"]
    assert info["access_key_secret"] not in called.stdout + called.stderr


def test_email_send_test_with_the_secret_from_a_command(smtp_server, tmp_path: Path) -> None:
    smtp = smtp_server.info()["smtp"]
    get = printing(tmp_path, smtp["password"])
    ok("email", "account", "add", "mail", "--host", "127.0.0.1", "--port",
       str(smtp["starttls_port"]), "--security", "starttls", "--username", smtp["username"],
       "--from", "noreply@acme.test", "--ca-file", smtp["ca_file"],
       "--secret-command", str(get))  # fmt: skip
    html = tmp_path / "code.html"
    html.write_text("<p>Your code: <b>${code}</b></p>\n")
    ok("email", "template", "add", "code", "--scenario", "login", "--subject", "Code",
       "--html", str(html))  # fmt: skip
    ok("email", "validate", "mail")
    sent = ok("email", "send-test", "--to", "carol@example.test", "--scenario", "login",
              "--param", "code=42", "--yes")  # fmt: skip
    [message] = smtp_server.messages
    assert message["Message-ID"] == sent.json()["message_id"]
    assert runs(get) == 2  # validate, send-test
    assert smtp["password"] not in sent.stdout + sent.stderr


def test_email_failing_command_is_exit_4_and_nothing_is_sent(smtp_server, tmp_path: Path):
    smtp = smtp_server.info()["smtp"]
    bad = failing(tmp_path, stdout="", stderr="[ERROR] You are not currently signed in.", status=1)
    ok("email", "account", "add", "mail", "--host", "127.0.0.1", "--port",
       str(smtp["starttls_port"]), "--security", "starttls", "--username", smtp["username"],
       "--from", "noreply@acme.test", "--ca-file", smtp["ca_file"],
       "--secret-command", f"{bad} read op://ops/smtp/password")  # fmt: skip
    html = tmp_path / "code.html"
    html.write_text("<p>${code}</p>\n")
    ok("email", "template", "add", "code", "--scenario", "login", "--subject", "Code",
       "--html", str(html))  # fmt: skip
    sent = run("email", "send-test", "--to", "carol@example.test", "--scenario", "login",
               "--account", "mail", "--param", "code=42", "--yes")  # fmt: skip
    assert sent.exit_code == 4
    assert "You are not currently signed in" in error(sent)["message"]
    assert smtp_server.messages == []


def test_wechat_push_with_the_app_secret_from_a_command(
    wechat_server, monkeypatch, tmp_path: Path, config_file: Path, state_dir: Path
) -> None:
    monkeypatch.setattr(wechat_server.seed, "app_secret", CANARY)
    get = printing(tmp_path, CANARY)
    added = ok("-v", "wechat", "account", "add", "oa", "--app-id", sbx.APP_ID,
               "--endpoint", wechat_server.endpoint, "--secret-command", str(get))  # fmt: skip
    assert runs(get) == 1  # checked live before it was saved
    ok("wechat", "rule", "add", "alert", "--account", "oa", "--template-id",
       sbx.ALERT_TEMPLATE_ID, "--var", "first=Alert", "--var", "keyword1=${what}",
       "--var", "keyword2=03:00", "--var", "keyword3=P1", "--var", "remark=See the runbook",
       "--scenario", "alert")  # fmt: skip
    ok("wechat", "validate", "oa")
    pushed = ok("-v", "wechat", "send-test", "--openid", sbx.FOLLOWER, "--rule", "alert",
                "--var", "what=disk", "--yes")  # fmt: skip
    assert len(wechat_server.state.pushes) == 1
    assert pushed.json()["msgid"]
    assert CANARY not in outputs(added, pushed) + files(config_file, state_dir)


@pytest.fixture
def keyring_account(real_keyring, sms, tmp_path: Path):
    """`ci` with a wrong secret in the real keyring under it."""
    box, get, info = sms
    stored = smsctl("account", "edit", "ci", "--no-secret-command", "--rotate-secret",
                    "--secret-stdin", input="wrong-secret-in-keyring\n")  # fmt: skip
    assert stored.exit_code == 0, stored.stderr
    yield box, get, info
    smsctl("account", "delete", "ci", "--yes")


def test_precedence_env_then_command_then_keyring(keyring_account, tmp_path: Path) -> None:
    box, get, info = keyring_account
    real = {"SMSCTL_NO_INPUT": "1"}

    def send(env: dict[str, str], to: str = PHONE):
        return smsctl("--json", "send-test", "--to", to, "--scenario", "register",
                      "--params-json", '{"code": "1", "minutes": "5"}', "--yes",
                      env={**real, **env})  # fmt: skip

    from_keyring = send({})
    assert from_keyring.exit_code == 4  # the keyring's secret is the wrong one
    assert "InvalidAccessKeySecret" in from_keyring.stderr or "Signature" in from_keyring.stderr
    refused = len(sms_sends(box))
    assert smsctl("account", "edit", "ci", "--secret-command", str(get)).exit_code == 0
    from_command = send({})
    assert from_command.exit_code == 0, from_command.stderr  # the command wins over the keyring
    bad = failing(tmp_path, stdout="", stderr="sealed")
    assert smsctl("account", "edit", "ci", "--secret-command", str(bad)).exit_code == 0
    from_env = send({"SMSCTL_SECRET_SMS_CI": info["access_key_secret"]}, to="13812345679")
    assert from_env.exit_code == 0, from_env.stderr  # the variable wins over the command
    assert "sealed" not in from_env.stderr  # ... which did not run
    assert len(sms_sends(box)) == refused + 2
