"""`smsctl completion [bash|zsh|fish] [--install]`: print or install the shell completion script."""

from __future__ import annotations

import typer

from smsctl.cli.context import app_context
from smsctl.core import shell_setup


def completion(
    ctx: typer.Context,
    shell: str = typer.Argument(
        None, metavar="[SHELL]", help="bash, zsh or fish (default: your shell, from $SHELL)."
    ),
    install: bool = typer.Option(
        False, "--install", help="Install it for the shell instead of printing it."
    ),
) -> None:
    """Print the shell completion script, or install it for your shell (--install).

    TAB then completes commands, options and the names in your config (accounts, signatures,
    templates, apps, rules). Installing writes the script where the shell looks for it and, for
    bash and zsh, adds one marked line to ~/.bashrc or ~/.zshrc (never twice). Open a new shell
    afterwards."""
    from smsctl.completion import SCRIPTS
    from smsctl.core.errors import UsageError

    app_ctx = app_context(ctx)
    if shell is not None and shell not in shell_setup.SHELLS:
        raise UsageError(f"Unknown shell {shell!r}: bash, zsh or fish.", code="usage")
    chosen = shell or shell_setup.detect_shell()
    if not install:
        script = SCRIPTS[chosen]
        app_ctx.output.emit(
            {"shell": chosen, "script": script}, lambda out: out.line(script.rstrip("\n"))
        )
        return
    done = shell_setup.install(chosen, SCRIPTS[chosen])
    data = {
        "shell": chosen,
        "script_path": str(done.script),
        "script_changed": done.script_changed,
        "rc_file": str(done.rc_file) if done.rc_file else None,
        "rc_changed": done.rc_changed,
    }

    def render(out) -> None:
        out.success(f"{chosen} completion installed in {done.script}")
        if done.rc_changed:
            out.info(f"Added one line to {done.rc_file} to load it.")
        out.hint("Open a new shell (or `exec $SHELL`) for TAB to complete smsctl.")

    app_ctx.output.emit(data, render)
