"""Local commands (they only read or write the config) never load a provider SDK, an HTTP stack,
the keyring or smtplib (docs/contract.md §7 "Speed", docs/performance.md): each runs through
the console-script entry point in a fresh interpreter, which then reports what it imported."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.support.probe import probe

ROOT = Path(__file__).resolve().parents[1]
BANNED = (
    "alibabacloud_",
    "darabonba",
    "aiohttp",
    "requests",
    "keyring",
    "phonenumbers",
    "smtplib",
)
# The core set must exist (CI fails otherwise); later ones are checked once their command exists.
CORE = [
    ["--version"],
    ["config", "path"],
    ["config", "check"],
    ["account", "list"],
    ["account", "list", "--json"],
    ["--help"],
    ["template", "--help"],
]
LATER = [
    ["template", "list"],
    ["template", "list", "--json"],
    ["template", "show", "SMS_100001"],
    ["signature", "list"],
    ["config", "show", "--no-secrets"],
    ["authorize", "list"],
]
CONFIG = """\
[sms]
active_account = "prod"
[sms.accounts.prod]
access_key_id = "LTAI5tProd"
[sms.signatures.Acme]
account = "prod"
[sms.templates.SMS_100001]
account = "prod"
scenario = "login"
content = "Your code is ${code}"
variables = ["code"]
"""


def _tree() -> dict:
    return json.loads((ROOT / "smsctl" / "_command_tree.json").read_text(encoding="utf-8"))


def _exists(tree: dict, argv: list[str]) -> bool:
    node = tree["root"]
    for word in argv:
        if word.startswith("-") or "commands" not in node:
            break
        if word not in node["commands"]:
            return False
        node = node["commands"][word]
    return True


def _commands() -> list[list[str]]:
    tree = _tree()
    missing = [argv for argv in CORE if not _exists(tree, argv)]
    assert not missing, f"core local commands missing from the command tree: {missing}"
    return CORE + [argv for argv in LATER if _exists(tree, argv)]


@pytest.mark.parametrize("argv", _commands(), ids=" ".join)
def test_local_command_imports_nothing_heavy(argv: list[str], config_file: Path) -> None:
    config_file.parent.mkdir(parents=True, exist_ok=True)
    config_file.write_text(CONFIG, encoding="utf-8")
    env = dict(os.environ)
    env.pop("PYTHON_KEYRING_BACKEND", None)  # the memory backend would hide a keyring import
    report, _, stderr = probe(argv, env)
    assert report["code"] in (0, None), stderr
    heavy = [m for m in report["modules"] if m.startswith(BANNED)]
    assert not heavy, f"`smsctl {' '.join(argv)}` imported {heavy}"
    if argv == ["--version"]:
        assert "typer" not in report["modules"]


def test_completion_imports_neither_typer_nor_anything_heavy(config_file: Path) -> None:
    config_file.parent.mkdir(parents=True, exist_ok=True)
    config_file.write_text(CONFIG, encoding="utf-8")
    env = {
        **os.environ,
        "_SMSCTL_COMPLETE": "complete_bash",
        "COMP_WORDS": "smsctl\ntemplate\nshow\n",
        "COMP_CWORD": "3",
    }
    report, stdout, _ = probe([], env)
    assert stdout.split() == ["SMS_100001"]
    loaded = [
        m
        for m in report["modules"]
        if m.startswith(("typer", "rich", "tomlkit", "platformdirs", "click", *BANNED))
    ]
    assert loaded == []
