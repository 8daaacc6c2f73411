"""`smsctl email ...`: SMTP accounts, HTML templates with `${var}` variables, validate, send-test.

Commands parse, call smsctl.core.email and render; the account verbs other than add/edit are the
channel-generic ones of cli.account.
"""

from __future__ import annotations

from typing import Any

import typer

from smsctl.cli import interrupts
from smsctl.cli.account import (
    ALLOW_INSECURE,
    NAME,
    SECRET_STDIN,
    YES,
    delete_account,
    list_accounts,
    obtain_secret,
    render_change,
    rotated_secret,
    set_enabled,
    show_account,
)
from smsctl.cli.context import app_context
from smsctl.cli.items import (
    delete_command,
    enable_command,
    item_change_data,
    list_templates,
    render_template,
    show_template,
)
from smsctl.cli.options import (
    ACCOUNT_FILTER,
    CHECK_ONLY,
    PARAM,
    PARAMS_JSON,
    SCENARIO_FILTER,
    SCENARIO_HELP,
    VALIDATE_ACCOUNT,
)
from smsctl.cli.render import confirm_plan, render_added, render_resolution, validation_data
from smsctl.core import accounts, items
from smsctl.core import email as email_core
from smsctl.core.errors import UsageError
from smsctl.core.names import check_identifier
from smsctl.core.params import parse_params
from smsctl.core.schema import check_scenario

CHANNEL = "email"

app = typer.Typer(
    help="Email through SMTP: accounts (password in the keyring), HTML templates with ${var} "
    "variables, validate, test sends. TLS is always verified.",
    no_args_is_help=True,
)
account_app = typer.Typer(
    help="SMTP accounts (host, port, TLS mode, user; the password in the keyring).",
    no_args_is_help=True,
)
template_app = typer.Typer(
    help="Email templates: subject + HTML body (+ optional plain-text body) with ${var} "
    "variables, stored in the config.",
    no_args_is_help=True,
)
app.add_typer(account_app, name="account")
app.add_typer(template_app, name="template")

SECURITY_HELP = "starttls (usually port 587), ssl (implicit TLS, usually 465) or none (loopback)."
TEMPLATE = typer.Argument(..., metavar="NAME", help="Template name, e.g. login-code.")


# --- accounts ---------------------------------------------------------------------------------


@account_app.command("add")
def account_add(
    ctx: typer.Context,
    name: str = NAME,
    host: str = typer.Option(..., "--host", help="SMTP server host name or address."),
    port: int = typer.Option(
        None,
        "--port",
        min=1,
        max=65535,
        help="SMTP port (default: 587 starttls, 465 ssl, 25 none).",
    ),
    security: str = typer.Option(..., "--security", help=SECURITY_HELP),
    username: str = typer.Option(..., "--username", help="The SMTP login."),
    from_address: str = typer.Option(..., "--from", metavar="ADDR", help="Sender address."),
    from_name: str = typer.Option(None, "--from-name", help="Sender display name."),
    ca_file: str = typer.Option(
        None, "--ca-file", metavar="PEM", help="Also trust this CA (PEM); TLS is always verified."
    ),
    timeout: float = typer.Option(
        None, "--timeout", min=0.1, max=600, metavar="SECONDS", help="Network timeout."
    ),
    note: str = typer.Option(None, "--note", help="Free text shown in lists."),
    secret_stdin: bool = SECRET_STDIN,
    allow_insecure: bool = typer.Option(
        False,
        "--allow-insecure-endpoint",
        help="Allow --security none to a non-loopback host (password and mail in clear).",
    ),
) -> None:
    """Add an SMTP account; the password is asked for (hidden), read with --secret-stdin, or
    taken from SMSCTL_SECRET_EMAIL_<NAME>. Nothing is sent; `email validate` checks it live."""
    app_ctx = app_context(ctx)
    check_identifier(name, "account")
    values = email_core.new_account_values(
        host=host,
        port=port,
        security=security,
        username=username,
        from_address=from_address,
        from_name=from_name,
        ca_file=ca_file,
        timeout=timeout,
        note=note,
        allow_insecure=allow_insecure,
    )
    if values.get("allow_insecure_endpoint"):
        app_ctx.output.warn(
            f"--security none to {values['host']}: the password and mail cross the network "
            "in clear."
        )
    change = accounts.add(
        app_ctx.store,
        app_ctx.secrets,
        CHANNEL,
        name,
        values,
        obtain_secret(app_ctx, CHANNEL, secret_stdin, ctx),
        command="email account add",
    )
    render_change(app_ctx, CHANNEL, change, "Added")
    if change.changed:
        app_ctx.output.hint(f"Check it live and make it active: smsctl email validate {name}")


