"""The settings `config show` reports, computed in core: values, sources, and secrets as data."""

from __future__ import annotations

from pathlib import Path

import pytest

from smsctl.core.config import ConfigStore
from smsctl.core.config_view import effective_settings
from smsctl.core.secrets import SecretStore
from tests.conftest import CANARY
from tests.support.memory_keyring import MemoryKeyring

CONFIG = """\
[defaults]
timeout = 4.0

[sms.accounts.prod]
access_key_id = "LTAI5tPROD0001"

[email.accounts.mail]
host = "smtp.example.com"
port = 587
security = "starttls"
username = "ops@example.com"
from_address = "ops@example.com"

[wechat.accounts.oa]
app_id = "wx5c0ffee0sandbox"

[guard.voice]
per_day = 3
"""


@pytest.fixture
def config(tmp_path: Path):
    path = tmp_path / "config.toml"
    path.write_text(CONFIG)
    path.chmod(0o600)
    return ConfigStore(path, "flag --config").load()


def by_key(settings) -> dict:
    return {s.key: s for s in settings}


def test_values_and_sources_of_file_keys_defaults_and_masked_ids(config) -> None:
    settings = by_key(effective_settings(config, "flag --config", None))
    at = f"file {config.path}:"
    assert settings["config"].to_dict() == {
        "key": "config",
        "value": str(config.path),
        "source": "flag --config",
    }
    assert (settings["defaults.timeout"].value, settings["defaults.timeout"].source) == (
        4.0,
        at + "2",
    )
    assert settings["defaults.connect_timeout"].source == "default"
    assert settings["sms.accounts.prod.access_key_id"].value == "LTAI****0001"
    assert settings["sms.accounts.prod.access_key_id"].source == at + "5"
    assert settings["guard.voice.per_day"].to_dict()["source"] == at + "18"
    assert settings["guard.wechat.per_day"].source == "default"
    assert settings["wechat.accounts.oa.app_id"].source == at + "15"


def test_every_channel_reports_its_secret_source_as_structured_data(config, monkeypatch) -> None:
    MemoryKeyring.entries[("smsctl", "sms/prod")] = CANARY
    monkeypatch.setenv("SMSCTL_SECRET_EMAIL_MAIL", CANARY)
    settings = by_key(effective_settings(config, "test", SecretStore()))
    assert settings["sms.accounts.prod.secret"].to_dict() == {
        "key": "sms.accounts.prod.secret",
        "value": {"source": "keyring", "name": "smsctl: sms/prod", "reason": None},
        "source": "keyring",
    }
    assert settings["email.accounts.mail.secret"].value == {
        "source": "env",
        "name": "SMSCTL_SECRET_EMAIL_MAIL",
        "reason": None,
    }
    assert settings["email.accounts.mail.secret"].source == "env SMSCTL_SECRET_EMAIL_MAIL"
    assert settings["wechat.accounts.oa.secret"].value["source"] == "missing"
    assert settings["wechat.accounts.oa.secret"].text == "missing"
    assert all(CANARY not in repr(s) for s in settings.values())


def test_a_keyring_that_cannot_be_asked_is_unknown_with_its_reason(config, monkeypatch) -> None:
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "tests.support.memory_keyring.LockedKeyring")
    secret = by_key(effective_settings(config, "test", SecretStore()))["sms.accounts.prod.secret"]
    assert secret.value["source"] == "unknown" and secret.value["reason"]
    assert secret.source == "-"
    assert secret.text.startswith("unknown (")


def test_without_a_secret_store_no_secret_is_looked_up(config, monkeypatch) -> None:
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "tests.support.memory_keyring.HangingKeyring")
    settings = effective_settings(config, "test", None)
    secrets = [s for s in settings if s.key.endswith(".secret")]
    assert [s.key for s in secrets] == [
        "sms.accounts.prod.secret",
        "email.accounts.mail.secret",
        "wechat.accounts.oa.secret",
    ]
    assert all((s.value, s.source, s.text) == (None, "-", "not checked") for s in secrets)
    assert by_key(settings)["secrets.backend"].source == "env PYTHON_KEYRING_BACKEND"
