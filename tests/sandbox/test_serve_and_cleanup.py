"""`smsctl sandbox serve|try` as a user runs them (the installed console script): every command
`serve` prints works as printed, and a stopped sandbox leaves nothing behind in the temp dir."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import SMSCTL

pytestmark = pytest.mark.e2e

LAST_LINE = "Ctrl-C (or SIGTERM) stops it"


def user_env(tmp_path: Path) -> dict[str, str]:
    """A shell of a user with a fresh home, no keyring, smsctl on the PATH, its own TMPDIR."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SMSCTL_", "XDG_")) and not key.lower().endswith("_proxy")
    }
    home = tmp_path / "user-home"
    tmp = tmp_path / "tmp"
    home.mkdir()
    tmp.mkdir()
    env.update(
        HOME=str(home),
        TMPDIR=str(tmp),
        PATH=f"{SMSCTL.parent}{os.pathsep}{env.get('PATH', '')}",
        PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
        NO_PROXY="*",
    )
    return env


def start_serve(env: dict[str, str], *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [str(SMSCTL), "sandbox", "serve", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def read_until(process: subprocess.Popen, prefix: str, seconds: float = 30) -> list[str]:
    """stdout lines up to the one starting with `prefix`; fails (and kills) after `seconds`."""
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        for line in process.stdout:
            lines.put(line.rstrip("\n"))
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    seen: list[str] = []
    deadline = time.monotonic() + seconds
    while True:
        try:
            line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            line = None
        if line is None:
            process.kill()
            raise AssertionError(f"no line starting {prefix!r}:\n" + "\n".join(seen))
        seen.append(line)
        if line.startswith(prefix):
            return seen


def read_until_ready(process: subprocess.Popen) -> list[str]:
    return read_until(process, LAST_LINE)


@pytest.fixture
def served(tmp_path) -> Iterator[tuple[list[str], dict[str, str]]]:
    env = user_env(tmp_path)
    process = start_serve(env)
    try:
        yield read_until_ready(process), env
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0


def test_every_printed_command_works_as_printed(served):
    lines, env = served
    commands = [
        line.strip()
        for line in lines
        if line.startswith("    ") and line.strip().startswith(("export ", "smsctl "))
    ]
    channels = ["smsctl account add", "smsctl voice ", "smsctl email ", "smsctl wechat "]
    for prefix in channels:
        assert any(c.startswith(prefix) for c in commands), prefix
    assert any(c.startswith("smsctl send-test ") for c in commands)
    assert any(c.startswith("smsctl wechat send-test --openid oSbx_follower_") for c in commands)
    exports: list[str] = []
    for command in commands:
        if command.startswith("export "):
            exports.append(command)
            continue
        done = subprocess.run(
            ["bash", "-c", "\n".join([*exports, command])],
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, (command, done.stdout, done.stderr)


def test_serve_lists_the_seeded_items_of_every_channel(served):
    text = "\n".join(served[0])
    for expected in (
        "Acme (approved)",
        "AcmeOld (rejected)",
        'SMS_100000001 "Login code" (verification, approved)',
        "TTS_100000001 (approved): 您的验证码是${code}，请在5分钟内输入。",
        "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b.wav (rejected)",
        "Login sandbox@smsctl.test, password sandbox-smtp-password",
        "Follower OpenID oSbx_follower_alice_000000001",
        "sbxVerifyCode_Q7mK2pX9wL4nR8tY 验证码通知: variables first, keyword1, keyword2, remark",
    ):
        assert expected in text, expected


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_stopped_serve_removes_its_temporary_files(tmp_path, signum):
    env = user_env(tmp_path)
    process = start_serve(env)
    lines = read_until_ready(process)
    created = sorted(p.name for p in Path(env["TMPDIR"]).iterdir())
    assert any(name.startswith("smsctl-smtp-sandbox-") for name in created), created
    assert any(str(tmp_path / "tmp") in line for line in lines)  # the CA path it printed
    process.send_signal(signum)
    assert process.wait(timeout=15) == 0
    assert list(Path(env["TMPDIR"]).iterdir()) == []


def test_stopped_serve_keeps_the_mailbox_it_was_given(tmp_path):
    env = user_env(tmp_path)
    mailbox = tmp_path / "mail"
    process = start_serve(env, "--json", "--mailbox", str(mailbox))
    info = json.loads(process.stdout.readline())
    assert info["smtp"]["mailbox"] == str(mailbox)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=15) == 0
    assert mailbox.is_dir()
    assert list(Path(env["TMPDIR"]).iterdir()) == []


def test_try_leaves_nothing_in_the_temp_dir(tmp_path):
    env = user_env(tmp_path)
    done = subprocess.run(
        [str(SMSCTL), "sandbox", "try"],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert list(Path(env["TMPDIR"]).iterdir()) == []


def test_try_stopped_by_sigterm_cleans_up_and_exits_130(tmp_path):
    env = user_env(tmp_path)
    process = subprocess.Popen(
        [str(SMSCTL), "sandbox", "try"],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    read_until(process, "$ smsctl account add")
    assert list(Path(env["TMPDIR"]).iterdir()) != []  # it is running, with its files
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 130
    assert list(Path(env["TMPDIR"]).iterdir()) == []
