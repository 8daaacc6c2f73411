"""Verbs shared by signatures, templates and rules of every channel (enable, disable, delete,
list rows, sync report), so each noun module stays a list of its own commands."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import typer

from smsctl.cli.context import AppContext, app_context
from smsctl.core import accounts, channels, items
from smsctl.core.config import Config


def item_rows(
    config: Config,
    channel: str,
    kind: str,
    *,
    account: str | None = None,
    scenario: str | None = None,
) -> list[dict[str, Any]]:
    if account:
        config.get(channel, "accounts", account)
    rows = []
    key = id_key(channel, kind)
    for name, item in config.collection(channel, kind).items():
        if account and item.get("account") != account:
            continue
        if scenario and item.get("scenario") != scenario:
            continue
        rows.append({key: name, **item})
    return rows


def id_key(channel: str, kind: str) -> str:
    """SMS and voice templates are keyed by the provider's code; everything else by name."""
    return channels.channel(channel).item(kind).id_key


def list_templates(
    app_ctx: AppContext,
    channel: str,
    *,
    account: str | None,
    scenario: str | None,
    extra: list[tuple[str, Callable[[dict[str, Any]], str]]],
) -> None:
    """The template (or rule) list of a channel: the shared columns, then the channel's own."""
    from smsctl.core.resolution import TEMPLATE_KIND
    from smsctl.core.schema import check_scenario

    check_scenario(scenario)
    kind = TEMPLATE_KIND[channel]
    key = id_key(channel, kind)
    config = app_ctx.config()
    rows = [
        items.view(config, channel, kind, row[key])
        for row in item_rows(config, channel, kind, account=account, scenario=scenario)
    ]

    def human(out: Any) -> None:
        if not rows:
            prefix = channels.channel(channel).command()
            out.info(
                f"No {items.label(channel, kind)}s. Add one with `{prefix} "
                f"{items.NOUN[kind]} add ...`."
            )
            return
        out.table(
            [
                key.upper(),
                "ACCOUNT",
                "SCENARIO",
                "ENABLED",
                "DEFAULT",
                "APPS",
                *(header for header, _ in extra),
            ],
            [
                [
                    r["name"],
                    r.get("account") or "(any)",
                    r.get("scenario") or "",
                    "yes" if r["enabled"] else "no",
                    "yes" if r["default"] else "",
                    ", ".join(r["apps"]) or "(general)",
                    *(cell(r) for _, cell in extra),
                ]
                for r in rows
            ],
        )

    app_ctx.output.emit(rows, human)


def show_template(app_ctx: AppContext, channel: str, name: str) -> None:
    """`template show` of every channel: the item's view, with long bodies (an email's HTML and
    text) printed below the fields."""
    from smsctl.core.resolution import TEMPLATE_KIND

    view = items.view(app_ctx.config(), channel, TEMPLATE_KIND[channel], name)

    def human(out: Any) -> None:
        if "html" not in view:
            out.fields(view)
            return
        shown = {k: v for k, v in view.items() if k not in ("html", "text", "text_generated")}
        shown["text"] = "(generated from the HTML)" if view["text_generated"] else "(below)"
        out.fields(shown)
        out.line()
        out.line("--- HTML ---")
        out.line(view["html"].rstrip("\n"))
        if not view["text_generated"]:
            out.line("--- text ---")
            out.line(view["text"].rstrip("\n"))

    app_ctx.output.emit(view, human)


def render_template(
    app_ctx: AppContext,
    channel: str,
    name: str,
    values: dict[str, str],
    *,
    signature: str | None = None,
) -> None:
    """`template render` of every channel: what the recipient would get, computed locally."""
    data = items.render_view(app_ctx.config(), channel, name, values, signature=signature)

    def human(out: Any) -> None:
        if "html" in data:
            show_message(out, data)
        elif data["text"] is None:
            out.line(f"(voice file {name}: recorded audio, no text)")
        else:
            out.line(data["text"])
        for warning in data["warnings"]:
            out.warn(warning)

    app_ctx.output.emit(data, human)


def show_message(out: Any, message: dict[str, Any]) -> None:
    """An email as it would be sent: subject, text part, HTML part."""
    out.line(f"Subject: {message['subject']}")
    out.line()
    generated = " (generated from the HTML)" if message["text_generated"] else ""
    out.line("--- text/plain" + generated)
    out.line(message["text"].rstrip("\n"))
    out.line("--- text/html")
    out.line(message["html"].rstrip("\n"))


