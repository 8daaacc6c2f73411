"""Secrets never leak (docs/contract.md §5): a distinct canary secret per channel (sms, voice,
email, wechat) through every command of that channel, in human, --json, -v and SMSCTL_DEBUG=1 modes,
success and failure; plus unexpected errors carrying a secret under SMSCTL_DEBUG=1, and the
Alibaba SDK's own debug logging (DEBUG=sdk) through the installed console script."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from smsctl.sandbox import wechat as sbx
from tests.cli.test_email import HTML
from tests.cli.test_email import add_template as add_email_template
from tests.cli.test_voice import TTS, TTS_CONTENT
from tests.cli.test_wechat import add_rule
from tests.reliability.helpers import child_env, smsctl
from tests.support.cli import invoke

CANARIES = {
    "sms": "CANARY-sms-5b1f0c77e2",
    "voice": "CANARY-voice-a39d2e1f08",
    "email": "CANARY-email-0c4e8b9d7a",
    "wechat": "CANARY-wechat-7d6c5b4a39",
}
SMS_KEY = "LTAI5tCanarySms00000001"
VOICE_KEY = "LTAI5tCanaryVoice000001"
PHONE = "+8613812345678"
MODES = {
    "human": ([], {}),
    "json": (["--json"], {}),
    "verbose": (["-v"], {}),
    "debug": (["-v"], {"SMSCTL_DEBUG": "1"}),
}


def _ok(result) -> None:
    assert result.exit_code == 0, result.all_output


@pytest.fixture
def html_page(tmp_path: Path) -> Path:
    path = tmp_path / "login.html"
    path.write_text(HTML)
    return path


def _setup(fresh_sandbox_state, smtp_server, wechat_server, html_page, monkeypatch, config_file,
           *, guard_free: bool):  # fmt: skip
    """One account per channel, each with its own canary secret, validated and with a template."""
    alibaba = fresh_sandbox_state.alibaba.state
    alibaba.add_access_key(SMS_KEY, CANARIES["sms"])
    alibaba.add_access_key(VOICE_KEY, CANARIES["voice"])
    alibaba.flow_control_enabled = False
    monkeypatch.setattr(smtp_server, "password", CANARIES["email"])
    monkeypatch.setattr(wechat_server.seed, "app_secret", CANARIES["wechat"])
    endpoint = fresh_sandbox_state.info()["sms"]["endpoint"]
    smtp = smtp_server.info()["smtp"]
    steps = [
        (("account", "add", "prod", "--access-key-id", SMS_KEY, "--endpoint", endpoint,
          "--secret-stdin"), CANARIES["sms"]),
        (("signature", "add", "Acme", "--account", "prod"), None),
        (("template", "add", "SMS_100000001", "--account", "prod", "--scenario", "login"), None),
        (("validate", "prod"), None),
        (("voice", "account", "add", "prod", "--access-key-id", VOICE_KEY, "--endpoint",
          endpoint, "--secret-stdin"), CANARIES["voice"]),
        (("voice", "template", "add", TTS, "--account", "prod", "--scenario", "login",
          "--content", TTS_CONTENT), None),
        (("voice", "validate", "prod"), None),
        (("email", "account", "add", "mail", "--host", "127.0.0.1", "--port",
          str(smtp["starttls_port"]), "--security", "starttls", "--username", smtp["username"],
          "--from", "noreply@acme.test", "--ca-file", smtp["ca_file"], "--secret-stdin"),
         CANARIES["email"]),
        (("email", "validate", "mail"), None),
        (("wechat", "account", "add", "oa", "--app-id", sbx.APP_ID, "--endpoint",
          wechat_server.endpoint, "--secret-stdin"), CANARIES["wechat"]),
        (("wechat", "validate", "oa"), None),
    ]  # fmt: skip
    for args, secret in steps:
        _ok(invoke(*args, input=None if secret is None else secret + "\n"))
    _ok(add_email_template(html_page))
    _ok(add_rule())
    if guard_free:
        with config_file.open("a") as handle:
            for channel in CANARIES:
                handle.write(f"\n[guard.{channel}]\nper_minute = 100\nper_hour = 100\n")
    return fresh_sandbox_state


@pytest.fixture
def all_channels(request, config_file, fresh_sandbox_state, smtp_server, wechat_server, html_page,
                 monkeypatch):  # fmt: skip
    return _setup(fresh_sandbox_state, smtp_server, wechat_server, html_page, monkeypatch,
                  config_file, guard_free=False)  # fmt: skip


@pytest.fixture
def all_channels_unguarded(config_file, fresh_sandbox_state, smtp_server, wechat_server,
                           html_page, monkeypatch):  # fmt: skip
    return _setup(fresh_sandbox_state, smtp_server, wechat_server, html_page, monkeypatch,
                  config_file, guard_free=True)  # fmt: skip


def _commands() -> list[tuple[str, ...]]:
    sms_send = ("send-test", "--to", PHONE, "--scenario", "login", "--param", "code=1", "--yes")
    return [
        # reads
        ("account", "show", "prod"),
        ("voice", "account", "show", "prod"),
        ("email", "account", "show", "mail"),
        ("wechat", "account", "show", "oa"),
        ("account", "list"),
        ("config", "show"),
        ("config", "check"),
        ("doctor",),
        ("log",),
        ("lookup", PHONE),
        ("stats", "--days", "1"),
        # live checks
        ("validate", "prod", "--check-only"),
        ("voice", "validate", "prod", "--check-only"),
        ("email", "validate", "mail", "--check-only"),
        ("wechat", "validate", "oa", "--check-only"),
        ("wechat", "template", "list", "oa"),
        # sends: success, then guard refusals and provider failures
        sms_send,
        ("send-test", "--to", "+8613900000006", "--scenario", "login", "--param", "code=1",
         "--yes"),
        ("voice", "send-test", "--to", PHONE, "--scenario", "login", "--param", "code=1",
         "--yes"),
        ("email", "send-test", "--to", "alice@example.test", "--scenario", "login",
         "--param", "code=1", "--param", "name=A", "--yes"),
        ("wechat", "send-test", "--openid", sbx.FOLLOWER, "--rule", "login", "--var",
         "code=1", "--yes"),
        ("wechat", "send-test", "--openid", sbx.NON_FOLLOWER, "--rule", "login", "--var",
         "code=1", "--yes"),
    ]  # fmt: skip


def _assert_no_canary(text: str, where: str) -> None:
    for channel, canary in CANARIES.items():
        assert canary not in text, f"{channel} secret in {where}"


def _assert_files_clean(config_file: Path, state_dir: Path) -> None:
    _assert_no_canary(config_file.read_text(), str(config_file))
    for path in state_dir.rglob("*"):
        if path.is_file():
            _assert_no_canary(path.read_text(errors="replace"), str(path))


@pytest.mark.parametrize("mode", list(MODES))
def test_canary_of_every_channel_in_every_mode(all_channels, mode, config_file, state_dir) -> None:
    flags, env = MODES[mode]
    outcomes = [invoke(*flags, *args, env=env) for args in _commands()]
    codes = {args: o.exit_code for args, o in zip(_commands(), outcomes, strict=True)}
    assert 0 in codes.values() and any(c not in (0,) for c in codes.values()), codes
    for args, outcome in zip(_commands(), outcomes, strict=True):
        _assert_no_canary(outcome.all_output, f"output of {' '.join(args)} ({mode})")
        assert "Traceback" not in outcome.all_output or mode == "debug"
    _assert_files_clean(config_file, state_dir)


def test_wrong_secrets_from_the_environment_are_never_echoed(all_channels, monkeypatch) -> None:
    """A rejected secret is still a secret (often a typo of the real one)."""
    wrong = {channel: canary + "-wrong" for channel, canary in CANARIES.items()}
    monkeypatch.setenv("SMSCTL_SECRET_SMS_PROD", wrong["sms"])
    monkeypatch.setenv("SMSCTL_SECRET_VOICE_PROD", wrong["voice"])
    monkeypatch.setenv("SMSCTL_SECRET_EMAIL_MAIL", wrong["email"])
    monkeypatch.setenv("SMSCTL_SECRET_WECHAT_OA", wrong["wechat"])
    for flags, env in MODES.values():
        for args in (
            ("validate", "prod", "--check-only"),
            ("voice", "validate", "prod", "--check-only"),
            ("email", "validate", "mail", "--check-only"),
            ("wechat", "validate", "oa", "--check-only"),
            ("doctor",),
        ):
            result = invoke(*flags, *args, env=env)
            assert result.exit_code == 4, (args, result.all_output)
            for secret in wrong.values():
                assert secret not in result.all_output, (args, result.all_output)


@pytest.mark.parametrize(
    ("channel", "target", "args"),
    [
        ("sms", "smsctl.providers.alibaba_sms.AlibabaSms.send",
         ("send-test", "--to", PHONE, "--scenario", "login", "--param", "code=1", "--yes")),
        ("voice", "smsctl.providers.alibaba_voice.AlibabaVoice.call_tts",
         ("voice", "send-test", "--to", PHONE, "--scenario", "login", "--param", "code=1",
          "--yes")),
        ("email", "smsctl.providers.smtp.send",
         ("email", "send-test", "--to", "alice@example.test", "--scenario", "login",
          "--param", "code=1", "--param", "name=A", "--yes")),
        ("wechat", "smsctl.providers.wechat.send_template",
         ("wechat", "send-test", "--openid", sbx.FOLLOWER, "--rule", "login", "--var",
          "code=1", "--yes")),
    ],
)  # fmt: skip
def test_a_bug_carrying_the_secret_is_redacted_in_the_debug_traceback(
    all_channels_unguarded, monkeypatch, channel, target, args
) -> None:
    secret = CANARIES[channel]

    def bug(*_args, **_kwargs):
        raise RuntimeError(f"unexpected failure; credentials were {secret!r}")

    monkeypatch.setattr(target, bug)
    for flags in ([], ["--json"]):
        result = invoke(*flags, *args, env={"SMSCTL_DEBUG": "1"})
        assert result.exit_code == 1, result.all_output
        assert "Traceback" in result.stderr
        assert "RuntimeError" in result.stderr, result.stderr[-1500:]
        _assert_no_canary(result.all_output, f"{channel} traceback")


def test_sdk_debug_logging_does_not_leak_through_the_console_script(
    all_channels, config_file, state_dir
) -> None:
    """darabonba prints every request's headers when DEBUG=sdk: the Authorization header carries
    the full AccessKey ID and the request signature."""
    env = child_env(
        DEBUG="sdk",
        SMSCTL_DEBUG="1",
        SMSCTL_SECRET_SMS_PROD=CANARIES["sms"],
        SMSCTL_SECRET_VOICE_PROD=CANARIES["voice"],
    )
    runs = [
        smsctl("-v", "validate", "prod", "--check-only", env=env),
        smsctl("-v", "voice", "validate", "prod", "--check-only", env=env),
        smsctl(
            "-v",
            "send-test",
            "--to",
            "+8613912345678",
            "--scenario",
            "login",
            "--param",
            "code=1",
            "--yes",
            env=env,
        ),  # fmt: skip
        smsctl(
            "--json",
            "send-test",
            "--to",
            "+8613900000006",
            "--scenario",
            "login",
            "--param",
            "code=1",
            "--yes",
            env=env,
        ),  # fmt: skip
    ]
    assert [r.exit_code for r in runs] == [0, 0, 0, 7], [r.all_output for r in runs]
    for run in runs:
        _assert_no_canary(run.all_output, "DEBUG=sdk output")
        assert SMS_KEY not in run.all_output and VOICE_KEY not in run.all_output, run.stderr
        assert not re.search(r"Signature=[0-9a-f]{16,}", run.all_output), run.stderr
    _assert_files_clean(config_file, state_dir)
