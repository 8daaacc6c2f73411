from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import CANARY
from tests.e2e.conftest import SMSCTL, smsctl


def test_installed_console_script_and_module_report_the_version() -> None:
    from smsctl import __version__

    assert SMSCTL.exists()
    assert smsctl("--version").stdout == f"smsctl {__version__}\n"
    module = subprocess.run(
        [sys.executable, "-m", "smsctl", "--version"], capture_output=True, text=True
    )
    assert module.stdout == f"smsctl {__version__}\n"


def test_no_tty_no_secret_is_exit_4_and_nothing_is_written(config_file: Path) -> None:
    result = smsctl("account", "add", "prod", "--access-key-id", "LTAI5tE2E0001")
    assert result.exit_code == 4
    assert "Traceback" not in result.stderr
    assert not config_file.exists()


def test_no_input_with_env_secret_works_without_any_keyring(config_file: Path) -> None:
    env = {
        "SMSCTL_SECRET_SMS_CI": CANARY,
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
    }
    added = smsctl(
        "--no-input", "account", "add", "ci", "--access-key-id", "LTAI5tE2E0001", env=env
    )
    assert added.exit_code == 0, added.stderr
    shown = smsctl("--json", "account", "show", "ci", env=env)
    assert shown.json()["secret"] == {
        "source": "env",
        "name": "SMSCTL_SECRET_SMS_CI",
        "reason": None,
    }
    assert CANARY not in added.stdout + added.stderr + shown.stdout + shown.stderr
    assert CANARY not in config_file.read_text()


def test_malformed_config_exit_3_with_line_and_no_traceback(config_file: Path) -> None:
    config_file.parent.mkdir(parents=True)
    config_file.write_text("[sms.accounts.prod\naccess_key_id = 1\n")
    config_file.chmod(0o600)
    result = smsctl("account", "list")
    assert result.exit_code == 3
    assert "line 1" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.real_keyring
def test_real_secret_service_round_trip(real_keyring, config_file: Path) -> None:
    name = "e2e-real"
    added = smsctl(
        "account",
        "add",
        name,
        "--access-key-id",
        "LTAI5tE2E0001",
        "--secret-stdin",
        input=CANARY + "\n",
    )
    assert added.exit_code == 0, added.stderr
    assert "secret: keyring" in added.stdout
    shown = smsctl("--json", "account", "show", name).json()["secret"]
    assert shown == {"source": "keyring", "name": f"smsctl: sms/{name}", "reason": None}
    if shutil.which("secret-tool"):
        looked_up = subprocess.run(
            ["secret-tool", "lookup", "service", "smsctl", "username", f"sms/{name}"],
            capture_output=True,
            text=True,
        )
        assert looked_up.stdout == CANARY
    import keyring

    assert keyring.get_password("smsctl", f"sms/{name}") == CANARY
    deleted = smsctl("account", "delete", name, "--yes")
    assert deleted.exit_code == 0, deleted.stderr
    assert keyring.get_password("smsctl", f"sms/{name}") is None
    assert CANARY not in config_file.read_text()
