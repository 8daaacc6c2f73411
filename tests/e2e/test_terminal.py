"""What an operator at a real terminal gets (tmux drives a real TTY): the hidden secret prompt with
confirmation, and the confirmation of a destructive verb."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import CANARY
from tests.e2e.conftest import SMSCTL

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[Callable[..., str]]:
    tmux = shutil.which("tmux")
    if tmux is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI must have tmux (scripts/test installs it)")
        pytest.skip("tmux is not installed")
    socket = f"smsctl-tty-{uuid.uuid4().hex[:8]}"
    env = {
        "HOME": str(tmp_path),
        "PATH": f"{SMSCTL.parent}{os.pathsep}/usr/bin:/bin",
        "TERM": "xterm",
        "LANG": "C.UTF-8",
        "PYTHONPATH": str(ROOT),
        "SMSCTL_CONFIG": str(tmp_path / "config.toml"),
        "SMSCTL_STATE_DIR": str(tmp_path / "st"),
        "PYTHON_KEYRING_BACKEND": "tests.reliability.file_keyring.FileKeyring",
        "SMSCTL_TEST_KEYRING_FILE": str(tmp_path / "keyring.json"),
    }
    shell = " ".join(["env", "-i", *(f"{k}={v}" for k, v in env.items()), "bash", "--norc", "-i"])

    def tm(*args: str) -> str:
        return subprocess.run(
            [tmux, "-L", socket, *args], capture_output=True, text=True, check=True, timeout=20
        ).stdout

    tm("new-session", "-d", "-s", "t", "-x", "150", "-y", "40", shell)
    tm("send-keys", "-t", "t", "PS1='$ '; clear", "Enter")
    try:
        yield tm
    finally:
        subprocess.run([tmux, "-L", socket, "kill-server"], capture_output=True)


def wait_for(tm: Callable[..., str], text: str, timeout: float = 20.0) -> str:
    deadline = time.monotonic() + timeout
    screen = ""
    while time.monotonic() < deadline:
        screen = tm("capture-pane", "-p", "-t", "t")
        if text in screen:
            return screen
        time.sleep(0.1)
    raise AssertionError(f"{text!r} never appeared; the screen shows:\n{screen}")


def test_hidden_prompt_with_confirmation_stores_the_secret_unseen(terminal, tmp_path) -> None:
    terminal(
        "send-keys", "-t", "t", "smsctl account add prod --access-key-id LTAI5tTTY0001", "Enter"
    )
    wait_for(terminal, "AccessKey Secret:")
    terminal("send-keys", "-t", "t", "-l", CANARY)
    terminal("send-keys", "-t", "t", "Enter")
    wait_for(terminal, "Repeat for confirmation:")
    terminal("send-keys", "-t", "t", "-l", CANARY)
    terminal("send-keys", "-t", "t", "Enter")
    screen = wait_for(terminal, "Added sms account `prod` (secret: keyring)")
    assert CANARY not in screen  # never echoed
    entries = json.loads((tmp_path / "keyring.json").read_text())
    assert list(entries.values()) == [CANARY]
    assert CANARY not in (tmp_path / "config.toml").read_text()


def test_destructive_verb_asks_and_a_no_keeps_everything(terminal, tmp_path) -> None:
    terminal(
        "send-keys",
        "-t",
        "t",
        "echo s3cr3t-value | smsctl account add prod --access-key-id LTAI5tTTY0001 "
        "--secret-stdin && clear && smsctl account delete prod",
        "Enter",
    )
    wait_for(terminal, "Delete sms account `prod` and its keyring entry? [y/N]:")
    terminal("send-keys", "-t", "t", "n", "Enter")
    screen = wait_for(terminal, "Aborted")
    assert "Error: Aborted" in screen
    assert "prod" in (tmp_path / "config.toml").read_text()
    terminal("send-keys", "-t", "t", "clear; smsctl account delete prod; echo rc=$?", "Enter")
    wait_for(terminal, "[y/N]:")
    terminal("send-keys", "-t", "t", "y", "Enter")
    screen = wait_for(terminal, "rc=0")
    assert "Deleted sms account `prod`" in screen
    assert json.loads((tmp_path / "keyring.json").read_text()) == {}
