"""System tools the tests drive (installed by scripts/test): missing in CI is a failure."""

from __future__ import annotations

import os
import shutil

import pytest


def require_tool(name: str, package: str, *, also: tuple[str, ...] = ()) -> str:
    """The path of `name` (searched in PATH, then `also`); skipped locally when missing, a failure
    in CI, where scripts/test installs `package`."""
    found = shutil.which(name) or next((p for p in also if os.access(p, os.X_OK)), None)
    if found:
        return found
    message = f"needs {name} (Debian package {package}, installed by scripts/test)"
    if os.environ.get("CI"):
        pytest.fail(f"CI must have {name}: scripts/test installs {package}")
    pytest.skip(message)
