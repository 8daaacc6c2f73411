"""Keyring backends for subprocess tests, chosen with PYTHON_KEYRING_BACKEND (never
auto-detected: negative priority).

`FileKeyring` keeps entries in the JSON file named by SMSCTL_TEST_KEYRING_FILE so that a test can
see what a child process stored. `HangingOnWriteKeyring` answers reads but hangs on writes, and
`FailingOnWriteKeyring` raises on writes: the half-written cases of account add/edit.
`StoringThenHangingKeyring` and `FailingOnDeleteKeyring` leave an entry without its account.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from pathlib import Path

from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError


def _path() -> Path:
    return Path(os.environ["SMSCTL_TEST_KEYRING_FILE"])


@contextlib.contextmanager
def _locked():
    path = _path()
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        raw = os.read(fd, 10_000_000).decode() or "{}"
        entries = json.loads(raw)
        yield entries
        os.lseek(fd, 0, os.SEEK_SET)
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps(entries).encode())
    finally:
        os.close(fd)


def read_entries(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    return json.loads(path.read_text() or "{}")


class FileKeyring(KeyringBackend):
    priority = -1

    def get_password(self, service: str, username: str) -> str | None:
        with _locked() as entries:
            return entries.get(f"{service}|{username}")

    def set_password(self, service: str, username: str, password: str) -> None:
        with _locked() as entries:
            entries[f"{service}|{username}"] = password

    def delete_password(self, service: str, username: str) -> None:
        with _locked() as entries:
            if f"{service}|{username}" not in entries:
                raise PasswordDeleteError(username)
            del entries[f"{service}|{username}"]


class HangingOnWriteKeyring(FileKeyring):
    priority = -1

    def set_password(self, service: str, username: str, password: str) -> None:
        time.sleep(60)

    def delete_password(self, service: str, username: str) -> None:
        time.sleep(60)


class FailingOnWriteKeyring(FileKeyring):
    priority = -1

    def set_password(self, service: str, username: str, password: str) -> None:
        raise RuntimeError("dbus: org.freedesktop.Secret.Error.IsLocked")

    def delete_password(self, service: str, username: str) -> None:
        raise RuntimeError("dbus: org.freedesktop.Secret.Error.IsLocked")


class StoringThenHangingKeyring(FileKeyring):
    """Stores the entry, then never returns: the moment between the keyring write and the
    config write of `account add`, held open for a SIGKILL."""

    priority = -1

    def set_password(self, service: str, username: str, password: str) -> None:
        super().set_password(service, username, password)
        time.sleep(60)


class FailingOnDeleteKeyring(FileKeyring):
    """Reads and writes, but cannot delete: the config change of `account delete` stands and
    the entry stays."""

    priority = -1

    def delete_password(self, service: str, username: str) -> None:
        raise RuntimeError("dbus: org.freedesktop.Secret.Error.IsLocked")


class LockedKeyring(KeyringBackend):
    """A locked collection: every call raises KeyringLocked (with the right signatures, so that
    writes fail the way reads do)."""

    priority = -1

    def get_password(self, service: str, username: str) -> str | None:
        from keyring.errors import KeyringLocked

        raise KeyringLocked("collection is locked")

    def set_password(self, service: str, username: str, password: str) -> None:
        self.get_password(service, username)

    def delete_password(self, service: str, username: str) -> None:
        self.get_password(service, username)


class HangingKeyring(KeyringBackend):
    """A hung D-Bus: every call blocks."""

    priority = -1

    def get_password(self, service: str, username: str) -> str | None:
        time.sleep(60)
        return None

    def set_password(self, service: str, username: str, password: str) -> None:
        time.sleep(60)

    def delete_password(self, service: str, username: str) -> None:
        time.sleep(60)


class BrokenKeyring(KeyringBackend):
    """A backend raising something unexpected on every call."""

    priority = -1

    def get_password(self, service: str, username: str) -> str | None:
        raise RuntimeError("backend exploded")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise RuntimeError("backend exploded")

    def delete_password(self, service: str, username: str) -> None:
        raise RuntimeError("backend exploded")


class CountingHangingKeyring(HangingKeyring):
    """A hung D-Bus that counts the calls made to it, one line each in the file named by
    SMSCTL_TEST_KEYRING_CALLS."""

    priority = -1

    def get_password(self, service: str, username: str) -> str | None:
        with open(os.environ["SMSCTL_TEST_KEYRING_CALLS"], "a") as calls:
            calls.write(f"{username}\n")
        return super().get_password(service, username)
