"""The completion fast path's data and the shipped shell scripts are generated from the real
Typer app; other commands are added all the time, so this fails whenever they are stale."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _generator():
    spec = importlib.util.spec_from_file_location("gen_tree", ROOT / "scripts/gen_command_tree.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_command_tree_and_completion_scripts_are_up_to_date() -> None:
    generator = _generator()
    stale = [
        str(path.relative_to(ROOT))
        for path, text in generator.render().items()
        if not path.exists() or path.read_text(encoding="utf-8") != text
    ]
    assert not stale, (
        f"Stale generated files: {', '.join(stale)}. The commands changed; regenerate with "
        f"`{generator.COMMAND}` and commit the result."
    )


def test_the_tree_is_shipped_as_package_data() -> None:
    from smsctl.core.config import tomllib

    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "*.json" in pyproject["tool"]["setuptools"]["package-data"]["smsctl"]
