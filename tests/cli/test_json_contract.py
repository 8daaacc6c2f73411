"""Every command keeps the --json contract (docs/json.md).

Without arguments: stdout holds exactly one JSON document, or is empty while stderr holds
{"error": {...}}. With real arguments, against the sandbox (the Alibaba SMS/voice emulator, the
SMTP server, the WeChat emulator) on a config where every channel has an account, items and an
app authorization: a verb that several channels have answers with the same keys on each of
them, and every verb's keys are the ones of its example in docs/json.md."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import typer

from smsctl.cli.app import app
from smsctl.sandbox import wechat as wechat_sandbox_data
from tests.support.cli import add_sandbox_sms_account, invoke
from tests.support.memory_keyring import MemoryKeyring

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "json.md"

# These run until interrupted, or run a whole walkthrough: covered by their own tests.
LONG_RUNNING = {("sandbox", "serve"), ("sandbox", "try")}


def leaf_commands() -> list[tuple[str, ...]]:
    root = typer.main.get_command(app)
    found: list[tuple[str, ...]] = []

    def walk(command, path: tuple[str, ...]) -> None:
        if not hasattr(command, "list_commands"):
            found.append(path)
            return
        ctx = typer.Context(command)
        for name in command.list_commands(ctx):
            walk(command.get_command(ctx, name), (*path, name))

    walk(root, ())
    return [path for path in found if path not in LONG_RUNNING]


COMMANDS = leaf_commands()


def test_the_command_tree_is_walked() -> None:
    assert len(COMMANDS) > 60
    assert ("send-test",) in COMMANDS and ("wechat", "rule", "add") in COMMANDS


@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
def test_json_contract_without_arguments(path: tuple[str, ...], monkeypatch) -> None:
    monkeypatch.setenv("SMSCTL_KEYRING_TIMEOUT", "2")
    result = invoke("--json", *path)
    assert "Traceback" not in result.stderr
    if result.exit_code == 0:
        json.loads(result.stdout)  # exactly one document
    else:
        assert result.stdout == "", result.stdout
        error = json.loads(result.stderr.strip().splitlines()[-1])["error"]
        assert error["message"]
        assert error["exit_code"] == result.exit_code
        assert result.exit_code in (2, 3, 4)


# --- the world every command runs in ----------------------------------------------------------

OPENID = wechat_sandbox_data.FOLLOWER
PHONE = "+8613812345678"
MAIL_TO = "alice@example.test"
TTS = "TTS_100000001"
TTS_ALERT = "TTS_100000002"
VOICE_FILE = "4c3a1b2e-0d6f-4e35-9d4a-2f1e0c8b7a65.wav"
WECHAT_VARS = ("--var", "first=Login", "--var", "keyword1=${code}", "--var", "keyword2=5 min",
               "--var", "remark=Ignore if not you")  # fmt: skip
HTML = "<p>Hello ${name}, your code is <b>${code}</b>.</p>\n"


def _setup_steps(sandbox, smtp, wechat, files: Path) -> list[tuple[tuple[str, ...], str | None]]:
    """What an operator runs to get one account, items and an app authorization per channel."""
    voice = sandbox.info()["voice"]
    mail = smtp.info()["smtp"]
    html = files / "login.html"
    html.write_text(HTML)
    (files / "welcome.html").write_text("<p>Welcome ${name}, your code is ${code}</p>\n")
    return [
        (("voice", "account", "add", "prod", "--access-key-id", voice["access_key_id"],
          "--endpoint", voice["endpoint"], "--secret-stdin"), voice["access_key_secret"]),
        (("voice", "template", "add", TTS, "--account", "prod", "--scenario", "login",
          "--content", "您的验证码是${code}，请在5分钟内输入。"), None),
        (("voice", "template", "add", VOICE_FILE, "--account", "prod", "--scenario", "alert",
          "--voice-file"), None),
        (("voice", "validate", "prod"), None),
        (("email", "account", "add", "mail", "--host", "127.0.0.1",
          "--port", str(mail["starttls_port"]), "--security", "starttls",
          "--username", mail["username"], "--from", "noreply@acme.test",
          "--ca-file", mail["ca_file"], "--secret-stdin"), mail["password"]),
        (("email", "validate", "mail"), None),
        (("email", "template", "add", "login-code", "--scenario", "login",
          "--subject", "${name}, your code", "--html", str(html)), None),
        (("wechat", "account", "add", "oa", "--app-id", wechat_sandbox_data.APP_ID,
          "--endpoint", wechat.endpoint, "--secret-stdin"), wechat.seed.app_secret),
        (("wechat", "rule", "add", "login", "--account", "oa", "--scenario", "login",
          "--template-id", wechat_sandbox_data.VERIFY_TEMPLATE_ID, *WECHAT_VARS), None),
        (("wechat", "validate", "oa"), None),
        (("authorize", "signature", "Acme", "--app", "shop", "--create-app"), None),
        (("authorize", "template", "SMS_100000001", "--app", "shop"), None),
        (("authorize", "template", TTS, "--channel", "voice", "--app", "shop"), None),
        (("authorize", "template", "login-code", "--channel", "email", "--app", "shop"), None),
        (("authorize", "rule", "login", "--app", "shop"), None),
    ]  # fmt: skip


@dataclass
class World:
    files: Path
    config: str
    state: Path
    keyring: dict
    wechat_endpoint: str
    alibaba: Any = None  # the SMS emulator's state, for cases that need the provider to act


@pytest.fixture(scope="module")
def built_world(sandbox, smtp_sandbox, wechat_sandbox, tmp_path_factory) -> World:
    """Built once by running the setup commands; each test gets a copy (config, state, keyring)."""
    base = tmp_path_factory.mktemp("world")
    files = base / "files"
    files.mkdir()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HOME", str(base))
        mp.setenv("SMSCTL_CONFIG", str(base / "cfg" / "config.toml"))
        mp.setenv("SMSCTL_STATE_DIR", str(base / "state"))
        mp.setenv("PYTHON_KEYRING_BACKEND", "tests.support.memory_keyring.MemoryKeyring")
        mp.setenv("NO_PROXY", "*")
        MemoryKeyring.entries = {}
        sandbox.reset()
        add_sandbox_sms_account(sandbox.info()["sms"])
        for args, secret in _setup_steps(sandbox, smtp_sandbox, wechat_sandbox, files):
            done = invoke(*args, input=None if secret is None else secret + "\n")
            assert done.exit_code == 0, (args, done.all_output)
        return World(
            files, (base / "cfg" / "config.toml").read_text(), base / "state",
            dict(MemoryKeyring.entries), wechat_sandbox.endpoint, sandbox.alibaba.state,
        )  # fmt: skip


@pytest.fixture
def world(built_world, isolated, config_file, state_dir, fresh_sandbox_state, smtp_server,
          wechat_server) -> World:  # fmt: skip
    config_file.parent.mkdir(parents=True, exist_ok=True)
    config_file.write_text(built_world.config)
    shutil.copytree(built_world.state, state_dir, dirs_exist_ok=True)
    MemoryKeyring.entries = dict(built_world.keyring)
    fresh_sandbox_state.alibaba.state.receipt_delay = 0
    fresh_sandbox_state.alibaba.state.call_result_delay = 0
    return built_world


# --- one entry per verb per channel -----------------------------------------------------------


def _sent_sms(world: World) -> dict[str, str]:
    sent = invoke("--json", "send-test", "--to", PHONE, "--scenario", "login", "--app", "shop",
                  "--param", "code=1234", "--yes").json()  # fmt: skip
    return {"biz_id": sent["biz_id"]}


def _placed_call(world: World) -> dict[str, str]:
    placed = invoke("--json", "voice", "send-test", "--to", PHONE, "--scenario", "login",
                    "--app", "shop", "--param", "code=1234", "--yes").json()  # fmt: skip
    return {"call_id": placed["call_id"]}


def _rejected_template(world: World) -> dict[str, str]:
    """A template the provider reviewed and rejected, as smsctl has it after --wait."""
    world.alibaba.review.delay = 0
    done = invoke("--json", "template", "submit", "Promo", "--account", "prod", "--type",
                  "promotional", "--scenario", "notification", "--content", "REJECTME ${x}",
                  "--signature", "Acme", "--wait", "5")  # fmt: skip
    assert done.exit_code == 5, done.all_output
    return {"code": next(c for c, t in world.alibaba.templates.items() if t.name == "Promo")}


def _files(world: World) -> dict[str, str]:
    return {"files": str(world.files)}


@dataclass(frozen=True)
class Case:
    verb: str  # the heading of its example in docs/json.md
    channel: str
    args: tuple[str, ...]  # {placeholders} are filled from `prepare`
    prepare: Callable[[World], dict[str, str]] | None = None
    exit_code: int = 0


ACCOUNTS = {
    "sms": ("account", ("--access-key-id", "LTAIcontract0000")),
    "voice": ("voice account", ("--access-key-id", "LTAIcontract0000")),
    "email": ("email account", ("--host", "127.0.0.1", "--port", "2525", "--security", "none",
                                "--username", "u", "--from", "a@acme.test")),
    "wechat": ("wechat account", ("--app-id", wechat_sandbox_data.APP_ID)),
}  # fmt: skip


def _wechat_endpoint(world: World) -> dict[str, str]:
    return {"wechat_endpoint": world.wechat_endpoint}


VAULT = "vault kv get -field=secret kv/smsctl/prod"


def _account_cases() -> list[Case]:
    cases = []
    for channel, (prefix, add_options) in ACCOUNTS.items():
        words = tuple(prefix.split())
        existing = {"sms": "prod", "voice": "prod", "email": "mail", "wechat": "oa"}[channel]
        add = (*words, "add", "extra", *add_options, "--secret-stdin")
        cases += [
            Case("account list", channel, (*words, "list")),
            Case("account show", channel, (*words, "show", existing)),
            Case("account enable", channel, (*words, "enable", existing)),
            Case("account disable", channel, (*words, "disable", existing)),
            Case("account delete", channel, (*words, "delete", existing, "--yes")),
        ]  # fmt: skip
        if channel == "wechat":  # verified live: a second app id the emulator knows
            add = (*words, "add", "extra", "--app-id", wechat_sandbox_data.TEST_ACCOUNT_APP_ID,
                   "--endpoint", "{wechat_endpoint}", "--secret-stdin")  # fmt: skip
            cases.append(Case("account add", channel, add, _wechat_endpoint))
        else:
            cases.append(Case("account add", channel, add))
            cases.append(Case("account edit", channel, (*words, "edit", existing, "--note", "n")))
            # the secret's source becomes the command: `secret` keeps its keys (not run here)
            cases.append(Case("account edit", channel, (*words, "edit", existing,
                                                        "--secret-command", VAULT)))  # fmt: skip
    return cases


SMS_T, EMAIL_T = "SMS_100000001", "login-code"
CASES: list[Case] = [
    Case("validate", "sms", ("validate", "prod")),
    Case("validate", "voice", ("voice", "validate", "prod")),
    Case("validate", "email", ("email", "validate", "mail")),
    Case("validate", "wechat", ("wechat", "validate", "oa")),
    Case("template add", "sms", ("template", "add", "SMS_100000002", "--account", "prod",
                                 "--scenario", "register")),
    Case("template add", "voice", ("voice", "template", "add", TTS_ALERT, "--account", "prod",
                                   "--scenario", "alert",
                                   "--content", "告警：${service}出现故障，请尽快处理。")),
    Case("template add", "email", ("email", "template", "add", "welcome", "--scenario",
                                   "register", "--subject", "Welcome",
                                   "--html", "{files}/welcome.html"), _files),
    Case("template add", "wechat", ("wechat", "rule", "add", "login2", "--account", "oa",
                                    "--scenario", "register", "--template-id",
                                    wechat_sandbox_data.VERIFY_TEMPLATE_ID, *WECHAT_VARS)),
    Case("template list", "sms", ("template", "list")),
    Case("template list --remote", "sms", ("template", "list", "--remote")),
    Case("signature list --remote", "sms", ("signature", "list", "--remote")),
    Case("template import", "sms", ("template", "import", "SMS_100000002", "--account", "prod",
                                    "--scenario", "register")),
    Case("signature import", "sms", ("signature", "import", "--all-approved", "--account",
                                     "prod")),
    Case("template submit", "sms", ("template", "submit", "Welcome", "--account", "prod",
                                    "--type", "notification", "--scenario", "notification",
                                    "--content", "Welcome, ${name}!", "--signature", "Acme")),
    Case("template resubmit", "sms", ("template", "resubmit", "{code}", "--content",
                                      "Sale: ${item}"), _rejected_template),
    Case("signature submit", "sms", ("signature", "submit", "Globex", "--account", "prod",
                                     "--qualification-id", "12345", "--source", "enterprise")),
    Case("template list", "voice", ("voice", "template", "list")),
    Case("template list", "email", ("email", "template", "list")),
    Case("template list", "wechat", ("wechat", "rule", "list")),
    Case("template show", "sms", ("template", "show", SMS_T)),
    Case("template show", "voice", ("voice", "template", "show", TTS)),
    Case("template show", "email", ("email", "template", "show", EMAIL_T)),
    Case("template show", "wechat", ("wechat", "rule", "show", "login")),
    Case("template render", "sms", ("template", "render", SMS_T, "--param", "code=1234")),
    Case("template render", "voice", ("voice", "template", "render", TTS, "--param",
                                      "code=1234")),
    Case("template render", "email", ("email", "template", "render", EMAIL_T, "--param",
                                      "code=1234", "--param", "name=Bob")),
    Case("template edit", "sms", ("template", "edit", SMS_T, "--no-default")),
    Case("template edit", "voice", ("voice", "template", "edit", TTS, "--no-default")),
    Case("template edit", "email", ("email", "template", "edit", EMAIL_T, "--no-default")),
    Case("template edit", "wechat", ("wechat", "rule", "edit", "login", "--no-default")),
    Case("template sync", "sms", ("template", "sync")),
    Case("template sync", "voice", ("voice", "template", "sync")),
    *(
        Case(f"template {verb}", channel, (*prefix, verb, name, *extra))
        for verb, extra in (("enable", ()), ("disable", ()), ("delete", ("--yes",)))
        for channel, prefix, name in (
            ("sms", ("template",), SMS_T),
            ("voice", ("voice", "template"), TTS),
            ("email", ("email", "template"), EMAIL_T),
            ("wechat", ("wechat", "rule"), "login"),
        )
    ),
    Case("signature add", "sms", ("signature", "add", "阿里云短信测试", "--account", "prod")),
    Case("signature list", "sms", ("signature", "list")),
    Case("signature show", "sms", ("signature", "show", "Acme")),
    Case("signature sync", "sms", ("signature", "sync")),
    Case("signature edit", "sms", ("signature", "edit", "Acme", "--no-default")),
    Case("signature enable", "sms", ("signature", "enable", "Acme")),
    Case("signature disable", "sms", ("signature", "disable", "Acme")),
    Case("signature delete", "sms", ("signature", "delete", "Acme", "--yes")),
    Case("wechat template list", "wechat", ("wechat", "template", "list", "oa")),
    Case("authorize", "sms", ("authorize", "signature", "Acme", "--app", "admin",
                              "--create-app")),
    Case("authorize", "sms", ("authorize", "template", SMS_T, "--app", "admin",
                              "--create-app")),
    Case("authorize", "voice", ("authorize", "template", TTS, "--channel", "voice", "--app",
                                "admin", "--create-app")),
    Case("authorize", "email", ("authorize", "template", EMAIL_T, "--channel", "email",
                                "--app", "admin", "--create-app")),
    Case("authorize", "wechat", ("authorize", "rule", "login", "--app", "admin",
                                 "--create-app")),
    Case("authorize revoke", "sms", ("authorize", "revoke", "template", SMS_T, "--app", "shop")),
    Case("authorize revoke", "voice", ("authorize", "revoke", "template", TTS, "--channel",
                                       "voice", "--app", "shop")),
    Case("authorize revoke", "email", ("authorize", "revoke", "template", EMAIL_T,
                                       "--channel", "email", "--app", "shop")),
    Case("authorize revoke", "wechat", ("authorize", "revoke", "rule", "login", "--app",
                                        "shop")),
    Case("authorize list", "all", ("authorize", "list")),
    Case("authorize resolve", "sms", ("authorize", "resolve", "--scenario", "login", "--app",
                                      "shop")),
    Case("authorize resolve", "voice", ("authorize", "resolve", "--channel", "voice",
                                        "--scenario", "login", "--app", "shop")),
    Case("authorize resolve", "email", ("authorize", "resolve", "--channel", "email",
                                        "--scenario", "login", "--app", "shop")),
    Case("authorize resolve", "wechat", ("authorize", "resolve", "--channel", "wechat",
                                         "--scenario", "login", "--app", "shop")),
    Case("send-test", "sms", ("send-test", "--to", PHONE, "--scenario", "login", "--app",
                              "shop", "--param", "code=1234", "--yes")),
    Case("send-test", "voice", ("voice", "send-test", "--to", PHONE, "--scenario", "login",
                                "--app", "shop", "--param", "code=1234", "--yes")),
    Case("send-test", "email", ("email", "send-test", "--to", MAIL_TO, "--scenario", "login",
                                "--app", "shop", "--param", "code=1234", "--param", "name=Bob",
                                "--yes")),
    Case("send-test", "wechat", ("wechat", "send-test", "--openid", OPENID, "--rule", "login",
                                 "--app", "shop", "--var", "code=1234", "--yes")),
    Case("receipt", "sms", ("receipt", "--to", PHONE, "--biz-id", "{biz_id}"), _sent_sms),
    Case("lookup", "sms", ("lookup", PHONE), _sent_sms),
    Case("stats", "sms", ("stats", "--days", "2"), _sent_sms),
    Case("voice call-result", "voice", ("voice", "call-result", "--call-id", "{call_id}"),
         _placed_call),
    Case("log", "all", ("log",)),
    Case("doctor", "all", ("doctor", "--offline")),
    Case("config path", "all", ("config", "path")),
    Case("config check", "all", ("config", "check")),
    Case("config show", "all", ("config", "show")),
    *_account_cases(),
]  # fmt: skip

# Commands whose --json document is not a report of this kind, with the test that covers them.
NOT_IN_THE_TABLE = {
    ("completion",): "prints a shell script; tests/test_completion.py",
    ("wechat", "account", "edit"): "not possible (exit 2): tests/cli/test_wechat.py",
}


def _case_id(case: Case) -> str:
    return f"{case.verb} [{case.channel}] " + " ".join(case.args[:4])


def _param(case: Case):
    return pytest.param(case, id=_case_id(case))


def test_every_command_is_in_the_table() -> None:
    tabled = {path for path in COMMANDS for case in CASES if case.args[: len(path)] == path}
    missing = [p for p in COMMANDS if p not in tabled and p not in NOT_IN_THE_TABLE]
    assert missing == []


# --- the documented shapes --------------------------------------------------------------------


@dataclass
class Documented:
    example: Any  # the first ```json block under the verb's heading
    channel_keys: dict[str, set[str]]  # its "Channel keys — sms: `a`; voice: `b`." line

    def keys_for(self, channel: str) -> dict[str, Any]:
        """The expected shape on a channel: the common keys and the channel's own."""
        found = shape(self.example)
        own = set().union(*self.channel_keys.values()) if self.channel_keys else set()
        for key in ("keys", "entries"):  # a document, or the entries of a list
            if found.get(key) is not None:
                common = set(found[key]) - own
                found[key] = sorted(common | self.channel_keys.get(channel, set()))
        return found


