"""`smsctl wechat ...`: WeChat official accounts, their approved templates, push rules and test
pushes. Parsing and rendering only; the decisions are in smsctl/core/wechat.py."""

from __future__ import annotations

from typing import Any

import typer

from smsctl.cli.account import (
    make_account_app,
)
from smsctl.cli.context import app_context
from smsctl.cli.items import delete_command, item_change_data
from smsctl.cli.options import CHECK_ONLY, SCENARIO_HELP, VALIDATE_ACCOUNT
from smsctl.cli.render import rule_validation_item, validation_data
from smsctl.core import wechat
from smsctl.core.schema import check_scenario

app = typer.Typer(
    help="WeChat official accounts: verified accounts, their approved templates, push rules "
    "and test pushes.",
    no_args_is_help=True,
)
template_app = typer.Typer(
    help="The message templates approved on an official account.", no_args_is_help=True
)
rule_app = typer.Typer(
    help="Push rules: an approved template of an account plus a value for each of its variables.",
    no_args_is_help=True,
)
app.add_typer(make_account_app("wechat"), name="account")
app.add_typer(template_app, name="template")
app.add_typer(rule_app, name="rule")

RULE = typer.Argument(..., metavar="NAME", help="Push rule name, e.g. login-code.")
VAR_HELP = (
    "A template variable as NAME=VALUE; repeat for each. Values may contain ${placeholders} "
    "filled by `send-test --var`."
)


def _scenario(value: str | None, *, allow_empty: bool = False) -> str | None:
    """A scenario option; with allow_empty, `''` clears a rule's scenario."""
    if allow_empty and value == "":
        return value
    return check_scenario(value)


# --- templates --------------------------------------------------------------------------------


@template_app.command("list")
def template_list(
    ctx: typer.Context,
    account: str = typer.Argument(..., metavar="ACCOUNT", help="The official account."),
) -> None:
    """List the account's approved templates (from WeChat) with their {{name.DATA}} variables."""
    app_ctx = app_context(ctx)
    templates = wechat.fetch_templates(app_ctx.config(), app_ctx.secrets, account)
    rows = [
        {
            "template_id": t.template_id,
            "title": t.title,
            "variables": list(t.variables),
            "content": t.content,
            "example": t.example,
        }
        for t in templates
    ]

    def human(out: Any) -> None:
        if not rows:
            out.info(f"wechat account `{account}` has no approved templates.")
            return
        out.table(
            ["TEMPLATE ID", "TITLE", "VARIABLES"],
            [[r["template_id"], r["title"], ", ".join(r["variables"])] for r in rows],
        )

    app_ctx.output.emit(rows, human)


# --- rules ------------------------------------------------------------------------------------


@rule_app.command("add")
def rule_add(
    ctx: typer.Context,
    name: str = RULE,
    account: str = typer.Option(..., "--account", help="The official account it pushes from."),
    template_id: str = typer.Option(
        ..., "--template-id", metavar="ID", help="An approved template of that account."
    ),
    var: list[str] = typer.Option(None, "--var", metavar="NAME=VALUE", help=VAR_HELP),
    url: str = typer.Option(None, "--url", help="Page opened when the message is tapped."),
    miniprogram: str = typer.Option(
        None, "--miniprogram", metavar="APPID:PATH", help="Mini program page opened instead."
    ),
    scenario: str = typer.Option(None, "--scenario", help=SCENARIO_HELP),
    default: bool = typer.Option(False, "--default", help="Prefer it when several fit."),
    note: str = typer.Option(None, "--note", help="Free text."),
) -> None:
    """Add a push rule. WeChat is asked that the template exists on the account, and every
    variable of the template must get a value."""
    app_ctx = app_context(ctx)
    values = wechat.parse_vars(var)
    result = wechat.add_rule(
        app_ctx.store,
        app_ctx.secrets,
        name,
        account=account,
        template_id=template_id,
        values=values,
        url=url,
        miniprogram=miniprogram,
        scenario=_scenario(scenario),
        default=default,
        note=note,
    )
    data = item_change_data(app_ctx, "wechat", "rules", name, result.change)

    def human(out: Any) -> None:
        verb = "Added" if result.change.changed else "Already present, unchanged:"
        out.success(f"{verb} wechat rule `{name}` ({result.template.title}, account `{account}`)")
        for key, value in values.items():
            out.line(f"  {key}: {value}")
        if data["variables"]:
            out.line("  filled at send time: " + ", ".join(data["variables"]))
        for other in result.change.cleared_default:
            out.info(f"`{other}` is no longer the default.")

    app_ctx.output.emit(data, human)


