"""Keyring faults through the installed console script (docs/contract.md §4): no backend, locked,
raising, hanging (bounded), plaintext present but not chosen — each exit 4 with what to do; and
nothing half-written: no account without its secret, no secret without its account, on add,
edit --rotate-secret and edit --rename."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from tests.reliability.file_keyring import read_entries
from tests.reliability.helpers import assert_error_with_hint, child_env, smsctl

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

SECRET = "kr-fault-secret-91c2"
BACKENDS = "tests.reliability.file_keyring."
ADD = ("--json", "account", "add", "prod", "--access-key-id", "LTAI5tKR01", "--secret-stdin")


@pytest.fixture
def keyring_file(tmp_path: Path) -> Path:
    return tmp_path / "keyring.json"


def env_for(keyring_file: Path, backend: str | None, **extra: str | None) -> dict[str, str]:
    # A short budget only where the keyring hangs: a working or failing backend must answer
    # for itself, not be cut off by a budget a loaded machine overruns while importing it.
    hanging = backend is not None and "Hanging" in backend
    return child_env(
        PYTHON_KEYRING_BACKEND=backend,
        SMSCTL_TEST_KEYRING_FILE=str(keyring_file),
        SMSCTL_KEYRING_TIMEOUT="0.5" if hanging else "60",
        **extra,
    )


def accounts_in(config_file: Path) -> list[str]:
    if not config_file.exists():
        return []
    return sorted(tomllib.loads(config_file.read_text()).get("sms", {}).get("accounts", {}))


def no_dbus(keyring_file: Path) -> dict[str, str]:
    """Auto-detection on a machine without a session bus (a typical CI runner or server)."""
    return env_for(
        keyring_file,
        None,
        DBUS_SESSION_BUS_ADDRESS="unix:path=/nonexistent/smsctl-test-bus",
        XDG_RUNTIME_DIR=None,
        GNOME_KEYRING_CONTROL=None,
    )


@pytest.mark.parametrize(
    ("backend", "code", "words"),
    [
        ("keyring.backends.fail.Keyring", "no_keyring", "SMSCTL_SECRET_"),
        (BACKENDS + "LockedKeyring", "keyring_locked", "Unlock"),
        (BACKENDS + "BrokenKeyring", "keyring_error", "SMSCTL_SECRET_"),
        (BACKENDS + "HangingKeyring", "keyring_timeout", "SMSCTL_SECRET_"),
        (None, "no_keyring", "SMSCTL_SECRET_"),  # auto-detection without D-Bus
    ],
)
def test_keyring_faults_on_account_add_are_exit_4_and_write_nothing(
    config_file, keyring_file, backend, code, words
) -> None:
    env = no_dbus(keyring_file) if backend is None else env_for(keyring_file, backend)
    started = time.monotonic()
    result = smsctl(*ADD, input=SECRET + "\n", env=env)
    assert time.monotonic() - started < 15  # a hung keyring is bounded
    error = assert_error_with_hint(result, 4, code)
    assert words in error["hint"]
    assert accounts_in(config_file) == []
    assert SECRET not in result.all_output


def test_keyring_faults_on_show_and_send_are_exit_4(config_file, keyring_file) -> None:
    env = env_for(keyring_file, BACKENDS + "FileKeyring")
    assert smsctl(*ADD, input=SECRET + "\n", env=env).exit_code == 0
    for backend, code in (
        (BACKENDS + "LockedKeyring", "keyring_locked"),
        (BACKENDS + "HangingKeyring", "keyring_timeout"),
    ):
        broken = env_for(keyring_file, backend)
        shown = smsctl("--json", "account", "show", "prod", env=broken)
        assert shown.exit_code == 0  # show reports it instead of failing
        secret = shown.json()["secret"]
        assert secret["source"] == "unknown" and secret["name"] == "smsctl: sms/prod"
        assert secret["reason"]
        validated = smsctl("--json", "validate", "prod", env=broken)
        assert_error_with_hint(validated, 4, code)


def test_plaintext_backend_present_but_not_chosen_is_refused(config_file, keyring_file) -> None:
    """A plaintext backend that auto-detection would pick (as keyrings.alt's does without
    D-Bus) is refused unless named explicitly."""
    import subprocess

    script = (
        "import sys\n"
        "from keyring.backend import KeyringBackend\n"
        "class PlaintextKeyring(KeyringBackend):\n"
        "    priority = 1\n"
        "    def get_password(self, s, u): return None\n"
        "    def set_password(self, s, u, p): open(sys.argv[1], 'w').write(p)\n"
        "    def delete_password(self, s, u): pass\n"
        "PlaintextKeyring.__module__ = 'keyrings.alt.file'\n"
        "sys.argv = ['smsctl', *sys.argv[2:]]\n"
        "from smsctl.entry import main\n"
        "main()\n"
    )
    leaked = keyring_file.with_name("plaintext.txt")
    done = subprocess.run(
        [sys.executable, "-c", script, str(leaked), *ADD],
        input=SECRET + "\n",
        capture_output=True,
        text=True,
        env=no_dbus(keyring_file),
        timeout=60,
    )
    assert done.returncode == 4, done.stderr
    assert "would not keep secrets safe" in done.stderr
    assert not leaked.exists()
    assert accounts_in(config_file) == []


@pytest.mark.parametrize("failing", ["FailingOnWriteKeyring", "HangingOnWriteKeyring"])
def test_rotate_and_rename_with_a_failing_keyring_change_nothing(
    config_file, keyring_file, failing
) -> None:
    good = env_for(keyring_file, BACKENDS + "FileKeyring")
    assert smsctl(*ADD, input=SECRET + "\n", env=good).exit_code == 0
    before_config = config_file.read_text()
    before_keyring = read_entries(keyring_file)
    assert before_keyring == {"smsctl|sms/prod": SECRET}
    bad = env_for(keyring_file, BACKENDS + failing)
    for args in (
        ("account", "edit", "prod", "--rotate-secret", "--secret-stdin", "--note", "n"),
        ("account", "edit", "prod", "--rename", "main"),
        ("account", "edit", "prod", "--rename", "main", "--rotate-secret", "--secret-stdin"),
    ):
        result = smsctl("--json", *args, input="rotated-secret-77\n", env=bad)
        assert_error_with_hint(result, 4)
        assert config_file.read_text() == before_config, args
        assert read_entries(keyring_file) == before_keyring, args


@pytest.mark.parametrize(
    "backend",
    [
        "keyring.backends.fail.Keyring",
        BACKENDS + "LockedKeyring",
        BACKENDS + "HangingKeyring",
        None,
    ],
    ids=["no-keyring", "locked", "hanging", "no-dbus"],
)
@pytest.mark.parametrize("env_on_delete", [True, False], ids=["env-set", "env-unset"])
def test_delete_without_a_usable_keyring_succeeds_and_says_what_it_could_not_check(
    config_file, keyring_file, backend, env_on_delete
) -> None:
    """The pipeline case: the secret came from SMSCTL_SECRET_SMS_PROD, there is no keyring."""
    env = no_dbus(keyring_file) if backend is None else env_for(keyring_file, backend)
    with_secret = {**env, "SMSCTL_SECRET_SMS_PROD": SECRET}
    added = smsctl("--no-input", "account", "add", "prod", "--access-key-id", "LTAI5tKR01",
                   env=with_secret)  # fmt: skip
    assert added.exit_code == 0, added.all_output
    result = smsctl("--json", "account", "delete", "prod", "--yes",
                    env=with_secret if env_on_delete else env)  # fmt: skip
    assert result.exit_code == 0, result.all_output
    keyring = result.json()["keyring"]
    assert keyring["state"] == "unchecked" and keyring["entry"] == "sms/prod"
    assert keyring["reason"]
    assert accounts_in(config_file) == []
    human = smsctl("account", "show", "prod", env=env)
    assert human.exit_code == 3  # really gone


def test_delete_says_in_words_what_it_could_not_check(config_file, keyring_file) -> None:
    env = env_for(keyring_file, "keyring.backends.fail.Keyring", SMSCTL_SECRET_SMS_PROD=SECRET)
    assert smsctl("account", "add", "prod", "--access-key-id", "LTAI5tKR01", env=env).exit_code == 0
    result = smsctl("-q", "account", "delete", "prod", "--yes", env=env)
    assert result.exit_code == 0, result.all_output
    assert "Keyring not checked (No usable keyring" in result.stderr
    assert "`sms/prod`" in result.stderr


@pytest.mark.parametrize("failing", ["FailingOnWriteKeyring", "HangingOnWriteKeyring"])
def test_a_keyring_that_holds_the_entry_and_refuses_to_delete_it_changes_nothing(
    config_file, keyring_file, failing
) -> None:
    good = env_for(keyring_file, BACKENDS + "FileKeyring")
    assert smsctl(*ADD, input=SECRET + "\n", env=good).exit_code == 0
    before_config = config_file.read_text()
    bad = env_for(keyring_file, BACKENDS + failing)
    result = smsctl("--json", "account", "delete", "prod", "--yes", env=bad)
    error = assert_error_with_hint(result, 4, "keyring_delete_refused")
    assert "nothing was changed" in error["message"]
    assert config_file.read_text() == before_config
    assert read_entries(keyring_file) == {"smsctl|sms/prod": SECRET}
    assert SECRET not in result.all_output


def test_a_delete_whose_config_write_fails_puts_the_keyring_entry_back(
    monkeypatch, keyring_entries, config_file
) -> None:
    from tests.support.cli import invoke

    assert invoke(*ADD, input=SECRET + "\n").exit_code == 0
    import smsctl.core.config as config_module

    def no_space(*_args, **_kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(config_module.ConfigStore, "_write_atomically", no_space)
    result = invoke("account", "delete", "prod", "--yes")
    assert result.exit_code == 3
    assert accounts_in(config_file) == ["prod"]
    assert keyring_entries[("smsctl", "sms/prod")] == SECRET


def test_rename_whose_config_write_fails_leaves_no_secret_for_the_new_name(
    monkeypatch, keyring_entries, config_file
) -> None:
    from tests.support.cli import invoke

    added = invoke(*ADD, input=SECRET + "\n")
    assert added.exit_code == 0
    import smsctl.core.config as config_module

    def no_space(*_args, **_kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(config_module.ConfigStore, "_write_atomically", no_space)
    result = invoke("account", "edit", "prod", "--rename", "main")
    assert result.exit_code != 0
    assert accounts_in(config_file) == ["prod"]
    assert ("smsctl", "sms/main") not in keyring_entries
    assert keyring_entries[("smsctl", "sms/prod")] == SECRET


def test_rotate_whose_config_write_fails_keeps_the_old_secret(
    monkeypatch, keyring_entries, config_file
) -> None:
    from tests.support.cli import invoke

    assert invoke(*ADD, input=SECRET + "\n").exit_code == 0
    import smsctl.core.config as config_module

    def no_space(*_args, **_kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(config_module.ConfigStore, "_write_atomically", no_space)
    result = invoke(
        "account",
        "edit",
        "prod",
        "--note",
        "x",
        "--rotate-secret",
        "--secret-stdin",
        input="brand-new-secret\n",
    )
    assert result.exit_code != 0
    assert keyring_entries[("smsctl", "sms/prod")] == SECRET