def documented_examples(text: str) -> dict[str, Documented]:
    """Each "### `verb`" heading of docs/json.md with its example and its channel keys."""
    examples: dict[str, Documented] = {}
    pattern = re.compile(r"^### `([^`]+)`[^\n]*\n(.*?)(?=^#{2,3} |\Z)", re.M | re.S)
    for match in pattern.finditer(text):
        block = re.search(r"```json\n(.*?)\n```", match.group(2), re.S)
        if not block:
            continue
        channel_keys: dict[str, set[str]] = {}
        line = re.search(r"^Channel keys — (.*)\.$", match.group(2), re.M)
        for part in line.group(1).split(";") if line else ():
            channel, keys = part.split(":", 1)
            channel_keys[channel.strip()] = set(re.findall(r"`([^`]+)`", keys))
        examples[match.group(1)] = Documented(json.loads(block.group(1)), channel_keys)
    return examples


EXAMPLES = documented_examples(DOCS.read_text())


def test_every_documented_verb_has_an_example_and_a_case() -> None:
    assert set(EXAMPLES) == {case.verb for case in CASES}


def shape(document: Any) -> dict[str, Any]:
    """The key sets that make a document's shape: the top level, and the entries of its list
    (`items`, or the document itself when it is a list; entries are compared by the keys of
    the first one, a log's entries differ by event)."""
    if isinstance(document, list):
        return {"entries": _entry_keys(document)}
    found: dict[str, Any] = {"keys": sorted(document)}
    if isinstance(document.get("items"), list):
        found["items"] = _entry_keys(document["items"])
    return found


