"""A secret is asked for only when it can be stored, and a missing one is named exactly.

`account add` and `edit --rotate-secret` check the keyring before the prompt (a user who typed
the secret twice must not learn only then that it cannot be kept). When neither the keyring nor
the environment gives a secret, validate, doctor and send-test name the account's own variable
(SMSCTL_SECRET_SMS_CI), on every channel.
"""

from __future__ import annotations

import pytest

from smsctl.cli.context import AppContext
from smsctl.sandbox import wechat as sbx
from tests.support.cli import invoke

NO_KEYRING = "keyring.backends.fail.Keyring"
LOCKED = "tests.support.memory_keyring.LockedKeyring"


@pytest.fixture
def terminal_that_must_not_be_asked(monkeypatch) -> list[str]:
    """A run that could prompt; any prompt is recorded and refused."""
    asked: list[str] = []

    def prompt(text: str, *args, **kwargs):
        asked.append(text)
        raise AssertionError(f"asked for {text!r}")

    monkeypatch.setattr(AppContext, "can_prompt", lambda self: True)
    monkeypatch.setattr("typer.prompt", prompt)
    return asked


def add_argv(channel: str, sandbox, smtp, wechat) -> tuple[str, ...]:
    sms = sandbox.info()["sms"]
    if channel in ("sms", "voice"):
        prefix = () if channel == "sms" else ("voice",)
        return (*prefix, "account", "add", "ci", "--access-key-id", sms["access_key_id"],
                "--endpoint", sms["endpoint"])  # fmt: skip
    if channel == "email":
        info = smtp.info()["smtp"]
        return ("email", "account", "add", "ci", "--host", "127.0.0.1",
                "--port", str(info["starttls_port"]), "--security", "starttls",
                "--username", info["username"], "--from", "noreply@acme.test",
                "--ca-file", info["ca_file"])  # fmt: skip
    return ("wechat", "account", "add", "ci", "--app-id", sbx.APP_ID, "--endpoint", wechat.endpoint)


CHANNELS = ["sms", "voice", "email", "wechat"]


@pytest.mark.parametrize("backend", [NO_KEYRING, LOCKED], ids=["no-keyring", "locked"])
@pytest.mark.parametrize("channel", CHANNELS)
def test_add_checks_the_keyring_before_asking_for_the_secret(
    channel, backend, fresh_sandbox_state, smtp_server, wechat_server, config_file,
    terminal_that_must_not_be_asked, monkeypatch,
) -> None:  # fmt: skip
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", backend)
    argv = add_argv(channel, fresh_sandbox_state, smtp_server, wechat_server)
    result = invoke("--json", *argv)
    assert result.exit_code == 4, result.all_output
    assert terminal_that_must_not_be_asked == []
    error = result.error()
    assert error["code"] in ("no_keyring", "keyring_locked")
    variable = f"SMSCTL_SECRET_{channel.upper()}_CI"
    assert variable in error["hint"]
    assert "<CHANNEL>" not in error["hint"] + error["message"]
    assert not config_file.exists()
    assert wechat_server.state.calls("/cgi-bin/stable_token") == []  # nothing verified either


def test_the_secret_is_still_asked_for_when_it_can_be_stored(
    fresh_sandbox_state, monkeypatch, keyring_entries
) -> None:
    asked: list[str] = []

    def prompt(text: str, *args, **kwargs):
        asked.append(text)
        return fresh_sandbox_state.info()["sms"]["access_key_secret"]

    monkeypatch.setattr(AppContext, "can_prompt", lambda self: True)
    monkeypatch.setattr("typer.prompt", prompt)
    argv = add_argv("sms", fresh_sandbox_state, None, None)
    assert invoke(*argv).exit_code == 0
    assert asked == ["AccessKey Secret"]
    assert ("smsctl", "sms/ci") in keyring_entries


def test_rotate_checks_the_keyring_before_asking(
    fresh_sandbox_state, terminal_that_must_not_be_asked, monkeypatch, config_file
) -> None:
    sms = fresh_sandbox_state.info()["sms"]
    argv = add_argv("sms", fresh_sandbox_state, None, None)
    assert invoke(*argv, "--secret-stdin", input=sms["access_key_secret"] + "\n").exit_code == 0
    before = config_file.read_text()
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", NO_KEYRING)
    result = invoke("--json", "account", "edit", "ci", "--rotate-secret", "--note", "rotated")
    assert result.exit_code == 4, result.all_output
    assert terminal_that_must_not_be_asked == []
    assert "SMSCTL_SECRET_SMS_CI" in result.error()["hint"]
    assert config_file.read_text() == before


# --- a secret found nowhere ----------------------------------------------------------------------


