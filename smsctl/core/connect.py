"""From a configured account to the provider adapter that talks for it.

The adapters' modules are imported inside these functions, so nothing here costs anything until
a command really calls a provider.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from smsctl.core.config import Config
from smsctl.core.debug import debug
from smsctl.core.errors import SmsctlError

if TYPE_CHECKING:
    from smsctl.providers.interfaces import SmsAdapter, VoiceAdapter


def alibaba_access(
    config: Config, secrets: Any, channel: str, account: str, *, read_timeout: float | None = None
) -> Any:
    from smsctl.providers.alibaba_common import AlibabaAccess

    item = config.get(channel, "accounts", account)
    connect_timeout, default_read = config.timeouts()
    from smsctl.core.masking import mask_access_key_id

    debug(
        f"{channel} account {account}: endpoint {item.get('endpoint') or 'provider default'}, "
        f"AccessKey ID {mask_access_key_id(item['access_key_id'])}, timeouts "
        f"{connect_timeout:g}s connect / {read_timeout or default_read:g}s read, "
        f"{config.deadline():g}s deadline"
    )
    return AlibabaAccess(
        access_key_id=item["access_key_id"],
        access_key_secret=secrets.require(channel, account),
        endpoint=item.get("endpoint") or None,
        region=item.get("region") or None,
        connect_timeout=connect_timeout,
        read_timeout=read_timeout or default_read,
        allow_insecure_endpoint=bool(item.get("allow_insecure_endpoint")),
        deadline=config.deadline(),
    )


def sms_client(
    config: Config, secrets: Any, account: str, *, read_timeout: float | None = None
) -> SmsAdapter:
    return _alibaba_client(config, secrets, "sms", account, read_timeout)


def voice_client(
    config: Config, secrets: Any, account: str, *, read_timeout: float | None = None
) -> VoiceAdapter:
    return _alibaba_client(config, secrets, "voice", account, read_timeout)


def _alibaba_client(
    config: Config, secrets: Any, channel: str, account: str, read_timeout: float | None
) -> Any:
    """The channel's adapter (providers.interfaces): its stand-in whose calls run in the
    provider worker when the console script started one (see providers.worker), else the
    adapter itself."""
    from smsctl.providers import worker

    access = alibaba_access(config, secrets, channel, account, read_timeout=read_timeout)
    return worker.adapter(channel, access) or worker.local_adapter(channel, access)


@contextmanager
def for_account(account: str | None) -> Iterator[None]:
    """Provider errors raised inside name the account in their hints (the catalog says
    `ACCOUNT` where it cannot know the name)."""
    try:
        yield
    except SmsctlError as err:
        if account and err.hint:
            err.hint = err.hint.replace(" ACCOUNT", f" {account}")
        raise
