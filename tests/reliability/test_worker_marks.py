"""The commands that start the provider worker are those that call Alibaba Cloud, and no others.

`calls_alibaba` marks a command where it is defined; the generated command tree carries the mark
and `worker.channels_of` reads it. Nothing here trusts the marks: every command of the tree runs
to completion through the console script's entry point against the sandboxes, with the worker
turned off, and the Alibaba SDKs that run imported in-process must be exactly the products
`channels_of` names for its command line. A command that calls Alibaba Cloud without its mark
(or a mark whose condition is wrong) fails here; a new command fails until it has a run below.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from smsctl.providers.worker import channels_of
from tests.conftest import MEMORY_BACKEND
from tests.reliability.helpers import REPO, SMSCTL
from tests.support.probe import probe

ROOT = Path(__file__).resolve().parents[2]
SDKS = {"sms": "alibabacloud_dysmsapi20170525", "voice": "alibabacloud_dyvmsapi20170525"}
PHONE = "+8613812345678"
SETUP_PHONE = "+8613812345679"  # the sends that `receipt` and `voice call-result` look up
VOICE_FILE = "4c3a1b2e-0d6f-4e35-9d4a-2f1e0c8b7a65.wav"  # approved in the sandbox's seed
TTS = "TTS_100000002"
TTS_CONTENT = "告警：${service}出现故障，请尽快处理。"
WECHAT_VARS = [
    *("--var", "first=Sign-in", "--var", "keyword1=${code}"),
    *("--var", "keyword2=5 minutes", "--var", "remark=Ignore it if it was not you"),
]
# Every leaf command of the tree, with command lines that run it to completion (exit 0) on the
# configuration `configured` builds. Each run starts from that configuration again.
RUNS: dict[str, list[list[str]]] = {
    "account add": [["account", "add", "second", "--access-key-id", "LTAI5tSecond00001"]],
    "account list": [["account", "list"]],
    "account show": [["account", "show", "prod"]],
    "account edit": [["account", "edit", "prod", "--note", "edited"]],
    "account enable": [["account", "enable", "spare"]],
    "account disable": [["account", "disable", "spare"]],
    "account delete": [["account", "delete", "spare", "--yes"]],
    "signature add": [["signature", "add", "Acme登录", "--account", "prod"]],
    "signature list": [["signature", "list"], ["signature", "list", "--remote"]],
    "signature import": [["signature", "import", "Acme登录", "--account", "prod"]],
    "signature submit": [
        ["signature", "submit", "Globex", "--account", "prod", "--qualification-id", "1"]
        + ["--source", "enterprise"]
    ],
    "signature show": [["signature", "show", "Acme"]],
    "signature sync": [["signature", "sync"], ["signature", "sync", "Acme"]],
    "signature edit": [["signature", "edit", "Acme", "--default"]],
    "signature enable": [["signature", "enable", "Acme"]],
    "signature disable": [["signature", "disable", "Acme"]],
    "signature delete": [["signature", "delete", "Acme", "--yes"]],
    "template add": [
        ["template", "add", "SMS_100000002", "--account", "prod", "--scenario", "register"]
    ],
    "template list": [["template", "list"], ["template", "list", "--remote"]],
    "template import": [
        ["template", "import", "SMS_100000003", "--account", "prod", "--scenario", "notification"]
    ],
    "template submit": [
        ["template", "submit", "Welcome", "--account", "prod", "--type", "notification"]
        + ["--scenario", "notification", "--content", "Hi ${name}", "--signature", "Acme"]
    ],
    "template resubmit": [["template", "resubmit", "NAME", "--content", "Sale ${item}"]],
    "template show": [["template", "show", "SMS_100000001"]],
    "template render": [["template", "render", "SMS_100000001", "--param", "code=1234"]],
    "template edit": [["template", "edit", "SMS_100000001", "--name", "Login"]],
    "template sync": [["template", "sync"]],
    "template enable": [["template", "enable", "SMS_100000001"]],
    "template disable": [["template", "disable", "SMS_100000001"]],
    "template delete": [["template", "delete", "SMS_100000001", "--yes"]],
    "authorize signature": [["authorize", "signature", "Acme", "--app", "ios", "--create-app"]],
    "authorize template": [
        ["authorize", "template", "SMS_100000001", "--app", "ios", "--create-app"]
    ],
    "authorize rule": [["authorize", "rule", "login-code", "--app", "ios", "--create-app"]],
    "authorize revoke": [["authorize", "revoke", "signature", "阿里云短信测试", "--app", "web"]],
    "authorize list": [["authorize", "list"]],
    "authorize resolve": [["authorize", "resolve", "--scenario", "login"]],
    "validate": [["validate", "prod"], ["--json", "validate", "prod", "--check-only"]],
    "send-test": [
        ["send-test", "--to", PHONE, "--scenario", "login", "--param", "code=1234", "--yes"],
        ["send-test", "--to", PHONE, "--scenario", "login", "--param", "code=1", "--dry-run"],
    ],
    "receipt": [["receipt", "--to", SETUP_PHONE, "--biz-id", "BIZ_ID"]],
    "lookup": [["lookup", SETUP_PHONE], ["--json", "lookup", SETUP_PHONE, "--account", "spare"]],
    "stats": [["stats"], ["--json", "stats", "--days", "1", "--international"]],
    "voice validate": [["voice", "validate", "alerts"]],
    "voice send-test": [
        ["voice", "send-test", "--to", PHONE, "--scenario", "alert", "--template", TTS]
        + ["--param", "service=db", "--yes"],
        ["voice", "send-test", "--to", PHONE, "--scenario", "alert", "--template", TTS]
        + ["--param", "service=db", "--dry-run"],
    ],
    "voice call-result": [["voice", "call-result", "--call-id", "CALL_ID"]],
    "voice account add": [
        ["voice", "account", "add", "second", "--access-key-id", "LTAI5tSecond00002"]
    ],
    "voice account list": [["voice", "account", "list"]],
    "voice account show": [["voice", "account", "show", "alerts"]],
    "voice account edit": [["voice", "account", "edit", "alerts", "--note", "edited"]],
    "voice account enable": [["voice", "account", "enable", "spare"]],
    "voice account disable": [["voice", "account", "disable", "spare"]],
    "voice account delete": [["voice", "account", "delete", "spare", "--yes"]],
    "voice template add": [
        ["voice", "template", "add", VOICE_FILE, "--account", "alerts", "--scenario", "alert"]
        + ["--voice-file"],
        ["voice", "template", "add", TTS, "--account", "alerts", "--scenario", "alert"]
        + ["--content", TTS_CONTENT],
    ],
    "voice template list": [["voice", "template", "list"]],
    "voice template show": [["voice", "template", "show", "TTS_100000001"]],
    "voice template render": [
        ["voice", "template", "render", "TTS_100000001", "--param", "code=1234"]
    ],
    "voice template edit": [["voice", "template", "edit", "TTS_100000001", "--name", "Code"]],
    "voice template sync": [["voice", "template", "sync"]],
    "voice template enable": [["voice", "template", "enable", "TTS_100000001"]],
    "voice template disable": [["voice", "template", "disable", "TTS_100000001"]],
    "voice template delete": [["voice", "template", "delete", "TTS_100000001", "--yes"]],
    "email validate": [["email", "validate", "mail"]],
    "email send-test": [
        ["email", "send-test", "--to", "ops@example.com", "--scenario", "login"]
        + ["--param", "code=4711", "--yes"],
    ],
    "email account add": [
        ["email", "account", "add", "second", "--host", "127.0.0.1", "--port", "2525"]
        + ["--security", "none", "--username", "u", "--from", "noreply@example.com"]
    ],
    "email account list": [["email", "account", "list"]],
    "email account show": [["email", "account", "show", "mail"]],
    "email account edit": [["email", "account", "edit", "mail", "--note", "edited"]],
    "email account enable": [["email", "account", "enable", "mail"]],
    "email account disable": [["email", "account", "disable", "mail"]],
    "email account delete": [["email", "account", "delete", "mail", "--yes"]],
    "email template add": [
        ["email", "template", "add", "notice", "--scenario", "notification"]
        + ["--subject", "Notice", "--html", "HTML_FILE"]
    ],
    "email template list": [["email", "template", "list"]],
    "email template show": [["email", "template", "show", "login-code"]],
    "email template render": [
        ["email", "template", "render", "login-code", "--param", "code=4711"]
    ],
    "email template edit": [["email", "template", "edit", "login-code", "--name", "Code"]],
    "email template enable": [["email", "template", "enable", "login-code"]],
    "email template disable": [["email", "template", "disable", "login-code"]],
    "email template delete": [["email", "template", "delete", "login-code", "--yes"]],
    "wechat validate": [["wechat", "validate", "oa"]],
    "wechat send-test": [
        ["wechat", "send-test", "--openid", "FOLLOWER", "--rule", "login-code"]
        + ["--var", "code=4711", "--yes"],
    ],
    "wechat account add": [
        ["wechat", "account", "add", "second", "--app-id", "APP_ID", "--endpoint", "WECHAT"]
    ],
    "wechat account list": [["wechat", "account", "list"]],
    "wechat account show": [["wechat", "account", "show", "oa"]],
    "wechat account edit": [["wechat", "account", "edit", "oa"]],  # always refused: exit 2
    "wechat account enable": [["wechat", "account", "enable", "oa"]],
    "wechat account disable": [["wechat", "account", "disable", "oa"]],
    "wechat account delete": [["wechat", "account", "delete", "oa", "--yes"]],
    "wechat template list": [["wechat", "template", "list", "oa"]],
    "wechat rule add": [
        ["wechat", "rule", "add", "alert", "--account", "oa", "--template-id", "VERIFY"]
        + [*WECHAT_VARS, "--scenario", "alert"]
    ],
    "wechat rule list": [["wechat", "rule", "list"]],
    "wechat rule show": [["wechat", "rule", "show", "login-code"]],
    "wechat rule edit": [["wechat", "rule", "edit", "login-code", "--note", "edited"]],
    "wechat rule enable": [["wechat", "rule", "enable", "login-code"]],
    "wechat rule disable": [["wechat", "rule", "disable", "login-code"]],
    "wechat rule delete": [["wechat", "rule", "delete", "login-code", "--yes"]],
    "doctor": [
        ["doctor"],
        ["doctor", "--channel", "voice"],
        ["doctor", "--channel=sms", "--channel", "email"],
        ["doctor", "--channel", "wechat"],
        ["doctor", "--offline"],
    ],
    "log": [["log"]],
    "config path": [["config", "path"]],
    "config show": [["config", "show"]],
    "config check": [["config", "check"]],
    "completion": [["completion", "bash"]],
}
# The runs that end otherwise, by design.
EXIT_CODES = {("wechat", "account", "edit", "oa"): 2}
# Commands that cannot run to completion here, and why they cannot call Alibaba Cloud in their
# own process.
NOT_RUN = {
    "sandbox serve": "serves the emulators until it is stopped; it calls no provider",
    "sandbox try": "runs every step of its tour as a separate smsctl process",
}


def _leaves(node: dict, path: tuple[str, ...] = ()) -> list[str]:
    if "commands" not in node:
        return [" ".join(path)]
    return [
        leaf for name, child in node["commands"].items() for leaf in _leaves(child, (*path, name))
    ]


def test_every_command_of_the_tree_is_run_here() -> None:
    tree = json.loads((ROOT / "smsctl" / "_command_tree.json").read_text(encoding="utf-8"))
    commands = set(_leaves(tree["root"]))
    assert commands - set(RUNS) - set(NOT_RUN) == set(), "add a run of the new command to RUNS"
    assert set(RUNS) | set(NOT_RUN) <= commands, "RUNS names a command that no longer exists"


def _base_env(home: Path) -> dict[str, str]:
    """A child's environment built from nothing (this runs before the per-test isolation)."""
    return {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(REPO),
        "LANG": "C.UTF-8",
        "HOME": str(home / "home"),
        "XDG_CONFIG_HOME": str(home / "home" / ".config"),
        "XDG_STATE_HOME": str(home / "home" / ".local" / "state"),
        "SMSCTL_CONFIG": str(home / "config.toml"),
        "SMSCTL_STATE_DIR": str(home / "state"),
        "PYTHON_KEYRING_BACKEND": MEMORY_BACKEND,
        "SMSCTL_NO_INPUT": "1",
        "NO_PROXY": "*",
    }


