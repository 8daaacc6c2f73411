"""Small real programs for the secret_command tests, written into a test's tmp dir."""

from __future__ import annotations

import shlex
from pathlib import Path


def program(directory: Path, name: str, body: str) -> Path:
    """An executable /bin/sh script `name` in `directory` running `body`."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(0o755)
    return path


def printing(directory: Path, secret: str, *, name: str = "get-secret", stderr: str = "") -> Path:
    """Prints `secret` (from a 0600 file next to it, never from its argv) and counts its runs in
    `<name>.runs`."""
    secret_file = directory / f"{name}.value"
    directory.mkdir(parents=True, exist_ok=True)
    secret_file.write_text(secret + "\n")
    secret_file.chmod(0o600)
    runs = directory / f"{name}.runs"
    lines = [f"echo run >> {shlex.quote(str(runs))}"]
    if stderr:
        lines.append(f"printf '%s\\n' {shlex.quote(stderr)} >&2")
    lines.append(f"cat {shlex.quote(str(secret_file))}")
    return program(directory, name, "\n".join(lines))


def failing(directory: Path, *, stdout: str, stderr: str, status: int = 2) -> Path:
    body = (
        f"printf '%s\\n' {shlex.quote(stdout)}\n"
        f"printf '%s\\n' {shlex.quote(stderr)} >&2\n"
        f"exit {status}"
    )
    return program(directory, "failing", body)


def hanging(directory: Path) -> Path:
    """Says it waits for a login on stderr, then never finishes (until it is stopped)."""
    return program(directory, "hanging", "echo 'waiting for login' >&2\nexec sleep 600")


def runs(path: Path) -> int:
    """How often the `printing` program at `path` ran."""
    counter = path.with_name(f"{path.name}.runs")
    return len(counter.read_text().splitlines()) if counter.exists() else 0