@account_app.command("list")
def account_list(ctx: typer.Context) -> None:
    """List SMTP accounts (the active one is marked *)."""
    list_accounts(app_context(ctx), CHANNEL)


@account_app.command("show")
def account_show(ctx: typer.Context, name: str = NAME) -> None:
    """Show one account, where its password comes from, and what depends on it."""
    show_account(app_context(ctx), CHANNEL, name)


@account_app.command("edit")
def account_edit(
    ctx: typer.Context,
    name: str = NAME,
    rename: str = typer.Option(None, "--rename", metavar="NEW", help="New name."),
    host: str = typer.Option(None, "--host", help="New host."),
    port: int = typer.Option(None, "--port", min=1, max=65535, help="New port."),
    security: str = typer.Option(None, "--security", help=SECURITY_HELP),
    username: str = typer.Option(None, "--username", help="New login."),
    from_address: str = typer.Option(None, "--from", metavar="ADDR", help="New sender."),
    from_name: str = typer.Option(None, "--from-name", help="New display name ('' removes it)."),
    ca_file: str = typer.Option(
        None, "--ca-file", metavar="PEM", help="New CA file to trust ('' removes it)."
    ),
    timeout: float = typer.Option(
        None, "--timeout", min=0.1, max=600, metavar="SECONDS", help="New network timeout."
    ),
    note: str = typer.Option(None, "--note", help="New note."),
    rotate_secret: bool = typer.Option(False, "--rotate-secret", help="Store a new password."),
    secret_stdin: bool = SECRET_STDIN,
    allow_insecure: bool = ALLOW_INSECURE,
) -> None:
    """Change an account's settings, name or password."""
    app_ctx = app_context(ctx)
    if rename:
        check_identifier(rename, "account")
    changes = email_core.account_values(
        host=host,
        port=port,
        security=security,
        username=username,
        from_address=from_address,
        from_name=from_name,
        ca_file=ca_file,
        timeout=timeout,
        note=note,
    )
    if not changes and not rename and not rotate_secret:
        raise UsageError(
            "Nothing to change.",
            hint="Give at least one of --rename, --host, --port, --security, --username, --from, "
            "--from-name, --ca-file, --timeout, --note, --rotate-secret.",
        )
    changes = email_core.edited_account_values(app_ctx.config(), name, changes, allow_insecure)
    new_secret = None
    if rotate_secret:
        new_secret = rotated_secret(app_ctx, CHANNEL, rename or name, secret_stdin, ctx)
    change = accounts.edit(
        app_ctx.store,
        app_ctx.secrets,
        CHANNEL,
        name,
        changes,
        rename=rename,
        new_secret=new_secret,
        command="email account edit",
    )
    render_change(app_ctx, CHANNEL, change, "Updated")


@account_app.command("enable")
def account_enable(ctx: typer.Context, name: str = NAME) -> None:
    """Enable an account."""
    set_enabled(app_context(ctx), CHANNEL, name, True)


@account_app.command("disable")
def account_disable(ctx: typer.Context, name: str = NAME) -> None:
    """Disable an account: nothing is sent through it until it is enabled again."""
    set_enabled(app_context(ctx), CHANNEL, name, False)


@account_app.command("delete")
def account_delete(ctx: typer.Context, name: str = NAME, yes: bool = YES) -> None:
    """Delete an account, the templates bound to it, and its keyring entry."""
    delete_account(app_context(ctx), CHANNEL, name, yes)


# --- templates --------------------------------------------------------------------------------


@template_app.command("add")
def template_add(
    ctx: typer.Context,
    name: str = TEMPLATE,
    scenario: str = typer.Option(..., "--scenario", help=SCENARIO_HELP),
    subject: str = typer.Option(..., "--subject", help="Subject line; may use ${var}."),
    html: str = typer.Option(..., "--html", metavar="FILE", help="HTML body file (UTF-8)."),
    text: str = typer.Option(
        None, "--text", metavar="FILE", help="Plain-text body file (default: made from the HTML)."
    ),
    account: str = typer.Option(
        None, "--account", help="Bind it to this account (default: any email account)."
    ),
    label: str = typer.Option(None, "--name", help="A label shown in lists."),
    default: bool = typer.Option(False, "--default", help="Prefer it when several fit."),
    note: str = typer.Option(None, "--note", help="Free text."),
) -> None:
    """Add a template: subject, HTML and text are stored in the config; its variables are
    listed now; verification scenarios (register, login, reset-password) must use ${code}."""
    app_ctx = app_context(ctx)
    check_identifier(name, "template")
    values = email_core.template_values(
        scenario=scenario,
        subject=subject,
        html=email_core.read_template_file(html, "--html"),
        text=email_core.read_template_file(text, "--text") if text is not None else None,
        account=account,
        label=label,
        default=default,
        note=note,
    )
    change = items.add(
        app_ctx.store, CHANNEL, "templates", name, values, command="email template add"
    )
    data = item_change_data(app_ctx, CHANNEL, "templates", name, change)

    details = [f"subject:   {subject}", f"variables: {', '.join(values['variables']) or '-'}"]
    if text is None:
        details.append("text part: generated from the HTML (see `email template render`)")
    app_ctx.output.emit(
        data, lambda out: render_added(out, f"email template `{name}`", change, scenario, details)
    )