@pytest.fixture(scope="module")
def configured(sandbox, smtp_sandbox, wechat_sandbox, tmp_path_factory) -> dict:
    """A configuration with an account of every channel on the sandboxes, items for each, and
    the secrets as environment variables; built once with smsctl itself."""
    import subprocess

    from smsctl.sandbox import wechat as wechat_seed

    home = tmp_path_factory.mktemp("marks")
    sms, voice = sandbox.info()["sms"], sandbox.info()["voice"]
    smtp = smtp_sandbox.info()["smtp"]
    secrets = {
        "SMSCTL_SECRET_SMS_PROD": sms["access_key_secret"],
        "SMSCTL_SECRET_SMS_SPARE": sms["access_key_secret"],
        "SMSCTL_SECRET_SMS_SECOND": sms["access_key_secret"],
        "SMSCTL_SECRET_VOICE_ALERTS": voice["access_key_secret"],
        "SMSCTL_SECRET_VOICE_SPARE": voice["access_key_secret"],
        "SMSCTL_SECRET_VOICE_SECOND": voice["access_key_secret"],
        "SMSCTL_SECRET_EMAIL_MAIL": smtp["password"],
        "SMSCTL_SECRET_EMAIL_SECOND": smtp["password"],
        "SMSCTL_SECRET_WECHAT_OA": wechat_seed.APP_SECRET,
        "SMSCTL_SECRET_WECHAT_SECOND": wechat_seed.APP_SECRET,
    }
    html = home / "login.html"
    html.write_text("<p>Your code is ${code}</p>\n", encoding="utf-8")
    words = {
        "HTML_FILE": str(html),
        "FOLLOWER": wechat_seed.FOLLOWER,
        "APP_ID": wechat_seed.APP_ID,
        "WECHAT": wechat_sandbox.endpoint,
        "VERIFY": wechat_seed.VERIFY_TEMPLATE_ID,
    }
    steps = [
        ["account", "add", "prod", "--access-key-id", sms["access_key_id"]]
        + ["--endpoint", sms["endpoint"]],
        ["account", "add", "spare", "--access-key-id", sms["access_key_id"]]
        + ["--endpoint", sms["endpoint"]],
        ["validate", "prod"],
        ["signature", "add", "Acme", "--account", "prod"],
        ["template", "add", "SMS_100000001", "--account", "prod", "--scenario", "login"],
        ["signature", "add", "阿里云短信测试", "--account", "prod"],
        ["authorize", "signature", "阿里云短信测试", "--app", "web", "--create-app"],
        ["voice", "account", "add", "alerts", "--access-key-id", voice["access_key_id"]]
        + ["--endpoint", voice["endpoint"]],
        ["voice", "account", "add", "spare", "--access-key-id", voice["access_key_id"]]
        + ["--endpoint", voice["endpoint"]],
        ["voice", "validate", "alerts"],
        ["voice", "template", "add", "TTS_100000001", "--account", "alerts", "--scenario"]
        + ["login", "--content", "您的验证码是${code}，请在5分钟内输入。"],
        ["voice", "template", "add", TTS, "--account", "alerts", "--scenario", "alert"]
        + ["--content", TTS_CONTENT],
        ["voice", "template", "add", VOICE_FILE, "--account", "alerts", "--scenario", "alert"]
        + ["--voice-file"],
        ["email", "account", "add", "mail", "--host", smtp["host"], "--port"]
        + [str(smtp["starttls_port"]), "--security", "starttls", "--username", smtp["username"]]
        + ["--from", "noreply@example.com", "--ca-file", smtp["ca_file"]],
        ["email", "validate", "mail"],
        ["email", "template", "add", "login-code", "--scenario", "login", "--subject", "Code"]
        + ["--html", str(html)],
        ["wechat", "account", "add", "oa", "--app-id", wechat_seed.APP_ID, "--endpoint"]
        + [wechat_sandbox.endpoint],
        ["wechat", "validate", "oa"],
        ["wechat", "rule", "add", "login-code", "--account", "oa", "--template-id"]
        + [wechat_seed.VERIFY_TEMPLATE_ID, *WECHAT_VARS, "--scenario", "login"],
    ]
    sends = {
        "BIZ_ID": ["--json", "send-test", "--to", SETUP_PHONE, "--scenario", "login"]
        + ["--param", "code=1234", "--yes"],
        "CALL_ID": ["--json", "voice", "send-test", "--to", SETUP_PHONE, "--scenario", "alert"]
        + ["--template", TTS, "--param", "service=db", "--yes"],
        # a template the provider rejects (the sandbox's marker word), for `resubmit`
        "NAME": ["--json", "template", "submit", "Promo", "--account", "prod", "--type"]
        + ["promotional", "--scenario", "notification", "--content", "REJECTME ${x}"]
        + ["--signature", "Acme"],
    }
    # sees the rejection; disabled, so that `doctor` passes with it
    after = [["template", "sync"], ["template", "disable", "NAME"]]
    env = {**_base_env(home), **secrets}
    sandbox.reset()  # the runs below share this state: one send to each number in all
    sandbox.alibaba.state.review.delay = 0  # applications are reviewed at once
    for step in [*steps, *sends.values(), *after]:
        done = subprocess.run(
            [str(SMSCTL), *(words.get(word, word) for word in step)],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
        )
        assert done.returncode == 0, (step, done.stdout + done.stderr)
        for word, argv in sends.items():
            if argv == step:
                words[word] = json.loads(done.stdout)[word.lower()]
    return {"config": home / "config.toml", "secrets": secrets, "words": words}


