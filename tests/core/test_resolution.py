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


# -- SMS templates fit the number's region ------------------------------------------------------


def sms_config(*templates: tuple[str, str], **extra: object) -> Config:
    """An SMS setup with one signature and the given (code, type) login templates."""
    items = {
        code: {
            "account": "prod",
            "scenario": "login",
            "type": kind,
            "status": "approved",
            "enabled": True,
            "content": "code ${code}",
            **extra,
        }
        for code, kind in templates
    }
    data = {
        "sms": {
            "active_account": "prod",
            "accounts": {"prod": {"access_key_id": "LTAI", "enabled": True}},
            "signatures": {"Acme": {"account": "prod", "status": "approved", "enabled": True}},
            "templates": items,
        }
    }
    return Config(data, Path("mem.toml"))


def number(text: str):
    from smsctl.core.recipients import parse_phone

    return parse_phone(text)


US, CN, HK = "+12025550123", "+8613812345678", "+85261234567"
BOTH = (("SMS_CN", "verification"), ("SMS_INTL", "international"))


@pytest.mark.parametrize(("to", "expected"), [(US, "SMS_INTL"), (HK, "SMS_INTL"), (CN, "SMS_CN")])
def test_the_number_region_picks_the_template(to, expected) -> None:
    chosen = resolve(sms_config(*BOTH), "sms", scenario="login", recipient=number(to))
    assert chosen.template.name == expected
    skipped = {c.name: c.skipped for c in chosen.template.considered}
    assert skipped[expected] is None
    assert "numbers need" in next(v for k, v in skipped.items() if k != expected)


def test_a_number_outside_the_mainland_without_an_international_template_is_a_config_error() -> (
    None
):
    with pytest.raises(ConfigError) as caught:
        resolve(
            sms_config(("SMS_CN", "verification")), "sms", scenario="login", recipient=number(US)
        )
    error = caught.value
    assert error.exit_code == 3 and error.code == "no_template"
    assert "for a +1 number: it needs an international template (type international)" in (
        error.message
    )
    assert "SMS_CN (a mainland template (verification); +1 numbers need an international one)" in (
        error.message
    )
    assert "smsctl template add CODE --account prod --scenario login" in error.hint


def test_a_mainland_number_with_only_an_international_template_is_a_config_error() -> None:
    with pytest.raises(ConfigError) as caught:
        resolve(
            sms_config(("SMS_INTL", "international")), "sms", scenario="login", recipient=number(CN)
        )
    assert "for a +86 number: it needs a mainland template" in caught.value.message
    assert caught.value.exit_code == 3


def test_an_explicit_template_of_the_other_region_is_refused() -> None:
    with pytest.raises(ConfigError) as caught:
        resolve(sms_config(*BOTH), "sms", scenario="login", template="SMS_CN", recipient=number(US))
    assert caught.value.code == "template_unusable"
    assert "+1 numbers need an international one" in caught.value.message


def test_without_a_number_the_mainland_template_is_chosen_naming_the_international_one() -> None:
    chosen = resolve(sms_config(*BOTH), "sms", scenario="login")
    assert chosen.template.name == "SMS_CN"
    assert chosen.template.reason.endswith(
        "numbers outside the mainland get SMS_INTL (international)"
    )


def test_two_templates_of_one_region_are_still_ambiguous() -> None:
    two = sms_config(("SMS_A", "verification"), ("SMS_B", "notification"))
    with pytest.raises(ConfigError) as caught:
        resolve(two, "sms", scenario="login", recipient=number(CN))
    assert caught.value.code == "ambiguous"


def test_a_template_of_unknown_type_is_not_refused_for_its_region() -> None:
    unknown = sms_config(("SMS_OLD", "unknown"))
    assert (
        resolve(unknown, "sms", scenario="login", recipient=number(US)).template.name == "SMS_OLD"
    )
