"""The root command: global options, the command tree, and the mapping of failures to exit codes."""

from __future__ import annotations

import importlib
import json
import os
import sys
from functools import cache
from pathlib import Path
from typing import Any

import typer

from smsctl import __version__
from smsctl.cli.context import AppContext, env_flag
from smsctl.cli.examples import epilog as examples_epilog
from smsctl.core.errors import Interrupted, SmsctlError, UnexpectedError, UsageError

HELP = """Administer the notification channels an application uses to reach its users: SMS and
voice calls through Alibaba Cloud, email through SMTP, WeChat official-account template messages.

Top-level account, signature, template, authorize, validate and send-test are the SMS channel;
voice, email and wechat hold the same shape for their channel. Global options may be given
anywhere on the command line."""

EXIT_CODES_EPILOG = (
    "Exit codes: 0 ok, 1 unexpected/aborted, 2 usage, 3 configuration, 4 credentials, "
    "5 provider refused, 6 rate limited, 7 provider unreachable, 8 not delivered, 130 interrupted."
)

# The command tree, loaded lazily: a run imports and builds only the command it executes, and
# `smsctl --help` lists the commands from the generated tree (smsctl/_command_tree.json) without
# importing any of them. Order here is the order of `smsctl --help`.
SUBCOMMANDS = {
    "account": "smsctl.cli.account:app",
    "signature": "smsctl.cli.signature:app",
    "template": "smsctl.cli.template:app",
    "authorize": "smsctl.cli.authorize:app",
    "validate": "smsctl.cli.validate:validate",
    "send-test": "smsctl.cli.send_test:send_test",
    "receipt": "smsctl.cli.send_test:receipt",
    "lookup": "smsctl.cli.lookup:lookup",
    "stats": "smsctl.cli.lookup:stats",
    "voice": "smsctl.cli.voice:app",
    "email": "smsctl.cli.email:app",
    "wechat": "smsctl.cli.wechat:app",
    "doctor": "smsctl.cli.doctor:doctor",
    "log": "smsctl.cli.log:log",
    "config": "smsctl.cli.config:app",
    "sandbox": "smsctl.cli.sandbox:app",
    "completion": "smsctl.cli.completion:completion",
}
ROOT_EXAMPLES = examples_epilog(())
COMMAND_TREE = Path(__file__).resolve().parent.parent / "_command_tree.json"


def load_command(name: str) -> Any:
    module_name, attribute = SUBCOMMANDS[name].split(":")
    target = getattr(importlib.import_module(module_name), attribute)
    if not isinstance(target, typer.Typer):
        single = typer.Typer()
        single.command(name)(target)
        target = single
    # Plain help, like the root: Rich is not imported to print --help (docs/performance.md).
    target.rich_markup_mode = None
    target._add_completion = False  # completion is answered by smsctl.completion
    command = typer.main.get_command(target)
    command.name = name
    _add_examples(command, (name,))
    return command


def _add_examples(command: Any, path: tuple[str, ...]) -> None:
    from smsctl.cli.examples import epilog

    command.epilog = epilog(path)
    for child_name, child in getattr(command, "commands", {}).items():
        _add_examples(child, (*path, child_name))


@cache
def short_helps() -> dict[str, str]:
    try:
        tree = json.loads(COMMAND_TREE.read_text(encoding="utf-8"))
        return {name: node.get("help", "") for name, node in tree["root"]["commands"].items()}
    except (OSError, ValueError, KeyError):
        return {}


class LazyGroup(typer.core.TyperGroup):
    def list_commands(self, ctx: Any) -> list[str]:
        return list(SUBCOMMANDS)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in self.commands and cmd_name in SUBCOMMANDS:
            self.commands[cmd_name] = load_command(cmd_name)
        return self.commands.get(cmd_name)

    def invoke(self, ctx: Any) -> Any:
        """Ctrl-C anywhere is exit 130 with one line saying so (Typer would exit silently);
        commands that know more (a send that may have gone out) raise Interrupted themselves."""
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            raise Interrupted("Interrupted.") from None

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        """As Typer's, with did-you-mean over every command, not only those loaded so far."""
        try:
            return super().resolve_command(ctx, args)
        except typer._click.exceptions.UsageError as err:
            if args and "Did you mean" not in err.message:
                err.message = with_suggestion(err.message, args[0], self.list_commands(ctx))
            raise

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        helps = short_helps()
        rows = []
        for name in self.list_commands(ctx):
            text = helps.get(name)
            if text is None:  # no generated tree: build the command to ask it
                text = self.get_command(ctx, name).get_short_help_str(limit=60)
            rows.append((name, text))
        with formatter.section("Commands"):
            formatter.write_dl(rows)


