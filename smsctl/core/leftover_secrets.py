"""Keyring entries that an interrupted account change may have left without an account.

The keyring and the config file cannot change in one step: `account add` stores the secret and
then writes the config, `account delete` writes the config and then removes the secret. A
process killed in between (SIGKILL, a power cut, a keyring that fails on the second step) leaves
a secret in the keyring for an account the config does not have. So before the first step the
change leaves a note in the state directory (`pending-secrets/`, one small JSON file per config
and account) and removes it once both steps are done or undone. `smsctl doctor` reports a note
whose account is not in the config while the keyring still holds its entry, and
`smsctl [CHANNEL] account delete NAME` removes such an entry.

A note names the config file, because several config files share one keyring: an entry is a
leftover only for the config whose change was interrupted, never merely because this config
lacks the account. A note whose process is still running is a change in progress, not a
leftover. Notes are best effort: a state directory that cannot be written loses only this
detection, never the change itself.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from smsctl.core import paths

DIRECTORY = "pending-secrets"


@dataclass(frozen=True)
class Note:
    channel: str
    account: str
    config: str
    pid: int


def note(config_path: Path, channel: str, account: str) -> None:
    """Before the first of the two writes: this change may leave `channel/account` behind."""
    record = {
        "channel": channel,
        "account": account,
        "config": _config_key(config_path),
        "pid": os.getpid(),
    }
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
    path = _note_path(config_path, channel, account)
    for _attempt in range(2):  # a `forget` elsewhere may remove the empty directory between
        try:
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd = os.open(path, flags, 0o600)
        except FileNotFoundError:
            continue
        except OSError:
            return
        try:
            os.write(fd, json.dumps(record).encode())
        except OSError:
            pass
        finally:
            os.close(fd)
        return


def forget(config_path: Path, channel: str, account: str) -> None:
    """Both writes done (or undone): nothing is left behind."""
    path = _note_path(config_path, channel, account)
    with contextlib.suppress(OSError):
        path.unlink()
    with contextlib.suppress(OSError):
        path.parent.rmdir()  # only when no other note is there: the state dir stays as it was


def find(config_path: Path, channel: str, account: str) -> Note | None:
    """The note of an interrupted change of `channel/account` in this config, if any."""
    found = _read(_note_path(config_path, channel, account))
    if found is None or found.config != _config_key(config_path) or _running(found.pid):
        return None
    return found


def notes(config_path: Path) -> list[Note]:
    """Every note of an interrupted change in this config."""
    try:
        files = sorted((paths.state_dir() / DIRECTORY).glob("*.json"))
    except OSError:
        return []
    key = _config_key(config_path)
    found = [_read(path) for path in files]
    return [n for n in found if n is not None and n.config == key and not _running(n.pid)]


def _config_key(config_path: Path) -> str:
    return os.path.abspath(config_path)


def _note_path(config_path: Path, channel: str, account: str) -> Path:
    import hashlib

    digest = hashlib.sha256(f"{_config_key(config_path)}\0{channel}/{account}".encode())
    return paths.state_dir() / DIRECTORY / f"{digest.hexdigest()[:32]}.json"


def _read(path: Path) -> Note | None:
    try:
        if not path.is_file() or path.is_symlink():
            return None
        raw = json.loads(path.read_bytes()[:4096])
        found = Note(str(raw["channel"]), str(raw["account"]), str(raw["config"]), int(raw["pid"]))
    except (OSError, ValueError, TypeError, KeyError):
        return None
    return found


def _running(pid: int) -> bool:
    from smsctl.core.config import process_alive

    if pid <= 0:
        return False
    if pid == os.getpid():
        return False  # this process's own change is over by the time anyone asks
    return process_alive(pid)
