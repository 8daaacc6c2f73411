"""End-to-end: the installed `smsctl` console script in a subprocess, no TTY, as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

SMSCTL = Path(sys.executable).with_name("smsctl")


@dataclass
class Run:
    exit_code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


def smsctl(
    *args: str, input: str | None = None, env: dict[str, str] | None = None, timeout: float = 60
) -> Run:
    full_env = dict(os.environ)
    full_env.update(env or {})
    for key, value in list(full_env.items()):
        if value is None:
            del full_env[key]
    done = subprocess.run(
        [str(SMSCTL), *args],
        input=input,
        capture_output=True,
        text=True,
        env=full_env,
        timeout=timeout,
        stdin=None if input else subprocess.DEVNULL,
    )
    return Run(done.returncode, done.stdout, done.stderr)


@pytest.fixture
def real_keyring(monkeypatch: pytest.MonkeyPatch) -> None:
    """The real Secret Service, which scripts/with-secret-service provides (CI always does)."""
    if os.environ.get("SMSCTL_SECRET_SERVICE") != "1":
        if os.environ.get("CI"):
            pytest.fail("CI must run the real-keyring tests under scripts/with-secret-service")
        pytest.skip("needs scripts/with-secret-service (the real Secret Service)")
    monkeypatch.delenv("PYTHON_KEYRING_BACKEND", raising=False)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)
