"""`smsctl voice ...`: Alibaba Cloud voice calls (dyvmsapi) — accounts, TTS and voice-file
templates, validate, test calls with their call result."""

from __future__ import annotations

from typing import Any

import typer

from smsctl.cli.account import make_account_app
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
    CHECK_ONLY,
    DRY_RUN,
    PARAM,
    PARAMS_JSON,
    SCENARIO_FILTER,
    SCENARIO_HELP,
    TIMEOUT,
    VALIDATE_ACCOUNT,
    YES,
)
from smsctl.cli.render import render_added, render_validation, validation_data
from smsctl.cli.send_test import run_send_test
from smsctl.core import clock, voice
from smsctl.core.params import parse_params
from smsctl.core.schema import check_scenario
from smsctl.providers.worker import calls_alibaba

app = typer.Typer(
    help="Voice calls through Alibaba Cloud (dyvmsapi): accounts, TTS and voice-file "
    "templates, validate, test calls.",
    no_args_is_help=True,
)
app.add_typer(make_account_app("voice"), name="account")

template_app = typer.Typer(
    help="Voice templates: TTS (text you give, with ${var} variables) or recorded voice files.",
    no_args_is_help=True,
)
app.add_typer(template_app, name="template")

CODE = typer.Argument(
    ..., metavar="CODE", help="The provider's code: TTS_123456, or the voice file's code."
)


# --- templates -----------------------------------------------------------------------------------


@template_app.command("add")
@calls_alibaba("voice", only_with="--voice-file")
def template_add(
    ctx: typer.Context,
    code: str = CODE,
    account: str = typer.Option(..., "--account", help="The voice account it belongs to."),
    scenario: str = typer.Option(..., "--scenario", help=SCENARIO_HELP),
    content: str = typer.Option(
        None,
        "--content",
        metavar="TEXT",
        help="TTS: the template text exactly as approved, e.g. '您的验证码是${code}'.",
    ),
    voice_file: bool = typer.Option(
        False,
        "--voice-file",
        help="A recorded voice file (no text, no variables); its review state is asked of the "
        "provider.",
    ),
    name: str = typer.Option(None, "--name", help="A label shown in lists."),
    default: bool = typer.Option(False, "--default", help="Prefer it when several fit."),
    allow_pending: bool = ALLOW_PENDING,
) -> None:
    """Add a voice template. The provider cannot be asked for a TTS template's text, so give it
    with --content (its ${var} variables are checked on every send); --voice-file for audio,
    stored only once the provider approved it."""
    app_ctx = app_context(ctx)
    check_scenario(scenario)
    change = voice.add_template(
        app_ctx.store,
        app_ctx.secrets,
        code,
        account=account,
        scenario=scenario,
        content=content,
        voice_file=voice_file,
        name=name,
        default=default,
        allow_pending=allow_pending,
    )
    item = app_ctx.config(fresh=True).get("voice", "templates", code)
    data = item_change_data(app_ctx, "voice", "templates", code, change)

    details = (
        [f"content:   {item['content']}", f"variables: {', '.join(item['variables']) or '-'}"]
        if item["kind"] == "tts"
        else [f"status:    {item['status']} at the provider"]
    )

    def human(out: Any) -> None:
        render_added(out, f"voice template `{code}` ({item['kind']})", change, scenario, details)
        if item["kind"] == "voice-file" and item["status"] != "approved":
            out.info(
                "It is not approved yet: it will not be used for calls until "
                "`smsctl voice template sync` sees it approved."
            )

    app_ctx.output.emit(data, human)


@template_app.command("list")
def template_list(
    ctx: typer.Context,
    account: str = ACCOUNT_FILTER,
    scenario: str = SCENARIO_FILTER,
) -> None:
    """List voice templates with kind, scenario and authorized apps."""
    list_templates(
        app_context(ctx),
        "voice",
        account=account,
        scenario=scenario,
        extra=[
            ("KIND", lambda r: r["kind"]),
            ("VARIABLES", lambda r: ", ".join(r["variables"]) or "-"),
        ],
    )


@template_app.command("show")
def template_show(ctx: typer.Context, code: str = CODE) -> None:
    """Show one voice template, its content and variables."""
    show_template(app_context(ctx), "voice", code)


@template_app.command("render")
def template_render(
    ctx: typer.Context,
    code: str = CODE,
    param: list[str] = PARAM,
    params_json: str = PARAMS_JSON,
) -> None:
    """Print the exact text the callee will hear (computed locally; nothing is called)."""
    render_template(app_context(ctx), "voice", code, parse_params(param, params_json))


@template_app.command("edit")
def template_edit(
    ctx: typer.Context,
    code: str = CODE,
    scenario: str = typer.Option(None, "--scenario", help=SCENARIO_HELP),
    name: str = typer.Option(None, "--name", help="A new label."),
    content: str = typer.Option(
        None, "--content", metavar="TEXT", help="New TTS text (after it changed at the provider)."
    ),
    default: bool = typer.Option(
        None, "--default/--no-default", help="Mark or unmark it as preferred for its scenario."
    ),
) -> None:
    """Change a voice template's scenario, label, TTS content or default mark."""
    app_ctx = app_context(ctx)
    check_scenario(scenario)
    change = voice.edit_template(
        app_ctx.store, code, scenario=scenario, name=name, content=content, default=default
    )
    data = item_change_data(app_ctx, "voice", "templates", code, change)

    def human(out: Any) -> None:
        out.success(f"Voice template `{code}` " + ("updated" if change.changed else "unchanged"))
        for other in change.cleared_default:
            out.info(f"`{other}` is no longer the default for its scenario.")

    app_ctx.output.emit(data, human)


