"""Generate the command reference from the code's own command tree: docs/cli.md (every command's
--help) and the man pages in man/man1/ (`man smsctl`, `man smsctl-send-test`, ...).

python scripts/gen_cli_reference.py          # rewrite docs/cli.md and man/man1/
python scripts/gen_cli_reference.py --check  # exit 1 when one of them is stale

tests/test_docs.py fails while they are stale. The man pages are installed with the package
(share/man/man1 of the environment), so `man smsctl` works once the environment's bin is on PATH.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CLI_MD = ROOT / "docs" / "cli.md"
MAN_DIR = ROOT / "man" / "man1"
COMMAND = "python scripts/gen_cli_reference.py"


def commands() -> list[tuple[list[str], Any]]:
    """Every visible command with its path, root first, in `--help` order."""
    import typer

    from smsctl.cli.app import app

    found: list[tuple[list[str], Any]] = []

    def walk(command: Any, path: list[str]) -> None:
        found.append((path, command))
        if not hasattr(command, "list_commands"):
            return
        ctx = typer.Context(command, info_name=path[-1] if path else "smsctl")
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            if sub is not None and not getattr(sub, "hidden", False):
                walk(sub, [*path, name])

    walk(typer.main.get_command(app), [])
    return found


def command_paths() -> list[list[str]]:
    return [path for path, _command in commands()]


def help_text(path: list[str]) -> str:
    from tests.support.cli import invoke

    result = invoke(*path, "--help")
    assert result.exit_code == 0, (path, result.stderr)
    return result.stdout.rstrip()


def cli_markdown() -> str:
    parts = [
        "# Command reference",
        "",
        f"Generated from the code's own `--help` by `{COMMAND}`; a test fails when it is stale.",
        "The same text is in the man pages (`man smsctl`, `man smsctl-send-test`, ...).",
        "",
    ]
    for path, _command in commands():
        title = " ".join(["smsctl", *path])
        parts += [f"## `{title}`", "", "```text", help_text(path), "```", ""]
    return "\n".join(parts)


# --- man pages ---------------------------------------------------------------------------------


def _roff(text: str) -> str:
    """Escape text for roff: backslashes, and a leading dot or quote that would start a request."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    text = "".join(c if ord(c) < 128 else f"\\[u{ord(c):04X}]" for c in text)
    return re.sub(r"^([.'])", r"\\&\1", text, flags=re.MULTILINE)


def _paragraphs(text: str) -> list[str]:
    return [" ".join(block.split()) for block in re.split(r"\n\s*\n", text.strip()) if block]


def man_page(path: list[str], command: Any) -> str:
    import typer

    from smsctl import __version__
    from smsctl.cli.examples import EXAMPLES

    name = "-".join(["smsctl", *path])
    ctx = typer.Context(command, info_name=" ".join(["smsctl", *path]))
    usage = " ".join(command.collect_usage_pieces(ctx))
    lines = [
        f'.TH "{name.upper()}" "1" "" "smsctl {__version__}" "smsctl manual"',
        ".SH NAME",
        f"{_roff(name)} \\- {_roff(command.get_short_help_str(limit=80))}",
        ".SH SYNOPSIS",
        f".B {_roff(' '.join(['smsctl', *path]))}",
        _roff(usage),
        ".SH DESCRIPTION",
    ]
    for paragraph in _paragraphs(command.help or ""):
        lines += [_roff(paragraph), ".PP"]
    options = [p for p in command.get_params(ctx) if p.param_type_name == "option" and not p.hidden]
    if options:
        lines.append(".SH OPTIONS")
        for option in options:
            record = option.get_help_record(ctx)
            if record:
                lines += [".TP", f".B {_roff(record[0])}", _roff(" ".join(record[1].split()))]
    if hasattr(command, "list_commands"):
        lines.append(".SH COMMANDS")
        for sub_name in command.list_commands(ctx):
            sub = command.get_command(ctx, sub_name)
            if sub is not None and not sub.hidden:
                lines += [".TP", f".B {_roff(sub_name)}", _roff(sub.get_short_help_str(limit=100))]
    examples = EXAMPLES.get(" ".join(path), ())
    if examples:
        lines += [".SH EXAMPLES", ".nf"]
        lines += [f"$ {_roff(line)}" for line in examples]
        lines.append(".fi")
    if not path:
        lines += [
            ".SH EXIT STATUS",
            _roff(
                "0 ok, 1 unexpected failure or a declined confirmation, 2 usage error, "
                "3 configuration, 4 credentials, 5 provider refused, 6 rate limited, "
                "7 provider unreachable or failing, 8 sent but not delivered, 130 interrupted."
            ),
        ]
    see_also = ["smsctl(1)"] if path else []
    if hasattr(command, "list_commands"):
        see_also += [
            f"{name}-{sub_name}(1)"
            for sub_name in command.list_commands(ctx)
            if not command.get_command(ctx, sub_name).hidden
        ]
    if see_also:
        lines += [".SH SEE ALSO", _roff(", ".join(see_also))]
    return "\n".join(lines) + "\n"


def render() -> dict[Path, str]:
    files = {CLI_MD: cli_markdown()}
    for path, command in commands():
        files[MAN_DIR / ("-".join(["smsctl", *path]) + ".1")] = man_page(path, command)
    return files


def stale(files: dict[Path, str]) -> list[Path]:
    outdated = [p for p, text in files.items() if not p.exists() or p.read_text() != text]
    extra = [p for p in MAN_DIR.glob("*.1") if p not in files] if MAN_DIR.exists() else []
    return outdated + extra


def main() -> int:
    sys.path.insert(0, str(ROOT))
    files = render()
    if "--check" in sys.argv:
        outdated = stale(files)
        for path in outdated:
            print(f"stale: {path.relative_to(ROOT)} (run `{COMMAND}`)", file=sys.stderr)
        return 1 if outdated else 0
    MAN_DIR.mkdir(parents=True, exist_ok=True)
    for path in MAN_DIR.glob("*.1"):
        if path not in files:
            path.unlink()
    for path, text in files.items():
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
            print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
