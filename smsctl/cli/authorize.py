"""`smsctl authorize ...`: which app may use which signature, template or rule
(docs/contract.md §2)."""

from __future__ import annotations

from typing import Any

import typer

from smsctl.cli.context import AppContext, app_context
from smsctl.cli.render import render_resolution
from smsctl.core import items, resolution
from smsctl.core.errors import SmsctlError, UsageError
from smsctl.core.schema import CHANNELS

app = typer.Typer(
    help="Which apps may use which signatures, templates and rules. An item with "
    "no apps is general (any app); one with apps is personalized (only them, and "
    "for them it wins over general ones).",
    no_args_is_help=True,
)

APPS = typer.Option(..., "--app", metavar="APP", help="An app name; repeat for several.")
CREATE_APP = typer.Option(
    False,
    "--create-app",
    help="Create app names not seen before "
    "(without it, an unknown name is refused so a typo never becomes an "
    "app).",
)
CHANNEL = typer.Option("sms", "--channel", help="sms, voice, email or wechat.")
KINDS = {"signature": "signatures", "template": "templates", "rule": "rules"}


def _kind_for(noun: str, channel: str) -> str:
    if noun not in KINDS:
        raise UsageError(f"Unknown kind {noun!r}: signature, template or rule.")
    if channel not in CHANNELS:
        raise UsageError(f"Unknown channel {channel!r}: " + ", ".join(CHANNELS) + ".")
    kind = KINDS[noun]
    from smsctl.core import channels

    model = channels.channel(channel)
    if not model.has(kind):
        own = ", ".join(f"`authorize {item.noun} NAME --app A`" for item in model.items)
        raise UsageError(
            f"{channel} has no {noun}s ({noun}s exist for: "
            f"{', '.join(channels.with_items(kind))}); {model.title} uses {own}."
        )
    return kind


def _grant(
    app_ctx: AppContext, channel: str, kind: str, name: str, apps: list[str], create_app: bool
) -> None:
    change = items.authorize(app_ctx.store, channel, kind, name, apps, create_app=create_app)
    item = app_ctx.config(fresh=True).get(channel, kind, name)
    data = {
        "channel": channel,
        "kind": items.NOUN[kind],
        "name": name,
        "apps": item["apps"],
        "changed": change.changed,
    }
    app_ctx.output.emit(
        data,
        lambda out: out.success(
            f"{items.label(channel, kind).capitalize()} `{name}` is personalized for: "
            f"{', '.join(item['apps'])}" + ("" if change.changed else " (unchanged)")
        ),
    )


@app.command("signature")
def signature(
    ctx: typer.Context,
    name: str = typer.Argument(..., metavar="NAME"),
    app_names: list[str] = APPS,
    create_app: bool = CREATE_APP,
) -> None:
    """Authorize apps to use an SMS signature."""
    _grant(app_context(ctx), "sms", "signatures", name, app_names, create_app)


@app.command("template")
def template(
    ctx: typer.Context,
    name: str = typer.Argument(..., metavar="CODE"),
    app_names: list[str] = APPS,
    channel: str = CHANNEL,
    create_app: bool = CREATE_APP,
) -> None:
    """Authorize apps to use a template of the sms, voice or email channel."""
    _grant(app_context(ctx), channel, _kind_for("template", channel), name, app_names, create_app)


@app.command("rule")
def rule(
    ctx: typer.Context,
    name: str = typer.Argument(..., metavar="NAME"),
    app_names: list[str] = APPS,
    create_app: bool = CREATE_APP,
) -> None:
    """Authorize apps to use a WeChat push rule."""
    _grant(app_context(ctx), "wechat", "rules", name, app_names, create_app)


@app.command("revoke")
def revoke(
    ctx: typer.Context,
    noun: str = typer.Argument(..., metavar="signature|template|rule"),
    name: str = typer.Argument(..., metavar="NAME"),
    app_names: list[str] = APPS,
    channel: str = typer.Option(
        None, "--channel", help="sms (default), voice, email; rules are always wechat."
    ),
) -> None:
    """Take apps off an item; with no apps left it is general again."""
    app_ctx = app_context(ctx)
    channel = channel or ("wechat" if noun == "rule" else "sms")
    kind = _kind_for(noun, channel)
    change = items.revoke(app_ctx.store, channel, kind, name, app_names)
    remaining = change.values["apps"]
    data = {
        "channel": channel,
        "kind": noun,
        "name": name,
        "apps": remaining,
        "changed": change.changed,
    }
    app_ctx.output.emit(
        data,
        lambda out: out.success(
            f"Revoked {', '.join(app_names)} from {items.label(channel, kind)} `{name}`; now "
            + (f"personalized for {', '.join(remaining)}" if remaining else "general")
        ),
    )


