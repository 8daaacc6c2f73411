"""Accounts of every channel: add, edit, enable, delete, activate — config and secret together.

An account is never saved without its secret, and a secret is never left behind for an account
that was not saved: the keyring write happens under the config lock, and is undone if the
config write fails. A process killed between the two writes cannot undo anything; the note it
left first (smsctl.core.leftover_secrets) lets `doctor` report the entry and `account delete`
remove it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from smsctl.core import audit, channels, leftover_secrets
from smsctl.core.config import Config, ConfigStore, unknown_item_error
from smsctl.core.errors import ConfigError
from smsctl.core.schema import CHANNEL_COLLECTIONS
from smsctl.core.secrets import SERVICE, SecretStore, command_text, entry_name, env_var_name
from smsctl.core.secrets import SecretSource as SecretSourceInfo

SecretSource = Callable[[], "str | None"]


@dataclass
class AccountChange:
    name: str
    changed: bool
    fields: dict[str, Any] = field(default_factory=dict)
    secret: SecretSourceInfo | None = None  # where the secret now is, when this change set it
    removed_dependents: list[tuple[str, str]] = field(default_factory=list)
    invalidated_dependents: list[tuple[str, str]] = field(default_factory=list)
    secret_deleted: bool = False
    was_active: bool = False
    leftover: bool = False  # only a keyring entry left by an interrupted change was deleted
    keyring: Any = None  # secrets.KeyringRemoval, for a delete


def command_prefix(channel: str) -> str:
    return channels.channel(channel).command() + " "


def add(
    store: ConfigStore,
    secrets: SecretStore,
    channel: str,
    name: str,
    values: dict[str, Any],
    obtain_secret: SecretSource,
    *,
    command: str = "account add",
) -> AccountChange:
    """Add an account. The same values again is success without change (idempotent). A
    provider that checks credentials when an account is added (WeChat) does so with the secret
    before anything is written. An account with a `secret_command` (or whose variable is set)
    has no secret stored: the command runs now only where the provider checks the secret."""
    values = {k: v for k, v in values.items() if v is not None}
    config = store.load()
    values = {"provider": channels.channel(channel).provider, **values}  # the file says it
    existing = config.find(channel, "accounts", name)
    if existing is not None:
        return _same_or_conflict(channel, name, existing, values)

    if not _needs_secret(channel, values):
        return _add_without_secret(store, channel, name, values, command)
    verify = provider_rules(provider_of(channel, values)).verify
    secret_command = values.get("secret_command")
    env_secret = secrets.from_env(channel, name)
    in_keyring = env_secret is None and secret_command is None  # else the keyring is not touched
    if in_keyring:
        secrets.check_can_store(channel, name)  # before asking for a secret it could not keep
    if env_secret is not None:
        secret: str | None = env_secret.value
    elif secret_command is not None:
        # Run now only where the provider checks the secret before the account is saved.
        secret = secrets.from_command(channel, name, secret_command).value if verify else ""
    else:
        secret = obtain_secret()
    if secret is None:
        from smsctl.core.errors import CredentialError

        raise CredentialError(
            f"No secret given for the new {channel} account `{name}`.",
            hint="Give it on standard input with --secret-stdin, or set "
            f"{env_var_name(channel, name)}.",
            code="secret_missing",
        )
    if verify is not None:
        verify(config, name, values, secret)  # a live check, before anything is written

    stored_in_keyring = False
    try:
        with store.edit() as editor:
            current = editor.get_item(channel, "accounts", name)
            if current is not None:  # someone added it while we were asking for the secret
                return _same_or_conflict(
                    channel, name, editor.plain()[channel]["accounts"][name], values
                )
            if in_keyring:
                leftover_secrets.note(store.path, channel, name)
                secrets.store(channel, name, secret)
                stored_in_keyring = True
            editor.set_item(channel, "accounts", name, values)
    except BaseException:
        # The note stays when the entry could not be removed, and when storing it failed: a
        # keyring that timed out may still write it.
        if stored_in_keyring:
            with contextlib.suppress(Exception):
                secrets.delete(channel, name)
                leftover_secrets.forget(store.path, channel, name)
        raise
    if in_keyring:
        leftover_secrets.forget(store.path, channel, name)
    if env_secret is not None:
        where = SecretSourceInfo("env", env_var_name(channel, name))
        secret_note = f"stored ({env_secret.source})"
    elif secret_command is not None:
        where = SecretSourceInfo("command", command_text(secret_command))
        secret_note = "read by its secret_command, not stored"
    else:
        where = _in_keyring(channel, name)
        secret_note = "stored (keyring)"
    audit.record(
        "config.change",
        command=command,
        channel=channel,
        account=name,
        action="account.add",
        changed=sorted(values),
        secret=secret_note,
    )
    return AccountChange(name, True, values, secret=where)


def _needs_secret(channel: str, values: dict[str, Any]) -> bool:
    from smsctl.core.credentials import needs_secret

    return "credential" not in _fields(channel) or needs_secret(values)


def _fields(channel: str) -> dict[str, Any]:
    from smsctl.core.schema import COLLECTIONS

    return COLLECTIONS[(channel, "accounts")]


def _add_without_secret(
    store: ConfigStore, channel: str, name: str, values: dict[str, Any], command: str
) -> AccountChange:
    """An account whose credential mode reads no secret of smsctl's (OIDC, aliyun-cli)."""
    with store.edit() as editor:
        current = editor.get_item(channel, "accounts", name)
        if current is not None:
            return _same_or_conflict(
                channel, name, editor.plain()[channel]["accounts"][name], values
            )
        editor.set_item(channel, "accounts", name, values)
    audit.record(
        "config.change",
        command=command,
        channel=channel,
        account=name,
        action="account.add",
        changed=sorted(values),
        secret=f"none ({values.get('credential')})",
    )
    return AccountChange(name, True, values)