def _runs() -> list[list[str]]:
    return [argv for runs in RUNS.values() for argv in runs]


@pytest.mark.parametrize("argv", _runs(), ids=" ".join)
def test_a_command_loads_the_alibaba_sdks_its_mark_names_and_no_other(
    argv: list[str], configured: dict, tmp_path: Path
) -> None:
    shutil.copy(configured["config"], tmp_path / "config.toml")
    env = {
        **_base_env(tmp_path),
        **configured["secrets"],
        "SMSCTL_PROVIDER_WORKER": "0",
    }
    argv = [configured["words"].get(word, word) for word in argv]
    report, stdout, stderr = probe(argv, env)
    assert (report["code"] or 0) == EXIT_CODES.get(tuple(argv), 0), stdout + stderr
    loaded = {
        channel
        for channel, sdk in SDKS.items()
        if any(module.startswith(sdk) for module in report["modules"])
    }
    assert set(channels_of(argv)) == loaded


def _generator():
    import importlib.util

    spec = importlib.util.spec_from_file_location("gen_tree", ROOT / "scripts/gen_command_tree.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("wrong", "right"),
    [
        ({"unless": ("--dry-rum",)}, {"unless": ("--dry-run",)}),
        ({"only_with": "--voice-flie"}, {"only_with": "--voice-file"}),
        ({"chosen_by": "--channels"}, {"chosen_by": "--channel"}),
    ],
    ids=["unless", "only_with", "chosen_by"],
)
def test_a_mark_that_names_an_option_its_command_lacks_stops_the_generator(
    wrong: dict, right: dict
) -> None:
    """A renamed option cannot leave a mark silently pointing at nothing."""
    from types import SimpleNamespace

    from smsctl.providers.worker import calls_alibaba

    generator = _generator()
    options = [{"opts": ["--dry-run"]}, {"opts": ["--voice-file"]}, {"opts": ["--channel"]}]

    def command() -> None: ...

    with pytest.raises(SystemExit, match="names options it does not have"):
        generator._alibaba_mark(
            SimpleNamespace(callback=calls_alibaba("sms", **wrong)(command)), options, ("x",)
        )
    mark = generator._alibaba_mark(
        SimpleNamespace(callback=calls_alibaba("sms", **right)(command)), options, ("x",)
    )
    assert mark == {
        "channels": ["sms"],
        **{k: list(v) if k == "unless" else v for k, v in right.items()},
    }