@app.command("list")
def list_(
    ctx: typer.Context,
    app_name: str = typer.Option(None, "--app", help="Only what this app may use."),
    channel: str = typer.Option(None, "--channel", help="Only this channel."),
) -> None:
    """What each app may use, and what each app gets for each scenario in use."""
    app_ctx = app_context(ctx)
    config = app_ctx.config()
    if app_name is not None and app_name not in config.apps():
        items.check_apps(config, [app_name], create=False)
    channels = [channel] if channel else list(CHANNELS)
    rows = []
    for ch in channels:
        for kind in ("signatures", "templates", "rules"):
            if (ch, kind) not in _AUTHORIZABLE:
                continue
            for name, item in config.collection(ch, kind).items():
                apps = item.get("apps") or []
                if app_name and apps and app_name not in apps:
                    continue
                rows.append(
                    {
                        "channel": ch,
                        "kind": items.NOUN[kind],
                        "name": name,
                        "scope": "personalized" if apps else "general",
                        "apps": apps,
                        "enabled": item.get("enabled", True),
                        "scenario": item.get("scenario"),
                    }
                )
    resolved = _resolutions(config, channels, app_name)
    data = {"apps": sorted(config.apps()), "items": rows, "resolution": resolved}

    def human(out: Any) -> None:
        out.table(
            ["CHANNEL", "KIND", "NAME", "SCENARIO", "SCOPE", "APPS", "ENABLED"],
            [
                [
                    r["channel"],
                    r["kind"],
                    r["name"],
                    r["scenario"] or "",
                    r["scope"],
                    ", ".join(r["apps"]),
                    "yes" if r["enabled"] else "no",
                ]
                for r in rows
            ],
            title="Authorizations",
        )
        if resolved:
            out.line()
            out.table(
                ["CHANNEL", "SCENARIO", "APP", "USES", "WHY"],
                [
                    [r["channel"], r["scenario"], r["app"] or "(none)", r["uses"] or "-", r["why"]]
                    for r in resolved
                ],
                title="What each app gets",
            )

    app_ctx.output.emit(data, human)


_AUTHORIZABLE = {
    ("sms", "signatures"),
    ("sms", "templates"),
    ("voice", "templates"),
    ("email", "templates"),
    ("wechat", "rules"),
}


def _resolutions(config: Any, channels: list[str], only_app: str | None) -> list[dict[str, Any]]:
    results = []
    apps = [only_app] if only_app else [None, *sorted(config.apps())]
    for ch in channels:
        kind = resolution.TEMPLATE_KIND[ch]
        scenarios = sorted(
            {i.get("scenario") for i in config.collection(ch, kind).values() if i.get("scenario")}
        )
        if not scenarios or not config.accounts(ch):
            continue
        for scenario in scenarios:
            for app_name in apps:
                try:
                    chosen = resolution.resolve(config, ch, scenario=scenario, app=app_name)
                    uses = chosen.template.name + (
                        f" + {chosen.signature.name}" if chosen.signature else ""
                    )
                    why = f"account {chosen.account.name}; {chosen.template.reason}"
                except SmsctlError as err:
                    uses, why = None, err.message
                results.append(
                    {"channel": ch, "scenario": scenario, "app": app_name, "uses": uses, "why": why}
                )
    return results


@app.command("resolve")
def resolve(
    ctx: typer.Context,
    scenario: str = typer.Option(..., "--scenario", help="register, login, ..."),
    app_name: str = typer.Option(None, "--app", help="The app sending."),
    channel: str = typer.Option("sms", "--channel", help="sms, voice, email or wechat."),
    account: str = typer.Option(None, "--account", help="Use this account, not the active one."),
) -> None:
    """Explain which account, signature and template a send would use, and why."""
    app_ctx = app_context(ctx)
    if channel not in CHANNELS:
        raise UsageError(f"Unknown channel {channel!r}: " + ", ".join(CHANNELS) + ".")
    chosen = resolution.resolve(
        app_ctx.config(), channel, scenario=scenario, app=app_name, account=account
    )
    data = chosen.to_dict()
    app_ctx.output.emit(data, lambda out: render_resolution(out, chosen))
