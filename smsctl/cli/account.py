"""`smsctl account ...`: Alibaba Cloud SMS accounts (AccessKey ID in the config, secret in the
keyring). `voice account` reuses these verbs through `make_account_app`."""

from __future__ import annotations

from typing import Any

import typer

from smsctl.cli.context import AppContext, app_context, command_line
from smsctl.core import accounts
from smsctl.core.endpoints import check_endpoint
from smsctl.core.names import check_identifier

NAME = typer.Argument(..., help="Account name, e.g. prod.", metavar="NAME")
YES = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation.")
SECRET_STDIN = typer.Option(
    False, "--secret-stdin", help="Read the secret from one line of standard input."
)
ALLOW_INSECURE = typer.Option(
    False, "--allow-insecure-endpoint", help="Allow plain http:// to a non-loopback host."
)


def secret_label(channel: str) -> str:
    return {"email": "SMTP password", "wechat": "AppSecret"}.get(channel, "AccessKey Secret")


def obtain_secret(app: AppContext, channel: str, from_stdin: bool, ctx: typer.Context):
    """Reads the secret of a new account. When this run can neither prompt nor read stdin, the
    error offers the same command with --secret-stdin (`account edit` cannot help: the
    account does not exist yet)."""

    def read() -> str:
        value = app.read_secret(secret_label(channel), from_stdin=from_stdin)
        if value is None:
            raise _cannot_read_secret(channel, ctx.params["name"], ctx)
        return value

    return read


def rotated_secret(app: AppContext, channel: str, name: str, from_stdin: bool, ctx: typer.Context):
    """Reads the new secret for --rotate-secret (prompt or stdin); warns when the account's
    environment variable will still win over the keyring entry being stored."""

    def read() -> str:
        value = app.read_secret(secret_label(channel), from_stdin=from_stdin)
        if value is None:
            raise _cannot_read_secret(channel, name, ctx)
        if app.secrets.from_env(channel, name):
            app.output.warn(
                "the environment variable for this account is set and wins over "
                "the keyring entry being stored."
            )
        return value

    return read


def _cannot_read_secret(channel: str, name: str, ctx: typer.Context) -> Exception:
    from smsctl.core.errors import CredentialError
    from smsctl.core.secrets import env_var_name

    return CredentialError(
        f"No {secret_label(channel)} given for {channel} account `{name}`: this run cannot "
        "ask for it (no terminal, or --no-input) and --secret-stdin was not given.",
        hint="Run it at a terminal to be asked (hidden), or give it on standard input: "
        f"`{command_line(ctx, '--secret-stdin')}`, or set {env_var_name(channel, name)}.",
        code="secret_missing",
    )


def render_change(app: AppContext, channel: str, change: accounts.AccountChange, verb: str) -> None:
    data = {
        "name": change.name,
        "channel": channel,
        "changed": change.changed,
        "secret": change.secret_source,
    }

    def human(out: Any) -> None:
        if change.changed:
            out.success(
                f"{verb} {channel} account `{change.name}`"
                + (f" (secret: {change.secret_source})" if change.secret_source else "")
            )
        else:
            out.success(
                f"{channel} account `{change.name}` already exists with these values; "
                "nothing changed"
            )

    app.output.emit(data, human)


def list_accounts(app: AppContext, channel: str) -> None:
    config = app.config()
    rows = [
        accounts.summary(config, channel, name, item)
        for name, item in config.accounts(channel).items()
    ]

    def human(out: Any) -> None:
        if not rows:
            prefix = accounts.command_prefix(channel)
            out.info(f"No {channel} accounts. Add one with `{prefix}account add NAME ...`.")
            return
        columns = ["NAME", "ACTIVE", "ENABLED", *_list_columns(channel), "NOTE"]
        out.table(
            columns,
            [
                [
                    r["name"],
                    "*" if r["active"] else "",
                    "yes" if r["enabled"] else "no",
                    *[r.get(c) or "" for c in _list_keys(channel)],
                    r["note"],
                ]
                for r in rows
            ],
        )

    app.output.emit(rows, human)


def _list_keys(channel: str) -> list[str]:
    return {
        "email": ["host", "port", "security", "username", "from_address"],
        "wechat": ["app_id", "endpoint"],
    }.get(channel, ["access_key_id", "endpoint", "region"])


def _list_columns(channel: str) -> list[str]:
    return [key.upper().replace("_", " ") for key in _list_keys(channel)]


