"""The per-run context: global flags and lazily built dependencies (the gh CLI's Factory).

Nothing is constructed until a command asks for it, so a command that only reads the config
never loads the keyring, and tests replace any piece by assigning it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import typer

from smsctl.core.config import Config, ConfigStore
from smsctl.core.debug import debug
from smsctl.core.errors import (
    Aborted,
    ConfirmationRequired,
    CredentialError,
    Interrupted,
)
from smsctl.core.output import Output
from smsctl.core.paths import config_path


def env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


@dataclass
class AppContext:
    json: bool = False
    no_input: bool = False
    quiet: bool = False
    verbose: bool = False
    no_color: bool = False
    config_flag: str | None = None
    _output: Output | None = field(default=None, repr=False)
    _store: ConfigStore | None = field(default=None, repr=False)
    _config: Config | None = field(default=None, repr=False)
    _secrets: Any = field(default=None, repr=False)

    @property
    def output(self) -> Output:
        if self._output is None:
            self._output = Output(
                json_mode=self.json, quiet=self.quiet, verbose=self.verbose, no_color=self.no_color
            )
        return self._output

    @property
    def store(self) -> ConfigStore:
        if self._store is None:
            path, source = config_path(self.config_flag)
            self._store = ConfigStore(path, source)
            debug(f"config file {path} ({source})")
        return self._store

    def config(self, *, fresh: bool = False) -> Config:
        if self._config is None or fresh:
            self._config = self.store.load()
        return self._config

    @property
    def secrets(self) -> Any:
        if self._secrets is None:
            from smsctl.core.secrets import SecretStore, command_timeout

            config = self.config()
            self._secrets = SecretStore(
                configured_backend=config.secrets_backend(),
                commands=lambda channel, account: (
                    self.config().find(channel, "accounts", account) or {}
                ).get("secret_command"),
                command_timeout=command_timeout(
                    config.data.get("secrets", {}).get("command_timeout")
                ),
            )
        return self._secrets

    # --- interaction ---------------------------------------------------------------------

    def can_prompt(self) -> bool:
        if self.no_input or env_flag("SMSCTL_NO_INPUT"):
            return False
        return _isatty(sys.stdin) and _isatty(sys.stderr)

    def confirm(self, question: str, *, yes: bool, what: str) -> None:
        """Go on when --yes was given or the user says yes; otherwise stop (docs/contract.md §6)."""
        if yes:
            return
        if not self.can_prompt():
            raise ConfirmationRequired(
                f"{what} needs confirmation, and this run cannot ask (no terminal or --no-input).",
                hint="Add --yes to confirm in a script.",
                code="confirmation_required",
            )
        from smsctl.core.terminal_text import visible

        with _answered_or_stopped(end_line=True):
            agreed = typer.confirm(visible(question), default=False, err=True)
        if not agreed:
            raise Aborted()

    def read_secret(self, label: str, *, from_stdin: bool) -> str | None:
        """A secret from one line of stdin, or a hidden prompt with confirmation; never argv."""
        from smsctl.core.secrets import check_secret_text, secret_from_stdin

        if from_stdin:
            return secret_from_stdin(sys.stdin, label)
        if not self.can_prompt():
            return None
        with _answered_or_stopped():
            value = typer.prompt(label, hide_input=True, confirmation_prompt=True, err=True)
        if not value:
            raise CredentialError(f"Empty {label}.", code="empty_secret")
        return check_secret_text(value, label)


@contextmanager
def _answered_or_stopped(*, end_line: bool = False) -> Iterator[None]:
    """Every prompt ends the same way when it gets no answer: Ctrl-C is an interruption (exit
    130), end of input (Ctrl-D) an abort (exit 1); either way nothing has been done yet.
    `end_line`: the prompt left the cursor after its question (a hidden prompt ends the line
    itself)."""
    try:
        yield
    except typer.Abort as stop:
        if end_line:
            sys.stderr.write("\n")
        if isinstance(stop.__context__, KeyboardInterrupt):
            raise Interrupted("Interrupted at the prompt: nothing was done.") from None
        raise Aborted("Aborted: no answer at the prompt, nothing was done.") from None


def app_context(ctx: typer.Context) -> AppContext:
    root = ctx.find_root()
    if not isinstance(root.obj, AppContext):
        root.obj = AppContext()
    return root.obj


def command_line(ctx: typer.Context, *extra: str) -> str:
    """The command being run, as the user could type it again (shell-quoted), with the option
    `extra` (a flag, or an option and its value) added unless it is there already: what a hint
    offers when the same command needs one more option."""
    import shlex

    from typer._click.core import ParameterSource

    words = ctx.command_path.split()
    root = ctx.find_root().obj
    if isinstance(root, AppContext) and root.config_flag:
        words[1:1] = ["--config", root.config_flag]
    for param in ctx.command.params:
        if (
            param.name is None
            or ctx.get_parameter_source(param.name) != ParameterSource.COMMANDLINE
        ):
            continue
        value = ctx.params.get(param.name)
        values = list(value) if isinstance(value, (list, tuple)) else [value]
        if not getattr(param, "opts", None) or param.param_type_name == "argument":
            words.extend(str(v) for v in values)
            continue
        option = max(param.opts, key=len)
        for item in values:
            if getattr(param, "is_flag", False):
                if item:
                    words.append(option)
            else:
                words.extend([option, str(item)])
    if extra and extra[0] not in words:
        words.extend(extra)
    return " ".join(shlex.quote(word) for word in words)


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False
