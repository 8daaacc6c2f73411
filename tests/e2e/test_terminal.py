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
from typing import Any

import pytest

from tests.conftest import CANARY
from tests.e2e.conftest import SMSCTL
from tests.reliability.file_keyring import read_entries

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


def wait_for_prompt(tm: Callable[..., str], prompt: str, timeout: float = 20.0) -> str:
    """Wait until a program is waiting at `prompt`: it is the screen's last line. A prompt seen
    anywhere else may be an earlier command's, still on screen before `clear` ran; keys typed
    then reach the shell's line editor, which may keep them for its own next line."""
    deadline = time.monotonic() + timeout
    screen = ""
    while time.monotonic() < deadline:
        screen = tm("capture-pane", "-p", "-t", "t")
        lines = [line.rstrip() for line in screen.splitlines() if line.strip()]
        if lines and lines[-1].endswith(prompt):
            return screen
        time.sleep(0.1)
    raise AssertionError(f"no program waits at {prompt!r}; the screen shows:\n{screen}")


def test_hidden_prompt_with_confirmation_stores_the_secret_unseen(terminal, tmp_path) -> None:
    terminal(
        "send-keys", "-t", "t", "smsctl account add prod --access-key-id LTAI5tTTY0001", "Enter"
    )
    wait_for_prompt(terminal, "AccessKey Secret:")
    terminal("send-keys", "-t", "t", "-l", CANARY)
    terminal("send-keys", "-t", "t", "Enter")
    wait_for_prompt(terminal, "Repeat for confirmation:")
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
    wait_for_prompt(terminal, "Delete sms account `prod` and its keyring entry? [y/N]:")
    terminal("send-keys", "-t", "t", "n", "Enter")
    screen = wait_for(terminal, "Aborted")
    assert "Error: Aborted" in screen
    assert "prod" in (tmp_path / "config.toml").read_text()
    terminal("send-keys", "-t", "t", "clear; smsctl account delete prod; echo rc=$?", "Enter")
    wait_for_prompt(terminal, "[y/N]:")
    terminal("send-keys", "-t", "t", "y", "Enter")
    screen = wait_for(terminal, "rc=0")
    assert "Deleted sms account `prod`" in screen
    assert json.loads((tmp_path / "keyring.json").read_text()) == {}


# --- Ctrl-C and "no": one behaviour for every prompt, and an interrupted send explained -------


def run(terminal: Callable[..., str], command: str) -> str:
    """Type `command` at the shell; returns the marker its exit code is printed after."""
    marker = f"done-{uuid.uuid4().hex[:6]}"
    terminal("send-keys", "-t", "t", f"clear; {command}; echo {marker} rc=$?", "Enter")
    return marker


def finished(terminal: Callable[..., str], marker: str) -> tuple[str, int]:
    """The screen once the command of `marker` ended (long lines unwrapped), and its exit
    code."""
    deadline = time.monotonic() + 30
    while True:
        screen = terminal("capture-pane", "-p", "-J", "-t", "t")
        found = [line for line in screen.splitlines() if line.startswith(f"{marker} rc=")]
        if found:
            return screen, int(found[0].split("rc=")[1])
        assert time.monotonic() < deadline, f"{marker} never came; the screen shows:\n{screen}"
        time.sleep(0.1)


def ctrl_c(terminal: Callable[..., str]) -> None:
    terminal("send-keys", "-t", "t", "C-c")


def add_account(terminal: Callable[..., str], sms: dict) -> None:
    marker = run(
        terminal,
        f"echo {sms['access_key_secret']} | smsctl account add prod --access-key-id "
        f"{sms['access_key_id']} --endpoint {sms['endpoint']} --secret-stdin",
    )
    assert finished(terminal, marker)[1] == 0


def test_ctrl_c_at_the_hidden_prompt_is_130_and_writes_nothing(terminal, tmp_path) -> None:
    marker = run(terminal, "smsctl account add prod --access-key-id LTAI5tTTY0001")
    wait_for_prompt(terminal, "AccessKey Secret:")
    ctrl_c(terminal)
    screen, code = finished(terminal, marker)
    assert code == 130
    assert "Error: Interrupted at the prompt: nothing was done." in screen
    assert "Aborted" not in screen
    assert not (tmp_path / "config.toml").exists()
    assert read_entries(tmp_path / "keyring.json") == {}  # asked whether it could store, only


def test_ctrl_c_at_the_repeat_prompt_is_130_too(terminal, tmp_path) -> None:
    marker = run(terminal, "smsctl account add prod --access-key-id LTAI5tTTY0001")
    wait_for_prompt(terminal, "AccessKey Secret:")
    terminal("send-keys", "-t", "t", "-l", CANARY)
    terminal("send-keys", "-t", "t", "Enter")
    wait_for_prompt(terminal, "Repeat for confirmation:")
    ctrl_c(terminal)
    screen, code = finished(terminal, marker)
    assert code == 130 and "Error: Interrupted at the prompt: nothing was done." in screen
    assert CANARY not in screen
    assert not (tmp_path / "config.toml").exists()