def show_account(app: AppContext, channel: str, name: str) -> None:
    config = app.config()
    item = config.get(channel, "accounts", name)
    shown = accounts.summary(config, channel, name, item)
    shown["secret"] = app.secrets.status(channel, name)
    shown["depends_on_it"] = [
        f"{kind[:-1]} {n}" for kind, n in accounts.dependents(config, channel, name)
    ]
    app.output.emit(shown, lambda out: out.fields(shown))


def set_enabled(app: AppContext, channel: str, name: str, enabled: bool) -> None:
    change = accounts.set_enabled(app.store, channel, name, enabled)
    state = "enabled" if enabled else "disabled"
    data = {"name": name, "channel": channel, "enabled": enabled, "changed": change.changed}
    app.output.emit(
        data,
        lambda out: out.success(
            f"{channel} account `{name}` {state}" + ("" if change.changed else " (already)")
        ),
    )


def delete_account(app: AppContext, channel: str, name: str, yes: bool) -> None:
    def confirm(dependents: list[tuple[str, str]]) -> None:
        listing = "".join(f"\n  - {kind[:-1]} {item}" for kind, item in dependents)
        if dependents:
            app.output.info(f"Deleting {channel} account `{name}` also deletes:{listing}")
        app.confirm(
            f"Delete {channel} account `{name}` and its keyring entry?",
            yes=yes,
            what=f"Deleting {channel} account `{name}`",
        )

    change = accounts.delete(app.store, app.secrets, channel, name, confirm)
    data = {
        "name": name,
        "channel": channel,
        "deleted": True,
        "removed": [{"kind": kind[:-1], "name": item} for kind, item in change.removed_dependents],
        "keyring_entry_deleted": change.secret_deleted,
        "keyring": change.keyring.to_dict() if change.keyring else None,
        "was_active": change.was_active,
        "leftover_keyring_entry": change.leftover,
    }

    def human(out: Any) -> None:
        if change.leftover:
            out.success(leftover_text(channel, name))
            return
        out.success(f"Deleted {channel} account `{name}`")
        for kind, item in change.removed_dependents:
            out.success(f"Deleted {kind[:-1]} `{item}` (it belonged to `{name}`)")
        report_keyring(out, change.keyring)
        if change.was_active:
            out.info(f"It was the active {channel} account; none is active now.")

    app.output.emit(data, human)


def leftover_text(channel: str, name: str) -> str:
    return (
        f"Deleted the keyring entry `{channel}/{name}` that an interrupted change left behind "
        f"(the config has no {channel} account `{name}`)"
    )


def report_keyring(out: Any, keyring: Any) -> None:
    """What a delete did in the keyring; what it could not check is a warning (even with -q)."""
    if keyring.state == "unchecked":
        out.warn(keyring.describe())
    else:
        out.info(keyring.describe())


def alibaba_values(
    endpoint: str | None,
    region: str | None,
    note: str | None,
    access_key_id: str | None,
    allow_insecure: bool,
) -> dict[str, Any]:
    values: dict[str, Any] = {"access_key_id": access_key_id, "region": region, "note": note}
    if endpoint is not None:
        values["endpoint"] = check_endpoint(endpoint, allow_insecure=allow_insecure)
        if allow_insecure:
            values["allow_insecure_endpoint"] = True
    if access_key_id is not None:
        _check_access_key_id(access_key_id)
    return values


def _check_access_key_id(value: str) -> None:
    from smsctl.core.errors import UsageError

    if not value or not value.isascii() or not value.isalnum() or len(value) > 64:
        raise UsageError(
            f"Invalid AccessKey ID {value!r}: expected letters and digits (e.g. LTAI5t...).",
            code="invalid_access_key_id",
        )