@pytest.fixture
def accounts_of_every_channel(
    fresh_sandbox_state, smtp_server, wechat_server, monkeypatch, tmp_path
):
    """Account `ci` on each channel, set up with the secrets in the environment (as a pipeline
    does), then the environment emptied and no keyring at all."""
    sms = fresh_sandbox_state.info()["sms"]
    secrets = {
        "SMSCTL_SECRET_SMS_CI": sms["access_key_secret"],
        "SMSCTL_SECRET_VOICE_CI": sms["access_key_secret"],
        "SMSCTL_SECRET_EMAIL_CI": smtp_server.info()["smtp"]["password"],
        "SMSCTL_SECRET_WECHAT_CI": wechat_server.seed.app_secret,
    }
    for name, value in secrets.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", NO_KEYRING)
    html = tmp_path / "login.html"
    html.write_text("<p>Your code is ${code}</p>")
    steps = [add_argv(c, fresh_sandbox_state, smtp_server, wechat_server) for c in CHANNELS]
    steps += [
        ("signature", "add", "Acme", "--account", "ci"),
        ("template", "add", "SMS_100000001", "--account", "ci", "--scenario", "login"),
        ("validate", "ci"),
        ("voice", "template", "add", "TTS_100000001", "--account", "ci", "--scenario", "login",
         "--content", "Code ${code}"),
        ("voice", "validate", "ci"),
        ("email", "validate", "ci"),
        ("email", "template", "add", "login", "--scenario", "login", "--subject", "Code",
         "--html", str(html)),
        ("wechat", "validate", "ci"),
        ("wechat", "rule", "add", "login", "--account", "ci", "--template-id",
         sbx.VERIFY_TEMPLATE_ID, "--var", "first=Login", "--var", "keyword1=${code}",
         "--var", "keyword2=5 min", "--var", "remark=-"),
    ]  # fmt: skip
    for step in steps:
        done = invoke(*step)
        assert done.exit_code == 0, (step, done.all_output)
    for name in secrets:
        monkeypatch.delenv(name)
    return fresh_sandbox_state


SEND_TESTS = {
    "sms": ("send-test", "--to", "+8613812345678", "--scenario", "login", "--param", "code=1"),
    "voice": (
        "voice",
        "send-test",
        "--to",
        "+8613812345678",
        "--scenario",
        "login",
        "--param",
        "code=1",
    ),  # fmt: skip
    "email": (
        "email",
        "send-test",
        "--to",
        "ops@example.test",
        "--scenario",
        "login",
        "--param",
        "code=1",
    ),  # fmt: skip
    "wechat": (
        "wechat",
        "send-test",
        "--openid",
        sbx.FOLLOWER,
        "--rule",
        "login",
        "--var",
        "code=1",
    ),  # fmt: skip
}


@pytest.mark.parametrize("command", ["validate", "send-test", "doctor"])
@pytest.mark.parametrize("channel", CHANNELS)
def test_a_secret_found_nowhere_names_the_accounts_own_variable(
    accounts_of_every_channel, channel, command
) -> None:
    prefix = () if channel == "sms" else (channel,)
    if command == "validate":
        argv = (*prefix, "validate", "ci")
    elif command == "doctor":
        argv = ("doctor", "--channel", channel)
    else:
        argv = (*SEND_TESTS[channel], "--yes")
    result = invoke("--json", *argv)
    assert result.exit_code == 4, result.all_output
    if command == "doctor":
        failing = [c for c in result.json()["checks"] if c["exit_code"] == 4]
        assert failing, result.stdout
        text = " ".join(f"{c['detail']} {c['fix']}" for c in failing)
    else:
        error = result.error()
        text = f"{error['message']} {error['hint']}"
    assert f"SMSCTL_SECRET_{channel.upper()}_CI" in text
    assert "<CHANNEL>" not in text and "<ACCOUNT>" not in text


# --- deleting without a keyring ------------------------------------------------------------------


@pytest.mark.parametrize("channel", CHANNELS)
def test_delete_without_a_keyring_succeeds_on_every_channel(
    channel, fresh_sandbox_state, smtp_server, wechat_server, config_file, monkeypatch
) -> None:
    secret = {
        "email": smtp_server.info()["smtp"]["password"],
        "wechat": wechat_server.seed.app_secret,
    }.get(channel, fresh_sandbox_state.info()["sms"]["access_key_secret"])
    monkeypatch.setenv(f"SMSCTL_SECRET_{channel.upper()}_CI", secret)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", NO_KEYRING)
    argv = add_argv(channel, fresh_sandbox_state, smtp_server, wechat_server)
    assert invoke("--no-input", *argv).exit_code == 0
    prefix = () if channel == "sms" else (channel,)
    result = invoke("--json", *prefix, "account", "delete", "ci", "--yes")
    assert result.exit_code == 0, result.all_output
    assert result.json()["keyring"]["state"] == "unchecked"
    assert result.json()["keyring_entry_deleted"] is False
    assert invoke(*prefix, "account", "show", "ci").exit_code == 3
    audit = (config_file.parent.parent / "state" / "audit.jsonl").read_text()
    assert "keyring not checked: No usable keyring" in audit