def _rule_row(view: dict[str, Any]) -> list[str]:
    return [
        view["name"],
        view.get("account")
        or (f"{view['deleted_account']} (deleted)" if view.get("deleted_account") else ""),
        view["template_title"] or view["template_id"],
        view["scenario"] or "",
        "yes" if view["enabled"] else "no",
        ", ".join(view["apps"]) or "(general)",
        "ok" if view["valid"] else f"invalid: {view['invalid_reason']}",
    ]


@rule_app.command("list")
def rule_list(
    ctx: typer.Context,
    account: str = typer.Option(None, "--account", help="Only this account's rules."),
    scenario: str = typer.Option(None, "--scenario", help="Only this scenario."),
) -> None:
    """List push rules; rules of a deleted account are shown as invalid."""
    app_ctx = app_context(ctx)
    config = app_ctx.config()
    _scenario(scenario)
    views = [
        wechat.rule_view(config, name, item)
        for name, item in config.collection("wechat", "rules").items()
        if (not account or account in (item["account"], item["deleted_account"]))
        and (not scenario or item["scenario"] == scenario)
    ]

    def human(out: Any) -> None:
        if not views:
            out.info("No wechat rules. Add one with `smsctl wechat rule add NAME ...`.")
            return
        out.table(
            ["NAME", "ACCOUNT", "TEMPLATE", "SCENARIO", "ENABLED", "APPS", "STATUS"],
            [_rule_row(v) for v in views],
        )

    app_ctx.output.emit(views, human)


@rule_app.command("show")
def rule_show(ctx: typer.Context, name: str = RULE) -> None:
    """Show one push rule: template, values, placeholders, and whether it is usable."""
    app_ctx = app_context(ctx)
    config = app_ctx.config()
    view = wechat.rule_view(config, name, config.get("wechat", "rules", name))

    def human(out: Any) -> None:
        shown = {k: v for k, v in view.items() if k not in ("vars", "valid", "invalid_reason")}
        shown["status"] = "ok" if view["valid"] else f"invalid: {view['invalid_reason']}"
        shown["vars"] = [f"{k}={v}" for k, v in view["vars"].items()]
        out.fields(shown)

    app_ctx.output.emit(view, human)


@rule_app.command("edit")
def rule_edit(
    ctx: typer.Context,
    name: str = RULE,
    template_id: str = typer.Option(None, "--template-id", metavar="ID", help="New template."),
    var: list[str] = typer.Option(
        None, "--var", metavar="NAME=VALUE", help="Set a variable's value; repeat."
    ),
    clear_vars: bool = typer.Option(
        False, "--clear-vars", help="Drop the current values first (with a new template)."
    ),
    url: str = typer.Option(None, "--url", help="New page URL ('' removes it)."),
    miniprogram: str = typer.Option(
        None, "--miniprogram", metavar="APPID:PATH", help="New mini program page ('' removes it)."
    ),
    scenario: str = typer.Option(None, "--scenario", help="New scenario ('' removes it)."),
    default: bool = typer.Option(
        None, "--default/--no-default", help="Mark or unmark it as the default."
    ),
    note: str = typer.Option(None, "--note", help="New note."),
) -> None:
    """Change a push rule; a new template or new values are checked live again."""
    app_ctx = app_context(ctx)
    result = wechat.edit_rule(
        app_ctx.store,
        app_ctx.secrets,
        name,
        template_id=template_id,
        values=wechat.parse_vars(var),
        clear_vars=clear_vars,
        url=url,
        miniprogram=miniprogram,
        scenario=_scenario(scenario, allow_empty=True),
        default=default,
        note=note,
    )
    data = item_change_data(app_ctx, "wechat", "rules", name, result.change)
    app_ctx.output.emit(
        data,
        lambda out: out.success(
            f"Updated wechat rule `{name}`: {', '.join(sorted(result.values))}"
            if result.change.changed
            else f"wechat rule `{name}` already has these values"
        ),
    )


