from __future__ import annotations

import time

import pytest

from smsctl.core.errors import CredentialError
from smsctl.core.secrets import SecretStore, env_var_name
from tests.conftest import CANARY
from tests.support.memory_keyring import MemoryKeyring


def test_env_var_name_upper_cases_and_replaces_other_characters() -> None:
    assert env_var_name("sms", "prod") == "SMSCTL_SECRET_SMS_PROD"
    assert env_var_name("email", "eu-west.1") == "SMSCTL_SECRET_EMAIL_EU_WEST_1"


def test_env_wins_over_keyring_and_the_keyring_is_not_touched(monkeypatch) -> None:
    MemoryKeyring.entries[("smsctl", "sms/prod")] = "from-keyring"
    monkeypatch.setenv("SMSCTL_SECRET_SMS_PROD", CANARY)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "tests.support.memory_keyring.HangingKeyring")
    store = SecretStore(timeout=0.2)
    started = time.monotonic()
    found = store.lookup("sms", "prod")
    assert found.value == CANARY
    assert found.source == "env SMSCTL_SECRET_SMS_PROD"
    assert time.monotonic() - started < 0.2
    assert CANARY not in repr(found)


def test_keyring_round_trip_and_status() -> None:
    store = SecretStore()
    assert store.status("sms", "prod") == "missing"
    store.store("sms", "prod", CANARY)
    assert MemoryKeyring.entries[("smsctl", "sms/prod")] == CANARY
    assert store.status("sms", "prod") == "set (keyring)"
    assert store.delete("sms", "prod") is True
    assert store.delete("sms", "prod") is False


def test_missing_secret_is_exit_4_naming_the_env_var() -> None:
    with pytest.raises(CredentialError) as caught:
        SecretStore().require("voice", "alerts")
    assert caught.value.exit_code == 4
    assert "SMSCTL_SECRET_VOICE_ALERTS" in caught.value.message


@pytest.mark.parametrize(
    ("backend", "code"),
    [
        ("tests.support.memory_keyring.LockedKeyring", "keyring_locked"),
        ("tests.support.memory_keyring.BrokenKeyring", "keyring_error"),
        ("no.such.Backend", "keyring_backend"),
    ],
)
def test_keyring_faults_are_exit_4(monkeypatch, backend: str, code: str) -> None:
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", backend)
    with pytest.raises(CredentialError) as caught:
        SecretStore().lookup("sms", "prod")
    assert caught.value.code == code
    assert caught.value.hint


def test_a_hanging_keyring_is_bounded(monkeypatch) -> None:
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "tests.support.memory_keyring.HangingKeyring")
    started = time.monotonic()
    with pytest.raises(CredentialError) as caught:
        SecretStore(timeout=0.3).lookup("sms", "prod")
    assert caught.value.code == "keyring_timeout"
    assert time.monotonic() - started < 2


def test_auto_detected_unsafe_backends_are_refused(monkeypatch) -> None:
    import keyring
    from keyring.backends import fail

    monkeypatch.delenv("PYTHON_KEYRING_BACKEND")
    monkeypatch.setattr(keyring, "get_keyring", lambda: fail.Keyring())
    with pytest.raises(CredentialError) as caught:
        SecretStore().lookup("sms", "prod")
    assert caught.value.code == "no_keyring"
    assert "SMSCTL_SECRET_" in caught.value.hint


def test_plaintext_backend_present_but_not_chosen_is_refused(monkeypatch) -> None:
    import keyring
    from keyring.backend import KeyringBackend

    class PlaintextKeyring(KeyringBackend):  # stands for keyrings.alt.file.PlaintextKeyring
        priority = -5

        def get_password(self, *_):
            return None

        set_password = delete_password = get_password

    monkeypatch.delenv("PYTHON_KEYRING_BACKEND")
    monkeypatch.setattr(keyring, "get_keyring", lambda: PlaintextKeyring())
    with pytest.raises(CredentialError, match="would not keep secrets safe"):
        SecretStore().lookup("sms", "prod")


def test_explicitly_configured_backend_is_used() -> None:
    store = SecretStore(configured_backend="tests.support.memory_keyring.MemoryKeyring")
    store.store("sms", "a", "x1234")
    assert store.backend_name().endswith("MemoryKeyring")


def test_an_env_secret_that_is_not_utf8_is_exit_4_naming_the_variable(monkeypatch) -> None:
    monkeypatch.setenv("SMSCTL_SECRET_SMS_PROD", "ab\udcffcd")  # how Python reads byte 0xff
    with pytest.raises(CredentialError) as caught:
        SecretStore().require("sms", "prod")
    assert caught.value.exit_code == 4 and caught.value.code == "secret_not_utf8"
    assert "SMSCTL_SECRET_SMS_PROD is not valid UTF-8" in caught.value.message
    assert "cd" not in caught.value.message
