"""Checks that a command a hint names would work: it parses against the real command tree, and
the accounts, signatures, templates and rules it names exist in the user's config.

A hint writes a command in backticks: `smsctl account edit prod --rotate-secret`. Words in capitals
(NAME, ACCOUNT, ID, FILE, NAME=VALUE, k=v) are placeholders the reader fills in; a trailing `...`
says that more options follow (so a missing required option is not an error there).
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from typing import Any

import typer
from typer.core import TyperGroup

from smsctl.cli.app import app, split_global_options
from smsctl.core.config import Config

COMMAND_IN_BACKTICKS = re.compile(r"`(smsctl(?: [^`]*)?)`")
PLACEHOLDER = re.compile(r"^(?:[A-Z][A-Z0-9_]*(?:=[A-Z][A-Z0-9_]*)?|[a-z]=[a-z])$")
ELLIPSIS = ("...", "…")
CHANNELS = ("voice", "email", "wechat")
NOUNS = {"account": "accounts", "signature": "signatures", "template": "templates", "rule": "rules"}
OPTION_KINDS = {
    "--account": "accounts",
    "--signature": "signatures",
    "--template": "templates",
    "--rule": "rules",
}


def commands_in(text: str | None) -> list[str]:
    """Every `smsctl ...` command written in backticks in `text`."""
    return COMMAND_IN_BACKTICKS.findall(text or "")


@dataclass
class Parsed:
    text: str
    path: tuple[str, ...]  # the command words, e.g. ("voice", "account", "edit")
    command: Any
    params: dict[str, Any]

    @property
    def channel(self) -> str:
        return self.path[0] if self.path and self.path[0] in CHANNELS else "sms"


def parse_hint_command(command: str) -> Parsed:
    """Parse `command` as smsctl would; AssertionError saying why it would not run."""
    words = shlex.split(command)
    assert words[0] == "smsctl", command
    _, args = split_global_options(words[1:])
    more_follow = bool(args) and args[-1] in ELLIPSIS
    if more_follow:
        args = args[:-1]
    assert not any(a in ELLIPSIS for a in args), f"`{command}`: `...` only at the end"
    group: Any = typer.main.get_command(app)
    path: list[str] = []
    ctx = group.make_context("smsctl", [], resilient_parsing=True)
    while isinstance(group, TyperGroup):
        if not args:
            assert more_follow or not path, f"`{command}`: names a group, not a command"
            return Parsed(command, tuple(path), group, {})
        name = args[0]
        assert not name.startswith("-"), f"`{command}`: {name} before a command name"
        sub = group.get_command(ctx, name)
        assert sub is not None, f"`{command}`: smsctl has no command {' '.join([*path, name])!r}"
        path.append(name)
        args = args[1:]
        group = sub
        ctx = group.make_context(name, [], parent=ctx, resilient_parsing=True)
    try:
        leaf = group.make_context(
            path[-1], list(args), parent=ctx.parent, resilient_parsing=more_follow
        )
    except typer._click.exceptions.UsageError as exc:
        raise AssertionError(f"`{command}`: {exc.format_message()}") from None
    return Parsed(command, tuple(path), group, dict(leaf.params))


def referenced_items(parsed: Parsed) -> list[tuple[str, str, str]]:
    """(channel, kind, name) of every configured item the command names (placeholders left
    out); the name a `... add` command creates is not one of them."""
    verb = parsed.path[-1] if parsed.path else ""
    noun = parsed.path[-2] if len(parsed.path) >= 2 else ""
    found = []
    for param in parsed.command.params:
        value = parsed.params.get(param.name)
        if not isinstance(value, str) or not value or PLACEHOLDER.match(value):
            continue
        kind = None
        if param.param_type_name == "argument":
            metavar = (param.metavar or param.name or "").strip("[]").upper()
            if metavar == "ACCOUNT":
                kind = "accounts"
            elif noun in NOUNS and verb != "add" and param is parsed.command.params[0]:
                kind = NOUNS[noun]
        else:
            kind = next((k for opt, k in OPTION_KINDS.items() if opt in param.opts), None)
        if kind:
            found.append((parsed.channel, kind, value))
    return found


def check_hint_commands(text: str | None, config: Config | None = None) -> list[Parsed]:
    """Every command `text` names parses, and names only items `config` has. Returns them."""
    parsed = [parse_hint_command(command) for command in commands_in(text)]
    if config is not None:
        for command in parsed:
            for channel, kind, name in referenced_items(command):
                assert name in config.collection(channel, kind), (
                    f"`{command.text}` names {channel} {kind[:-1]} `{name}`, which the config "
                    f"does not have (it has {sorted(config.collection(channel, kind))})"
                )
    return parsed
