"""From a configured account to the provider adapter that talks for it: the one place where
every channel gets its adapter.

`adapter(config, secrets, channel, account)` reads the account's `provider` (the channel's
default provider when the config does not name one), looks the pair (channel, provider) up in
ADAPTERS and lets that factory build the adapter (smsctl.providers.interfaces) from the account's
access data. The adapter is handed out wrapped, so that every error it raises has its hint worded
for this channel and this account (smsctl.core.catalog.word): adapters know nothing of command
names. The adapters' modules are imported inside the factories, so nothing here costs anything
until a command really calls a provider.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, Protocol, cast, overload

from smsctl.core.config import Config
from smsctl.core.debug import debug
from smsctl.core.errors import ConfigError, SmsctlError

if TYPE_CHECKING:
    from smsctl.providers.alibaba_common import AlibabaAccess
    from smsctl.providers.interfaces import (
        EmailAdapter,
        SmsAdapter,
        VoiceAdapter,
        WechatAdapter,
    )
    from smsctl.providers.smtp import SmtpAccess
    from smsctl.providers.wechat import WechatAccess

    Adapter = SmsAdapter | VoiceAdapter | EmailAdapter | WechatAdapter


class Secrets(Protocol):
    """Where an account's secret comes from (smsctl.core.secrets.SecretStore)."""

    def require(self, channel: str, account: str) -> str: ...


@dataclass(frozen=True)
class Account:
    """What a factory builds an adapter from: one account's config values, its secret (read
    only when the factory asks, so that a config problem is reported first) and the settings."""

    channel: str
    name: str
    values: Mapping[str, object]
    secret: Callable[[], str] = field(repr=False)
    timeout: float | None  # the command's own read timeout, if it gave one
    connect_timeout: float
    read_timeout: float  # [defaults] timeout
    deadline: float
    # The STS security token of a `sts` account, read only when asked.
    token: Callable[[], str | None] | None = field(default=None, repr=False)

    def text(self, key: str) -> str | None:
        value = self.values.get(key)
        return str(value) if value not in (None, "") else None


def account_of(
    config: Config,
    secrets: Secrets,
    channel: str,
    name: str,
    *,
    timeout: float | None = None,
    values: Mapping[str, object] | None = None,
    secret: str | None = None,
) -> Account:
    """The configured account `name` of `channel`; with `values` and `secret`, an account that is
    not in the config yet (checked live before `account add` writes it)."""
    connect_timeout, read_timeout = config.timeouts()
    found = config.get(channel, "accounts", name) if values is None else values
    return Account(
        channel=channel,
        name=name,
        values=found,
        secret=(lambda: secret) if secret is not None else (lambda: secrets.require(channel, name)),
        timeout=timeout,
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        deadline=config.deadline(),
        token=lambda: _security_token(secrets, channel, name),
    )


def _security_token(secrets: Secrets, channel: str, name: str) -> str | None:
    lookup = getattr(secrets, "security_token", None)
    return lookup(channel, name).value if lookup is not None else None


@overload
def adapter(
    config: Config,
    secrets: Secrets,
    channel: Literal["sms"],
    account: str,
    *,
    timeout: float | None = None,
) -> SmsAdapter: ...
@overload
def adapter(
    config: Config,
    secrets: Secrets,
    channel: Literal["voice"],
    account: str,
    *,
    timeout: float | None = None,
) -> VoiceAdapter: ...
@overload
def adapter(
    config: Config,
    secrets: Secrets,
    channel: Literal["email"],
    account: str,
    *,
    timeout: float | None = None,
) -> EmailAdapter: ...
@overload
def adapter(
    config: Config,
    secrets: Secrets,
    channel: Literal["wechat"],
    account: str,
    *,
    timeout: float | None = None,
) -> WechatAdapter: ...
@overload
def adapter(
    config: Config, secrets: Secrets, channel: str, account: str, *, timeout: float | None = None
) -> Adapter: ...
def adapter(
    config: Config, secrets: Secrets, channel: str, account: str, *, timeout: float | None = None
) -> Adapter:
    """The adapter of a configured account, picked by its `provider`."""
    return adapter_for(account_of(config, secrets, channel, account, timeout=timeout))