def _in_keyring(channel: str, name: str) -> SecretSourceInfo:
    return SecretSourceInfo("keyring", f"{SERVICE}: {entry_name(channel, name)}")


def _same_or_conflict(
    channel: str, name: str, existing: dict[str, Any], values: dict[str, Any]
) -> AccountChange:
    differing = sorted(k for k, v in values.items() if existing.get(k) != v)
    if not differing:
        return AccountChange(name, False, values)
    model = channels.channel(channel)
    if not model.account_editable:
        raise ConfigError(
            f"{channel} account `{name}` already exists with other values for: "
            f"{', '.join(differing)}.",
            hint=f"A {model.title} account cannot be modified: delete it "
            f"(`{model.command('account', 'delete', name)}`) and add it again, or choose another "
            "name.",
            code="account_exists",
        )
    edit = " ".join(
        [f"{command_prefix(channel)}account edit {name}", *_edit_flags(values, differing)]
    )
    raise ConfigError(
        f"{channel} account `{name}` already exists with other values for: {', '.join(differing)}.",
        hint=f"Change it with `{edit}`, or choose another name.",
        code="account_exists",
    )


# `account edit` options whose name is not the config key's.
_EDIT_FLAGS = {"from_address": "--from", "duration_seconds": "--duration"}


def _edit_flags(values: dict[str, Any], keys: list[str]) -> list[str]:
    """The `account edit` options that set `keys` to `values` (the AccessKey ID as a
    placeholder: it is shown masked everywhere else)."""
    import shlex

    flags: list[str] = []
    for key in keys:
        flag = _EDIT_FLAGS.get(key, "--" + key.replace("_", "-"))
        value = values[key]
        if isinstance(value, bool):
            if value:
                flags.append(flag)
        elif key == "access_key_id":
            flags += [flag, "ID"]
        elif key == "secret_command":
            flags += [flag, shlex.quote(command_text(value))]
        else:
            flags += [flag, shlex.quote(str(value))]
    return flags