@rule_app.command("enable")
def rule_enable(ctx: typer.Context, name: str = RULE) -> None:
    """Enable a push rule again (refused for a rule whose account was deleted)."""
    _set_rule_enabled(ctx, name, True)


@rule_app.command("disable")
def rule_disable(ctx: typer.Context, name: str = RULE) -> None:
    """Disable a push rule: never used until enabled again."""
    _set_rule_enabled(ctx, name, False)


def _set_rule_enabled(ctx: typer.Context, name: str, enabled: bool) -> None:
    app_ctx = app_context(ctx)
    change = wechat.set_rule_enabled(app_ctx.store, name, enabled)
    word = "enabled" if enabled else "disabled"
    data = {"name": name, "enabled": enabled, "changed": change.changed}
    app_ctx.output.emit(
        data,
        lambda out: out.success(
            f"wechat rule `{name}` {word}" + ("" if change.changed else " (already)")
        ),
    )


delete_command(
    rule_app,
    "wechat",
    "rules",
    note="The template stays on the official account; only smsctl forgets the rule.",
)


# --- validate ---------------------------------------------------------------------------------


@app.command("validate")
def validate(
    ctx: typer.Context,
    account: str = VALIDATE_ACCOUNT,
    check_only: bool = CHECK_ONLY,
) -> None:
    """Check an account live (a stable_token, never the legacy token call, then its template
    list); on success make it the active wechat account and check its push rules."""
    app_ctx = app_context(ctx)
    result = wechat.validate(app_ctx.store, app_ctx.secrets, account, check_only=check_only)
    data = validation_data("wechat", result, approved_templates=result.templates)
    data["items"] = [rule_validation_item(rule) for rule in result.rules]

    def human(out: Any) -> None:
        out.success(
            f"wechat account `{result.account}`: token obtained, {result.templates} approved "
            "template(s)"
        )
        if result.activated:
            previous = result.previous_active
            was = (
                f" (was `{previous}`, which stays configured)"
                if previous and (previous != result.account)
                else ""
            )
            out.success(f"`{result.account}` is the active wechat account{was}")
        for rule in result.rules:
            out.check(rule["ok"], f"rule {rule['rule']}: {rule['problem'] or 'ok'}")

    app_ctx.output.emit(data, human)


# --- send-test --------------------------------------------------------------------------------


@app.command("send-test")
def send_test(
    ctx: typer.Context,
    openid: str = typer.Option(..., "--openid", metavar="ID", help="The follower's OpenID."),
    rule: str = typer.Option(None, "--rule", metavar="NAME", help="The push rule to use."),
    scenario: str = typer.Option(
        None, "--scenario", help="Resolve the rule for this scenario (without --rule)."
    ),
    app_name: str = typer.Option(None, "--app", help="The app the push is for."),
    account: str = typer.Option(None, "--account", help="Default: the rule's / active account."),
    var: list[str] = typer.Option(
        None, "--var", metavar="NAME=VALUE", help="Fill a ${placeholder} of the rule; repeat."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Resolve and render; push nothing."),
    yes: bool = typer.Option(
        False, "--yes", "-y", help="Push without asking (needed without a TTY)."
    ),
    timeout: float = typer.Option(
        None, "--timeout", metavar="SECONDS", min=0.1, max=600, help="Read timeout."
    ),
    client_msg_id: str = typer.Option(
        None,
        "--client-msg-id",
        metavar="ID",
        help="Re-use the id of a push whose answer was lost, so WeChat drops a duplicate.",
    ),
) -> None:
    """Push a test template message to a follower and report WeChat's msgid, or what its
    errcode means and what to do."""
    from smsctl.cli.send_test import run_send_test

    run_send_test(
        app_context(ctx),
        "wechat",
        {
            "openid": openid,
            "rule": rule,
            "scenario": _scenario(scenario),
            "app": app_name,
            "account": account,
            "values": wechat.parse_vars(var),
            "client_msg_id": client_msg_id,
        },
        dry_run=dry_run,
        yes=yes,
        wait=None,
        timeout=timeout,
    )
