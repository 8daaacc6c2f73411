"""The keyring's time limit is one budget per store (per command), not per call; a secret
given as text must be valid UTF-8."""

from __future__ import annotations

import io
import threading

import pytest
from keyring.backend import KeyringBackend

from smsctl.core.errors import CredentialError, UsageError
from smsctl.core.secrets import HEADLESS_HINT, SecretStore, secret_from_stdin
from tests.support.cli import invoke
from tests.support.memory_keyring import MemoryKeyring

ACCOUNTS = [f"acct{n}" for n in range(12)]
HERE = "tests.core.test_secret_budget_and_input."


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return Clock.now


class SlowKeyring(KeyringBackend):
    """Answers at once in real time, but each answer takes 0.3 s on the injected clock."""

    priority = -1
    calls = 0

    def get_password(self, service: str, username: str) -> str | None:
        type(self).calls += 1
        Clock.now += 0.3
        return "a-secret"

    def set_password(self, service: str, username: str, password: str) -> None:
        raise NotImplementedError

    def delete_password(self, service: str, username: str) -> None:
        raise NotImplementedError


class StuckKeyring(KeyringBackend):
    """A hung D-Bus: every call blocks until the test releases it."""

    priority = -1
    calls = 0
    release = threading.Event()

    def get_password(self, service: str, username: str) -> str | None:
        type(self).calls += 1
        type(self).release.wait(60)
        return None

    def set_password(self, service: str, username: str, password: str) -> None:
        raise NotImplementedError

    def delete_password(self, service: str, username: str) -> None:
        raise NotImplementedError


def outcomes(store: SecretStore) -> list[str]:
    results = []
    for account in ACCOUNTS:
        try:
            store.require("sms", account)
            results.append("ok")
        except CredentialError as err:
            results.append(err.code or "?")
    return results


def test_slow_keyring_answers_share_one_budget(monkeypatch) -> None:
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", HERE + "SlowKeyring")
    SlowKeyring.calls, Clock.now = 0, 0.0
    store = SecretStore(timeout=1.0, clock=Clock())
    # 0.3 s each on the clock: four answers use the 1 s budget up; the rest are not asked for.
    assert outcomes(store) == ["ok"] * 4 + ["keyring_timeout"] * 8
    assert SlowKeyring.calls == 4


def test_a_hung_keyring_is_waited_for_once_per_command(monkeypatch) -> None:
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", HERE + "StuckKeyring")
    StuckKeyring.calls = 0
    StuckKeyring.release.clear()
    try:
        store = SecretStore(timeout=0.2)
        results = outcomes(store)
    finally:
        StuckKeyring.release.set()
    assert results == ["keyring_timeout"] * 12
    assert StuckKeyring.calls == 1
    with pytest.raises(CredentialError) as caught:
        store.require("sms", "again")
    assert "not asked again" in caught.value.message
    assert "SMSCTL_KEYRING_TIMEOUT" in caught.value.hint


# --- secrets as text ---------------------------------------------------------------------------


def stdin(data: bytes) -> io.TextIOWrapper:
    """Standard input as Python opens it under a C/POSIX locale."""
    return io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", errors="surrogateescape")


@pytest.mark.parametrize("data", [b"\xff\xfesecret\n", b"abc\xc3\n", b"\xed\xa0\x80x\n"])
def test_invalid_utf8_on_stdin_is_refused(data: bytes) -> None:
    with pytest.raises(UsageError) as caught:
        secret_from_stdin(stdin(data), "AccessKey Secret")
    assert (caught.value.exit_code, caught.value.code) == (2, "secret_not_utf8")
    assert "nothing was stored" in caught.value.message


@pytest.mark.parametrize(
    ("data", "secret"),
    [(b"p\xc3\xa4ssw\xc3\xb6rd\n", "pässwörd"), (b"abc\r\n", "abc"), (b"no-newline", "no-newline")],
)
def test_utf8_secrets_on_stdin_are_read_whole(data: bytes, secret: str) -> None:
    assert secret_from_stdin(stdin(data), "AccessKey Secret") == secret


def test_account_add_with_invalid_utf8_stores_nothing(config_file) -> None:
    result = invoke(
        "--json", "account", "add", "prod", "--access-key-id", "LTAI5tUTF8", "--secret-stdin",
        input=b"\xff\xfe-not-text\n",
    )  # fmt: skip
    assert result.exit_code == 2, result.all_output
    assert result.error()["code"] == "secret_not_utf8"
    assert MemoryKeyring.entries == {}
    assert not config_file.exists() or "prod" not in config_file.read_text()


def test_the_headless_hint_never_puts_a_password_on_a_command_line() -> None:
    assert "echo" not in HEADLESS_HINT and "PASSWORD" not in HEADLESS_HINT
    assert "read -rsp" in HEADLESS_HINT and "read -rs SMSCTL_SECRET_" in HEADLESS_HINT