def edit(
    store: ConfigStore,
    secrets: SecretStore,
    channel: str,
    name: str,
    changes: dict[str, Any],
    *,
    rename: str | None = None,
    new_secret: SecretSource | None = None,
    command: str = "account edit",
) -> AccountChange:
    """Change fields (None removes a field), rename, or rotate the secret."""
    config = store.load()
    existing = config.get(channel, "accounts", name)
    if rename and config.find(channel, "accounts", rename) is not None:
        raise ConfigError(f"{channel} account `{rename}` already exists.", code="account_exists")
    had_command = bool(existing.get("secret_command"))
    secret_command = (
        changes["secret_command"] if "secret_command" in changes else existing["secret_command"]
    )
    if new_secret is not None and secret_command:
        raise rotation_elsewhere(channel, name, secret_command)
    verify = provider_rules(provider_of(channel, existing)).verify
    if changes.get("secret_command") and verify is not None:
        # Its provider checks a secret before it is used: the command's too, before it is saved.
        found = secrets.from_command(channel, name, changes["secret_command"])
        verify(config, name, {**existing, **changes}, found.value)
    if new_secret is not None:
        secrets.check_can_store(channel, rename or name)
    secret = new_secret() if new_secret else None
    old_secret = None
    if secret is not None and had_command:  # back to the keyring: what it held, to restore
        old_secret = secrets.keyring_value(channel, name)
    elif (rename or secret is not None) and not had_command:
        lookup = secrets.lookup(channel, name)
        old_secret = lookup.value if lookup.source == "keyring" else None

    final_name = rename or name
    stored = False
    try:
        with store.edit() as editor:
            if editor.get_item(channel, "accounts", name) is None:
                raise unknown_item_error(channel, "accounts", name, [])
            editor.set_item(channel, "accounts", name, changes)
            if rename:
                editor.rename_item(channel, "accounts", name, rename)
                _repoint_dependents(editor, channel, name, rename)
                if editor.get_value((channel,), "active_account") == name:
                    editor.set_value((channel,), "active_account", rename)
            if secret is not None or (rename and old_secret is not None):
                secrets.store(channel, final_name, secret if secret is not None else old_secret)
                stored = True
            changed = editor.changed or secret is not None
    except BaseException:
        if stored:  # the config was not written: put the keyring back as it was
            _restore_secret(secrets, channel, final_name, None if rename else old_secret)
        raise
    if rename and old_secret is not None:
        with contextlib.suppress(Exception):
            secrets.delete(channel, name)
    audit.record(
        "config.change",
        command=command,
        channel=channel,
        account=final_name,
        action="account.edit",
        changed=sorted(changes),
        renamed_from=name if rename else None,
        secret="rotated" if secret is not None else None,
    )
    where = None
    if secret is not None:
        where = _in_keyring(channel, final_name)
    elif changes.get("secret_command"):
        where = SecretSourceInfo("command", command_text(changes["secret_command"]))
    return AccountChange(final_name, changed, changes, secret=where)


def rotation_elsewhere(channel: str, name: str, command: list[str]) -> Exception:
    """--rotate-secret for an account whose secret a command reads from another store."""
    from smsctl.core.errors import UsageError

    edit = channels.channel(channel).command("account", "edit", name)
    return UsageError(
        f"The secret of {channel} account `{name}` is read by its secret_command "
        f"(`{command_text(command)}`): rotate it in the store that command reads (smsctl never "
        "writes there); the next run reads the new one.",
        hint=f"To keep it in the keyring instead: `{edit} --no-secret-command --rotate-secret`.",
        code="secret_rotated_elsewhere",
    )


def _restore_secret(secrets: SecretStore, channel: str, name: str, value: str | None) -> None:
    with contextlib.suppress(Exception):
        if value is None:
            secrets.delete(channel, name)
        else:
            secrets.store(channel, name, value)


def _repoint_dependents(editor: Any, channel: str, old: str, new: str) -> None:
    plain = editor.plain().get(channel, {})
    for kind in CHANNEL_COLLECTIONS[channel][1:]:
        for item_name, item in plain.get(kind, {}).items():
            if item.get("account") == old:
                editor.set_item(channel, kind, item_name, {"account": new})


def set_enabled(store: ConfigStore, channel: str, name: str, enabled: bool) -> AccountChange:
    return set_item_enabled(store, channel, "accounts", name, enabled)


def set_item_enabled(
    store: ConfigStore, channel: str, kind: str, name: str, enabled: bool
) -> AccountChange:
    store.load().get(channel, kind, name)
    with store.edit() as editor:
        editor.set_item(channel, kind, name, {"enabled": enabled})
        changed = editor.changed
    if changed:
        audit.record(
            "config.change",
            command="enable" if enabled else "disable",
            channel=channel,
            action=f"{kind[:-1]}.{'enable' if enabled else 'disable'}",
            item=name,
        )
    return AccountChange(name, changed, {"enabled": enabled})


