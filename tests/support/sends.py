"""Every channel made ready for a test send, and the send-test command line of each: shared by
tests that check what every channel's send-test prints."""

from __future__ import annotations

import pytest

from smsctl.sandbox import wechat as sbx
from tests.support.cli import add_sandbox_sms_account, invoke

PHONE = "+8613812345678"


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
