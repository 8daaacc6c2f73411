"""Resolution rules on a config built in memory (the CLI tests cover it against the sandbox)."""

from __future__ import annotations

from pathlib import Path

import pytest

from smsctl.core.config import Config
from smsctl.core.errors import ConfigError
from smsctl.core.resolution import pick, resolve


def config(**wechat_rule: object) -> Config:
    rule = {
        "account": "oa",
        "template_id": "T1",
        "scenario": "alert",
        "enabled": True,
        **wechat_rule,
    }
    data = {
        "apps": {"ios": {}},
        "wechat": {
            "active_account": "oa",
            "accounts": {"oa": {"app_id": "wx1", "enabled": True}},
            "rules": {"r1": rule},
        },
    }
    return Config(data, Path("mem.toml"))


def test_a_usable_rule_resolves() -> None:
    chosen = resolve(config(), "wechat", scenario="alert")
    assert chosen.template.name == "r1"
    assert chosen.signature is None


def test_a_rule_of_a_deleted_account_is_never_offered_even_if_enabled() -> None:
    broken = config(account=None, deleted_account="oa")
    del broken.data["wechat"]["rules"]["r1"]["account"]
    with pytest.raises(ConfigError) as caught:
        resolve(broken, "wechat", scenario="alert")
    assert "was deleted" in caught.value.details["considered"][0]["skipped"]
    with pytest.raises(ConfigError, match="was deleted"):
        pick(broken, "wechat", "rules", account="oa", app=None, explicit="r1", flag="--rule")


def test_personalized_without_app_asks_for_app() -> None:
    with pytest.raises(ConfigError) as caught:
        resolve(config(apps=["ios"]), "wechat", scenario="alert")
    assert "give --app" in caught.value.details["considered"][0]["skipped"]
    assert (
        resolve(config(apps=["ios"]), "wechat", scenario="alert", app="ios").template.name == "r1"
    )


def test_unknown_app_and_missing_scenario() -> None:
    from smsctl.core.errors import UsageError

    with pytest.raises(ConfigError, match="Unknown app"):
        resolve(config(), "wechat", scenario="alert", app="android")
    with pytest.raises(UsageError):
        resolve(config(), "wechat", scenario=None)


def test_no_active_account_hint_names_the_only_account() -> None:
    cfg = config()
    del cfg.data["wechat"]["active_account"]
    with pytest.raises(ConfigError) as caught:
        resolve(cfg, "wechat", scenario="alert")
    assert "smsctl wechat validate oa" in caught.value.hint