def dependents(config: Config, channel: str, account: str) -> list[tuple[str, str]]:
    found = []
    for kind in CHANNEL_COLLECTIONS[channel][1:]:
        for item_name, item in config.collection(channel, kind).items():
            if item.get("account") == account:
                found.append((kind, item_name))
    return found


def delete(
    store: ConfigStore,
    secrets: SecretStore,
    channel: str,
    name: str,
    confirm: Callable[[list[tuple[str, str]], list[tuple[str, str]]], None],
) -> AccountChange:
    """Delete an account and its keyring entry; the items bound to it are deleted too, or kept
    but invalidated for good where the channel says so (`account_items_on_delete`).

    `confirm(removed, invalidated)` raises when the user (or a missing --yes) does not allow it.
    A keyring that cannot be asked does not stop the delete (the result says so); one that holds
    the entry and refuses to delete it does, and then nothing is written.
    """
    config = store.load()
    if config.find(channel, "accounts", name) is None:
        leftover = delete_leftover(store, secrets, channel, name, lambda: confirm([], []))
        if leftover is not None:
            return leftover
    config.get(channel, "accounts", name)
    invalidate = channels.channel(channel).account_items_on_delete == "invalidate"
    bound = dependents(config, channel, name)
    confirm([] if invalidate else bound, bound if invalidate else [])
    keyring = None
    try:
        with store.edit() as editor:
            bound = dependents(_editor_config(editor, store), channel, name)
            for kind, item_name in bound:
                if invalidate:
                    editor.set_item(channel, kind, item_name, _invalidated(name))
                else:
                    editor.remove_item(channel, kind, item_name)
            was_active = editor.get_value((channel,), "active_account") == name
            if was_active:
                editor.set_value((channel,), "active_account", None)
            editor.remove_item(channel, "accounts", name)
            keyring = secrets.remove_entry(channel, name)  # under the lock, before the write
    except BaseException:
        restore_entry(secrets, channel, name, keyring)
        raise
    leftover_secrets.forget(store.path, channel, name)
    removed, invalidated = ([], bound) if invalidate else (bound, [])
    audit.record(
        "config.change",
        command=f"{channel} account delete",
        channel=channel,
        account=name,
        action="account.delete",
        removed=[f"{k}:{n}" for k, n in removed],
        invalidated=[f"{k}:{n}" for k, n in invalidated],
        secret=keyring_outcome(keyring),
    )
    return AccountChange(
        name,
        True,
        removed_dependents=removed,
        invalidated_dependents=invalidated,
        secret_deleted=keyring.state == "deleted",
        was_active=was_active,
        keyring=keyring,
    )


def _invalidated(account: str) -> dict[str, Any]:
    """An item whose account was deleted: it names the account it had, and can never be used
    again (not even by a new account of the same name)."""
    return {"account": None, "deleted_account": account, "enabled": False, "default": None}


def delete_leftover(
    store: ConfigStore,
    secrets: SecretStore,
    channel: str,
    name: str,
    confirm: Callable[[], None],
) -> AccountChange | None:
    """For an account the config does not have: remove the keyring entry an interrupted
    `account add` or `account delete` of it left behind. None when there is no such entry."""
    if leftover_secrets.find(store.path, channel, name) is None:
        return None
    try:
        present = secrets.in_keyring(channel, name)
    except Exception:  # noqa: BLE001 - no keyring to ask: report the unknown account instead
        return None
    if not present:
        leftover_secrets.forget(store.path, channel, name)
        return None
    confirm()
    deleted = secrets.delete(channel, name)
    leftover_secrets.forget(store.path, channel, name)
    audit.record(
        "config.change",
        command=f"{channel} account delete",
        channel=channel,
        account=name,
        action="account.delete",
        secret="leftover keyring entry deleted" if deleted else "none in keyring",
    )
    return AccountChange(name, deleted, secret_deleted=deleted, leftover=True)


