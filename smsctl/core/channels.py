"""The four channels, each described once: what the rest of smsctl reads instead of branching
on a channel's name.

A channel is its command prefix, the kind of target it sends to (and how that target is checked
and masked), the item kinds it keeps in the config, the provider its accounts use by default,
how its secret is named, its guard limits and which account verbs it has. Importing this module
costs nothing: the checks and masks it names are imported when they are called.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class ItemKind:
    """One kind of item a channel keeps under `[<channel>.<collection>]`."""

    collection: str  # "signatures", "templates", "rules"
    noun: str  # "signature", "template", "rule"
    id_placeholder: str  # how help and hints name its key: "CODE" or "NAME"
    id_key: str  # the key that names it in --json lists: "code" or "name"
    reviewed: bool  # the provider reviews it, so `sync` refreshes its status
    authorizable: bool = True


@dataclass(frozen=True)
class Channel:
    name: str  # "sms", "voice", "email", "wechat"
    title: str  # how a sentence names it: "SMS", "voice", "email", "WeChat"
    prefix: str  # the words after `smsctl` that lead to its commands: "" or "voice "
    provider: str  # the provider its accounts use unless they say otherwise
    providers: tuple[str, ...]  # the providers an account of it may name
    target: str  # what a send goes to: "phone number", "email address", "OpenID"
    items: tuple[ItemKind, ...]
    secret_label: str  # what the account's secret is called: "AccessKey Secret"
    account_fields: tuple[str, ...]  # the account keys `account list` shows, in order
    account_editable: bool  # `account edit` exists; a WeChat account is verified as added
    guard_limits: dict[str, int]  # the test-send guard's defaults
    # What deleting an account does to the items bound to it: "delete" them, or "invalidate"
    # them (kept, disabled and shown as invalid for good: a WeChat rule names a template only
    # that official account had approved).
    account_items_on_delete: str = "delete"
    send_test: str = ""  # "module:name" of its part of the send-test flow (core.testsend)

    def command(self, *words: str) -> str:
        """A command of this channel as an operator types it: `smsctl voice template list`."""
        return " ".join(["smsctl", *self.prefix.split(), *words])

    def label(self, noun: str) -> str:
        """A noun of this channel as a sentence names it: `template`, `voice template`."""
        return f"{self.prefix}{noun}"

    def item(self, collection: str) -> ItemKind:
        for kind in self.items:
            if kind.collection == collection:
                return kind
        raise KeyError(f"{self.name} has no {collection}")

    def has(self, collection: str) -> bool:
        return collection == "accounts" or any(k.collection == collection for k in self.items)

    @property
    def collections(self) -> tuple[str, ...]:
        return ("accounts", *(kind.collection for kind in self.items))

    def secret_env_var(self, account: str) -> str:
        """The environment variable that holds an account's secret in a pipeline."""
        return "SMSCTL_SECRET_" + re.sub(r"[^A-Z0-9]", "_", f"{self.name}_{account}".upper())

    def check_target(self, value: str) -> str:
        """The target as the provider is given it; a UsageError naming the value when it is not
        one."""
        return _TARGET_CHECKS[self.name](value)

    def mask(self, value: str | None) -> str:
        """The target as logs, guard messages and `--json` show it."""
        return _TARGET_MASKS[self.name](value)


def _check_phone(value: str) -> str:
    from smsctl.core.recipients import parse_phone

    return parse_phone(value).e164


def _check_email(value: str) -> str:
    from smsctl.core.recipients import check_email

    return check_email(value, "recipient")


def _check_openid(value: str) -> str:
    from smsctl.core.recipients import check_openid

    return check_openid(value)


def _mask_phone(value: str | None) -> str:
    from smsctl.core.masking import mask_phone

    return mask_phone(value)


def _mask_email(value: str | None) -> str:
    from smsctl.core.masking import mask_email

    return mask_email(value)


def _mask_openid(value: str | None) -> str:
    from smsctl.core.masking import mask_openid

    return mask_openid(value)


_TARGET_CHECKS: dict[str, Callable[[str], str]] = {
    "sms": _check_phone,
    "voice": _check_phone,
    "email": _check_email,
    "wechat": _check_openid,
}
_TARGET_MASKS: dict[str, Callable[[str | None], str]] = {
    "sms": _mask_phone,
    "voice": _mask_phone,
    "email": _mask_email,
    "wechat": _mask_openid,
}

_ALIBABA_FIELDS = ("access_key_id", "endpoint", "region")

SMS = Channel(
    name="sms",
    title="SMS",
    prefix="",
    provider="alibaba",
    providers=("alibaba",),
    target="phone number",
    items=(
        ItemKind("signatures", "signature", "NAME", "name", reviewed=True),
        ItemKind("templates", "template", "CODE", "code", reviewed=True),
    ),
    secret_label="AccessKey Secret",
    account_fields=_ALIBABA_FIELDS,
    account_editable=True,
    guard_limits={"per_minute": 1, "per_hour": 5, "per_day": 10},
    send_test="smsctl.core.sms:SEND_TEST",
)
VOICE = Channel(
    name="voice",
    title="voice",
    prefix="voice ",
    provider="alibaba",
    providers=("alibaba",),
    target="phone number",
    items=(ItemKind("templates", "template", "CODE", "code", reviewed=True),),
    secret_label="AccessKey Secret",
    account_fields=_ALIBABA_FIELDS,
    account_editable=True,
    guard_limits={"per_minute": 1, "per_hour": 5, "per_day": 20},
    send_test="smsctl.core.voice:SEND_TEST",
)
EMAIL = Channel(
    name="email",
    title="email",
    prefix="email ",
    provider="smtp",
    providers=("smtp",),
    target="email address",
    items=(ItemKind("templates", "template", "NAME", "name", reviewed=False),),
    secret_label="SMTP password",
    account_fields=("host", "port", "security", "username", "from_address"),
    account_editable=True,
    guard_limits={"per_minute": 5, "per_hour": 30, "per_day": 100},
    send_test="smsctl.core.email:SEND_TEST",
)
WECHAT = Channel(
    name="wechat",
    title="WeChat",
    prefix="wechat ",
    provider="wechat",
    providers=("wechat",),
    target="OpenID",
    items=(ItemKind("rules", "rule", "NAME", "name", reviewed=False),),
    secret_label="AppSecret",
    account_fields=("app_id", "endpoint"),
    account_editable=False,
    guard_limits={"per_minute": 5, "per_hour": 30, "per_day": 100},
    account_items_on_delete="invalidate",
    send_test="smsctl.core.wechat:SEND_TEST",
)

CHANNELS: dict[str, Channel] = {c.name: c for c in (SMS, VOICE, EMAIL, WECHAT)}
NAMES: tuple[str, ...] = tuple(CHANNELS)


def channel(name: str) -> Channel:
    return CHANNELS[name]


def with_items(collection: str) -> tuple[str, ...]:
    """The channels that keep this kind of item: `templates` -> sms, voice, email."""
    return tuple(c.name for c in CHANNELS.values() if c.has(collection))
