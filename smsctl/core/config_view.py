"""What `config show` reports: every setting in effect, and where each one came from.

A setting's `source` is `file PATH:LINE` (the line of the key itself), `default`, `env NAME`, or
how the config file was chosen (`flag --config`, `env SMSCTL_CONFIG`, ...). An account's secret
is never read for this (an account's secret_command is not run): its setting's value is where
the secret would come from, as `SecretSource.to_dict()`, or None when the keyring was not asked
(`--no-secrets`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from smsctl.core import channels, schema
from smsctl.core.masking import mask_access_key_id

if TYPE_CHECKING:
    from smsctl.core.config import Config
    from smsctl.core.secrets import SecretSource, SecretStore

KEYRING_BACKEND_ENV = "PYTHON_KEYRING_BACKEND"


@dataclass(frozen=True)
class Setting:
    key: str  # "defaults.timeout", "sms.accounts.prod.region", "sms.accounts.prod.secret"
    value: Any
    source: str
    text: str  # the value as a person reads it

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "value": self.value, "source": self.source}


def effective_settings(
    config: Config, config_source: str, secrets: SecretStore | None
) -> list[Setting]:
    """The settings in effect, in the order `config show` prints them. With `secrets` None the
    keyring is not asked and each secret's value is None."""
    where = _FileLines(config)
    settings = [_plain("config", str(config.path), config_source)]
    defaults = config.data.get("defaults", {})
    for key, field in schema.DEFAULTS_TABLE.items():
        path = ("defaults", key) if key in defaults else None
        settings.append(where.setting(f"defaults.{key}", defaults.get(key, field.default), path))
    backend_env = os.environ.get(KEYRING_BACKEND_ENV) or None
    if backend_env:
        settings.append(_plain("secrets.backend", backend_env, f"env {KEYRING_BACKEND_ENV}"))
    elif config.secrets_backend():
        path = ("secrets", "backend")
        settings.append(where.setting("secrets.backend", config.secrets_backend(), path))
    settings.append(_command_timeout_setting(config, where))
    for channel in channels.CHANNELS.values():
        settings += _channel_settings(config, channel.name, where, secrets)
    return settings


def _channel_settings(
    config: Config, channel: str, where: _FileLines, secrets: SecretStore | None
) -> list[Setting]:
    settings = []
    guard_in_file = config.data.get("guard", {}).get(channel, {})
    for key, value in config.guard_limits(channel).items():
        path = ("guard", channel, key) if key in guard_in_file else None
        settings.append(where.setting(f"guard.{channel}.{key}", value, path))
    active = config.active_account(channel)
    if active:
        path = (channel, "active_account")
        settings.append(where.setting(f"{channel}.active_account", active, path))
    in_file = config.channel(channel).get("accounts", {})
    for name, item in config.accounts(channel).items():
        prefix = f"{channel}.accounts.{name}"
        for key, value in item.items():
            if value in (None, "") or key in _OFF_BY_DEFAULT and not value:
                continue
            shown = mask_access_key_id(value) if key == "access_key_id" else value
            path = (channel, "accounts", name, key) if key in in_file[name] else None
            setting = where.setting(f"{prefix}.{key}", shown, path)
            if key == "secret_command":  # shown as typed, not as a list
                from smsctl.core.secrets import command_text

                setting = Setting(setting.key, value, setting.source, command_text(value))
            settings.append(setting)
        settings += _credential_settings(channel, name, item, secrets)
    return settings


def _credential_settings(
    channel: str, name: str, item: dict[str, Any], secrets: SecretStore | None
) -> list[Setting]:
    """Where an account's secrets come from, as its credential mode needs them, and when its
    cached role session expires (smsctl.core.credentials)."""
    from smsctl.core import clock, credentials, paths

    prefix = f"{channel}.accounts.{name}"
    found: list[Setting] = []
    if "credential" not in item or credentials.needs_secret(item):
        source = None if secrets is None else secrets.source(channel, name)
        found.append(_secret_setting(f"{prefix}.secret", source))
    if credentials.mode_of(item) == "sts":
        found.append(_token_setting(f"{prefix}.security_token", channel, name, secrets))
    expires = credentials.cached_expiry(channel, name, item, paths.state_dir())
    if expires is not None:
        key = f"{prefix}.credential_expires_at"
        found.append(Setting(key, clock.iso(expires), "cache", clock.show(expires)))
    return found


def _token_setting(key: str, channel: str, name: str, secrets: SecretStore | None) -> Setting:
    from smsctl.core.credentials import token_entry, token_env_var
    from smsctl.core.secrets import SERVICE, SecretSource

    if secrets is None:
        return Setting(key, None, "-", "not checked")
    found = secrets.security_token(channel, name)
    if found.source and found.source.startswith("env "):
        where = SecretSource("env", token_env_var(channel, name))
    else:
        state = "keyring" if found.value is not None else "missing"
        where = SecretSource(state, f"{SERVICE}: {token_entry(channel, name)}")
    return _secret_setting(key, where)


_OFF_BY_DEFAULT = ("allow_insecure_endpoint", "credential_cache")


def _secret_setting(key: str, found: SecretSource | None) -> Setting:
    if found is None:
        return Setting(key, None, "-", "not checked")
    source = {"env": f"env {found.name}", "command": "command", "keyring": "keyring"}.get(
        found.source, "-"
    )
    return Setting(key, found.to_dict(), source, found.describe())


def _command_timeout_setting(config: Config, where: _FileLines) -> Setting:
    from smsctl.core.secrets import COMMAND_TIMEOUT_ENV, command_timeout

    raw = os.environ.get(COMMAND_TIMEOUT_ENV)
    if raw and raw.strip():
        value = command_timeout(None)  # a ConfigError when it is no number of seconds
        return _plain("secrets.command_timeout", value, f"env {COMMAND_TIMEOUT_ENV}")
    table = config.data.get("secrets", {})
    path = ("secrets", "command_timeout") if "command_timeout" in table else None
    field = schema.SECRETS_TABLE["command_timeout"]
    value = table.get("command_timeout", field.default)
    return where.setting("secrets.command_timeout", value, path)


def _plain(key: str, value: Any, source: str) -> Setting:
    return Setting(key, value, source, _text(value))


class _FileLines:
    """`file PATH:LINE` for a key the file sets, with the line of that key itself (never the
    line of its table: a key the file does not set is a default)."""

    def __init__(self, config: Config) -> None:
        self.path = config.path
        self.lines = schema.key_lines(config.text)

    def setting(self, key: str, value: Any, path: tuple[str, ...] | None) -> Setting:
        if path is None:
            return _plain(key, value, "default")
        line = self.lines.get(path)
        return _plain(key, value, f"file {self.path}" + (f":{line}" if line else ""))


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return str(value)
