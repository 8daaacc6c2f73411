"""Installing the shell completion script for the user's shell: where each shell looks for it, and
the one line its start-up file needs (added once, marked, never duplicated)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from smsctl.core.errors import UsageError

SHELLS = ("bash", "zsh", "fish")
MARK = "# smsctl shell completion"


@dataclass(frozen=True)
class Installed:
    shell: str
    script: Path
    rc_file: Path | None
    rc_changed: bool
    script_changed: bool


def detect_shell(environ: dict[str, str] | None = None) -> str:
    """The user's shell from $SHELL (the login shell), as chsh and every installer read it."""
    shell = os.path.basename((environ if environ is not None else os.environ).get("SHELL", ""))
    if shell not in SHELLS:
        raise UsageError(
            f"Cannot tell your shell from $SHELL ({shell or 'not set'}).",
            hint="Name it: `smsctl completion bash --install` (or zsh, fish).",
        )
    return shell


def _home() -> Path:
    return Path(os.path.expanduser("~"))


def _xdg(name: str, default: str) -> Path:
    value = os.environ.get(name)
    return Path(value) if value and os.path.isabs(value) else _home() / default


def locations(shell: str) -> tuple[Path, Path | None, str | None]:
    """(script path, start-up file, the line it needs) for a shell."""
    if shell == "bash":
        script = _xdg("XDG_DATA_HOME", ".local/share") / "bash-completion/completions/smsctl"
        # bash-completion loads that directory on demand; the line covers shells without it.
        line = f'[ -r "{script}" ] && . "{script}"  {MARK}'
        return script, _home() / ".bashrc", line
    if shell == "zsh":
        script = _home() / ".zfunc" / "_smsctl"
        line = f"fpath=({script.parent} $fpath); autoload -Uz compinit && compinit  {MARK}"
        return script, Path(os.environ.get("ZDOTDIR") or _home()) / ".zshrc", line
    # fish loads ~/.config/fish/completions/<command>.fish by itself.
    return _xdg("XDG_CONFIG_HOME", ".config") / "fish/completions/smsctl.fish", None, None


def install(shell: str, script_text: str) -> Installed:
    script, rc_file, line = locations(shell)
    script_changed = not script.exists() or script.read_text(encoding="utf-8") != script_text
    if script_changed:
        script.parent.mkdir(parents=True, exist_ok=True)
        temporary = script.with_name(script.name + ".tmp")
        temporary.write_text(script_text, encoding="utf-8")
        os.replace(temporary, script)
    rc_changed = False
    if rc_file is not None and line is not None:
        current = rc_file.read_text(encoding="utf-8") if rc_file.exists() else ""
        if MARK not in current:
            separator = "" if not current or current.endswith("\n") else "\n"
            with open(rc_file, "a", encoding="utf-8") as handle:
                handle.write(f"{separator}{line}\n")
            rc_changed = True
    return Installed(shell, script, rc_file, rc_changed, script_changed)
