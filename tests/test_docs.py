"""The README's CLI reference is generated from the code and never stale; every command has help."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def load_generator():
    spec = importlib.util.spec_from_file_location(
        "gen_cli_reference", ROOT / "scripts" / "gen_cli_reference.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cli_reference_in_readme_is_up_to_date() -> None:
    generator = load_generator()
    text = (ROOT / "README.md").read_text()
    assert generator.updated_readme(text) == text, (
        "README.md's CLI reference is stale: run python scripts/gen_cli_reference.py"
    )


def test_every_command_has_help_text_and_is_in_the_readme() -> None:
    import typer

    from smsctl.cli.app import app

    generator = load_generator()
    readme = (ROOT / "README.md").read_text()
    root = typer.main.get_command(app)
    for path in generator.command_paths()[1:]:
        command = root
        for name in path:
            command = command.get_command(typer.Context(command), name)
        assert (command.help or "").strip(), f"smsctl {' '.join(path)} has no help text"
        assert f"### `smsctl {' '.join(path)}`" in readme


def test_readme_starts_with_the_two_setup_commands() -> None:
    head = (ROOT / "README.md").read_text().split("\n## ", 1)[0]
    assert "smsctl sandbox try" in head
    assert "bash scripts/test" in head