@template_app.command("sync")
@calls_alibaba("voice")
def template_sync(
    ctx: typer.Context,
    code: str = typer.Argument(
        None, metavar="[CODE]", help="One voice file (default: every voice file)."
    ),
) -> None:
    """Refresh the review state of one or all voice files from the provider (TTS templates
    cannot be looked up there)."""
    app_ctx = app_context(ctx)
    results = voice.sync(app_ctx.store, app_ctx.secrets, [code] if code else None)
    render_sync(app_ctx, "voice file", results)


enable_command(template_app, "voice", "templates")
delete_command(
    template_app,
    "voice",
    "templates",
    note="The template stays at the provider; only smsctl forgets it.",
)


# --- validate ------------------------------------------------------------------------------------


@app.command("validate")
@calls_alibaba("voice")
def validate(
    ctx: typer.Context,
    account: str = VALIDATE_ACCOUNT,
    check_only: bool = CHECK_ONLY,
) -> None:
    """Check a voice account's credentials with a read-only provider call (no call is placed);
    on success make it the active voice account (the previous one stays configured) and report
    the review state of its voice files."""
    app_ctx = app_context(ctx)
    result = voice.validate(app_ctx.store, app_ctx.secrets, account, check_only=check_only)
    app_ctx.output.emit(
        validation_data("voice", result),
        lambda out: render_validation(
            out, result, "voice", lambda item: f"smsctl voice template sync {item.split()[-1]}"
        ),
    )


# --- test calls ----------------------------------------------------------------------------------


@app.command("send-test")
@calls_alibaba("voice", unless=("--dry-run",))
def send_test(
    ctx: typer.Context,
    to: str = typer.Option(
        ..., "--to", metavar="PHONE", help="E.164 number; mainland numbers may omit +86."
    ),
    scenario: str = typer.Option(None, "--scenario", help=SCENARIO_HELP),
    app_name: str = typer.Option(
        None, "--app", help="The app the call is for (personalized templates win)."
    ),
    account: str = typer.Option(None, "--account", help="Use this account, not the active one."),
    template: str = typer.Option(None, "--template", help="Use this voice template code."),
    param: list[str] = PARAM,
    params_json: str = PARAMS_JSON,
    play_times: int = typer.Option(
        None, "--play-times", min=1, max=3, help="How often the message is played (1-3)."
    ),
    volume: int = typer.Option(None, "--volume", min=0, max=100, help="Volume 0-100."),
    speed: int = typer.Option(None, "--speed", min=-500, max=500, help="Speed -500..500."),
    dry_run: bool = DRY_RUN,
    wait: float = typer.Option(
        None,
        "--wait",
        metavar="SECONDS",
        min=0,
        max=3600,
        help="Wait up to SECONDS for the call result (answered, busy, not answered, ...).",
    ),
    timeout: float = TIMEOUT,
    yes: bool = YES,
) -> None:
    """Place a real test call through the resolved account and voice template. With --wait,
    exit 0 when the call was answered, 8 when it was not (or no result came in time)."""
    run_send_test(
        app_context(ctx),
        "voice",
        {
            "to": to,
            "scenario": scenario,
            "app": app_name,
            "account": account,
            "template": template,
            "values": parse_params(param, params_json),
            "play_times": play_times,
            "volume": volume,
            "speed": speed,
        },
        dry_run=dry_run,
        yes=yes,
        wait=wait,
        timeout=timeout,
    )


@app.command("call-result")
@calls_alibaba("voice")
def call_result(
    ctx: typer.Context,
    call_id: str = typer.Option(..., "--call-id", help="The CallId send-test printed."),
    voice_file: bool = typer.Option(
        False, "--voice-file", help="The call played a voice file (default: a TTS call)."
    ),
    date: str = typer.Option(
        None,
        "--date",
        metavar="DATE",
        help="The call's date in China (UTC+8), YYYY-MM-DD or YYYYMMDD. Default: the call's "
        "own date from smsctl's log, else China's today.",
    ),
    account: str = typer.Option(None, "--account", help="Default: the active voice account."),
) -> None:
    """Look up the result of a call placed earlier (exit 0 answered, 8 otherwise)."""
    app_ctx = app_context(ctx)
    if date:
        clock.parse_date(date)
    kind = "voice-file" if voice_file else "tts"
    detail, days, asked = voice.query_call(
        app_ctx.config(), app_ctx.secrets, account, call_id, kind, date
    )
    data = {
        "channel": "voice",
        "account": asked,
        "call_id": call_id,
        "kind": kind,
        "final": voice.final_of(detail, detail.final),
        **(voice.detail_dict(detail, detail.final) or {}),
    }
    if not detail.final:
        raise voice.pending_error(call_id, kind, days, data)
    if not detail.answered:
        failure = voice.state_error(f"CallId {call_id}", call_id, detail)
        failure.details.update(data)
        raise failure
    app_ctx.output.emit(
        data,
        lambda out: out.success(
            f"Answered: {detail.explanation.meaning} (state {detail.state}, "
            f"{detail.duration or 0} s, ended {clock.show(detail.ended_at)})"
        ),
    )
