from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from smsctl.core.config import ConfigStore, FileLock
from smsctl.core.errors import ConfigError
from tests.support.config_lock import released

COMMENTED = """# Operator's notes: prod is the main account.

[defaults]
timeout = 7.5  # slow office network

# --- SMS ---
[sms.accounts.prod]
access_key_id = "LTAI5tPROD0001"   # rotated 2026-10
note = "main"
"""


def store_at(path: Path) -> ConfigStore:
    return ConfigStore(path, "test")


def test_new_file_is_0600_in_a_0700_directory(tmp_path: Path) -> None:
    path = tmp_path / "new" / "dir" / "config.toml"
    store = store_at(path)
    with store.edit() as editor:
        editor.set_item("sms", "accounts", "prod", {"access_key_id": "LTAI1"})
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert store.load().accounts("sms")["prod"]["access_key_id"] == "LTAI1"


def test_a_directory_another_process_just_created_is_used(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "cfg" / "config.toml"
    real_mkdir = Path.mkdir

    def created_meanwhile(self: Path, *args, **kwargs) -> None:
        real_mkdir(self, 0o700)  # the other process won the race between exists() and mkdir()
        real_mkdir(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", created_meanwhile)
    with store_at(path).edit() as editor:
        editor.set_item("sms", "accounts", "prod", {"access_key_id": "LTAI1"})
    monkeypatch.undo()
    assert store_at(path).load().accounts("sms")["prod"]["access_key_id"] == "LTAI1"


def test_comments_order_and_formatting_survive_add_edit_delete(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(COMMENTED)
    path.chmod(0o600)
    store = store_at(path)
    with store.edit() as editor:
        editor.set_item("sms", "accounts", "staging", {"access_key_id": "LTAI5tSTAGE"})
    with store.edit() as editor:
        editor.set_item("sms", "accounts", "prod", {"note": "primary"})
    with store.edit() as editor:
        editor.remove_item("sms", "accounts", "staging")
    text = path.read_text()
    assert text == COMMENTED.replace('note = "main"', 'note = "primary"')


def test_a_name_with_a_dot_stays_one_key(tmp_path: Path) -> None:
    store = store_at(tmp_path / "config.toml")
    with store.edit() as editor:
        editor.set_item("sms", "accounts", "eu.prod", {"access_key_id": "LTAI1"})
    config = store.load()
    assert list(config.accounts("sms")) == ["eu.prod"]
    assert '[sms.accounts."eu.prod"]' in (tmp_path / "config.toml").read_text()


def test_malformed_toml_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[sms.accounts.prod]\naccess_key_id = "x"\nnote = \n')
    path.chmod(0o600)
    with pytest.raises(ConfigError) as caught:
        store_at(path).load()
    assert "line 3" in caught.value.message
    assert caught.value.exit_code == 3


def test_unknown_key_gets_did_you_mean_and_line(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[sms.accounts.prod]\naccess_key_id = "x"\nregoin = "cn-hangzhou"\n')
    path.chmod(0o600)
    with pytest.raises(ConfigError) as caught:
        store_at(path).load()
    assert "line 3" in caught.value.message
    assert "did you mean `region`" in caught.value.message


@pytest.mark.parametrize("key", ["access_key_secret", "password", "app_secret", "token"])
def test_secret_looking_key_is_refused_with_its_line(tmp_path: Path, key: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(f'[sms.accounts.prod]\naccess_key_id = "x"\n{key} = "hunter2"\n')
    path.chmod(0o600)
    with pytest.raises(ConfigError) as caught:
        store_at(path).load()
    assert "line 3" in caught.value.message
    assert "secret" in caught.value.message
    assert "hunter2" not in caught.value.message


def test_wrong_types_and_choices_are_named(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        '[defaults]\ntimeout = "fast"\n[sms.templates.T1]\naccount = "a"\nscenario = "signup"\n'
    )
    path.chmod(0o600)
    with pytest.raises(ConfigError) as caught:
        store_at(path).load()
    assert "defaults.timeout: must be a number" in caught.value.message
    assert "must be one of register" in caught.value.message


def test_group_writable_or_symlinked_config_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("")
    path.chmod(0o666)
    with pytest.raises(ConfigError, match="writable by group or others"):
        store_at(path).load()
    target = tmp_path / "elsewhere.toml"
    target.write_text("")
    link = tmp_path / "link.toml"
    link.symlink_to(target)
    with pytest.raises(ConfigError, match="symbolic link"):
        store_at(link).load()


def test_a_fifo_swapped_in_after_the_check_is_refused_not_read(tmp_path, monkeypatch) -> None:
    """The type is checked on what was opened, not only on the path before: a FIFO that
    replaces the file between the two would otherwise block the read forever."""
    path = tmp_path / "config.toml"
    path.write_text("")
    regular = os.lstat(path)
    path.unlink()
    os.mkfifo(path, 0o600)
    writer = os.open(path, os.O_RDWR)  # keeps the FIFO open, never closes it before the end
    os.write(writer, b"[sms]\n")
    real_lstat = os.lstat
    monkeypatch.setattr(
        os, "lstat", lambda p, *a, **k: regular if Path(p) == path else real_lstat(p, *a, **k)
    )
    outcome: list[BaseException] = []

    def load() -> None:
        try:
            store_at(path).load()
        except BaseException as exc:  # noqa: BLE001 - inspected below
            outcome.append(exc)

    reader = threading.Thread(target=load, daemon=True)
    reader.start()
    reader.join(10)
    os.close(writer)
    reader.join(10)
    assert outcome and isinstance(outcome[0], ConfigError), "the FIFO was read"
    assert "not a regular file (a FIFO)" in outcome[0].message


def test_symlinked_lock_cannot_overwrite_another_file(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("precious")
    path = tmp_path / "config.toml"
    (tmp_path / "config.toml.lock").symlink_to(victim)
    with pytest.raises(ConfigError):
        with FileLock(path.with_name("config.toml.lock"), wait_seconds=0.3):
            pass
    assert victim.read_text() == "precious"


def test_a_held_lock_makes_the_second_writer_wait_then_fail_clearly(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    store = store_at(path)
    with FileLock(store.lock_path):
        started = time.monotonic()
        with pytest.raises(ConfigError) as caught:
            with FileLock(store.lock_path, wait_seconds=0.4):
                pass
        assert time.monotonic() - started >= 0.4
    assert caught.value.code == "config_locked"
    assert f"process {os.getpid()}" in caught.value.message


def test_held_lock_released_in_time_lets_the_second_writer_through(tmp_path: Path) -> None:
    store = store_at(tmp_path / "config.toml")
    first = FileLock(store.lock_path)
    first.__enter__()
    threading.Timer(0.2, first.__exit__, args=(None, None, None)).start()
    with store.edit() as editor:
        editor.set_item("sms", "accounts", "a", {"access_key_id": "LTAI1"})
    assert "a" in store.load().accounts("sms")


def test_stale_lock_of_a_killed_process_is_detected_and_removed(tmp_path: Path, capsys) -> None:
    path = tmp_path / "config.toml"
    lock = tmp_path / "config.toml.lock"
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    lock.write_text(json.dumps({"pid": child.pid, "host": "h", "since": 0}))
    child.kill()
    child.wait()
    with store_at(path).edit() as editor:
        editor.set_item("sms", "accounts", "a", {"access_key_id": "LTAI1"})
    assert released(lock)
    assert "stale lock" in capsys.readouterr().err
    assert "a" in store_at(path).load().accounts("sms")


def test_crash_between_write_and_rename_leaves_the_old_file(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "config.toml"
    store = store_at(path)
    with store.edit() as editor:
        editor.set_item("sms", "accounts", "old", {"access_key_id": "LTAI1"})
    before = path.read_text()

    def crash(*_args):
        raise OSError(5, "simulated crash before rename")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(ConfigError, match="simulated crash"), store.edit() as editor:
        editor.set_item("sms", "accounts", "new", {"access_key_id": "LTAI2"})
    monkeypatch.undo()
    assert path.read_text() == before
    assert released(tmp_path / "config.toml.lock")
    assert not list(tmp_path.glob(".config.toml.tmp-*"))


def test_an_edit_that_breaks_a_reference_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    store = store_at(path)
    with store.edit() as editor:
        editor.set_item("sms", "accounts", "a", {"access_key_id": "LTAI1"})
    before = path.read_text()
    with pytest.raises(ConfigError, match="does not exist"), store.edit() as editor:
        editor.set_value(("sms",), "active_account", "ghost")
    assert path.read_text() == before


def test_concurrent_writers_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    script = (
        "import sys; from pathlib import Path; from smsctl.core.config import ConfigStore\n"
        "s = ConfigStore(Path(sys.argv[1]))\n"
        "with s.edit() as e: e.set_item('sms', 'accounts', sys.argv[2], {'access_key_id': 'K'})\n"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", script, str(path), f"acc{i}"]) for i in range(12)
    ]
    assert all(p.wait(timeout=60) == 0 for p in procs)
    assert sorted(store_at(path).load().accounts("sms")) == sorted(f"acc{i}" for i in range(12))
    assert released(tmp_path / "config.toml.lock")


def test_the_lock_file_stays_one_file_across_changes(tmp_path: Path) -> None:
    store = store_at(tmp_path / "config.toml")
    with store.edit() as editor:
        editor.set_item("sms", "accounts", "a", {"access_key_id": "LTAI1"})
    inode = store.lock_path.stat().st_ino
    with store.edit() as editor:
        editor.set_item("sms", "accounts", "b", {"access_key_id": "LTAI2"})
    assert store.lock_path.stat().st_ino == inode  # never unlinked, never re-created
    assert stat.S_IMODE(store.lock_path.stat().st_mode) == 0o600
    assert released(store.lock_path)


def test_a_lock_nobody_holds_is_taken_at_once_however_fresh(tmp_path: Path, capsys) -> None:
    """An empty lock file (a writer killed before it recorded itself, this very moment) blocks
    nothing: only a held flock makes a writer wait."""
    lock = tmp_path / "config.toml.lock"
    lock.write_bytes(b"")
    with FileLock(lock, wait_seconds=0.5):
        assert not released(lock)
    assert released(lock)
    assert capsys.readouterr().err == ""


# --- the account's provider --------------------------------------------------------------------


def _write(config_file, text: str) -> None:
    config_file.parent.mkdir(mode=0o700, exist_ok=True)
    config_file.write_text(text)
    config_file.chmod(0o600)


def test_an_account_without_provider_is_read_with_its_channels_default(config_file) -> None:
    from smsctl.core.config import ConfigStore

    _write(config_file, '[voice.accounts.a]\naccess_key_id = "LTAI5tAAAA0001"\n'
           '[wechat.accounts.oa]\napp_id = "wx0123456789abcdef"\n')  # fmt: skip
    config = ConfigStore(config_file).load()
    assert config.get("voice", "accounts", "a")["provider"] == "alibaba"
    assert config.get("wechat", "accounts", "oa")["provider"] == "wechat"


def test_a_named_provider_is_accepted(config_file) -> None:
    from smsctl.core.config import ConfigStore

    _write(config_file, '[email.accounts.m]\nprovider = "smtp"\nhost = "h"\nport = 25\n'
           'security = "starttls"\nusername = "u"\nfrom_address = "a@b.test"\n')  # fmt: skip
    assert ConfigStore(config_file).load().get("email", "accounts", "m")["provider"] == "smtp"


def test_a_wrong_provider_is_a_config_error_with_the_choices_and_the_line(config_file) -> None:
    import pytest

    from smsctl.core.config import ConfigStore
    from smsctl.core.errors import ConfigError

    _write(config_file, '[sms.accounts.prod]\naccess_key_id = "LTAI5tAAAA0001"\n'
           'provider = "twilio"\n')  # fmt: skip
    with pytest.raises(ConfigError) as caught:
        ConfigStore(config_file).load()
    text = f"{caught.value.message} {caught.value.hint} {caught.value.details}"
    assert caught.value.exit_code == 3
    assert "provider" in text and "alibaba" in text and "twilio" in text
    assert "line 3" in text