@template_app.command("list")
def template_list(
    ctx: typer.Context,
    account: str = ACCOUNT_FILTER,
    scenario: str = SCENARIO_FILTER,
) -> None:
    """List templates with scenario, variables and authorized apps."""
    list_templates(
        app_context(ctx),
        CHANNEL,
        account=account,
        scenario=scenario,
        extra=[
            ("VARIABLES", lambda r: ", ".join(r["variables"])),
            ("SUBJECT", lambda r: r["subject"]),
        ],
    )


@template_app.command("show")
def template_show(ctx: typer.Context, name: str = TEMPLATE) -> None:
    """Show one template: subject, variables, HTML and text bodies."""
    show_template(app_context(ctx), CHANNEL, name)


@template_app.command("render")
def template_render(
    ctx: typer.Context,
    name: str = TEMPLATE,
    param: list[str] = PARAM,
    params_json: str = PARAMS_JSON,
) -> None:
    """Print subject, text and HTML exactly as they would be sent (nothing is sent)."""
    render_template(app_context(ctx), CHANNEL, name, parse_params(param, params_json))


@template_app.command("edit")
def template_edit(
    ctx: typer.Context,
    name: str = TEMPLATE,
    scenario: str = typer.Option(None, "--scenario", help=SCENARIO_HELP),
    subject: str = typer.Option(None, "--subject", help="New subject line."),
    html: str = typer.Option(None, "--html", metavar="FILE", help="New HTML body file."),
    text: str = typer.Option(None, "--text", metavar="FILE", help="New plain-text body file."),
    generated_text: bool = typer.Option(
        False, "--generate-text", help="Drop the stored text body; make it from the HTML."
    ),
    account: str = typer.Option(
        None, "--account", help="Bind it to this account ('' = any account)."
    ),
    label: str = typer.Option(None, "--name", help="New label."),
    default: bool = typer.Option(
        None, "--default/--no-default", help="Mark or unmark it as preferred for its scenario."
    ),
    note: str = typer.Option(None, "--note", help="New note."),
) -> None:
    """Change a template; the whole template is checked again (variables, ${code})."""
    app_ctx = app_context(ctx)
    if text is not None and generated_text:
        raise UsageError("Give --text FILE or --generate-text, not both.")
    item = app_ctx.config().get(CHANNEL, "templates", name)
    changes: dict[str, Any] = {}
    if scenario is not None:
        changes["scenario"] = check_scenario(scenario)
    if subject is not None:
        changes["subject"] = subject
    if html is not None:
        changes["html"] = email_core.read_template_file(html, "--html")
    if text is not None:
        changes["text"] = email_core.read_template_file(text, "--text")
    if generated_text:
        changes["text"] = None
    if account is not None:
        changes["account"] = account or None
    for key, value in (("label", label), ("default", default), ("note", note)):
        if value is not None:
            changes[key] = value
    if not changes:
        raise UsageError(
            "Nothing to change.",
            hint="Give --scenario, --subject, --html, --text, --generate-text, --account, "
            "--name, --default or --note.",
        )
    changes = email_core.edited_template(item, changes)
    change = items.update(
        app_ctx.store, CHANNEL, "templates", name, changes, command="email template edit"
    )
    data = item_change_data(app_ctx, CHANNEL, "templates", name, change)

    def human(out: Any) -> None:
        out.success(f"Email template `{name}` " + ("updated" if change.changed else "unchanged"))
        out.line(f"  variables: {', '.join(changes['variables']) or '-'}")
        for other in change.cleared_default:
            out.info(f"`{other}` is no longer the default for its scenario.")

    app_ctx.output.emit(data, human)


enable_command(template_app, CHANNEL, "templates")
delete_command(template_app, CHANNEL, "templates")


# --- validate and send-test -------------------------------------------------------------------


