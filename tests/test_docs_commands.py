"""Every `smsctl ...` command line in the README's and docs/' code blocks is one the real command
tree accepts, and every relative link points at a file (and heading) that exists, so following
the docs never starts with a typo of ours."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer._click import exceptions

from tests.test_help_examples import parse

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SHELL_PREFIX = re.compile(r"^(?:\$ )?(?:[A-Z_]+=\S* )*(smsctl .*)$")


SHELL_BLOCKS = {"sh", "bash", "console", "shell", "zsh", "fish"}


def code_lines(page: Path) -> list[tuple[int, str]]:
    """Lines of the fenced shell blocks (```sh, ```console, ...), continuation lines joined;
    unlabelled blocks (synopses, trees) are not commands to run."""
    found: list[tuple[int, str]] = []
    fence: str | None = None  # the open block's language ("" unlabelled), None outside one
    pending, start = "", 0
    for number, line in enumerate(page.read_text(encoding="utf-8").split("\n"), 1):
        if line.startswith("```"):
            fence = line[3:].strip() if fence is None else None
            pending = ""
            continue
        if fence not in SHELL_BLOCKS:
            continue
        text = line.strip()
        if pending:
            text, number = pending + " " + text, start
        if text.endswith("\\"):
            pending, start = text[:-1].rstrip(), number
            continue
        pending = ""
        found.append((number, text))
    return found


def synopsis_to_command(text: str) -> str | None:
    """A usage line as a concrete command: optional parts taken, the first of `a|b` chosen.
    None for a line that elides required parts (`...` as an argument)."""
    text = re.split(r"\s+(?:#|\|\||&&|\||&|>|<)(?:\s|$)", text)[0].strip()
    if re.search(r"(^|\s)(\.\.\.|…)(\s|$)", text):
        return None
    text = text.replace("[", "").replace("]", "")
    words = [word.split("|")[0] if "|" in word and not word.startswith("'") else word
             for word in text.split()]  # fmt: skip
    return " ".join(word.split("/--no-")[0] for word in words)


def documented_commands() -> list[tuple[str, str]]:
    commands = []
    for page in PAGES:
        if page.name == "cli.md":
            continue
        for number, text in code_lines(page):
            match = SHELL_PREFIX.match(text)
            if match:
                command = synopsis_to_command(match.group(1))
                if command:
                    commands.append((f"{page.relative_to(ROOT)}:{number}", command))
    return commands


@pytest.mark.parametrize("where,command", documented_commands(), ids=lambda v: str(v)[:70])
def test_documented_commands_parse(where, command):
    try:
        assert parse(command), f"{where}: {command!r} names no command"
    except exceptions.UsageError as err:
        pytest.fail(f"{where}: {command!r} does not parse: {err.format_message()}")


def _anchors(page: Path) -> set[str]:
    anchors = set()
    for line in page.read_text(encoding="utf-8").split("\n"):
        if line.startswith("#"):
            title = line.lstrip("#").strip().lower()
            anchors.add(re.sub(r"[^\w\- ]", "", title).replace(" ", "-"))
    return anchors


def test_relative_links_point_at_existing_files_and_headings():
    broken = []
    for page in PAGES:
        for target in re.findall(r"\]\(([^)\s]+)\)", page.read_text(encoding="utf-8")):
            if re.match(r"^[a-z]+:", target):
                continue
            path, _, anchor = target.partition("#")
            file = (page.parent / path).resolve() if path else page
            if not file.exists() or (anchor and anchor not in _anchors(file)):
                broken.append(f"{page.relative_to(ROOT)}: {target}")
    assert not broken, broken