def test_ctrl_c_at_a_confirmation_is_130_and_a_no_is_1(terminal, tmp_path, sandbox) -> None:
    add_account(terminal, sandbox.info()["sms"])
    before = (tmp_path / "config.toml").read_text()
    marker = run(terminal, "smsctl account delete prod")
    wait_for_prompt(terminal, "[y/N]:")
    ctrl_c(terminal)
    screen, code = finished(terminal, marker)
    assert code == 130
    assert "Error: Interrupted at the prompt: nothing was done." in screen
    marker = run(terminal, "smsctl account delete prod")
    wait_for_prompt(terminal, "[y/N]:")
    terminal("send-keys", "-t", "t", "n", "Enter")
    screen, code = finished(terminal, marker)
    assert code == 1 and "Error: Aborted" in screen
    assert (tmp_path / "config.toml").read_text() == before


def ready_to_send(terminal: Callable[..., str], sandbox: Any) -> None:
    add_account(terminal, sandbox.info()["sms"])
    marker = run(
        terminal,
        "smsctl signature add Acme --account prod && smsctl template add SMS_100000001 "
        "--account prod --scenario login && smsctl validate prod",
    )
    assert finished(terminal, marker)[1] == 0


def sms_sends(sandbox: Any) -> list:
    return [p for action, p in sandbox.alibaba.state.requests if action == "SendSms"]


def test_ctrl_c_at_the_send_confirmation_sends_nothing(terminal, fresh_sandbox_state) -> None:
    ready_to_send(terminal, fresh_sandbox_state)
    marker = run(terminal, "smsctl send-test --to +8613812345678 --scenario login --param code=1")
    wait_for_prompt(terminal, "Send this SMS to +8613812345678? [y/N]:")
    ctrl_c(terminal)
    screen, code = finished(terminal, marker)
    assert code == 130 and "Error: Interrupted at the prompt: nothing was done." in screen
    assert sms_sends(fresh_sandbox_state) == []


def test_ctrl_c_while_sending_says_it_may_have_gone_out_and_how_to_check(
    terminal, fresh_sandbox_state
) -> None:
    ready_to_send(terminal, fresh_sandbox_state)
    number = "+8613900000011"  # the sandbox takes the send, then holds its answer
    marker = run(terminal, f"smsctl send-test --to {number} --scenario login --param code=1 --yes")
    deadline = time.monotonic() + 20
    while not sms_sends(fresh_sandbox_state):  # the request is with the provider now
        assert time.monotonic() < deadline, terminal("capture-pane", "-p", "-t", "t")
        time.sleep(0.05)
    ctrl_c(terminal)
    screen, code = finished(terminal, marker)
    assert code == 130
    out_id = sms_sends(fresh_sandbox_state)[0]["OutId"]
    assert (
        f"Error: Interrupted while the SMS was being sent: it may have gone out (OutId {out_id})"
        in screen
    )
    command = f"smsctl receipt --to {number} --out-id {out_id}"
    assert f"`{command}`" in screen
    fresh_sandbox_state.alibaba.state.receipt_delay = 0
    screen, code = finished(terminal, run(terminal, command))  # the hint works
    assert code == 0 and f"Delivered to {number}" in screen


def test_ctrl_c_while_waiting_for_the_receipt_names_the_bizid(
    terminal, fresh_sandbox_state
) -> None:
    ready_to_send(terminal, fresh_sandbox_state)
    fresh_sandbox_state.alibaba.state.receipt_delay = 600
    marker = run(
        terminal,
        "smsctl send-test --to +8613812345678 --scenario login --param code=1 --yes --wait 600",
    )
    screen = wait_for(terminal, "Accepted by Alibaba Cloud: BizId ")
    ctrl_c(terminal)
    screen, code = finished(terminal, marker)
    assert code == 130
    biz_id = screen.split("BizId ")[1].split(",")[0]
    assert f"Error: Interrupted while waiting: the SMS was accepted (BizId {biz_id}" in screen
    command = f"smsctl receipt --to +8613812345678 --biz-id '{biz_id}'"
    assert f"`{command}`" in screen
    fresh_sandbox_state.alibaba.state.receipt_delay = 0
    screen, code = finished(terminal, run(terminal, command))
    assert code == 0 and "Delivered to +8613812345678" in screen


def test_no_usable_keyring_is_said_before_the_secret_is_asked_for(terminal, tmp_path) -> None:
    marker = run(
        terminal,
        "PYTHON_KEYRING_BACKEND=keyring.backends.fail.Keyring "
        "smsctl account add newacct --access-key-id LTAI5tTTY0001",
    )
    screen, code = finished(terminal, marker)
    assert code == 4
    assert "AccessKey Secret:" not in screen  # never asked
    assert "No usable keyring" in screen
    assert "SMSCTL_SECRET_SMS_NEWACCT" in screen
    assert not (tmp_path / "config.toml").exists()
