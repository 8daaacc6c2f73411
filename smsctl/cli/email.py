"""`smsctl email ...`: SMTP accounts, HTML templates with `${var}` variables, validate, send-test.

Commands parse, call smsctl.core.email and render; the account verbs are those of every channel
(cli.account), with the SMTP provider's options.
"""

from __future__ import annotations

from typing import Any

import typer

from smsctl.cli.account import (
    make_account_app,
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
from smsctl.cli.render import render_added, validation_data
from smsctl.cli.send_test import run_send_test
from smsctl.core import email as email_core
from smsctl.core import items
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
template_app = typer.Typer(
    help="Email templates: subject + HTML body (+ optional plain-text body) with ${var} "
    "variables, stored in the config.",
    no_args_is_help=True,
)
app.add_typer(make_account_app(CHANNEL), name="account")
app.add_typer(template_app, name="template")

TEMPLATE = typer.Argument(..., metavar="NAME", help="Template name, e.g. login-code.")


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
    run_send_test(
        app_context(ctx),
        CHANNEL,
        {
            "to": to,
            "scenario": scenario,
            "app": app_name,
            "account": account,
            "template": template,
            "values": parse_params(param, params_json),
        },
        dry_run=dry_run,
        yes=yes,
        wait=None,
        timeout=timeout,
    )


app.command("send-test")(send_test)