@app.command("validate")
def validate(
    ctx: typer.Context,
    account: str = VALIDATE_ACCOUNT,
    check_only: bool = CHECK_ONLY,
) -> None:
    """Connect, negotiate TLS as configured (always verified), authenticate and quit without
    sending; on success make it the active email account (the previous one stays configured)."""
    app_ctx = app_context(ctx)
    with app_ctx.output.progress("Connecting to the SMTP server..."):
        result = email_core.validate(app_ctx.store, app_ctx.secrets, account, check_only=check_only)
    # email templates are not reviewed by the server: there are no items to check
    data = validation_data(
        CHANNEL,
        result,
        server={"host": result.host, "port": result.port, "security": result.security},
    )

    def human(out: Any) -> None:
        out.success(
            f"Connected to {result.server}, TLS verified, login accepted for email account "
            f"`{result.account}`"
        )
        if result.activated:
            previous = result.previous_active
            if previous and previous != result.account:
                out.success(
                    f"`{result.account}` is now the active email account (was `{previous}`, "
                    "which stays configured)"
                )
            else:
                out.success(f"`{result.account}` is the active email account")

    app_ctx.output.emit(data, human)


def send_test(
    ctx: typer.Context,
    to: str = typer.Option(..., "--to", metavar="ADDR", help="Recipient email address."),
    scenario: str = typer.Option(None, "--scenario", help=SCENARIO_HELP),
    app_name: str = typer.Option(
        None, "--app", help="The app the send is for (personalized templates win)."
    ),
    account: str = typer.Option(None, "--account", help="Use this account, not the active one."),
    template: str = typer.Option(None, "--template", help="Use this template."),
    param: list[str] = PARAM,
    params_json: str = PARAMS_JSON,
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Resolve, validate and render; send nothing."
    ),
    timeout: float = typer.Option(
        None, "--timeout", min=0.1, max=600, metavar="SECONDS", help="Network timeout."
    ),
    yes: bool = typer.Option(
        False, "--yes", "-y", help="Send without asking (needed without a TTY)."
    ),
) -> None:
    """Send a real test email (multipart: text + HTML) through the resolved account and
    template; the Message-ID goes to the audit log."""
    app_ctx = app_context(ctx)
    out = app_ctx.output
    values = parse_params(param, params_json)
    config = app_ctx.config()
    plan = email_core.prepare_send(
        config,
        to=to,
        scenario=scenario,
        app=app_name,
        account=account,
        template=template,
        values=values,
    )
    report: dict[str, Any] = {
        **plan.to_dict(),
        "dry_run": dry_run,
        "sent": False,
    }
    if not confirm_plan(
        app_ctx,
        report,
        lambda o: show_plan(o, plan),
        dry_run=dry_run,
        yes=yes,
        dry_run_text="Dry run: nothing was sent",
        question=f"Send this email to {plan.target}?",
        what="Sending a test email",
    ):
        return
    with (
        interrupts.during_send(
            plan,
            "email",
            lambda: (
                "Check before sending again: `smsctl log --sends` shows its Message-ID; "
                "search the recipient's mailbox or the server's log for it (its header "
                f"X-Smsctl-Out-Id is {plan.out_id})."
            ),
        ),
        out.progress(f"Sending through {plan.extra['server']}..."),
    ):
        result = email_core.send(config, app_ctx.secrets, plan, timeout=timeout)
    report.update(sent=True, message_id=result.message_id)
    out.emit(
        report,
        lambda o: o.result(
            f"Accepted by {plan.extra['server']}: Message-ID {result.message_id}, "
            f"OutId {plan.out_id}"
        ),
    )
    if not out.json_mode:
        out.info(
            "Accepted means the SMTP server took the message, not that it reached the inbox; "
            "search the mailbox (or the server's log) for the Message-ID."
        )


app.command("send-test")(send_test)


def show_plan(out: Any, plan: Any) -> None:
    render_resolution(out, plan.resolution)
    sender = plan.extra["from_address"]
    if plan.extra.get("from_name"):
        sender = f"{plan.extra['from_name']} <{sender}>"
    out.line(f"server:    {plan.extra['server']}")
    out.line(f"from:      {sender}")
    out.line(f"to:        {plan.target}")
    out.line(f"subject:   {plan.extra['subject']}")
    out.line(
        "--- text/plain" + (" (generated from the HTML)" if plan.extra["text_generated"] else "")
    )
    out.line(plan.text.rstrip("\n"))
    out.line("--- text/html")
    out.line(plan.extra["html"].rstrip("\n"))
    out.line("---")
    for warning in plan.warnings:
        out.warn(warning)
