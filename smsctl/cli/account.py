"""The account verbs of every channel (`smsctl account ...`, `smsctl voice account ...`,
`smsctl email account ...`, `smsctl wechat account ...`), built once by `make_account_app`.

What differs between providers is declared in FORMS: the options of `add` and `edit` (an option
named after an account field is offered on the channels whose accounts have that field) and the
help that names them. The verbs and their flow (smsctl.core.accounts) are the same for all; a
channel whose accounts cannot be edited (`account_editable`) gets an `edit` that refuses.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import typer

from smsctl.cli.context import AppContext, app_context, command_line
from smsctl.core import accounts, channels
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
    return channels.channel(channel).secret_label


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

    variable = channels.channel(channel).secret_env_var(name)
    return CredentialError(
        f"No {secret_label(channel)} given for {channel} account `{name}`: this run cannot "
        "ask for it (no terminal, or --no-input) and --secret-stdin was not given.",
        hint="Run it at a terminal to be asked (hidden), or give it on standard input: "
        f"`{command_line(ctx, '--secret-stdin')}`, or set {variable}.",
        code="secret_missing",
    )


# --- what each provider's accounts are given with ---------------------------------------------


def _option(name: str, annotation: type, info: Any) -> inspect.Parameter:
    return inspect.Parameter(
        name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=info, annotation=annotation
    )


def _rename() -> inspect.Parameter:
    return _option("rename", str, typer.Option(None, "--rename", metavar="NEW", help="New name."))


def _rotate(label: str) -> inspect.Parameter:
    return _option(
        "rotate_secret", bool, typer.Option(False, "--rotate-secret", help=f"Store a new {label}.")
    )


def _note(help_text: str) -> inspect.Parameter:
    return _option("note", str, typer.Option(None, "--note", help=help_text))


_SECRET_STDIN = _option("secret_stdin", bool, SECRET_STDIN)
_ALLOW_INSECURE = _option("allow_insecure", bool, ALLOW_INSECURE)
# Every channel's accounts may read their secret from a program (smsctl.core.secrets).
_SECRET_COMMAND = _option(
    "secret_command",
    str,
    typer.Option(
        None,
        "--secret-command",
        metavar="COMMAND",
        help="Read the secret from this program's one line of output each run, e.g. 'vault kv "
        "get -field=secret kv/smsctl/prod' (split like shell words, run without a shell); "
        "nothing goes to the keyring.",
    ),
)
_NO_SECRET_COMMAND = _option(
    "no_secret_command",
    bool,
    typer.Option(
        False,
        "--no-secret-command",
        help="Stop using the secret command: the secret is read from the keyring again.",
    ),
)


def _credential_options(editing: bool) -> tuple[inspect.Parameter, ...]:
    """The options of the Alibaba Cloud credential modes (smsctl.core.credentials)."""
    new = "New " if editing else ""
    return (
        _option(
            "credential",
            str,
            typer.Option(
                None,
                "--credential",
                metavar="MODE",
                help=f"{new}credential mode: access-key (default), sts, ram-role-arn, "
                "oidc-role-arn or aliyun-cli-profile.",
            ),
        ),
        _option(
            "role_arn", str, typer.Option(None, "--role-arn", help=f"{new}role ARN to assume.")
        ),
        _option(
            "role_session_name",
            str,
            typer.Option(None, "--role-session-name", help=f"{new}role session name."),
        ),
        _option(
            "duration_seconds",
            int,
            typer.Option(
                None, "--duration", min=900, max=43200, metavar="SECONDS",
                help=f"{new}role session duration (900-43200 s).",
            ),
        ),
        _option("policy", str, typer.Option(None, "--policy", help=f"{new}session policy (JSON).")),
        _option(
            "external_id", str, typer.Option(None, "--external-id", help=f"{new}external id.")
        ),
        _option(
            "oidc_provider_arn",
            str,
            typer.Option(None, "--oidc-provider-arn", help=f"{new}OIDC provider ARN."),
        ),
        _option(
            "oidc_token_file",
            str,
            typer.Option(None, "--oidc-token-file", help=f"{new}OIDC token file path."),
        ),
        _option(
            "sts_endpoint",
            str,
            typer.Option(None, "--sts-endpoint", help=f"{new}STS host (default sts.aliyuncs.com)."),
        ),
        _option(
            "profile", str, typer.Option(None, "--profile", help=f"{new}aliyun-cli profile name.")
        ),
        _option(
            "credential_cache",
            bool,
            typer.Option(
                None,
                "--credential-cache/--no-credential-cache",
                help="Keep role sessions in a 0600 file in the state dir until they expire.",
            ),
        ),
    )  # fmt: skip


@dataclass(frozen=True)
class AccountForm:
    """How the accounts of one provider are given on the command line. Help texts may name
    `{CHANNEL}` (the channel's name in capitals)."""

    group_help: str
    add_options: tuple[inspect.Parameter, ...]
    edit_options: tuple[inspect.Parameter, ...]
    help: dict[str, str]  # verb -> help, over DEFAULT_HELP
    # Shown when a new account's traffic would cross the network in clear; may name its fields.
    insecure_warning: str | None = None
    # Where accounts cannot be edited: why not, and what deleting one costs.
    not_editable: tuple[str, str] = ("", "")


DEFAULT_HELP = {
    "list": "List accounts (the active one is marked *).",
    "show": "Show one account, where its secret comes from, and what depends on it.",
    "edit": "Change an account's fields, name or secret.",
    "enable": "Enable an account.",
    "disable": "Disable an account: nothing is sent through it until it is enabled again.",
    "delete": "Delete an account, what belongs to it, and its keyring entry.",
}

ALIBABA = AccountForm(
    group_help="Alibaba Cloud {CHANNEL} accounts (AccessKey pairs).",
    add_options=(
        _option(
            "access_key_id",
            str,
            typer.Option(
                None, "--access-key-id", help="The AccessKey ID (the source one for ram-role-arn)."
            ),
        ),
        *_credential_options(False),
        _option(
            "endpoint",
            str,
            typer.Option(
                None,
                "--endpoint",
                help="Access address (host, https://host, or http://127.0.0.1:PORT for the "
                "sandbox).",
            ),
        ),
        _option("region", str, typer.Option(None, "--region", help="Region id, e.g. cn-hangzhou.")),
        _note("Free text shown in lists."),
        _option(
            "called_show_number",
            str,
            typer.Option(
                None,
                "--called-show-number",
                help="Default caller number shown to the callee (voice).",
            ),
        ),
        _SECRET_STDIN,
        _ALLOW_INSECURE,
    ),
    edit_options=(
        _rename(),
        _note("New note."),
        _option(
            "endpoint",
            str,
            typer.Option(
                None, "--endpoint", help="New access address ('' resets to the provider default)."
            ),
        ),
        _option("region", str, typer.Option(None, "--region", help="New region ('' removes it).")),
        _option(
            "access_key_id", str, typer.Option(None, "--access-key-id", help="New AccessKey ID.")
        ),
        _option(
            "called_show_number",
            str,
            typer.Option(None, "--called-show-number", help="New default caller number (voice)."),
        ),
        *_credential_options(True),
        _option(
            "rotate_security_token",
            bool,
            typer.Option(
                False,
                "--rotate-security-token",
                help="Store a new STS security token (credential mode sts) in the keyring; "
                "with --secret-stdin it is read from standard input.",
            ),
        ),
        _rotate("AccessKey Secret"),
        _SECRET_STDIN,
        _ALLOW_INSECURE,
    ),
    help={
        "add": "Add an account; the AccessKey Secret is asked for (hidden) or read with "
        "--secret-stdin, or taken from SMSCTL_SECRET_{CHANNEL}_<NAME>.",
    },
)

SECURITY_HELP = "starttls (usually port 587), ssl (implicit TLS, usually 465) or none (loopback)."
_TIMEOUT = {"min": 0.1, "max": 600, "metavar": "SECONDS"}

SMTP = AccountForm(
    group_help="SMTP accounts (host, port, TLS mode, user; the password in the keyring).",
    add_options=(
        _option("host", str, typer.Option(..., "--host", help="SMTP server host name or address.")),
        _option(
            "port",
            int,
            typer.Option(
                None,
                "--port",
                min=1,
                max=65535,
                help="SMTP port (default: 587 starttls, 465 ssl, 25 none).",
            ),
        ),
        _option("security", str, typer.Option(..., "--security", help=SECURITY_HELP)),
        _option("username", str, typer.Option(..., "--username", help="The SMTP login.")),
        _option(
            "from_address", str, typer.Option(..., "--from", metavar="ADDR", help="Sender address.")
        ),
        _option("from_name", str, typer.Option(None, "--from-name", help="Sender display name.")),
        _option(
            "ca_file",
            str,
            typer.Option(
                None,
                "--ca-file",
                metavar="PEM",
                help="Also trust this CA (PEM); TLS is always verified.",
            ),
        ),
        _option(
            "timeout", float, typer.Option(None, "--timeout", help="Network timeout.", **_TIMEOUT)
        ),
        _note("Free text shown in lists."),
        _SECRET_STDIN,
        _option(
            "allow_insecure",
            bool,
            typer.Option(
                False,
                "--allow-insecure-endpoint",
                help="Allow --security none to a non-loopback host (password and mail in clear).",
            ),
        ),
    ),
    edit_options=(
        _rename(),
        _option("host", str, typer.Option(None, "--host", help="New host.")),
        _option("port", int, typer.Option(None, "--port", min=1, max=65535, help="New port.")),
        _option("security", str, typer.Option(None, "--security", help=SECURITY_HELP)),
        _option("username", str, typer.Option(None, "--username", help="New login.")),
        _option(
            "from_address", str, typer.Option(None, "--from", metavar="ADDR", help="New sender.")
        ),
        _option(
            "from_name",
            str,
            typer.Option(None, "--from-name", help="New display name ('' removes it)."),
        ),
        _option(
            "ca_file",
            str,
            typer.Option(
                None, "--ca-file", metavar="PEM", help="New CA file to trust ('' removes it)."
            ),
        ),
        _option(
            "timeout",
            float,
            typer.Option(None, "--timeout", help="New network timeout.", **_TIMEOUT),
        ),
        _note("New note."),
        _rotate("password"),
        _SECRET_STDIN,
        _ALLOW_INSECURE,
    ),
    help={
        "add": "Add an SMTP account; the password is asked for (hidden), read with "
        "--secret-stdin, or taken from SMSCTL_SECRET_{CHANNEL}_<NAME>. Nothing is sent; "
        "`email validate` checks it live.",
        "list": "List SMTP accounts (the active one is marked *).",
        "show": "Show one account, where its password comes from, and what depends on it.",
        "edit": "Change an account's settings, name or password.",
        "delete": "Delete an account, the templates bound to it, and its keyring entry.",
    },
    insecure_warning="--security none to {host}: the password and mail cross the network in clear.",
)

WECHAT = AccountForm(
    group_help="Official accounts (AppID in the config, AppSecret in the keyring), verified when "
    "added. An account cannot be modified: delete it and add it again.",
    add_options=(
        _option(
            "app_id", str, typer.Option(..., "--app-id", metavar="ID", help="The AppID (wx...).")
        ),
        _option(
            "endpoint",
            str,
            typer.Option(
                None,
                "--endpoint",
                metavar="URL",
                help="API base URL (default https://api.weixin.qq.com; http://127.0.0.1:PORT for "
                "the sandbox).",
            ),
        ),
        _note("Free text shown in lists."),
        _SECRET_STDIN,
        _ALLOW_INSECURE,
    ),
    edit_options=(),
    help={
        "add": "Add an official account after checking it live: the AppSecret (hidden prompt, "
        "--secret-stdin, or SMSCTL_SECRET_{CHANNEL}_<NAME>) must obtain a token through "
        "stable_token, which never invalidates the token production uses. Nothing is saved if "
        "that fails.",
        "list": "List official accounts (the active one is marked *).",
        "show": "Show one account, where its AppSecret comes from, and its push rules.",
        "edit": "Only where its AppSecret is read from changes (--secret-command, checked live "
        "like a new account, or --no-secret-command): an official account cannot be modified "
        "otherwise (exit 2). Delete it and add it again.",
        "enable": "Enable an account again.",
        "disable": "Disable an account: nothing is pushed through it until it is enabled again.",
        "delete": "Delete an account and its keyring entry. Its push rules stay in the config, "
        "shown as invalid, and can never be used again. Needs --yes without a terminal.",
    },
    not_editable=(
        "An official account cannot be modified: its AppID and AppSecret were verified together "
        "when it was added.",
        "Deleting it invalidates its push rules.",
    ),
)

FORMS: dict[str, AccountForm] = {"alibaba": ALIBABA, "smtp": SMTP, "wechat": WECHAT}


def _offered(channel: channels.Channel, options: tuple[inspect.Parameter, ...]):
    """The options a channel's accounts take: one named after an account field only where the
    channel's accounts have that field (`--called-show-number` is voice's)."""
    from smsctl.core.schema import COLLECTIONS

    all_fields = {key for (_, kind), fields in COLLECTIONS.items() if kind == "accounts"
                  for key in fields}  # fmt: skip
    own = COLLECTIONS[(channel.name, "accounts")]
    return [p for p in options if p.name not in all_fields or p.name in own]


def _flag(param: inspect.Parameter) -> str:
    return next(d for d in param.default.param_decls if d.startswith("--"))


# --- the verbs --------------------------------------------------------------------------------


def add_account(
    app: AppContext, ctx: typer.Context, channel: channels.Channel, name: str, options: dict
) -> None:
    form = FORMS[channel.provider]
    check_identifier(name, "account")
    secret_stdin = options.pop("secret_stdin")
    command = _secret_command(options.pop("secret_command", None), secret_stdin)
    values = accounts.new_values(channel.name, options)
    if command is not None:
        values["secret_command"] = command
    if values.get("allow_insecure_endpoint") and form.insecure_warning:
        app.output.warn(form.insecure_warning.format(**values))
    verified = accounts.provider_rules(channel.provider).verify is not None
    change = accounts.add(
        app.store,
        app.secrets,
        channel.name,
        name,
        values,
        obtain_secret(app, channel.name, secret_stdin, ctx),
        command=f"{channel.name} account add",
    )
    render_change(app, channel.name, change, "Verified and added" if verified else "Added")
    if change.changed:
        check = "Make it active" if verified else "Check it live and make it active"
        app.output.hint(f"{check}: {channel.command('validate', name)}")


def edit_account(
    app: AppContext,
    ctx: typer.Context,
    channel: channels.Channel,
    name: str,
    options: dict,
    flags: list[str],
) -> None:
    rename = options.pop("rename")
    rotate_secret = options.pop("rotate_secret")
    secret_stdin = options.pop("secret_stdin")
    rotate_token = options.pop("rotate_security_token", False)
    command_changes = _command_changes(options, secret_stdin and not rotate_secret)
    if rename:
        check_identifier(rename, "account")
    if rotate_token:
        if (
            rename
            or rotate_secret
            or command_changes
            or any(v not in (None, False) for v in options.values())
        ):
            from smsctl.core.errors import UsageError

            raise UsageError(
                "--rotate-security-token is given alone: it stores the token, nothing else.",
                hint="Run the other changes as a separate `account edit`.",
                code="credential_option",
            )
        store_security_token(app, ctx, channel, name, secret_stdin)
        return
    changes = accounts.edited_values(app.config(), channel.name, name, options)
    changes.update(command_changes)
    if not changes and not rename and not rotate_secret:
        from smsctl.core.errors import UsageError

        raise UsageError("Nothing to change.", hint=f"Give at least one of {', '.join(flags)}.")
    new_secret = (
        rotated_secret(app, channel.name, rename or name, secret_stdin, ctx)
        if rotate_secret
        else None
    )
    change = accounts.edit(
        app.store,
        app.secrets,
        channel.name,
        name,
        changes,
        rename=rename,
        new_secret=new_secret,
        command=f"{channel.name} account edit",
    )
    render_change(app, channel.name, change, "Updated")
    _command_notes(app, channel, change.name, command_changes, rotate_secret)
    if rename and rename != name and app.secrets.from_env(channel.name, name):
        app.output.warn(
            f"the secret came from {channel.secret_env_var(name)}; under the new name it is read "
            f"from {channel.secret_env_var(rename)}: set that variable where this account is used."
        )


def _secret_command(text: str | None, secret_stdin: bool) -> list[str] | None:
    """--secret-command's words, or None when it was not given."""
    if text is None:
        return None
    from smsctl.core.errors import UsageError
    from smsctl.core.secrets import parse_command

    if secret_stdin:
        raise UsageError(
            "--secret-command and --secret-stdin both give the secret: use one.",
            code="conflicting_options",
        )
    return parse_command(text)


def _command_changes(options: dict, secret_stdin: bool) -> dict[str, Any]:
    """The change to `secret_command` that --secret-command / --no-secret-command ask for."""
    from smsctl.core.errors import UsageError

    text, remove = options.pop("secret_command", None), options.pop("no_secret_command", False)
    if text is not None and remove:
        raise UsageError(
            "--secret-command and --no-secret-command contradict each other: use one.",
            code="conflicting_options",
        )
    if remove:
        return {"secret_command": None}
    command = _secret_command(text, secret_stdin)
    return {} if command is None else {"secret_command": command}


def _command_notes(
    app: AppContext, channel: channels.Channel, name: str, changes: dict, rotated: bool
) -> None:
    """What a change of the secret source means for the keyring and the environment."""
    from smsctl.core.secrets import entry_name

    if "secret_command" not in changes:
        return
    entry = entry_name(channel.name, name)
    if changes["secret_command"]:
        app.output.info(
            f"Its secret is read by that command from now on; a keyring entry `{entry}` stored "
            "earlier, if any, is no longer read (it stays until the account is deleted)."
        )
        check = channel.command("validate", name, "--check-only")
        app.output.hint(f"Check that the command gives a working secret: {check}")
    elif not rotated:
        edit = channel.command("account", "edit", name)
        app.output.info(
            f"Its secret is read from the keyring (`{entry}`) again; if it has none there, store "
            f"one with `{edit} --rotate-secret`."
        )
    if app.secrets.from_env(channel.name, name):
        app.output.warn(
            f"{channel.secret_env_var(name)} is set and wins over the secret command and the "
            "keyring where it is set."
        )


def _misspelt_own_option(ctx: typer.Context, words: list[str | None]) -> None:
    """The refusing edit takes any words (to refuse them clearly); one that is a misspelt
    option it does take is an unknown option instead, with the did-you-mean."""
    import difflib

    from typer._click.exceptions import NoSuchOption

    own = ["--secret-command", "--no-secret-command"]
    for word in words:
        option = (word or "").split("=")[0]
        if (
            option.startswith("--")
            and option not in own
            and difflib.get_close_matches(option, own, n=1, cutoff=0.7)
        ):
            raise NoSuchOption(option, ctx=ctx)


def store_security_token(
    app: AppContext, ctx: typer.Context, channel: channels.Channel, name: str, from_stdin: bool
) -> None:
    """`account edit NAME --rotate-security-token`: the token of an `sts` account, kept in the
    keyring entry `<channel>/<account>/security-token` (never in the config)."""
    from smsctl.core import audit, credentials
    from smsctl.core.errors import UsageError

    item = app.config().get(channel.name, "accounts", name)
    if credentials.mode_of(item) != "sts":
        raise UsageError(
            f"--rotate-security-token: {channel.name} account `{name}` uses credential mode "
            f"{credentials.mode_of(item)}, which takes no security token.",
            hint=f"Switch it first: `{channel.command('account', 'edit', name)} --credential sts`.",
            code="credential_option",
        )
    app.secrets.check_can_store(channel.name, name)
    value = app.read_secret("STS security token", from_stdin=from_stdin)
    if value is None:
        from smsctl.core.errors import CredentialError

        variable = credentials.token_env_var(channel.name, name)
        raise CredentialError(
            f"No security token given for {channel.name} account `{name}`: this run cannot ask "
            "for it and --secret-stdin was not given.",
            hint=f"`{command_line(ctx, '--secret-stdin')}` reads it from standard input; or set "
            f"{variable}.",
            code="security_token_missing",
        )
    app.secrets.store_security_token(channel.name, name, value)
    audit.record(
        "config.change",
        command=f"{channel.name} account edit",
        channel=channel.name,
        account=name,
        action="account.edit",
        changed=[],
        secret="security token stored (keyring)",
    )
    entry = credentials.token_entry(channel.name, name)
    app.output.emit(
        {"name": name, "channel": channel.name, "changed": True,
         "secret": {"source": "keyring", "name": f"smsctl: {entry}", "reason": None}},
        lambda out: out.success(f"Stored the security token of {channel.name} account `{name}` "
                                f"(keyring `{entry}`)"),
    )  # fmt: skip


def refuse_edit(channel: channels.Channel, name: str | None) -> None:
    from smsctl.core.errors import UsageError

    form = FORMS[channel.provider]
    why, cost = form.not_editable
    target = name or "NAME"
    required = [
        f"{_flag(p)} {p.default.metavar or p.name.upper()}"
        for p in _offered(channel, form.add_options)
        if p.default.default is ...
    ]
    delete = channel.command("account", "delete", target, "--yes")
    add = channel.command("account", "add", target, *required)
    raise UsageError(
        why or f"A {channel.title} account cannot be modified.",
        hint=f"Delete it and add it again: `{delete}` then `{add}`." + (f" {cost}" if cost else ""),
        code="not_editable",
    )


def render_change(app: AppContext, channel: str, change: accounts.AccountChange, verb: str) -> None:
    data = {
        "name": change.name,
        "channel": channel,
        "changed": change.changed,
        "secret": change.secret.to_dict() if change.secret else None,
    }

    def human(out: Any) -> None:
        if change.changed:
            out.success(
                f"{verb} {channel} account `{change.name}`"
                + (f" (secret: {_where(change.secret)})" if change.secret else "")
            )
        elif verb == "Updated":
            out.success(
                f"{channel} account `{change.name}` already has these values; nothing changed"
            )
        else:
            out.success(
                f"{channel} account `{change.name}` already exists with these values; "
                "nothing changed"
            )

    app.output.emit(data, human)


def _where(secret: Any) -> str:
    return "keyring" if secret.source == "keyring" else f"{secret.source} {secret.name}"


def list_accounts(app: AppContext, channel: str) -> None:
    config = app.config()
    model = channels.channel(channel)
    rows = [
        accounts.summary(config, channel, name, item)
        for name, item in config.accounts(channel).items()
    ]

    def human(out: Any) -> None:
        if not rows:
            out.info(
                f"No {channel} accounts. Add one with `{model.command('account', 'add')} NAME ...`."
            )
            return
        keys = model.account_fields
        columns = ["NAME", "ACTIVE", "ENABLED", *[k.upper().replace("_", " ") for k in keys]]
        out.table(
            [*columns, "NOTE"],
            [
                [
                    r["name"],
                    "*" if r["active"] else "",
                    "yes" if r["enabled"] else "no",
                    *[r.get(key) or "" for key in keys],
                    r["note"],
                ]
                for r in rows
            ],
        )

    app.output.emit(rows, human)


def show_account(app: AppContext, channel: str, name: str) -> None:
    from smsctl.core.secrets import command_text

    config = app.config()
    model = channels.channel(channel)
    item = config.get(channel, "accounts", name)
    shown = accounts.summary(config, channel, name, item)
    source = app.secrets.source(channel, name)
    credential_line = None
    if "credential" in _account_fields(channel):
        from smsctl.core import clock, credentials, paths

        if not credentials.needs_secret(item):
            from smsctl.core.secrets import SecretSource

            source = SecretSource("none", f"credential mode {credentials.mode_of(item)}")

        expires = credentials.cached_expiry(channel, name, item, paths.state_dir())
        shown["credential"] = credentials.describe(item, expires)
        credential_line = credentials.mode_of(item) + (
            f" (cached session expires {clock.show(expires)})" if expires else ""
        )
    shown["secret"] = source.to_dict()
    shown["depends_on_it"] = _items(model, accounts.dependents(config, channel, name))
    human_view = {
        **shown,
        "secret_command": command_text(item["secret_command"]) if item["secret_command"] else None,
        "secret": source.describe(),
        **({"credential": credential_line} if credential_line else {}),
        "depends_on_it": [f"{d['kind']} {d['name']}" for d in shown["depends_on_it"]],
    }
    app.output.emit(shown, lambda out: out.fields(human_view))


def _account_fields(channel: str) -> dict[str, Any]:
    from smsctl.core.schema import COLLECTIONS

    return COLLECTIONS[(channel, "accounts")]


def _items(model: channels.Channel, found: list[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"kind": model.item(kind).noun, "name": name} for kind, name in found]


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
    model = channels.channel(channel)

    def confirm(removed: list[tuple[str, str]], invalidated: list[tuple[str, str]]) -> None:
        if removed:
            app.output.info(
                f"Deleting {channel} account `{name}` also deletes:{_listing(model, removed)}"
            )
        if invalidated:
            app.output.info(
                f"Deleting {channel} account `{name}` invalidates these for good (they stay "
                f"listed as invalid):{_listing(model, invalidated)}"
            )
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
        "removed": _items(model, change.removed_dependents),
        "invalidated": _items(model, change.invalidated_dependents),
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
            out.success(f"Deleted {model.item(kind).noun} `{item}` (it belonged to `{name}`)")
        for kind, item in change.invalidated_dependents:
            noun = model.item(kind).noun
            out.failure(
                f"{noun.capitalize()} `{item}` is now invalid (account deleted) and disabled"
            )
        report_keyring(out, change.keyring)
        if change.was_active:
            out.info(f"It was the active {channel} account; none is active now.")

    app.output.emit(data, human)


def _listing(model: channels.Channel, found: list[tuple[str, str]]) -> str:
    return "".join(f"\n  - {model.item(kind).noun} {item}" for kind, item in found)


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


# --- the builder ------------------------------------------------------------------------------


def _command(
    run: Callable[..., None], doc: str, params: list[inspect.Parameter]
) -> Callable[..., None]:
    """A Typer command calling `run(ctx, **options)`, its options declared by `params`."""

    def command(ctx: typer.Context, **options: Any) -> None:
        run(ctx, **options)

    command.__doc__ = doc
    command.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            inspect.Parameter(
                "ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=typer.Context
            ),
            *params,
        ]
    )
    return command


