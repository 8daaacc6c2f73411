"""Shared by the reliability tests: the installed console script in a subprocess, and checks
that every run must pass (no traceback, documented exit code)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SMSCTL = Path(sys.executable).with_name("smsctl")
REPO = Path(__file__).resolve().parents[2]
DOCUMENTED_EXIT_CODES = {0, 1, 2, 3, 4, 5, 6, 7, 8, 130}


@dataclass
class Run:
    exit_code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)

    def error(self) -> dict[str, Any]:
        return json.loads(self.stderr.strip().splitlines()[-1])["error"]

    @property
    def all_output(self) -> str:
        return self.stdout + self.stderr


def child_env(**extra: str | None) -> dict[str, str]:
    """The test's (already isolated) environment plus `extra`; None removes a variable."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    for key, value in extra.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def smsctl(
    *args: str,
    input: str | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 60,
) -> Run:
    done = subprocess.run(
        [str(SMSCTL), *args],
        input=input,
        capture_output=True,
        text=True,
        env=env if env is not None else child_env(),
        timeout=timeout,
        stdin=None if input is not None else subprocess.DEVNULL,
    )
    return Run(done.returncode, done.stdout, done.stderr)


def spawn(*args: str, env: dict[str, str] | None = None, input: str | None = None):
    """Start the console script without waiting (for concurrency tests)."""
    proc = subprocess.Popen(
        [str(SMSCTL), *args],
        stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env if env is not None else child_env(),
    )
    if input is not None:
        assert proc.stdin is not None
        proc.stdin.write(input)
        proc.stdin.close()
    return proc


def assert_clean_failure(outcome: Any, allowed: set[int]) -> None:
    """Exit code among `allowed`, no traceback, and (for errors) a hint with the next step."""
    text = outcome.stdout + outcome.stderr
    assert outcome.exit_code in allowed, (outcome.exit_code, text)
    assert "Traceback" not in text, text


def assert_error_with_hint(outcome: Any, exit_code: int, code: str | None = None) -> dict:
    """`--json` error: the exit code, the error code, a next step, stdout empty, no traceback."""
    text = outcome.stdout + outcome.stderr
    assert outcome.exit_code == exit_code, text
    assert "Traceback" not in text, text
    assert outcome.stdout == "", text
    error = json.loads(outcome.stderr.strip().splitlines()[-1])["error"]
    if code is not None:
        assert error["code"] == code, error
    assert error["hint"], error
    return error