def item_change_data(
    app_ctx: AppContext, channel: str, kind: str, name: str, change: Any
) -> dict[str, Any]:
    """What `template add` and `edit` report on every channel: the item as it is now, whether
    the command changed it, and which others stopped being their scenario's default."""
    view = items.view(app_ctx.config(fresh=True), channel, kind, name)
    return {**view, "changed": change.changed, "cleared_default": list(change.cleared_default)}


def enable_command(app: typer.Typer, channel: str, kind: str) -> None:
    noun = items.NOUN[kind]

    @app.command("enable")
    def enable(ctx: typer.Context, name: str = typer.Argument(..., metavar="NAME")) -> None:
        """Enable it again for sending."""
        _set_enabled(app_context(ctx), channel, kind, name, True)

    @app.command("disable")
    def disable(ctx: typer.Context, name: str = typer.Argument(..., metavar="NAME")) -> None:
        """Disable it: it is never used for sending until enabled again."""
        _set_enabled(app_context(ctx), channel, kind, name, False)

    enable.__doc__ = f"Enable a {noun} again for sending."
    disable.__doc__ = f"Disable a {noun}: never used for sending until enabled again."


def _set_enabled(app_ctx: AppContext, channel: str, kind: str, name: str, enabled: bool) -> None:
    change = accounts.set_item_enabled(app_ctx.store, channel, kind, name, enabled)
    word = "enabled" if enabled else "disabled"
    data = {"name": name, "enabled": enabled, "changed": change.changed}
    app_ctx.output.emit(
        data,
        lambda out: out.success(
            f"{items.label(channel, kind).capitalize()} `{name}` {word}"
            + ("" if change.changed else " (already)")
        ),
    )


def delete_command(app: typer.Typer, channel: str, kind: str, *, note: str | None = None) -> None:
    @app.command("delete")
    def delete(
        ctx: typer.Context,
        name: str = typer.Argument(..., metavar="NAME"),
        yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask."),
    ) -> None:
        """Delete it from smsctl."""
        app_ctx = app_context(ctx)
        label = items.label(channel, kind)
        app_ctx.config().get(channel, kind, name)
        app_ctx.confirm(f"Delete {label} `{name}`?", yes=yes, what=f"Deleting {label} `{name}`")
        items.remove(app_ctx.store, channel, kind, name, command=f"{label} delete")
        data = {"name": name, "deleted": True, "note": note}

        def human(out: Any) -> None:
            out.success(f"Deleted {label} `{name}`")
            if note:
                out.info(note)

        app_ctx.output.emit(data, human)

    delete.__doc__ = f"Delete a {items.NOUN[kind]} from smsctl." + (f" {note}" if note else "")


def render_sync(app_ctx: AppContext, noun: str, results: list[Any]) -> None:
    data = [
        {
            "name": r.name,
            "status": r.status,
            "previous": r.previous,
            "changed": r.changed,
            "reason": r.reason,
            "error": r.error.to_dict() if r.error else None,
            "drift": r.drift,
            "affected": r.affected,
        }
        for r in results
    ]

    def human(out: Any) -> None:
        if not results:
            out.info(f"No {noun}s to sync.")
        for r in results:
            if r.error:
                out.failure(f"{noun} `{r.name}`: {r.error.message}")
            elif r.changed:
                out.success(
                    f"{noun} `{r.name}`: {r.previous or 'never checked'} -> {r.status}"
                    + (f" ({r.reason})" if r.reason else "")
                )
            elif not r.drift:
                out.success(f"{noun} `{r.name}`: {r.status} (unchanged)")
            if r.drift:
                show_drift(out, f"{noun} `{r.name}`", r.drift, r.affected)

    app_ctx.output.emit(data, human)


def show_drift(out: Any, what: str, drift: dict[str, Any], affected: list[str]) -> None:
    """A template changed at the provider since smsctl stored it: old and new, and what no
    longer matches."""
    out.warn(f"{what} changed at the provider since it was added:")
    for key, change in drift.items():
        old, new = change["old"], change["new"]
        if isinstance(old, list):
            old, new = ", ".join(old) or "(none)", ", ".join(new) or "(none)"
        out.line(f"  {key}: was  {old or '(none)'}")
        out.line(f"  {' ' * len(key)}  now  {new or '(none)'}")
    for line in affected:
        out.line(f"  no longer matches: {line}")