app = typer.Typer(
    cls=LazyGroup,
    name="smsctl",
    help=HELP,
    epilog=EXIT_CODES_EPILOG + "\n\n" + (ROOT_EXAMPLES or ""),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
def root(
    ctx: typer.Context,
    config_path: str = typer.Option(
        None,
        "--config",
        metavar="PATH",
        help="Config file (default: $SMSCTL_CONFIG, else ~/.config/smsctl/config.toml).",
    ),
    json_output: bool = typer.Option(False, "--json", help="Print exactly one JSON document."),
    no_input: bool = typer.Option(False, "--no-input", help="Never prompt (env SMSCTL_NO_INPUT)."),
    quiet: bool = typer.Option(False, "-q", "--quiet", help="Only results and errors."),
    verbose: bool = typer.Option(
        False, "-v", "--verbose", help="Debug details on stderr (secrets redacted)."
    ),
    no_color: bool = typer.Option(False, "--no-color", help="No colour (also NO_COLOR)."),
    version: bool = typer.Option(
        False,
        "--version",
        help="Print the version and exit.",
        is_eager=True,
        callback=lambda value: _print_version(value),
    ),
) -> None:
    """The global options are taken out of argv by `split_global_options`; they are declared
    here so that --help lists them."""


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"smsctl {__version__}")
        raise typer.Exit()


# --- running ----------------------------------------------------------------------------------

BOOLEAN_GLOBALS = {
    "--json": "json",
    "--no-input": "no_input",
    "-q": "quiet",
    "--quiet": "quiet",
    "-v": "verbose",
    "--verbose": "verbose",
    "--no-color": "no_color",
}


def split_global_options(argv: list[str]) -> tuple[AppContext, list[str]]:
    """Take the global options out of argv wherever they stand (before a `--`)."""
    context = AppContext(no_input=env_flag("SMSCTL_NO_INPUT"))
    rest: list[str] = []
    index = 0
    while index < len(argv):
        arg = argv[index]
        if arg == "--":
            rest.extend(argv[index:])
            break
        if arg in BOOLEAN_GLOBALS:
            setattr(context, BOOLEAN_GLOBALS[arg], True)
        elif arg == "--config":
            if index + 1 >= len(argv):
                rest.append(arg)  # let the parser report the missing value
            else:
                context.config_flag = argv[index + 1]
                index += 1
        elif arg.startswith("--config="):
            context.config_flag = arg.split("=", 1)[1]
        else:
            rest.append(arg)
        index += 1
    return context, rest


def run(argv: list[str]) -> int:
    context, args = split_global_options(argv)
    from smsctl.core import debug

    debug.enable(context.verbose)
    command = typer.main.get_command(app)
    try:
        result = command.main(args=args, prog_name="smsctl", standalone_mode=False, obj=context)
        return result if isinstance(result, int) else 0
    except SmsctlError as err:
        context.output.error(err)
        return err.exit_code
    except typer._click.exceptions.UsageError as err:
        return _usage_error(context, err)
    except typer._click.exceptions.Abort:
        context.output.error(SmsctlError("Aborted"))
        return 1
    except KeyboardInterrupt:
        context.output.error(Interrupted("Interrupted."))
        return 130
    except BrokenPipeError:
        return 1
    except Exception as exc:  # a bug: say so, without a traceback unless asked
        return _unexpected(context, exc)


def with_suggestion(
    message: str, typo: str, known: list[str], *, most: int = 3, cutoff: float = 0.6
) -> str:
    """`message` with "Did you mean ...?" for the names of `known` closest to `typo`."""
    import difflib

    matches = difflib.get_close_matches(typo, known, n=most, cutoff=cutoff)
    if not matches:
        return message
    return f"{message.rstrip('.')}. Did you mean {' or '.join(repr(m) for m in matches)}?"


def _suggest_option(err: typer._click.exceptions.NoSuchOption) -> None:
    """Did-you-mean over the command's own options and the global ones (which are accepted
    anywhere on the command line, so a misspelt --json after a command is one of them)."""
    known = [*BOOLEAN_GLOBALS, "--config", "--version"]
    if err.ctx is not None:
        for param in err.ctx.command.get_params(err.ctx):
            if not getattr(param, "hidden", False):
                known += [*getattr(param, "opts", []), *getattr(param, "secondary_opts", [])]
    err.possibilities = None
    base = f"No such option: {err.option_name}"
    # Option names share their "--": a higher cutoff keeps "--to" from matching "--josn", and
    # only the closest one is named.
    long_names = [k for k in known if k.startswith("--")]
    err.message = with_suggestion(base, err.option_name, long_names, most=1, cutoff=0.7)


def _usage_error(context: AppContext, err: typer._click.exceptions.UsageError) -> int:
    if isinstance(err, typer._click.exceptions.NoSuchOption):
        _suggest_option(err)
    if context.json:
        context.output.error(UsageError(err.format_message(), code="usage"))
    else:
        import io

        from smsctl.core.terminal_text import visible

        shown = io.StringIO()  # the usage line and message echo argv, which may hold anything
        err.show(file=shown)
        sys.stderr.write(visible(shown.getvalue(), multiline=True))
    return 2


def _unexpected(context: AppContext, exc: Exception) -> int:
    from smsctl.core.redaction import redact

    if env_flag("SMSCTL_DEBUG"):
        import traceback

        from smsctl.core.terminal_text import visible

        sys.stderr.write(visible(redact("".join(traceback.format_exception(exc))), multiline=True))
    error = UnexpectedError(
        f"Unexpected {type(exc).__name__}: {redact(str(exc))}"[:500],
        hint="This is a bug in smsctl. Re-run with SMSCTL_DEBUG=1 for the traceback "
        "(secrets are redacted) and report it.",
    )
    context.output.error(error)
    return 1


def main() -> None:
    sys.exit(run(sys.argv[1:]))


if __name__ == "__main__":  # pragma: no cover
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