def restore_entry(secrets: SecretStore, channel: str, name: str, keyring: Any) -> None:
    """The config was not written after all: put back the keyring entry deleted for it."""
    if keyring is not None and keyring.state == "deleted":
        with contextlib.suppress(Exception):
            secrets.store(channel, name, keyring.previous)


def keyring_outcome(keyring: Any) -> str:
    """The keyring part of an `account.delete` audit record."""
    return {
        "deleted": "deleted",
        "absent": "none in keyring",
    }.get(keyring.state, f"keyring not checked: {keyring.reason}")


def _editor_config(editor: Any, store: ConfigStore) -> Config:
    return Config(editor.plain(), store.path)


def activate(store: ConfigStore, channel: str, name: str, command: str) -> str | None:
    """Make `name` the active account of the channel; returns the previously active one."""
    with store.edit() as editor:
        previous = editor.get_value((channel,), "active_account")
        editor.set_value((channel,), "active_account", name)
    if previous != name:
        audit.record(
            "config.change",
            command=command,
            channel=channel,
            account=name,
            action="account.activate",
            previous=previous,
        )
    return previous


def summary(config: Config, channel: str, name: str, item: dict[str, Any]) -> dict[str, Any]:
    """The account as shown to people and scripts (AccessKey ID masked)."""
    from smsctl.core.credentials import ALL_MODE_KEYS, describe
    from smsctl.core.masking import mask_access_key_id

    shown = {"name": name, "channel": channel}
    for key, value in item.items():
        if key in ALL_MODE_KEYS and key != "access_key_id" and value in (None, False):
            continue  # a credential mode's key the account does not use
        if key == "credential":
            shown[key] = describe(item)
        else:
            shown[key] = mask_access_key_id(value) if key == "access_key_id" else value
    shown["active"] = config.active_account(channel) == name
    return shown


# --- what differs between providers -----------------------------------------------------------


@dataclass(frozen=True)
class ProviderRules:
    """What differs between the accounts of one provider; the flow above is the same for all.

    `new_values(channel, options)` and `edited_values(config, channel, name, options)` check the
    options given (`note` and `allow_insecure` among them; None: not given) and return the
    account's fields (for an edit: the changes, None removing a field).
    `verify(config, name, values, secret)`, when there is one, checks the credentials live before
    a new account is saved.
    """

    new_values: Callable[[channels.Channel, dict[str, Any]], dict[str, Any]]
    edited_values: Callable[[Config, channels.Channel, str, dict[str, Any]], dict[str, Any]] | None
    verify: Callable[[Config, str, dict[str, Any], str], None] | None = None


def provider_of(channel: str, item: dict[str, Any]) -> str:
    """The provider an account uses: the one it names, else its channel's default."""
    return item.get("provider") or channels.channel(channel).provider


def provider_rules(provider: str) -> ProviderRules:
    return _PROVIDER_RULES[provider]


def new_values(channel: str, options: dict[str, Any]) -> dict[str, Any]:
    """The checked fields of a new account of the channel's default provider."""
    model = channels.channel(channel)
    values = provider_rules(model.provider).new_values(model, options)
    if "credential" in _fields(channel):
        from smsctl.core.credentials import check_values

        values = check_values({k: v for k, v in values.items() if v is not None})
    return values


def edited_values(
    config: Config, channel: str, name: str, options: dict[str, Any]
) -> dict[str, Any]:
    """The checked changes to an account; empty when no option changes a field."""
    model = channels.channel(channel)
    found = config.find(channel, "accounts", name)
    rules = provider_rules(provider_of(channel, found or {}))
    if rules.edited_values is None:
        raise ConfigError(f"A {model.title} account cannot be modified.", code="not_editable")
    return rules.edited_values(config, model, name, options)