def _entry_keys(entries: list[Any]) -> list[str] | None:
    return sorted(entries[0]) if entries and isinstance(entries[0], dict) else None


def _comparable(found: dict[str, Any], other: dict[str, Any]) -> tuple[dict, dict]:
    """An empty list has no entry keys to compare: compare the rest."""
    found, other = dict(found), dict(other)
    for key in ("entries", "items"):
        if found.get(key) is None or other.get(key) is None:
            found.pop(key, None)
            other.pop(key, None)
    return found, other


def _fill(word: str, values: dict[str, str]) -> str:
    for key, value in values.items():
        word = word.replace("{" + key + "}", value)
    return word


def run(case: Case, world: World) -> Any:
    values = case.prepare(world) if case.prepare else {}
    args = [_fill(word, values) for word in case.args]
    secret = (wechat_sandbox_data.APP_SECRET if case.channel == "wechat" else "x") + "\n" \
        if "--secret-stdin" in args else None  # fmt: skip
    result = invoke("--json", *args, input=secret)
    assert result.exit_code == case.exit_code, result.all_output
    assert "Traceback" not in result.stderr
    return result.json()


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_a_verb_answers_in_its_documented_shape(case: Case, world: World) -> None:
    assert case.verb in EXAMPLES, f"docs/json.md has no example for `{case.verb}`"
    documented = EXAMPLES[case.verb].keys_for(case.channel)
    found, documented = _comparable(shape(run(case, world)), documented)
    assert found == documented


SHARED = sorted({c.verb for c in CASES if sum(o.verb == c.verb for o in CASES) > 1})


@pytest.mark.parametrize("verb", SHARED)
def test_a_verb_has_the_same_keys_on_every_channel(verb: str, world: World) -> None:
    cases = [c for c in CASES if c.verb == verb]
    own = EXAMPLES[verb].channel_keys if verb in EXAMPLES else {}
    shapes = {}
    for case in cases:
        found = shape(run(case, world))
        for key in ("keys", "entries"):  # what every channel has: without its documented own
            if found.get(key) is not None:
                found[key] = sorted(set(found[key]) - own.get(case.channel, set()))
        shapes[case.channel] = found
        world_reset(world)
    first_channel, first = next(iter(shapes.items()))
    for channel, found in shapes.items():
        a, b = _comparable(found, first)
        assert a == b, f"`{verb}` on {channel} differs from {first_channel}"


def world_reset(world: World) -> None:
    """Each case starts from the same world (a delete must not hide the next channel's item)."""
    import os

    Path(os.environ["SMSCTL_CONFIG"]).write_text(world.config)
    MemoryKeyring.entries = dict(world.keyring)
