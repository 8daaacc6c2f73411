"""`smsctl config path|show|check`: where the config is, what is in effect, whether it is sound."""

from __future__ import annotations

from typing import Any

import typer

from smsctl.cli.context import app_context
from smsctl.core import schema
from smsctl.core.config_view import effective_settings
from smsctl.core.errors import ConfigError

app = typer.Typer(
    help="Where the config file is, what is in effect, and whether it is sound.",
    no_args_is_help=True,
)


@app.command("path")
def path(ctx: typer.Context) -> None:
    """Print the config file's path and why it is that one."""
    app_ctx = app_context(ctx)
    store = app_ctx.store
    data = {"path": str(store.path), "source": store.source, "exists": store.exists()}
    app_ctx.output.emit(data, lambda out: out.line(str(store.path)))


@app.command("show")
def show(
    ctx: typer.Context,
    no_secrets: bool = typer.Option(
        False,
        "--no-secrets",
        help="Do not ask the keyring where each secret is (faster; shows `not checked`).",
    ),
) -> None:
    """Print the effective settings and where each came from (file, env, flag, keyring).
    Never prints a secret's value."""
    app_ctx = app_context(ctx)
    config = app_ctx.config()
    secrets = None if no_secrets else app_ctx.secrets
    settings = effective_settings(config, app_ctx.store.source, secrets)

    def human(out: Any) -> None:
        out.table(["KEY", "VALUE", "SOURCE"], [[s.key, s.text, s.source] for s in settings])

    data = {"path": str(config.path), "settings": [s.to_dict() for s in settings]}
    app_ctx.output.emit(data, human)


@app.command("check")
def check(ctx: typer.Context) -> None:
    """Validate the file and every reference in it; exit 3 with each problem and its line."""
    app_ctx = app_context(ctx)
    store = app_ctx.store
    if not store.exists():
        data = {"path": str(store.path), "ok": True, "exists": False, "problems": []}
        app_ctx.output.emit(
            data,
            lambda out: out.success(
                f"No config file yet at {store.path} (an empty config is valid)"
            ),
        )
        return
    config = app_ctx.config()
    problems = config.reference_problems()
    if problems:
        raise ConfigError(
            f"{store.path} has {len(problems)} problem(s):\n  "
            + "\n  ".join(p.describe() for p in problems),
            hint="Fix the lines named above and run `smsctl config check` again.",
            code="invalid_config",
            details={"problems": [p.describe() for p in problems]},
        )
    counts = {channel: len(config.accounts(channel)) for channel in schema.CHANNELS}
    data = {"path": str(store.path), "ok": True, "exists": True, "problems": [], "accounts": counts}
    app_ctx.output.emit(
        data,
        lambda out: out.success(
            f"{store.path} is valid ("
            + ", ".join(f"{n} {channel} account(s)" for channel, n in counts.items())
            + ")"
        ),
    )