def adapter_for(account: Account) -> Adapter:
    """The adapter of `account` (see account_of), picked by its `provider` from ADAPTERS."""
    from smsctl.core import channels
    from smsctl.core.catalog import word

    provider = account.text("provider") or channels.channel(account.channel).provider
    factory = ADAPTERS.get((account.channel, provider))
    if factory is None:
        known = [name for channel, name in ADAPTERS if channel == account.channel]
        raise ConfigError(
            f"{account.channel} account `{account.name}` names provider {provider!r}, which "
            f"smsctl has no {account.channel} adapter for (known: {', '.join(known)}).",
            hint=f'Set `provider = "{known[0]}"` in [{account.channel}.accounts.{account.name}] '
            "or remove the key.",
            code="unknown_provider",
            details={"provider": provider, "choices": known},
        )
    secret_from = _secret_from(account)

    def worded(error: SmsctlError) -> None:
        word(error, account.channel, account.name, secret_from)

    try:
        made = factory(account)
    except SmsctlError as error:
        worded(error)
        raise
    return cast("Adapter", _OnError(made, worded))


def _secret_from(account: Account) -> str:
    """Where the account's secret is read (smsctl.core.secrets: the variable, then the command,
    then the keyring), so that a hint says where to put the right one."""
    import os

    from smsctl.core import channels

    if os.environ.get(channels.channel(account.channel).secret_env_var(account.name)):
        return "env"
    return "command" if account.values.get("secret_command") else "keyring"


class _OnError:
    """An adapter whose errors pass through `on_error` on their way out."""

    def __init__(self, adapter: object, on_error: Callable[[SmsctlError], None]) -> None:
        self._adapter = adapter
        self._on_error = on_error

    def __repr__(self) -> str:
        return repr(self._adapter)

    def __getattr__(self, name: str) -> object:
        attribute = getattr(self._adapter, name)
        if not callable(attribute):
            return attribute

        @functools.wraps(attribute)
        def call(*args: object, **kwargs: object) -> object:
            try:
                return attribute(*args, **kwargs)
            except SmsctlError as error:
                self._on_error(error)
                raise

        return call


# --- the factories: one per provider adapter ----------------------------------------------------


def alibaba_access(account: Account) -> AlibabaAccess:
    from smsctl.core.masking import mask_access_key_id
    from smsctl.providers.alibaba_common import AlibabaAccess

    read_timeout = account.timeout or account.read_timeout
    mode = credential_mode(account.values)
    if mode == "access-key":
        access_key_id, secret, token, expires_at = (
            account.text("access_key_id") or "",
            account.secret(),
            None,
            None,
        )
    else:
        session = alibaba_session(account, read_timeout)
        access_key_id, secret = session.access_key_id, session.access_key_secret
        token, expires_at = session.security_token, session.expires_at
    debug(
        f"{account.channel} account {account.name}: endpoint "
        f"{account.text('endpoint') or 'provider default'}, credential {mode}, "
        f"AccessKey ID {mask_access_key_id(access_key_id)}, timeouts "
        f"{account.connect_timeout:g}s connect / {read_timeout:g}s read, "
        f"{account.deadline:g}s deadline"
    )
    return AlibabaAccess(
        access_key_id=access_key_id,
        access_key_secret=secret,
        security_token=token,
        credential=mode,
        expires_at=expires_at,
        endpoint=account.text("endpoint"),
        region=account.text("region"),
        connect_timeout=account.connect_timeout,
        read_timeout=read_timeout,
        allow_insecure_endpoint=bool(account.values.get("allow_insecure_endpoint")),
        deadline=account.deadline,
    )


def credential_mode(values: Mapping[str, object]) -> str:
    from smsctl.core.credentials import mode_of

    return mode_of(values)


