"""`-q/--quiet` is only results and errors: a send-test prints its result line (the ids) and no
plan, on every channel; warnings about the send and errors still show."""

from __future__ import annotations

import pytest

from smsctl.sandbox import wechat as sbx
from tests.support.cli import add_sandbox_sms_account, invoke

PHONE = "+8613812345678"
PLAN_WORDS = ("account:", "template:", "rule:", "to:", "text:", "says:", "subject:", "---")


def set_up(channel: str, sandbox, smtp_server, wechat_server, tmp_path) -> None:
    """An active account and a login template (rule) on `channel`."""
    sms = sandbox.info()["sms"]
    if channel == "sms":
        add_sandbox_sms_account(sms)
        return
    smtp = smtp_server.info()["smtp"]
    html = tmp_path / "login.html"
    html.write_text("<p>Your code is ${code}</p>")
    steps = {
        "voice": [
            (("voice", "account", "add", "prod", "--access-key-id", sms["access_key_id"],
              "--endpoint", sms["endpoint"], "--secret-stdin"), sms["access_key_secret"]),
            (("voice", "template", "add", "TTS_100000001", "--account", "prod", "--scenario",
              "login", "--content", "Code ${code}"), None),
            (("voice", "validate", "prod"), None),
        ],
        "email": [
            (("email", "account", "add", "mail", "--host", "127.0.0.1",
              "--port", str(smtp["starttls_port"]), "--security", "starttls",
              "--username", smtp["username"], "--from", "noreply@acme.test",
              "--ca-file", smtp["ca_file"], "--secret-stdin"), smtp["password"]),
            (("email", "validate", "mail"), None),
            (("email", "template", "add", "login", "--scenario", "login", "--subject", "Code",
              "--html", str(html)), None),
        ],
        "wechat": [
            (("wechat", "account", "add", "oa", "--app-id", sbx.APP_ID,
              "--endpoint", wechat_server.endpoint, "--secret-stdin"),
             wechat_server.seed.app_secret),
            (("wechat", "rule", "add", "login", "--account", "oa",
              "--template-id", sbx.VERIFY_TEMPLATE_ID, "--var", "first=Login",
              "--var", "keyword1=${code}", "--var", "keyword2=5 min", "--var", "remark=-"), None),
            (("wechat", "validate", "oa"), None),
        ],
    }[channel]  # fmt: skip
    for argv, secret in steps:
        done = invoke(*argv, input=secret + "\n" if secret else None)
        assert done.exit_code == 0, (argv, done.all_output)


@pytest.fixture
def ready(request, fresh_sandbox_state, smtp_server, wechat_server, tmp_path):
    set_up(request.param, fresh_sandbox_state, smtp_server, wechat_server, tmp_path)
    return request.param


SENDS = {
    "sms": (("send-test", "--to", PHONE, "--scenario", "login", "--param", "code=4711"),
            "Accepted by Alibaba Cloud: BizId "),
    "voice": (("voice", "send-test", "--to", PHONE, "--scenario", "login", "--param", "code=4711"),
              "Call accepted by Alibaba Cloud: CallId "),
    "email": (("email", "send-test", "--to", "ops@example.test", "--scenario", "login",
               "--param", "code=4711"), "Message-ID <"),
    "wechat": (("wechat", "send-test", "--openid", sbx.FOLLOWER, "--rule", "login",
                "--var", "code=4711"), "Pushed by WeChat to "),
}  # fmt: skip


@pytest.mark.parametrize("ready", list(SENDS), indirect=True)
def test_quiet_send_test_prints_its_result_and_no_plan(ready) -> None:
    argv, result_words = SENDS[ready]
    loud = invoke(*argv, "--dry-run")
    assert loud.exit_code == 0, loud.all_output
    assert any(word in loud.stdout for word in PLAN_WORDS)  # the plan is there without -q
    quiet = invoke("-q", *argv, "--yes")
    assert quiet.exit_code == 0, quiet.all_output
    lines = quiet.stdout.splitlines()
    assert len(lines) == 1 and lines[0].startswith("✓ ") and result_words in lines[0], lines
    assert quiet.stderr == ""


@pytest.mark.parametrize("ready", list(SENDS), indirect=True)
def test_quiet_dry_run_prints_one_line(ready) -> None:
    argv, _ = SENDS[ready]
    quiet = invoke("--quiet", *argv, "--dry-run")
    assert quiet.exit_code == 0, quiet.all_output
    assert len(quiet.stdout.splitlines()) == 1
    assert quiet.stdout.startswith("✓ Dry run: ")
    assert not any(word in quiet.stdout for word in PLAN_WORDS)


@pytest.mark.parametrize("ready", ["sms"], indirect=True)
def test_quiet_keeps_the_warnings_and_the_wait_result(ready, fresh_sandbox_state) -> None:
    long_code = "x" * 40
    quiet = invoke("-q", "send-test", "--to", PHONE, "--scenario", "login",
                   "--param", f"code={long_code}", "--dry-run")  # fmt: skip
    assert quiet.exit_code == 0
    assert "Warning: `code` is 40 characters" in quiet.stderr
    fresh_sandbox_state.alibaba.state.receipt_delay = 0
    waited = invoke("-q", *SENDS["sms"][0], "--yes", "--wait", "10")
    assert waited.exit_code == 0, waited.all_output
    lines = waited.stdout.splitlines()
    assert [line.split(" ")[1] for line in lines] == ["Accepted", "Delivered"], lines


@pytest.mark.parametrize("ready", ["sms"], indirect=True)
def test_quiet_still_shows_errors(ready) -> None:
    failed = invoke("-q", "send-test", "--to", "+8613900000005", "--scenario", "login",
                    "--param", "code=1", "--yes")  # fmt: skip
    assert failed.exit_code == 5
    assert failed.stdout == ""
    assert "Error: " in failed.stderr
