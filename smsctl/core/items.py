"""Signatures, templates and push rules of every channel: add, edit, delete, default marking,
and which apps may use them (docs/contract.md §2: no apps = general, apps = personalized)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from smsctl.core import audit, channels
from smsctl.core.config import ConfigStore
from smsctl.core.errors import ConfigError, ProviderRefused, UsageError
from smsctl.core.names import check_identifier
from smsctl.core.schema import STATUSES

NOUN = {"signatures": "signature", "templates": "template", "rules": "rule", "accounts": "account"}
# A provider's review: refreshed on every add and sync.
REVIEW = frozenset({"status", "reason", "checked_at"})
# Fields refreshed from the provider: a re-add that differs only here is still "the same".
VOLATILE = REVIEW | {
    "content",
    "variables",
    "type",
    "related_signature",
    "template_title",
    "name",
}


def label(channel: str, kind: str) -> str:
    noun = NOUN[kind]
    return channels.channel(channel).label(noun)


def command_prefix(channel: str) -> str:
    return channels.channel(channel).command()


@dataclass
class ItemChange:
    name: str
    changed: bool
    values: dict[str, Any] = field(default_factory=dict)
    cleared_default: list[str] = field(default_factory=list)


def add(
    store: ConfigStore,
    channel: str,
    kind: str,
    name: str,
    values: dict[str, Any],
    *,
    command: str,
    volatile: frozenset[str] | set[str] = VOLATILE,
    action: str = "add",
) -> ItemChange:
    """Add an item; the same values again is success without change (idempotent). Fields in
    `volatile` come from the provider: they may differ from the stored ones and are replaced."""
    values = {k: v for k, v in values.items() if v is not None}
    config = store.load()
    account = values.get("account")
    if account is not None:
        _require_account(config, channel, account)
    existing = config.channel(channel).get(kind, {}).get(name)
    if existing is not None:
        differing = sorted(
            k for k, v in values.items() if existing.get(k) != v and k not in volatile
        )
        if differing:
            raise ConfigError(
                f"{label(channel, kind)} `{name}` already exists with other values for: "
                f"{', '.join(differing)}.",
                hint=f"Change it with `{command_prefix(channel)} {NOUN[kind]} edit {name}`.",
                code="exists",
            )
    with store.edit() as editor:
        editor.set_item(channel, kind, name, values)
        cleared = (
            _clear_other_defaults(editor, channel, kind, name) if values.get("default") else []
        )
        # When the provider was asked is refreshed on every add; it alone is not a change (the
        # same add a second later is still "nothing changed").
        changed = (
            existing is None
            or bool(cleared)
            or any(existing.get(k) != v for k, v in values.items() if k != "checked_at")
        )
    if changed:
        audit.record(
            "config.change",
            command=command,
            channel=channel,
            account=account,
            action=f"{NOUN[kind]}.{action}",
            item=name,
            changed=sorted(values),
        )
    return ItemChange(name, changed, values, cleared)


def update(
    store: ConfigStore,
    channel: str,
    kind: str,
    name: str,
    changes: dict[str, Any],
    *,
    command: str,
    action: str = "edit",
) -> ItemChange:
    """Set fields (None removes one)."""
    config = store.load()
    config.get(channel, kind, name)
    if changes.get("account"):
        _require_account(config, channel, changes["account"])
    with store.edit() as editor:
        if editor.get_item(channel, kind, name) is None:
            config.get(channel, kind, name)
        editor.set_item(channel, kind, name, changes)
        cleared = (
            _clear_other_defaults(editor, channel, kind, name) if changes.get("default") else []
        )
        changed = editor.changed
    if changed:
        audit.record(
            "config.change",
            command=command,
            channel=channel,
            action=f"{NOUN[kind]}.{action}",
            item=name,
            changed=sorted(changes),
        )
    return ItemChange(name, changed, changes, cleared)


def remove(store: ConfigStore, channel: str, kind: str, name: str, *, command: str) -> None:
    store.load().get(channel, kind, name)
    with store.edit() as editor:
        editor.remove_item(channel, kind, name)
    audit.record(
        "config.change", command=command, channel=channel, action=f"{NOUN[kind]}.delete", item=name
    )


def review_fields(status: str, reason: str) -> dict[str, Any]:
    """What the config keeps of a provider review. A state the provider added after this
    version ("unknown(x)" from the adapters) is stored as "unknown" with the raw state in the
    reason: the config stays loadable, and the item is never used (only "approved" is)."""
    if status not in STATUSES or status == "unknown":
        reason = "; ".join(part for part in (f"provider state {status}", reason) if part)
        status = "unknown"
    return {"status": status, "reason": reason, "checked_at": audit.now_iso()[:19] + "Z"}


def refuse_unapproved(
    kind: str,
    name: str,
    status: str,
    reason: str,
    allow_pending: bool,
    *,
    sync: str,
    console: str = "Alibaba Cloud SMS console",
) -> None:
    """Only what the provider approved is stored for sending; a pending item only when asked
    (it is never used until `sync` sees it approved)."""
    if status == "approved" or (status == "pending" and allow_pending):
        return
    code = kind.replace(" ", "_")
    if status == "pending":
        raise ProviderRefused(
            f"The {kind} `{name}` is still under review at the provider.",
            hint=f"Wait for approval, or store it now with --allow-pending (it is never used "
            f"for sending until `{sync}` sees it approved).",
            code=f"{code}_pending",
        )
    if status == "not_found":
        raise ProviderRefused(
            f"The provider knows no {kind} `{name}` under this account.",
            hint=f"Check the code (and the account) in the {console}.",
            code=f"{code}_not_found",
        )
    detail = f": {reason}" if reason else ""
    raise ProviderRefused(
        f"The {kind} `{name}` is {status} at the provider{detail}.",
        hint=f"Fix it in the {console} and submit it again; add it here once it is approved.",
        code=f"{code}_{status.split('(')[0]}",
    )


def _clear_other_defaults(editor: Any, channel: str, kind: str, name: str) -> list[str]:
    """One default per (account, scenario): marking one unmarks the others."""
    items = editor.plain().get(channel, {}).get(kind, {})
    me = items[name]
    cleared = []
    for other, item in items.items():
        if other == name or not item.get("default"):
            continue
        if item.get("account") == me.get("account") and item.get("scenario") == me.get("scenario"):
            editor.set_item(channel, kind, other, {"default": False})
            cleared.append(other)
    return cleared


def _require_account(config: Any, channel: str, account: str) -> None:
    config.get(channel, "accounts", account)


# --- apps and authorization -------------------------------------------------------------------


def check_apps(config: Any, apps: Iterable[str], *, create: bool) -> list[str]:
    """The apps, each checked; a new name needs --create-app so a typo never becomes an app."""
    known = set(config.apps())
    result = []
    for app in apps:
        check_identifier(app, "app")
        if app not in known and not create:
            close = difflib.get_close_matches(app, sorted(known), n=1)
            raise ConfigError(
                f"Unknown app `{app}`.",
                hint=(f"Did you mean `{close[0]}`? " if close else "")
                + "To create a new app, repeat the command with --create-app.",
                code="unknown_app",
            )
        if app not in result:
            result.append(app)
    if not result:
        raise UsageError("Name at least one --app.")
    return result


def authorize(
    store: ConfigStore, channel: str, kind: str, name: str, apps: list[str], *, create_app: bool
) -> ItemChange:
    config = store.load()
    config.get(channel, kind, name)
    apps = check_apps(config, apps, create=create_app)
    with store.edit() as editor:
        for app in apps:
            editor.ensure_app(app)
        current = list(editor.plain()[channel][kind][name].get("apps", []))
        added = [a for a in apps if a not in current]
        editor.set_item(channel, kind, name, {"apps": current + added})
        changed = editor.changed
    if changed:
        audit.record(
            "config.change",
            command="authorize",
            channel=channel,
            action=f"{NOUN[kind]}.authorize",
            item=name,
            apps=apps,
        )
    return ItemChange(name, changed, {"apps": apps})


def revoke(store: ConfigStore, channel: str, kind: str, name: str, apps: list[str]) -> ItemChange:
    config = store.load()
    item = config.get(channel, kind, name)
    missing = [a for a in apps if a not in item["apps"]]
    if missing:
        raise ConfigError(
            f"{label(channel, kind)} `{name}` is not authorized for: {', '.join(missing)}.",
            hint=f"It is authorized for: {', '.join(item['apps']) or 'no app (general)'}.",
            code="not_authorized",
        )
    with store.edit() as editor:
        remaining = [a for a in item["apps"] if a not in apps]
        editor.set_item(channel, kind, name, {"apps": remaining})
    audit.record(
        "config.change",
        command="authorize revoke",
        channel=channel,
        action=f"{NOUN[kind]}.revoke",
        item=name,
        apps=apps,
    )
    return ItemChange(name, True, {"apps": remaining})


# --- the --json view of a template or rule, and its rendering ---------------------------------

# The keys every template and rule view has, on every channel, in this order; what follows them
# is the channel's own (the SMS template's type, the email template's subject, the rule's
# template_id, ...).
VIEW_KEYS = (
    "name",
    "label",
    "account",
    "scenario",
    "enabled",
    "default",
    "apps",
    "note",
    "variables",
    "valid",
    "invalid_reason",
)


def view(config: Any, channel: str, kind: str, name: str) -> dict[str, Any]:
    """A template (or WeChat push rule) as `show`, `list`, `add` and `edit` report it: `name` is
    what commands take (the provider's code for SMS and voice, which keep it as `code` too),
    `label` the optional label shown in lists."""
    item = dict(config.get(channel, kind, name))
    own_label = "label" if "label" in item or channel == "email" else "name"
    common = {
        "name": name,
        "label": (item.pop(own_label, None) or "") if own_label in item or kind != "rules" else "",
        "account": item.pop("account", None),
        "scenario": item.pop("scenario", None),
        "enabled": item.pop("enabled", True),
        "default": item.pop("default", False),
        "apps": item.pop("apps", []),
        "note": item.pop("note", None),
        "variables": item.pop("variables", []),
    }
    reason = _invalid_reason(config, channel, kind, common, item)
    view = {**common, "valid": reason is None, "invalid_reason": reason}
    if channels.channel(channel).item(kind).id_key != "name":
        view["code"] = name
    if channel == "email" and kind == "templates":
        item["text_generated"] = item.get("text") is None
    return {**view, **item}


def _invalid_reason(
    config: Any, channel: str, kind: str, common: dict[str, Any], rest: dict[str, Any]
) -> str | None:
    """Why the item can never be used as it stands (its account is gone, the provider has not
    approved it), or None."""
    if kind == "rules":
        from smsctl.core import wechat

        return wechat.invalid_reason(config, {**common, **rest})
    account = common["account"]
    if account is not None and account not in config.accounts(channel):
        return f"account `{account}` missing"
    status = rest.get("status")
    if status is not None and status != "approved":
        return f"{status} at the provider"
    return None


def render_view(
    config: Any, channel: str, name: str, values: dict[str, str], *, signature: str | None = None
) -> dict[str, Any]:
    """What `template render` reports on every channel: the item's `name`, the `text` the
    recipient gets (None for recorded audio), its `variables` and `warnings` about the values,
    then the channel's own keys (the SMS length, the email subject and HTML, ...). Computed
    locally: nothing is sent."""
    import importlib

    module = importlib.import_module(f"smsctl.core.{channel}")
    item = config.get(channel, "templates", name)
    return {"name": name, **module.render_item(config, name, item, values, signature=signature)}
