"""`smsctl completion`: the printed script is the shipped one, and `--install` makes a real, fresh
interactive shell complete smsctl, once (a second install changes nothing)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from smsctl.completion import SCRIPTS
from tests.e2e.conftest import SMSCTL, smsctl


def _shell(name: str) -> str:
    path = shutil.which(name)
    assert path, f"{name} must be installed (scripts/test installs it)"
    return path


def _env(home: Path, shell: str) -> dict[str, str]:
    return {
        "HOME": str(home),
        "SHELL": f"/bin/{shell}",
        "XDG_DATA_HOME": str(home / ".local/share"),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "PATH": f"{SMSCTL.parent}:/usr/bin:/bin",
    }


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_printed_script_is_the_shipped_one(shell):
    done = smsctl("completion", shell)
    assert done.exit_code == 0
    assert done.stdout == SCRIPTS[shell]


def test_install_for_bash_is_loaded_by_a_new_interactive_bash(tmp_path):
    env = _env(tmp_path, "bash")
    first = smsctl("--json", "completion", "--install", env=env)
    assert first.exit_code == 0, first.stderr
    report = first.json()
    assert report["shell"] == "bash" and report["rc_changed"] and report["script_changed"]
    loaded = subprocess.run(
        [_shell("bash"), "-i", "-c", "complete -p smsctl"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert "_smsctl_completion" in loaded.stdout, loaded.stderr
    again = smsctl("--json", "completion", "--install", env=env).json()
    assert not again["rc_changed"] and not again["script_changed"]
    assert (tmp_path / ".bashrc").read_text().count("smsctl shell completion") == 1


def test_install_for_zsh_registers_the_completer(tmp_path):
    env = _env(tmp_path, "zsh")
    assert smsctl("completion", "--install", env=env).exit_code == 0
    loaded = subprocess.run(
        [_shell("zsh"), "-i", "-c", "print -r -- $_comps[smsctl]"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert loaded.stdout.strip() == "_smsctl", loaded.stderr


def test_install_for_fish_completes_commands(tmp_path):
    env = _env(tmp_path, "fish")
    assert smsctl("completion", "fish", "--install", env=env).exit_code == 0
    assert not (tmp_path / ".bashrc").exists()
    offered = subprocess.run(
        [_shell("fish"), "-c", "complete -C 'smsctl sandb'"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert offered.stdout.split()[0] == "sandbox", offered.stderr


def test_unknown_or_undetectable_shell_is_a_usage_error_and_writes_nothing(tmp_path):
    home = tmp_path / "empty-home"
    home.mkdir()
    env = _env(home, "tcsh")
    assert smsctl("completion", "--install", env=env).exit_code == 2
    assert smsctl("completion", "tcsh", "--install", env=env).exit_code == 2
    assert list(home.iterdir()) == []