def make_account_app(channel: str) -> typer.Typer:
    """The account verbs for an Alibaba Cloud channel (sms or voice)."""
    app = typer.Typer(
        help=f"Alibaba Cloud {channel.upper()} accounts (AccessKey pairs).", no_args_is_help=True
    )
    extra = channel == "voice"

    @app.command("add")
    def add(
        ctx: typer.Context,
        name: str = NAME,
        access_key_id: str = typer.Option(..., "--access-key-id", help="The AccessKey ID."),
        endpoint: str = typer.Option(
            None,
            "--endpoint",
            help="Access address (host, https://host, or http://127.0.0.1:PORT for the sandbox).",
        ),
        region: str = typer.Option(None, "--region", help="Region id, e.g. cn-hangzhou."),
        note: str = typer.Option(None, "--note", help="Free text shown in lists."),
        called_show_number: str = typer.Option(
            None,
            "--called-show-number",
            hidden=not extra,
            help="Default caller number shown to the callee (voice).",
        ),
        secret_stdin: bool = SECRET_STDIN,
        allow_insecure: bool = ALLOW_INSECURE,
    ) -> None:
        """Add an account; the AccessKey Secret is asked for (hidden) or read with
        --secret-stdin, or taken from SMSCTL_SECRET_<CHANNEL>_<NAME>."""
        ctx_app = app_context(ctx)
        check_identifier(name, "account")
        values = alibaba_values(endpoint, region, note, access_key_id, allow_insecure)
        if called_show_number is not None:
            values["called_show_number"] = _voice_only(channel, called_show_number)
        change = accounts.add(
            ctx_app.store,
            ctx_app.secrets,
            channel,
            name,
            values,
            obtain_secret(ctx_app, channel, secret_stdin, ctx),
            command=f"{channel} account add",
        )
        render_change(ctx_app, channel, change, "Added")

    @app.command("list")
    def list_(ctx: typer.Context) -> None:
        """List accounts (the active one is marked *)."""
        list_accounts(app_context(ctx), channel)

    @app.command("show")
    def show(ctx: typer.Context, name: str = NAME) -> None:
        """Show one account, where its secret comes from, and what depends on it."""
        show_account(app_context(ctx), channel, name)

    @app.command("edit")
    def edit(
        ctx: typer.Context,
        name: str = NAME,
        rename: str = typer.Option(None, "--rename", metavar="NEW", help="New name."),
        note: str = typer.Option(None, "--note", help="New note."),
        endpoint: str = typer.Option(
            None, "--endpoint", help="New access address ('' resets to the provider default)."
        ),
        region: str = typer.Option(None, "--region", help="New region ('' removes it)."),
        access_key_id: str = typer.Option(None, "--access-key-id", help="New AccessKey ID."),
        called_show_number: str = typer.Option(
            None,
            "--called-show-number",
            hidden=not extra,
            help="New default caller number (voice).",
        ),
        rotate_secret: bool = typer.Option(
            False, "--rotate-secret", help="Store a new AccessKey Secret."
        ),
        secret_stdin: bool = SECRET_STDIN,
        allow_insecure: bool = ALLOW_INSECURE,
    ) -> None:
        """Change an account's fields, name or secret."""
        ctx_app = app_context(ctx)
        if rename:
            check_identifier(rename, "account")
        changes = alibaba_values(endpoint or None, region, note, access_key_id, allow_insecure)
        changes = {k: v for k, v in changes.items() if v is not None}
        for flag_value, key in ((endpoint, "endpoint"), (region, "region")):
            if flag_value == "":
                changes[key] = None
        if called_show_number is not None:
            changes["called_show_number"] = _voice_only(channel, called_show_number) or None
        if not changes and not rename and not rotate_secret:
            from smsctl.core.errors import UsageError

            raise UsageError(
                "Nothing to change.",
                hint="Give at least one of --rename, --note, "
                "--endpoint, --region, --access-key-id, --rotate-secret.",
            )
        new_secret = (
            rotated_secret(ctx_app, channel, rename or name, secret_stdin, ctx)
            if rotate_secret
            else None
        )

        change = accounts.edit(
            ctx_app.store,
            ctx_app.secrets,
            channel,
            name,
            changes,
            rename=rename,
            new_secret=new_secret,
            command=f"{channel} account edit",
        )
        render_change(ctx_app, channel, change, "Updated")

    @app.command("enable")
    def enable(ctx: typer.Context, name: str = NAME) -> None:
        """Enable an account."""
        set_enabled(app_context(ctx), channel, name, True)

    @app.command("disable")
    def disable(ctx: typer.Context, name: str = NAME) -> None:
        """Disable an account: nothing is sent through it until it is enabled again."""
        set_enabled(app_context(ctx), channel, name, False)

    @app.command("delete")
    def delete(ctx: typer.Context, name: str = NAME, yes: bool = YES) -> None:
        """Delete an account, what belongs to it, and its keyring entry."""
        delete_account(app_context(ctx), channel, name, yes)

    return app


def _voice_only(channel: str, number: str) -> str:
    from smsctl.core.errors import UsageError

    if channel != "voice":
        raise UsageError("--called-show-number applies to voice accounts only.")
    if number and not number.lstrip("+").isdigit():
        raise UsageError(f"Invalid caller number {number!r}: digits only.")
    return number


app = make_account_app("sms")
