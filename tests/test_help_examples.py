"""Every command's --help ends with one to three examples, and every example is a command line that
the real command tree accepts (options, arguments, values), so a copied example never fails to
parse."""

from __future__ import annotations

import re
import shlex

import pytest
import typer
from typer._click import exceptions

from smsctl.cli.app import app, split_global_options
from smsctl.cli.examples import EXAMPLES
from tests.support.cli import invoke


def command_paths() -> list[tuple[str, ...]]:
    paths: list[tuple[str, ...]] = []

    def walk(command, path: tuple[str, ...]) -> None:
        paths.append(path)
        if hasattr(command, "list_commands"):
            ctx = typer.Context(command)
            for name in command.list_commands(ctx):
                sub = command.get_command(ctx, name)
                if not sub.hidden:
                    walk(sub, (*path, name))

    walk(typer.main.get_command(app), ())
    return paths


PATHS = command_paths()


def parse(line: str) -> tuple[str, ...]:
    """Parse an example as the console script would, without running it; returns its command."""
    words = shlex.split(re.split(r" [<>] ", line)[0])  # without a shell redirection
    assert words[0] == "smsctl"
    _context, args = split_global_options(words[1:])
    command = typer.main.get_command(app)
    ctx = command.make_context("smsctl", list(args))
    path: list[str] = []
    while hasattr(command, "resolve_command") and ctx._protected_args + ctx.args:
        rest = [*ctx._protected_args, *ctx.args]
        name, command, rest = command.resolve_command(ctx, rest)
        path.append(name)
        ctx = command.make_context(name, rest, parent=ctx)
    return tuple(path)


def test_every_command_has_one_to_three_examples():
    missing = [
        " ".join(p) or "smsctl" for p in PATHS if not 1 <= len(EXAMPLES.get(" ".join(p), ())) <= 3
    ]
    assert not missing, f"commands without 1-3 examples: {missing}"
    unknown = set(EXAMPLES) - {" ".join(p) for p in PATHS}
    assert not unknown, f"examples for commands that do not exist: {sorted(unknown)}"


@pytest.mark.parametrize(
    "line",
    sorted({line for lines in EXAMPLES.values() for line in lines}),
    ids=lambda line: line[:60],
)
def test_every_example_parses_against_the_command_tree(line):
    try:
        parsed = parse(line)
    except exceptions.UsageError as err:
        pytest.fail(f"{line!r} does not parse: {err.format_message()}")
    assert parsed, f"{line!r} names no command"


def test_a_mistyped_example_would_be_caught():
    with pytest.raises(exceptions.UsageError):
        parse("smsctl send-test --to 13800138000 --scenrio login")


@pytest.mark.parametrize("path", [("send-test",), ("voice", "account", "add"), ()], ids=str)
def test_help_ends_with_its_examples(path):
    result = invoke(*path, "--help")
    assert result.exit_code == 0
    tail = result.stdout.rstrip().split("Examples:")[-1]
    for line in EXAMPLES[" ".join(path)]:
        assert f"$ {line}" in tail
