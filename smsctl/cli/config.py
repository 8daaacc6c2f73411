"""`smsctl config path|show|check`: where the config is, what is in effect, whether it is sound."""

from __future__ import annotations

from typing import Any

import typer

from smsctl.cli.context import app_context
from smsctl.core import schema
from smsctl.core.errors import ConfigError
from smsctl.core.masking import mask_access_key_id

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
    file_source = FileSource(config)
    settings: list[dict[str, Any]] = [
        {"key": "config", "value": str(config.path), "source": app_ctx.store.source},
    ]
    defaults = config.data.get("defaults", {})
    for key, field in schema.DEFAULTS_TABLE.items():
        settings.append(
            _setting(
                config,
                f"defaults.{key}",
                defaults.get(key, field.default),
                ("defaults", key) if key in defaults else None,
                file_source,
            )
        )
    backend_env = _env("PYTHON_KEYRING_BACKEND")
    if backend_env:
        settings.append(
            {"key": "secrets.backend", "value": backend_env, "source": "env PYTHON_KEYRING_BACKEND"}
        )
    elif config.secrets_backend():
        settings.append(
            _setting(
                config,
                "secrets.backend",
                config.secrets_backend(),
                ("secrets", "backend"),
                file_source,
            )
        )
    for channel in schema.CHANNELS:
        for key, value in config.guard_limits(channel).items():
            in_file = key in config.data.get("guard", {}).get(channel, {})
            settings.append(
                _setting(
                    config,
                    f"guard.{channel}.{key}",
                    value,
                    ("guard", channel, key) if in_file else None,
                    file_source,
                )
            )
        active = config.active_account(channel)
        if active:
            settings.append(
                _setting(
                    config,
                    f"{channel}.active_account",
                    active,
                    (channel, "active_account"),
                    file_source,
                )
            )
        in_file = config.channel(channel).get("accounts", {})
        for name, item in config.accounts(channel).items():
            for key, value in item.items():
                if value in (None, "") or key == "allow_insecure_endpoint" and not value:
                    continue
                shown = mask_access_key_id(value) if key == "access_key_id" else value
                settings.append(
                    _setting(
                        config,
                        f"{channel}.accounts.{name}.{key}",
                        shown,
                        (channel, "accounts", name, key) if key in in_file[name] else None,
                        file_source,
                    )
                )
            secret = "not checked" if no_secrets else app_ctx.secrets.status(channel, name)
            settings.append(
                {
                    "key": f"{channel}.accounts.{name}.secret",
                    "value": secret,
                    "source": _secret_source(secret),
                }
            )

    def human(out: Any) -> None:
        out.table(
            ["KEY", "VALUE", "SOURCE"],
            [[s["key"], _text(s["value"]), s["source"]] for s in settings],
        )

    app_ctx.output.emit({"path": str(config.path), "settings": settings}, human)


class FileSource:
    """`file PATH:LINE` for a key the file sets, with the line of that key itself (never the
    line of its table: a key the file does not set is a default)."""

    def __init__(self, config: Any) -> None:
        self.path = config.path
        self.lines = schema.key_lines(config.text)

    def __call__(self, path: tuple[str, ...]) -> str:
        line = self.lines.get(path)
        return f"file {self.path}" + (f":{line}" if line else "")


def _setting(
    config: Any, key: str, value: Any, path: tuple[str, ...] | None, file_source: FileSource
) -> dict[str, Any]:
    if path is None:
        return {"key": key, "value": value, "source": "default"}
    return {"key": key, "value": value, "source": file_source(path)}


def _secret_source(status: str) -> str:
    if status.startswith("set ("):
        return status[5:-1]
    return "-"


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return str(value)


def _env(name: str) -> str | None:
    import os

    return os.environ.get(name) or None


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