def _alibaba_edited(
    config: Config, channel: channels.Channel, name: str, options: dict[str, Any]
) -> dict[str, Any]:
    endpoint, region = options.get("endpoint"), options.get("region")
    changes = _alibaba_values(channel, {**options, "endpoint": endpoint or None})
    changes = {k: v for k, v in changes.items() if v is not None}
    from smsctl.core.credentials import ALL_MODE_KEYS, check_values

    check_values(changes, editing=True)
    if changes.get("credential") == "access-key":
        changes["credential"] = None  # back to the default: the key goes
    for key in ALL_MODE_KEYS:
        if options.get(key) == "":  # '' removes the key
            changes[key] = None
    if "credential" in changes or any(key in changes for key in ALL_MODE_KEYS):
        _check_mode_change(config, channel.name, name, changes)
    for flag_value, key in ((endpoint, "endpoint"), (region, "region")):
        if flag_value == "":  # resets to the provider's default
            changes[key] = None
    if options.get("called_show_number") == "":
        changes["called_show_number"] = None
    return changes


def _check_mode_change(config: Config, channel: str, name: str, changes: dict[str, Any]) -> None:
    """A new credential mode drops the keys only the old one used (an `--access-key-id` left
    behind by a switch to oidc-role-arn would read as still used); the account as it would be
    must have what its mode needs, and only that mode's keys."""
    from smsctl.core.credentials import ALL_MODE_KEYS, MODE_KEYS, check_values, mode_of

    current = dict(config.get(channel, "accounts", name))
    if "credential" in changes:
        keys = MODE_KEYS[mode_of(changes)]
        for key in ALL_MODE_KEYS:
            if current.get(key) not in (None, "", False) and key not in keys and key not in changes:
                changes[key] = None
    after = {k: v for k, v in {**current, **changes}.items() if v is not None}
    check_values(after)


def _alibaba_values(channel: channels.Channel, options: dict[str, Any]) -> dict[str, Any]:
    from smsctl.core.credentials import ALL_MODE_KEYS
    from smsctl.core.endpoints import check_endpoint

    allow_insecure = bool(options.get("allow_insecure"))
    access_key_id, endpoint = options.get("access_key_id"), options.get("endpoint")
    values: dict[str, Any] = {
        "credential": options.get("credential"),
        "access_key_id": access_key_id,
        "region": options.get("region"),
        "note": options.get("note"),
    }
    for key in ALL_MODE_KEYS:
        if key != "access_key_id" and options.get(key) is not None:
            values[key] = options[key]
    if endpoint is not None:
        values["endpoint"] = check_endpoint(endpoint, allow_insecure=allow_insecure)
        if allow_insecure:
            values["allow_insecure_endpoint"] = True
    if access_key_id is not None:
        _check_access_key_id(access_key_id)
    number = options.get("called_show_number")
    if number:
        values["called_show_number"] = _check_caller_number(number)
    return values


def _check_access_key_id(value: str) -> None:
    from smsctl.core.errors import UsageError

    # A temporary AccessKey ID (the `sts` mode) reads STS.<letters and digits>.
    plain = value.removeprefix("STS.")
    if not plain or not plain.isascii() or not plain.isalnum() or len(value) > 64:
        raise UsageError(
            f"Invalid AccessKey ID {value!r}: expected letters and digits (e.g. LTAI5t...).",
            code="invalid_access_key_id",
        )


def _check_caller_number(number: str) -> str:
    from smsctl.core.errors import UsageError

    if not number.lstrip("+").isdigit():
        raise UsageError(f"Invalid caller number {number!r}: digits only.")
    return number


def _smtp_new(channel: channels.Channel, options: dict[str, Any]) -> dict[str, Any]:
    from smsctl.core import email

    return email.new_account_values(**options)


def _smtp_edited(
    config: Config, channel: channels.Channel, name: str, options: dict[str, Any]
) -> dict[str, Any]:
    from smsctl.core import email

    return email.edited_values(config, name, options)


def _wechat_new(channel: channels.Channel, options: dict[str, Any]) -> dict[str, Any]:
    from smsctl.core import wechat

    return wechat.new_account_values(**options)


def _wechat_verify(config: Config, name: str, values: dict[str, Any], secret: str) -> None:
    from smsctl.core import wechat

    wechat.verify_new_account(config, name, values, secret)


_PROVIDER_RULES: dict[str, ProviderRules] = {
    "alibaba": ProviderRules(_alibaba_values, _alibaba_edited),
    "smtp": ProviderRules(_smtp_new, _smtp_edited),
    "wechat": ProviderRules(_wechat_new, None, verify=_wechat_verify),
}
