"""Seed files, scheduled status changes, the Sandbox composition and serve_forever."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from smsctl.core.errors import ConfigError
from smsctl.sandbox.seed import load_seed
from smsctl.sandbox.server import Sandbox
from tests.fixtures.sandbox import alibaba_config

SEED = """
receipt_delay = 0
retry_after_ms = 2500

[[access_keys]]
id = "LTAI5tMirrorKey00000001"
secret = "mirror-secret"

[[signatures]]
name = "MyShop"
status = "pending"
then_status = "approved"
after_queries = 1

[[templates]]
code = "SMS_424242"
name = "Shop login"
content = "Code ${code}"
type = "verification"
related_sign_name = "MyShop"

[[voice_templates]]
code = "TTS_424242"
kind = "tts"
content = "Alarm ${what}"

[faults]
"+8613811112222" = "throttling"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "seed.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_seed_file_mirrors_a_provider_setup(tmp_path):
    from alibabacloud_dysmsapi20170525 import models
    from alibabacloud_dysmsapi20170525.client import Client
    from alibabacloud_tea_openapi.exceptions import ThrottlingException

    with Sandbox(seed=write(tmp_path, SEED)) as box:
        entry = box.info()["sms"]
        assert entry["access_key_id"] == "LTAI5tMirrorKey00000001"
        assert entry["access_key_secret"] == "mirror-secret"
        client = Client(alibaba_config(entry))
        request = models.GetSmsSignRequest(sign_name="MyShop")
        assert client.get_sms_sign(request).body.sign_status == 0
        assert client.get_sms_sign(request).body.sign_status == 1
        gone = client.get_sms_sign(models.GetSmsSignRequest(sign_name="Acme")).body
        assert gone.code == "isv.SMS_SIGNATURE_ILLEGAL"
        send = models.SendSmsRequest(
            phone_numbers="13811112222",
            sign_name="MyShop",
            template_code="SMS_424242",
            template_param='{"code":"1"}',
        )
        with pytest.raises(ThrottlingException) as caught:
            client.send_sms(send)
        assert caught.value.retry_after == 2500
        box.alibaba.state.reset()
        assert client.get_sms_sign(request).body.sign_status == 0


def test_status_change_after_delay(tmp_path):
    text = '[[signatures]]\nname = "Later"\nstatus = "pending"\nthen_status = "rejected"\n'
    text += 'then_reason = "no proof"\nafter_seconds = 0.2\n'
    seed = load_seed(write(tmp_path, text))
    from smsctl.sandbox.state import State

    state = State(seed)
    assert state.observe_signature("Later").status == "pending"
    time.sleep(0.25)
    signature = state.observe_signature("Later")
    assert (signature.status, signature.reason) == ("rejected", "no proof")


def test_set_signature_status_at_run_time(sms_client, sandbox):
    from alibabacloud_dysmsapi20170525 import models

    sandbox.alibaba.state.set_signature_status("Acme", "cancelled")
    body = sms_client.query_sms_sign(models.QuerySmsSignRequest(sign_name="Acme")).body
    assert body.sign_status == 10


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("bogus = 1", "unknown key 'bogus'"),
        ("[[signatures]]\nstatus = 'approved'", "signatures[0]: missing name"),
        ("[[signatures]]\nname = 'A'\nstatus = 'ok'", "status must be one of"),
        ("[[templates]]\ncode = 'S'\ncontent = 'x'\ntype = 'spam'", "type must be one of"),
        ("[[templates]]\ncode = 'S'\ncontent = 'x'\nintl_type = 'spam'", "intl_type must be"),
        ("[faults]\n'13800000000' = 'explode'", "unknown fault 'explode'"),
        ("[faults]\n'12345' = 'throttling'", "not a mainland mobile number"),
        ("receipt_delay = 'soon'", "receipt_delay must be a non-negative number"),
        (
            "[[access_keys]]\nid = 'a'\nsecret = 's'\n[[access_keys]]\nid = 'a'\nsecret = 't'",
            "duplicate access key id 'a'",
        ),
        ("[[signatures]]\nname = 'A'\nthen_status = 'approved'", "needs after_queries"),
        ("not toml [", "not valid TOML"),
    ],
)
def test_invalid_seed_is_a_config_error_naming_the_problem(tmp_path, text, fragment):
    with pytest.raises(ConfigError) as caught:
        load_seed(write(tmp_path, text))
    assert fragment in caught.value.message


def test_missing_seed_file(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_seed(tmp_path / "nope.toml")


def test_sandbox_info_shape_and_extra_components():
    class Fake:
        started = stopped = False

        def start(self):
            self.started = True
            return self

        def stop(self):
            self.stopped = True

        def info(self):
            return {"smtp": {"host": "127.0.0.1"}}

    box = Sandbox()
    fake = box.add(Fake())
    with box:
        info = box.info()
        assert set(info) == {"sms", "voice", "smtp", "sts"}
        assert info["sts"]["endpoint"].startswith("https://127.0.0.1:")
        assert set(info["sts"]) == {"endpoint", "ca_file", "role_arn", "oidc_provider_arn"}
        assert set(info["sms"]) == {"endpoint", "access_key_id", "access_key_secret", "region"}
        assert info["sms"]["endpoint"].startswith("http://127.0.0.1:")
        assert info["sms"] == info["voice"]
        assert info["sms"]["access_key_id"] == "LTAI5tSandboxKey0000001"
        assert fake.started
    assert fake.stopped


SERVE_SCRIPT = """
import json, sys
from smsctl.sandbox.server import Sandbox, serve_forever
serve_forever(Sandbox(), lambda info: print(json.dumps(info), flush=True))
print("stopped", flush=True)
"""


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_serve_forever_serves_until_signal(signum):
    from alibabacloud_dysmsapi20170525 import models
    from alibabacloud_dysmsapi20170525.client import Client

    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    root = Path(__file__).resolve().parents[2]
    process = subprocess.Popen(
        [sys.executable, "-c", SERVE_SCRIPT],
        stdout=subprocess.PIPE,
        text=True,
        cwd=root,
        env={**env, "PYTHONPATH": str(root)},
    )
    try:
        info = json.loads(process.stdout.readline())
        client = Client(alibaba_config(info["sms"]))
        body = client.query_sms_sign(models.QuerySmsSignRequest(sign_name="Acme")).body
        assert body.sign_status == 1
        process.send_signal(signum)
        assert process.wait(timeout=5) == 0
        assert process.stdout.read().strip() == "stopped"
    finally:
        if process.poll() is None:
            process.kill()


def test_no_other_smsctl_module_imports_the_sandbox():
    import re

    package = Path(__file__).resolve().parents[2] / "smsctl"
    allowed = {package / "cli" / "sandbox.py"}
    offenders = [
        str(path.relative_to(package))
        for path in package.rglob("*.py")
        if "sandbox" not in path.relative_to(package).parts[:1]
        and path not in allowed
        and re.search(r"^\s*(from|import)\s+smsctl\.sandbox", path.read_text(), re.MULTILINE)
    ]
    assert offenders == []
