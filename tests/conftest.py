"""Every test runs isolated from the real home, keyring, environment and proxies."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from smsctl.core import audit
from tests.support.memory_keyring import MemoryKeyring

pytest_plugins = [
    p
    for p in ("tests.fixtures.sandbox", "tests.fixtures.channels", "tests.fixtures.clock")
    if (Path(__file__).parent / "fixtures" / (p.split(".")[-1] + ".py")).exists()
]

CANARY = "CANARY-s3cr3t-7f1e9a"
MEMORY_BACKEND = "tests.support.memory_keyring.MemoryKeyring"
PASSTHROUGH = {
    "PATH",
    "LANG",
    "LC_ALL",
    "TERM",
    "PYTHONPATH",
    "VIRTUAL_ENV",
    "SYSTEMROOT",
    "DBUS_SESSION_BUS_ADDRESS",
    "SMSCTL_SECRET_SERVICE",
    "GNOME_KEYRING_CONTROL",
    "XDG_RUNTIME_DIR",
    "CI",
    "TMPDIR",
}


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in list(os.environ):
        if name not in PASSTHROUGH and (
            name.startswith(("SMSCTL_", "PYTHON_KEYRING", "ALIBABA_", "XDG_"))
            or name.lower().endswith("_proxy")
            or name in ("NO_COLOR", "DEBUG", "HOME")
        ):
            monkeypatch.delenv(name, raising=False)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / ".local" / "state"))
    monkeypatch.setenv("SMSCTL_CONFIG", str(tmp_path / "cfg" / "config.toml"))
    monkeypatch.setenv("SMSCTL_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", MEMORY_BACKEND)
    monkeypatch.setenv("NO_PROXY", "*")
    MemoryKeyring.entries = {}
    audit.configure(audit.LogSettings())  # a [log] table read by an earlier test is not in force
    return tmp_path


@pytest.fixture
def config_file(isolated: Path) -> Path:
    return isolated / "cfg" / "config.toml"


@pytest.fixture
def state_dir(isolated: Path) -> Path:
    return isolated / "state"


@pytest.fixture
def keyring_entries() -> dict:
    return MemoryKeyring.entries
