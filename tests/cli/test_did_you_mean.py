"""A misspelt command or option gets a did-you-mean, everywhere: the root, every nested group of
every channel, every option of every command, and the global options after a command."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import typer
from typer.core import TyperGroup

from smsctl.cli.app import app
from tests.support.cli import invoke


def misspelt(name: str) -> str:
    """The name with two neighbouring letters swapped, as fast typing does (sned-test)."""
    pairs = [
        i
        for i in range(1, len(name) - 1)
        if name[i].isalpha() and name[i + 1].isalpha() and name[i] != name[i + 1]
    ]
    i = pairs[len(pairs) // 2]
    typo = name[:i] + name[i + 1] + name[i] + name[i + 2 :]
    assert typo != name
    return typo


def tree() -> Iterator[tuple[tuple[str, ...], Any]]:
    """(path, command) of every group and command in the real tree."""
    root = typer.main.get_command(app)
    ctx = root.make_context("smsctl", [], resilient_parsing=True)

    def walk(path: tuple[str, ...], command: Any, parent: Any) -> Iterator[tuple[Any, Any]]:
        yield path, command
        if isinstance(command, TyperGroup):
            ctx = command.make_context(path[-1] if path else "smsctl", [], parent=parent,
                                       resilient_parsing=True)  # fmt: skip
            for name in command.list_commands(ctx):
                yield from walk((*path, name), command.get_command(ctx, name), ctx)

    yield from walk((), root, ctx.parent)


GROUPS = [(path, cmd) for path, cmd in tree() if isinstance(cmd, TyperGroup)]
COMMANDS = [(path, cmd) for path, cmd in tree() if not isinstance(cmd, TyperGroup)]


def test_the_tree_is_the_whole_tree() -> None:
    paths = {" ".join(path) for path, _ in COMMANDS}
    assert {"send-test", "voice account edit", "email template add", "wechat rule delete"} <= paths
    assert len(GROUPS) >= 12


@pytest.mark.parametrize(
    ("path", "name"),
    [
        (path, name)
        for path, group in GROUPS
        for name in group.list_commands(group.make_context("g", [], resilient_parsing=True))
        if len(name) > 3
    ],
    ids=lambda value: " ".join(value) if isinstance(value, tuple) else value,
)
def test_a_misspelt_command_gets_a_suggestion(path, name) -> None:
    typo = misspelt(name)
    result = invoke(*path, typo)
    assert result.exit_code == 2
    assert f"No such command '{typo}'" in result.stderr
    assert "Did you mean" in result.stderr and f"'{name}'" in result.stderr, result.stderr


def options_of(command: Any) -> list[str]:
    return [
        opt
        for param in command.params
        if not getattr(param, "hidden", False)
        for opt in getattr(param, "opts", [])
        if opt.startswith("--") and len(opt) > 5 and opt != "--help"
    ]


@pytest.mark.parametrize(
    ("path", "option"),
    [(path, option) for path, command in COMMANDS for option in options_of(command)],
    ids=lambda value: " ".join(value) if isinstance(value, tuple) else value,
)
def test_a_misspelt_option_gets_a_suggestion(path, option) -> None:
    typo = misspelt(option)
    result = invoke(*path, typo)
    assert result.exit_code == 2
    assert f"No such option: {typo}. Did you mean '{option}'?" in result.stderr, result.stderr


@pytest.mark.parametrize("option", ["--json", "--quiet", "--no-input", "--verbose", "--config"])
def test_a_misspelt_global_option_after_a_command_gets_a_suggestion(option) -> None:
    typo = misspelt(option)
    result = invoke("account", "list", typo)
    assert result.exit_code == 2
    assert f"Did you mean '{option}'?" in result.stderr


def test_the_suggestion_is_in_the_json_error_too() -> None:
    result = invoke("--json", "sned-test")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "Did you mean 'send-test'?" in result.error()["message"]


def test_nothing_close_gets_no_suggestion() -> None:
    result = invoke("zzzz")
    assert result.exit_code == 2
    assert "Did you mean" not in result.stderr
