"""The provider seam: every adapter has its Protocol's methods with the same signatures, the
registry picks an adapter by the account's provider, and no adapter names a command."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from smsctl.core import channels, connect
from smsctl.core.config import Config
from smsctl.core.errors import ConfigError
from smsctl.providers import interfaces
from smsctl.providers.alibaba_sms import AlibabaSms
from smsctl.providers.alibaba_voice import AlibabaVoice
from smsctl.providers.smtp import SmtpEmail
from smsctl.providers.wechat import WechatApi

ADAPTERS = [
    (interfaces.SmsAdapter, AlibabaSms),
    (interfaces.VoiceAdapter, AlibabaVoice),
    (interfaces.EmailAdapter, SmtpEmail),
    (interfaces.WechatAdapter, WechatApi),
]
PROVIDERS = Path(interfaces.__file__).parent


def protocol_methods(protocol: type) -> dict[str, inspect.Signature]:
    return {
        name: inspect.signature(member)
        for name, member in vars(protocol).items()
        if inspect.isfunction(member) and not name.startswith("_")
    }


@pytest.mark.parametrize(("protocol", "adapter"), ADAPTERS, ids=lambda v: v.__name__)
def test_each_adapter_has_its_protocols_methods_and_signatures(protocol, adapter) -> None:
    methods = protocol_methods(protocol)
    assert "check_credentials" in methods and "send" in methods or "call_tts" in methods
    for name, expected in methods.items():
        assert hasattr(adapter, name), f"{adapter.__name__} lacks {name}"
        got = inspect.signature(getattr(adapter, name))
        assert list(got.parameters) == list(expected.parameters), name
        for param, want in expected.parameters.items():
            have = got.parameters[param]
            assert (have.kind, have.default) == (want.kind, want.default), f"{name}({param})"
        returned = (str(a.return_annotation).rsplit(".")[-1] for a in (got, expected))
        assert len(set(returned)) == 1, name


def test_the_protocols_name_no_any() -> None:
    assert "Any" not in Path(interfaces.__file__).read_text()


def test_the_registry_covers_every_provider_an_account_may_name() -> None:
    declared = {(c.name, p) for c in channels.CHANNELS.values() for p in c.providers}
    assert set(connect.ADAPTERS) == declared


class Secrets:
    def require(self, channel: str, account: str) -> str:
        return "CANARY-s3cr3t-7f1e9a"


def config(accounts: dict) -> Config:
    return Config(accounts, Path("config.toml"))


def test_an_account_without_provider_gets_its_channels_default_adapter() -> None:
    found = config({"email": {"accounts": {"mail": {
        "host": "127.0.0.1", "port": 2525, "security": "none", "username": "u",
        "from_address": "noreply@acme.test",
    }}}})  # fmt: skip
    adapter = connect.adapter(found, Secrets(), "email", "mail")
    assert "SmtpEmail" in repr(adapter)
    assert "CANARY" not in repr(adapter)


def test_an_unknown_provider_is_a_config_error_naming_the_choices() -> None:
    found = config({"sms": {"accounts": {"prod": {"access_key_id": "LTAI5tX", "provider": "x"}}}})
    with pytest.raises(ConfigError) as caught:
        connect.adapter(found, Secrets(), "sms", "prod")
    error = caught.value
    assert error.exit_code == 3 and error.code == "unknown_provider"
    assert "'x'" in error.message and "alibaba" in error.message
    assert error.details["choices"] == ["alibaba"]


def test_an_adapters_errors_leave_connect_with_the_hint_worded_for_the_account() -> None:
    account = {"app_id": "wx1234567890abcd", "endpoint": "http://127.0.0.1:9"}
    found = config({"wechat": {"accounts": {"oa": account}}})
    adapter = connect.adapter(found, Secrets(), "wechat", "oa", timeout=0.5)
    with pytest.raises(Exception) as caught:
        adapter.check_credentials()
    hint = caught.value.hint
    assert "`smsctl wechat account show oa`" in hint  # the NETWORK entry, for this account
    assert "{" not in hint and "ACCOUNT" not in hint


def command_words() -> set[str]:
    """What may follow `smsctl ` in a command: its top-level commands and channel prefixes."""
    import json

    tree = json.loads((PROVIDERS.parent / "_command_tree.json").read_text())
    return set(tree["root"]["commands"])


def test_the_command_words_are_known() -> None:
    assert {"log", "validate", "account", "voice", "email", "wechat"} <= command_words()


@pytest.mark.parametrize("module", sorted(PROVIDERS.glob("*.py")), ids=lambda p: p.name)
def test_no_provider_module_names_a_command(module: Path) -> None:
    text = module.read_text()
    words = "|".join(sorted(command_words()))
    found = re.findall(rf"smsctl (?:{words})\b", text)
    assert not found, f"{module.name} names commands: {found}"
    assert "{cli}" not in text and "`smsctl " not in text
    assert not re.search(r"--[a-z][a-z-]+ [A-Z]+\b|--(rotate-secret|secret-stdin)", text)