def alibaba_plan(account: Account, read_timeout: float | None = None) -> object:
    """What the account's credential mode (smsctl.core.credentials) makes its credentials from."""
    from smsctl.core import credentials, paths

    secrets = account.token
    return credentials.plan(
        account.channel,
        account.name,
        account.values,
        account.secret,
        secrets if secrets is not None else (lambda: None),
        state_dir=paths.state_dir(),
        timeouts=(account.connect_timeout, read_timeout or account.read_timeout, account.deadline),
    )


def alibaba_session(account: Account, read_timeout: float | None = None) -> object:
    """The credentials of an account whose mode is not access-key (exit 4 when they cannot be
    had; nothing is sent then)."""
    from smsctl.providers import alibaba_credentials

    return alibaba_credentials.session_for(alibaba_plan(account, read_timeout))  # type: ignore[arg-type]


def _alibaba(account: Account) -> SmsAdapter | VoiceAdapter:
    """The Alibaba Cloud adapter of the account's channel: its stand-in whose calls run in the
    provider worker when the console script started one (see providers.worker), else the
    adapter itself."""
    from smsctl.providers import worker

    access = alibaba_access(account)
    remote = worker.adapter(account.channel, access)
    made = remote if remote is not None else worker.local_adapter(account.channel, access)
    if access.credential in ("ram-role-arn", "oidc-role-arn"):
        return cast("SmsAdapter | VoiceAdapter", _OnError(made, _drop_refused_session(account)))
    return made


def _drop_refused_session(account: Account) -> Callable[[SmsctlError], None]:
    """A role session the API refuses (revoked, expired early) is dropped from memory and the
    file cache, so that the next run obtains a new one."""

    def drop(error: SmsctlError) -> None:
        if (error.code or "").startswith(("InvalidSecurityToken", "MissingSecurityToken")):
            from smsctl.providers import alibaba_credentials

            alibaba_credentials.forget(alibaba_plan(account))  # type: ignore[arg-type]

    return drop


def smtp_access(account: Account) -> SmtpAccess:
    from smsctl.core.email import check_plain_allowed_config
    from smsctl.providers.smtp import SmtpAccess

    values = dict(account.values)
    check_plain_allowed_config(account.name, values)
    return SmtpAccess(
        host=str(values["host"]),
        port=int(str(values["port"])),
        security=str(values["security"]),
        username=str(values["username"]),
        password=account.secret(),
        from_address=str(values["from_address"]),
        from_name=account.text("from_name"),
        ca_file=account.text("ca_file"),
        timeout=float(account.timeout or account.text("timeout") or account.read_timeout),
        deadline=account.deadline,
    )


def _smtp(account: Account) -> EmailAdapter:
    from smsctl.providers.smtp import SmtpEmail

    return SmtpEmail(smtp_access(account))


def wechat_access(account: Account) -> WechatAccess:
    from smsctl.providers.wechat import DEFAULT_ENDPOINT, WechatAccess

    return WechatAccess(
        app_id=account.text("app_id") or "",
        app_secret=account.secret(),
        endpoint=account.text("endpoint") or DEFAULT_ENDPOINT,
        timeout=account.timeout or account.read_timeout,
        allow_insecure_endpoint=bool(account.values.get("allow_insecure_endpoint")),
        deadline=account.deadline,
    )


def _wechat(account: Account) -> WechatAdapter:
    from smsctl.providers.wechat import WechatApi

    return WechatApi(wechat_access(account))


# (channel, provider) -> the factory that makes that provider's adapter for an account of the
# channel. A provider an account may name is in its channel's `providers` (core.channels).
ADAPTERS: dict[tuple[str, str], Callable[[Account], Adapter]] = {
    ("sms", "alibaba"): _alibaba,
    ("voice", "alibaba"): _alibaba,
    ("email", "smtp"): _smtp,
    ("wechat", "wechat"): _wechat,
}