def make_account_app(channel_name: str) -> typer.Typer:
    """The account verbs of a channel, with the options of its provider's accounts."""
    channel = channels.channel(channel_name)
    form = FORMS[channel.provider]
    texts = {
        verb: text.format(CHANNEL=channel.name.upper())
        for verb, text in {**DEFAULT_HELP, **form.help}.items()
    }
    app = typer.Typer(
        help=form.group_help.format(CHANNEL=channel.name.upper()), no_args_is_help=True
    )
    name_param = _option("name", str, NAME)

    def add(ctx: typer.Context, name: str, **options: Any) -> None:
        add_account(app_context(ctx), ctx, channel, name, options)

    add_options = [*_offered(channel, form.add_options), _SECRET_COMMAND]
    app.command("add")(_command(add, texts["add"], [name_param, *add_options]))

    @app.command("list", help=texts["list"])
    def list_(ctx: typer.Context) -> None:
        list_accounts(app_context(ctx), channel.name)

    @app.command("show", help=texts["show"])
    def show(ctx: typer.Context, name: str = NAME) -> None:
        show_account(app_context(ctx), channel.name, name)

    if channel.account_editable:
        edit_options = [*_offered(channel, form.edit_options), _SECRET_COMMAND, _NO_SECRET_COMMAND]
        flags = [_flag(p) for p in edit_options if p.name not in ("secret_stdin", "allow_insecure")]

        def edit(ctx: typer.Context, name: str, **options: Any) -> None:
            edit_account(app_context(ctx), ctx, channel, name, options, flags)

        app.command("edit")(_command(edit, texts["edit"], [name_param, *edit_options]))
    else:

        @app.command(
            "edit",
            help=texts["edit"],
            context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
        )
        def refused_edit(
            ctx: typer.Context,
            name: str = typer.Argument(None, metavar="NAME", help="Account name."),
            secret_command: str = _SECRET_COMMAND.default,
            no_secret_command: bool = _NO_SECRET_COMMAND.default,
        ) -> None:
            _misspelt_own_option(ctx, [name, *ctx.args])
            if name is None or ctx.args or (secret_command is None and not no_secret_command):
                refuse_edit(channel, name)
            options = {"secret_command": secret_command, "no_secret_command": no_secret_command}
            app_ = app_context(ctx)
            changes = _command_changes(options, False)
            change = accounts.edit(
                app_.store,
                app_.secrets,
                channel.name,
                name,
                changes,
                command=f"{channel.name} account edit",
            )
            render_change(app_, channel.name, change, "Updated")
            _command_notes(app_, channel, name, changes, False)

    @app.command("enable", help=texts["enable"])
    def enable(ctx: typer.Context, name: str = NAME) -> None:
        set_enabled(app_context(ctx), channel.name, name, True)

    @app.command("disable", help=texts["disable"])
    def disable(ctx: typer.Context, name: str = NAME) -> None:
        set_enabled(app_context(ctx), channel.name, name, False)

    @app.command("delete", help=texts["delete"])
    def delete(ctx: typer.Context, name: str = NAME, yes: bool = YES) -> None:
        delete_account(app_context(ctx), channel.name, name, yes)

    return app


app = make_account_app("sms")
