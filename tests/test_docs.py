"""The README's CLI reference is generated from the code and never stale; every command has help."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def load_generator():
    spec = importlib.util.spec_from_file_location(
        "gen_cli_reference", ROOT / "scripts" / "gen_cli_reference.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cli_reference_and_man_pages_are_up_to_date() -> None:
    generator = load_generator()
    outdated = [str(path.relative_to(ROOT)) for path in generator.stale(generator.render())]
    assert not outdated, f"stale: {outdated}; run {generator.COMMAND}"


def test_every_command_has_help_text_a_reference_entry_and_a_man_page() -> None:
    generator = load_generator()
    reference = (ROOT / "docs" / "cli.md").read_text()
    for path, command in generator.commands()[1:]:
        assert (command.help or "").strip(), f"smsctl {' '.join(path)} has no help text"
        assert f"## `smsctl {' '.join(path)}`" in reference
        assert (generator.MAN_DIR / ("-".join(["smsctl", *path]) + ".1")).is_file()


def test_man_pages_render_without_errors() -> None:
    groff = shutil.which("groff")
    assert groff, "groff (Debian groff-base) is needed; scripts/test installs it"
    for page in sorted((ROOT / "man" / "man1").glob("*.1")):
        done = subprocess.run(
            [groff, "-man", "-Tutf8", "-ww", "-z", str(page)], capture_output=True, text=True
        )
        problems = [line for line in done.stderr.splitlines() if "special character" not in line]
        assert done.returncode == 0 and not problems, (page.name, done.stderr)


def test_readme_starts_with_the_two_setup_commands() -> None:
    head = (ROOT / "README.md").read_text().split("\n## ", 1)[0]
    assert "smsctl sandbox try" in head
    assert "bash scripts/test" in head


def test_every_document_a_source_file_cites_is_in_the_repository() -> None:
    """A comment that points at a document points at one a reader of the repository has."""
    import re

    sources = [
        p
        for pattern in ("smsctl/**/*.py", "tests/**/*.py", "scripts/*", "benchmarks/*.py")
        for p in ROOT.glob(pattern)
        if p.is_file() and p != Path(__file__)
    ] + [ROOT / "pyproject.toml"]
    outside = re.compile(
        r"SPEC\b|/work/shared|\breference/[\w-]+\.md|(?<![\w/])(?:performance|peers|style)\.md"
    )
    cited = re.compile(r"\bdocs/([\w-]+\.md)")
    problems = []
    for path in sources:
        text = path.read_text(encoding="utf-8", errors="replace")
        for number, line in enumerate(text.splitlines(), 1):
            where = f"{path.relative_to(ROOT)}:{number}"
            if outside.search(line):
                problems.append(f"{where}: cites a document outside the repository")
            for name in cited.findall(line):
                if not (ROOT / "docs" / name).is_file():
                    problems.append(f"{where}: cites docs/{name}, which does not exist")
    assert not problems, problems
