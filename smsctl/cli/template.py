"""`smsctl template ...`: SMS templates, fetched from the provider and rendered locally."""

from __future__ import annotations

import typer

from smsctl.cli.context import app_context
from smsctl.cli.items import (
    delete_command,
    enable_command,
    item_change_data,
    list_templates,
    render_sync,
    render_template,
    show_template,
)
from smsctl.cli.options import (
    ACCOUNT_FILTER,
    ALLOW_PENDING,
    PARAM,
    PARAMS_JSON,
    SCENARIO_FILTER,
    SCENARIO_HELP,
)
from smsctl.cli.remote import (
    ALL_APPROVED,
    REMARK,
    REMOTE,
    WAIT,
    follow_application,
    remote_list,
    render_import,
)
from smsctl.cli.render import render_added
from smsctl.core import items, sms
from smsctl.core.params import parse_params
from smsctl.core.schema import check_scenario
from smsctl.providers.worker import calls_alibaba

app = typer.Typer(help="SMS templates approved at the provider.", no_args_is_help=True)
CODE = typer.Argument(..., metavar="CODE", help="The provider's template code, e.g. SMS_123456.")


@app.command("add")
@calls_alibaba("sms")
def add(
    ctx: typer.Context,
    code: str = CODE,
    account: str = typer.Option(..., "--account", help="The SMS account it belongs to."),
    scenario: str = typer.Option(..., "--scenario", help=SCENARIO_HELP),
    name: str = typer.Option(None, "--name", help="A label (default: the provider's name)."),
    default: bool = typer.Option(False, "--default", help="Prefer it when several fit."),
    allow_pending: bool = ALLOW_PENDING,
) -> None:
    """Add a template: its content, variables, type and status come from the provider."""
    app_ctx = app_context(ctx)
    check_scenario(scenario)
    change, info = sms.add_template(
        app_ctx.store,
        app_ctx.secrets,
        code,
        account=account,
        scenario=scenario,
        name=name,
        default=default,
        allow_pending=allow_pending,
    )
    data = item_change_data(app_ctx, "sms", "templates", code, change)

    details = [f"content:   {info.content}", f"variables: {', '.join(data['variables']) or '-'}"]
    app_ctx.output.emit(
        data,
        lambda out: render_added(
            out, f"template `{code}` ({info.status}, {info.type})", change, scenario, details
        ),
    )


@app.command("list")
@calls_alibaba("sms", only_with="--remote")
def list_(
    ctx: typer.Context,
    account: str = ACCOUNT_FILTER,
    scenario: str = SCENARIO_FILTER,
    remote: bool = REMOTE,
) -> None:
    """List templates with scenario, status and authorized apps; --remote: the account's
    templates at the provider."""
    if remote:
        if scenario:
            from smsctl.core.errors import UsageError

            raise UsageError("--scenario filters smsctl's templates; the provider has none.")
        remote_list(app_context(ctx), "templates", account)
        return
    list_templates(
        app_context(ctx),
        "sms",
        account=account,
        scenario=scenario,
        extra=[("STATUS", lambda r: r["status"]), ("NAME", lambda r: r["label"] or "")],
    )


@app.command("show")
def show(ctx: typer.Context, code: str = CODE) -> None:
    """Show one template, its content and variables."""
    show_template(app_context(ctx), "sms", code)


@app.command("render")
def render(
    ctx: typer.Context,
    code: str = CODE,
    param: list[str] = PARAM,
    params_json: str = PARAMS_JSON,
    signature: str = typer.Option(
        None, "--signature", help="Prefix the text with this signature, as the phone shows it."
    ),
) -> None:
    """Print the exact text a recipient would get, computed locally (nothing is sent)."""
    values = parse_params(param, params_json)
    render_template(app_context(ctx), "sms", code, values, signature=signature)


