"""Every command keeps the --json contract (docs/contract.md §5): stdout holds exactly one JSON
document, or is empty while stderr holds {"error": {...}}."""

from __future__ import annotations

import json

import pytest
import typer

from smsctl.cli.app import app
from tests.support.cli import invoke

# These run until interrupted, or run a whole walkthrough: covered by their own tests.
LONG_RUNNING = {("sandbox", "serve"), ("sandbox", "try")}


def leaf_commands() -> list[tuple[str, ...]]:
    root = typer.main.get_command(app)
    found: list[tuple[str, ...]] = []

    def walk(command, path: tuple[str, ...]) -> None:
        if not hasattr(command, "list_commands"):
            found.append(path)
            return
        ctx = typer.Context(command)
        for name in command.list_commands(ctx):
            walk(command.get_command(ctx, name), (*path, name))

    walk(root, ())
    return [path for path in found if path not in LONG_RUNNING]


COMMANDS = leaf_commands()


def test_the_command_tree_is_walked() -> None:
    assert len(COMMANDS) > 60
    assert ("send-test",) in COMMANDS and ("wechat", "rule", "add") in COMMANDS


@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
def test_json_contract_without_arguments(path: tuple[str, ...], monkeypatch) -> None:
    monkeypatch.setenv("SMSCTL_KEYRING_TIMEOUT", "2")
    result = invoke("--json", *path)
    assert "Traceback" not in result.stderr
    if result.exit_code == 0:
        json.loads(result.stdout)  # exactly one document
    else:
        assert result.stdout == "", result.stdout
        error = json.loads(result.stderr.strip().splitlines()[-1])["error"]
        assert error["message"]
        assert error["exit_code"] == result.exit_code
        assert result.exit_code in (2, 3, 4)