@app.command("edit")
def edit(
    ctx: typer.Context,
    code: str = CODE,
    scenario: str = typer.Option(None, "--scenario", help=SCENARIO_HELP),
    name: str = typer.Option(None, "--name", help="A new label."),
    default: bool = typer.Option(
        None,
        "--default/--no-default",
        help="Mark or unmark it as the preferred one for its scenario.",
    ),
) -> None:
    """Change a template's scenario, label or default mark."""
    app_ctx = app_context(ctx)
    check_scenario(scenario)
    changes = {
        k: v
        for k, v in {"scenario": scenario, "name": name, "default": default}.items()
        if v is not None
    }
    if not changes:
        from smsctl.core.errors import UsageError

        raise UsageError("Nothing to change.", hint="Give --scenario, --name or --default.")
    change = items.update(app_ctx.store, "sms", "templates", code, changes, command="template edit")
    data = item_change_data(app_ctx, "sms", "templates", code, change)
    app_ctx.output.emit(
        data,
        lambda out: out.success(
            f"Template `{code}` " + ("updated" if change.changed else "unchanged")
        ),
    )


@app.command("sync")
@calls_alibaba("sms")
def sync(
    ctx: typer.Context,
    code: str = typer.Argument(None, metavar="[CODE]", help="One template (default: all)."),
) -> None:
    """Refresh status and content of one or all templates from the provider."""
    app_ctx = app_context(ctx)
    results = sms.sync(app_ctx.store, app_ctx.secrets, "templates", [code] if code else None)
    render_sync(app_ctx, "template", results)


@app.command("import")
@calls_alibaba("sms")
def import_(
    ctx: typer.Context,
    codes: list[str] = typer.Argument(None, metavar="[CODE]...", help="Template codes."),
    account: str = typer.Option(..., "--account", help="The SMS account they belong to."),
    scenario: str = typer.Option(..., "--scenario", help=SCENARIO_HELP),
    all_approved: bool = ALL_APPROVED,
    allow_pending: bool = ALLOW_PENDING,
) -> None:
    """Bring templates the account has at the provider into smsctl, with content, variables
    and related signature, as `add` does (one pass over the provider's list)."""
    from smsctl.core import remote

    app_ctx = app_context(ctx)
    check_scenario(scenario)
    result = remote.import_items(
        app_ctx.store, app_ctx.secrets, "templates", list(codes or []), account=account,
        scenario=scenario, all_approved=all_approved, allow_pending=allow_pending,
    )  # fmt: skip
    render_import(app_ctx, "template", result)


@app.command("submit")
@calls_alibaba("sms")
def submit(
    ctx: typer.Context,
    name: str = typer.Argument(..., metavar="NAME", help="The template's name at the provider."),
    account: str = typer.Option(..., "--account", help="The SMS account to apply under."),
    content: str = typer.Option(..., "--content", help="The text, variables as ${name}."),
    type_: str = typer.Option(
        ..., "--type", help="verification, notification, promotional or international."
    ),
    scenario: str = typer.Option(..., "--scenario", help=SCENARIO_HELP),
    signature: str = typer.Option(
        None,
        "--signature",
        help="The related signature (default: the account's default one; none for international).",
    ),
    remark: str = REMARK,
    wait: float = WAIT,
) -> None:
    """Apply for a new template (CreateSmsTemplate); smsctl keeps it as pending, never used
    for sending until the provider approves it."""
    from smsctl.core import remote

    app_ctx = app_context(ctx)
    check_scenario(scenario)
    application = remote.submit_template(
        app_ctx.store, app_ctx.secrets, name=name, account=account, content=content,
        type_=type_, scenario=scenario, signature=signature, remark=remark,
    )  # fmt: skip
    follow_application(app_ctx, application, wait)


@app.command("resubmit")
@calls_alibaba("sms")
def resubmit(
    ctx: typer.Context,
    code: str = CODE,
    content: str = typer.Option(None, "--content", help="New text (default: as it was)."),
    remark: str = REMARK,
    wait: float = WAIT,
) -> None:
    """Send a rejected template for review again (UpdateSmsTemplate), changed as given."""
    from smsctl.core import remote

    app_ctx = app_context(ctx)
    application = remote.resubmit_template(
        app_ctx.store, app_ctx.secrets, code, content=content, remark=remark
    )
    follow_application(app_ctx, application, wait)


enable_command(app, "sms", "templates")
delete_command(
    app, "sms", "templates", note="The template stays at the provider; only smsctl forgets it."
)
