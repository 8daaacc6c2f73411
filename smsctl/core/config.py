"""The config file: reading, validating, and changing it safely (docs/contract.md §4).

Reads use stdlib tomllib (cheap). Changes go through `ConfigStore.edit()`: flock `<file>.lock`
(a file next to the config that stays), re-read the file, let the caller edit the tomlkit
document in place (comments, order and formatting survive), validate the result, write it to a
temp file in the same directory, fsync, rename over the file, fsync the directory, release the
lock. A reader sees the old file or the new one, never a mix; two writers never lose each
other's changes.
"""

from __future__ import annotations

import contextlib
import difflib
import json
import os
import stat
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from smsctl.core import channels, schema
from smsctl.core.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

LOCK_WAIT_SECONDS = float(os.environ.get("SMSCTL_LOCK_TIMEOUT", "10"))

HEADER_COMMENT = (
    "# smsctl configuration. Non-secret settings only: secrets live in the OS keyring or in\n"
    "# SMSCTL_SECRET_<CHANNEL>_<ACCOUNT> environment variables. See smsctl.example.toml.\n"
)


class Config:
    """A validated, read-only view of the config file."""

    def __init__(self, data: dict[str, Any], path: Path, text: str = "") -> None:
        self.data = data
        self.path = path
        self.text = text

    # --- generic access ------------------------------------------------------------------

    def channel(self, channel: str) -> dict[str, Any]:
        return self.data.get(channel, {})

    def collection(self, channel: str, kind: str) -> dict[str, dict[str, Any]]:
        fields = schema.COLLECTIONS[(channel, kind)]
        items = self.channel(channel).get(kind, {})
        return {name: _with_defaults(item, fields) for name, item in items.items()}

    def find(self, channel: str, kind: str, name: str) -> dict[str, Any] | None:
        item = self.channel(channel).get(kind, {}).get(name)
        return None if item is None else _with_defaults(item, schema.COLLECTIONS[(channel, kind)])

    def get(self, channel: str, kind: str, name: str) -> dict[str, Any]:
        """The item, or a ConfigError that suggests the closest name."""
        item = self.find(channel, kind, name)
        if item is None:
            raise unknown_item_error(channel, kind, name, list(self.collection(channel, kind)))
        return item

    def accounts(self, channel: str) -> dict[str, dict[str, Any]]:
        return self.collection(channel, "accounts")

    def active_account(self, channel: str) -> str | None:
        return self.channel(channel).get("active_account")

    def apps(self) -> dict[str, dict[str, Any]]:
        return {
            name: _with_defaults(item, schema.APP_TABLE)
            for name, item in self.data.get("apps", {}).items()
        }

    def timeouts(self) -> tuple[float, float]:
        """(connect, read) timeouts in seconds."""
        defaults = _with_defaults(self.data.get("defaults", {}), schema.DEFAULTS_TABLE)
        return float(defaults["connect_timeout"]), float(defaults["timeout"])

    def log_settings(self) -> Any:
        """The `[log]` table: rotation of the audit log and the system-log copy."""
        from smsctl.core.audit import LogSettings

        table = _with_defaults(self.data.get("log", {}), schema.LOG_TABLE)
        return LogSettings(
            rotate_bytes=max(1, int(float(table["rotate_mb"]) * 1024 * 1024)),
            keep=int(table["keep"]),
            syslog=str(table["syslog"]),
            syslog_facility=str(table["syslog_facility"]),
        )

    def deadline(self) -> float:
        """The most one exchange with a provider may take in all, seconds: an HTTP request and
        its answer (Alibaba Cloud, WeChat), or an SMTP session from connect to QUIT."""
        defaults = _with_defaults(self.data.get("defaults", {}), schema.DEFAULTS_TABLE)
        return float(defaults["deadline"])

    def guard_limits(self, channel: str) -> dict[str, int]:
        limits = dict(schema.GUARD_DEFAULTS[channel])
        limits.update(self.data.get("guard", {}).get(channel, {}))
        return limits

    def secrets_backend(self) -> str | None:
        return self.data.get("secrets", {}).get("backend")

    def line_of(self, *path: str) -> int | None:
        return schema.locate_line(self.text, tuple(path))

    # --- reference checks (config check, doctor) -----------------------------------------

    def reference_problems(self) -> list[schema.Problem]:
        problems: list[schema.Problem] = []
        apps = set(self.apps())
        for channel in schema.CHANNELS:
            accounts = self.accounts(channel)
            active = self.active_account(channel)
            if active and active not in accounts:
                problems.append(
                    self._problem(
                        (channel, "active_account"),
                        f"names account `{active}`, which does not exist",
                    )
                )
            for kind in schema.CHANNEL_COLLECTIONS[channel][1:]:
                for name, item in self.collection(channel, kind).items():
                    path = (channel, kind, name)
                    account = item.get("account")
                    if account and account not in accounts:
                        problems.append(
                            self._problem(
                                (*path, "account"),
                                f"names account `{account}`, which does not exist",
                            )
                        )
                    for app in item.get("apps", []):
                        if app not in apps:
                            problems.append(
                                self._problem(
                                    (*path, "apps"), f"names app `{app}`, which is not in [apps]"
                                )
                            )
        return problems

    def _problem(self, path: tuple[str, ...], message: str) -> schema.Problem:
        return schema.Problem(path, message, self.line_of(*path))


def _with_defaults(item: dict[str, Any], fields: dict[str, schema.Field]) -> dict[str, Any]:
    merged = {key: _copy(field.default) for key, field in fields.items()}
    merged.update(item)
    return merged


def _copy(value: Any) -> Any:
    if isinstance(value, (list, dict)):
        return type(value)(value)
    return value


def unknown_item_error(channel: str, kind: str, name: str, known: list[str]) -> ConfigError:
    noun = {
        "accounts": "account",
        "signatures": "signature",
        "templates": "template",
        "rules": "rule",
    }[kind]
    model = channels.channel(channel)
    label = model.label(noun)
    close = difflib.get_close_matches(name, known, n=1)
    if close:
        hint = f"Did you mean `{close[0]}`?"
    elif known:
        hint = f"Known: {', '.join(sorted(known))}."
    else:
        placeholder = model.item(kind).id_placeholder if kind != "accounts" else "NAME"
        hint = f"There are none yet; add one with `{model.command(noun, 'add', placeholder)} ...`."
    return ConfigError(f"Unknown {label} `{name}`.", hint=hint, code="unknown_" + noun)


class ConfigStore:
    """Where the config lives, and the only way to read or change it."""

    def __init__(self, path: Path, source: str = "default") -> None:
        self.path = path
        self.source = source

    @property
    def lock_path(self) -> Path:
        return self.path.with_name(self.path.name + ".lock")

    def exists(self) -> bool:
        return self.path.exists()

    def load(self) -> Config:
        text = self._read_text()
        return _in_force(parse_config(text, self.path))

    @contextlib.contextmanager
    def edit(self) -> Iterator[ConfigEditor | ChunkedEditor]:
        """Lock, re-read, let the caller change the document, validate, write atomically."""
        self._ensure_dir()
        with FileLock(self.lock_path):
            self._remove_orphaned_temp_files()
            text = self._read_text()
            before = _in_force(parse_config(text, self.path))  # never build on a broken file
            known_problems = {p.message for p in before.reference_problems()}
            editor = _editor_for(text, before.data)
            yield editor
            if not editor.changed:
                return
            new_text, config = _edited(editor, text, self.path)
            problems = [p for p in config.reference_problems() if p.message not in known_problems]
            if problems:
                raise ConfigError(
                    "The change would leave the config inconsistent: "
                    + "; ".join(p.describe() for p in problems),
                    hint="Nothing was written.",
                )
            try:
                self._write_atomically(new_text)
            except OSError as exc:
                raise ConfigError(
                    f"Cannot write {self.path}: {exc.strerror or exc}.",
                    hint="Nothing was changed (the old file is intact). Free disk space or fix "
                    "the directory's permissions, then retry.",
                    code="config_write_failed",
                ) from None
            _remember(self.path, new_text, config.data)

    # --- file handling -------------------------------------------------------------------

    def _read_text(self) -> str:
        try:
            info = os.lstat(self.path)
        except FileNotFoundError:
            return ""
        except OSError as exc:
            raise ConfigError(f"Cannot read {self.path}: {exc.strerror}.") from None
        self._check_safe(info)
        try:
            # Non-blocking and no symlink, then checked again on what was opened: a FIFO or a
            # device swapped in after the lstat above must be refused, not read (a FIFO blocks
            # forever, /dev/zero never ends).
            fd = os.open(self.path, os.O_RDONLY | os.O_NONBLOCK | _NOFOLLOW)
        except OSError as exc:
            raise ConfigError(f"Cannot read {self.path}: {exc.strerror}.") from None
        try:
            self._check_safe(os.fstat(fd))
            with os.fdopen(fd, "rb", closefd=False) as handle:
                return handle.read().decode("utf-8-sig")  # a BOM some editors add is not TOML
        except UnicodeDecodeError:
            raise ConfigError(f"{self.path} is not UTF-8 text.") from None
        except OSError as exc:
            raise ConfigError(f"Cannot read {self.path}: {exc.strerror}.") from None
        finally:
            os.close(fd)

    def _check_safe(self, info: os.stat_result) -> None:
        if stat.S_ISLNK(info.st_mode):
            raise ConfigError(
                f"{self.path} is a symbolic link; smsctl refuses to read or write through one.",
                hint="Point --config or SMSCTL_CONFIG at the real file.",
            )
        if not stat.S_ISREG(info.st_mode):
            raise ConfigError(
                f"{self.path} is not a regular file ({_file_kind(info.st_mode)}); smsctl reads "
                "its config only from one.",
                hint="Point --config or SMSCTL_CONFIG at a regular file.",
                code="config_not_regular",
            )
        if hasattr(os, "getuid") and info.st_uid != os.getuid():
            raise ConfigError(
                f"{self.path} is owned by another user (uid {info.st_uid}); smsctl refuses it, "
                "because whoever owns it decides which credentials and numbers are used.",
                hint="Copy it to a file you own, or run smsctl as its owner.",
            )
        if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            raise ConfigError(
                f"{self.path} is writable by group or others "
                f"(mode {stat.S_IMODE(info.st_mode):04o}); smsctl refuses it.",
                hint=f"Run: chmod 600 {self.path}",
            )

    def _ensure_dir(self) -> None:
        directory = self.path.parent
        if not directory.exists():
            try:
                directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            except OSError as exc:
                raise ConfigError(f"Cannot create {directory}: {exc.strerror}.") from None

    def _write_atomically(self, text: str) -> None:
        directory = self.path.parent
        temp = directory / f".{self.path.name}.tmp-{os.getpid()}-{time.monotonic_ns()}"
        mode = 0o600
        with contextlib.suppress(FileNotFoundError):
            mode = stat.S_IMODE(os.lstat(self.path).st_mode) & 0o640
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(temp, mode)
            os.replace(temp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise
        _fsync_dir(directory)

    def _remove_orphaned_temp_files(self) -> None:
        """Temp files left by a writer killed before its rename: never read, safe to remove."""
        for leftover in self.path.parent.glob(f".{self.path.name}.tmp-*"):
            pid = leftover.name.split("-")[-2] if leftover.name.count("-") >= 2 else ""
            if pid.isdigit() and process_alive(int(pid)):
                continue
            with contextlib.suppress(OSError):
                leftover.unlink()


def parse_config(text: str, path: Path) -> Config:
    """The validated config of `text`; from the cache when exactly this text was seen before."""
    from smsctl.core import config_cache

    content = text.encode("utf-8", "surrogatepass")  # only a cache key
    data = config_cache.load(str(path), content) if text else None
    if data is None:
        data = _parse_and_validate(text, path)
        if text:
            config_cache.store(str(path), content, data)
    return Config(data, path, text)


def _in_force(config: Config) -> Config:
    """The config a command reads is the one whose `[log]` table its audit records follow."""
    from smsctl.core import audit

    audit.configure(config.log_settings())
    return config


def _remember(path: Path, text: str, data: dict[str, Any]) -> None:
    from smsctl.core import config_cache

    config_cache.store(str(path), text.encode("utf-8", "surrogatepass"), data)


def _parse_and_validate(text: str, path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"{path} is not valid TOML: {exc}.",
            hint="Fix the line named above; `smsctl config check` re-checks the file.",
            code="invalid_toml",
        ) from None
    problems = schema.validate(data)
    if problems:
        located = [
            schema.Problem(p.path, p.message, schema.locate_line(text, p.path)) for p in problems
        ]
        raise ConfigError(
            f"{path} has {len(located)} problem(s):\n  "
            + "\n  ".join(p.describe() for p in located),
            hint="Fix the lines named above; `smsctl config check` re-checks the file.",
            code="invalid_config",
            details={"problems": [p.describe() for p in located]},
        )
    return data


def _editor_for(text: str, data: dict[str, Any]) -> ConfigEditor | ChunkedEditor:
    from smsctl.core.toml_chunks import Unsplittable

    if text.strip():
        try:
            return ChunkedEditor(text, data)
        except Unsplittable:
            pass
    import tomlkit

    return ConfigEditor(tomlkit.parse(text) if text.strip() else tomlkit.parse(HEADER_COMMENT))


def _edited(editor: ConfigEditor | ChunkedEditor, text: str, path: Path) -> tuple[str, Config]:
    """The new text and its validated config. A chunk edit is kept only when the file it gives
    holds exactly the data the changes asked for; otherwise the same changes are made again on
    the whole document, which is what tomlkit alone would have written."""
    import tomlkit

    if isinstance(editor, ChunkedEditor):
        new_text = _with_final_newline(editor.render())
        if editor.consistent:
            with contextlib.suppress(ConfigError):
                config = Config(_parse_and_validate(new_text, path), path, new_text)
                if config.data == editor.plain():
                    return new_text, config
        editor = editor.replayed(ConfigEditor(tomlkit.parse(text)))
    new_text = _with_final_newline(tomlkit.dumps(editor.document))
    return new_text, Config(_parse_and_validate(new_text, path), path, new_text)


def _with_final_newline(text: str) -> str:
    return text.rstrip("\n") + "\n"


class ConfigEditor:
    """In-place changes to the tomlkit document; every write goes through here."""

    def __init__(self, document: Any) -> None:
        self.document = document
        self.changed = False

    def _table(self, *path: str, create: bool = True, super_table: bool = False) -> Any:
        import tomlkit

        node = self.document
        for depth, key in enumerate(path):
            if key not in node:
                if not create:
                    return None
                # A collection such as [sms.accounts] is a "super table": it renders only
                # through its children, so the file shows [sms.accounts.prod] alone.
                last = depth == len(path) - 1
                node[key] = tomlkit.table(is_super_table=super_table and last)
                self.changed = True
            node = node[key]
        return node

    def ensure_app(self, name: str) -> None:
        apps = self._table("apps", super_table=True)
        if name not in apps:
            self._table("apps", name)

    def get_item(self, channel: str, kind: str, name: str) -> Any:
        collection = self._table(channel, kind, create=False)
        if collection is None or name not in collection:
            return None
        return collection[name]

    def set_item(self, channel: str, kind: str, name: str, values: dict[str, Any]) -> None:
        """Create [channel.kind."name"] or update its keys in place (other keys untouched)."""
        import tomlkit

        collection = self._table(channel, kind, super_table=True)
        if name not in collection:
            collection[name] = tomlkit.table()
        item = collection[name]
        for key, value in values.items():
            if value is None:
                if key in item:
                    del item[key]
                    self.changed = True
                continue
            if key in item and _plain(item[key]) == value:
                continue
            item[key] = _toml_value(value)
            self.changed = True

    def remove_item(self, channel: str, kind: str, name: str) -> bool:
        collection = self._table(channel, kind, create=False)
        if collection is None or name not in collection:
            return False
        del collection[name]
        self.changed = True
        self._prune_empty(channel, kind)
        return True

    def _prune_empty(self, *path: str) -> None:
        """Drop tables left empty by a removal, innermost first, so no bare headers remain."""
        for depth in range(len(path), 0, -1):
            parent = self._table(*path[: depth - 1], create=False) if depth > 1 else self.document
            key = path[depth - 1]
            if parent is None or key not in parent or len(parent[key]) > 0:
                return
            del parent[key]

    def rename_item(self, channel: str, kind: str, old: str, new: str) -> None:
        import tomlkit

        collection = self._table(channel, kind, super_table=True)
        values = {key: _plain(value) for key, value in collection[old].items()}
        del collection[old]
        collection[new] = tomlkit.table()
        for key, value in values.items():
            collection[new][key] = _toml_value(value)
        self.changed = True

    def set_value(self, path: tuple[str, ...], key: str, value: Any) -> None:
        table = self._table(*path)
        if value is None:
            if key in table:
                del table[key]
                self.changed = True
            return
        if key in table and _plain(table[key]) == value:
            return
        table[key] = _toml_value(value)
        self.changed = True

    def get_value(self, path: tuple[str, ...], key: str) -> Any:
        table = self._table(*path, create=False)
        if table is None or key not in table:
            return None
        return _plain(table[key])

    def plain(self) -> dict[str, Any]:
        return _plain(self.document)


class ChunkedEditor:
    """The ConfigEditor's changes made on the table chunks of the file (see
    smsctl.core.toml_chunks) and mirrored on the plain data, so that a change to a config of
    thousands of items costs what it costs on a small one. The changes are recorded: when the
    chunked text does not hold exactly the mirrored data, `replayed` makes them again on the whole
    tomlkit document."""

    def __init__(self, text: str, data: dict[str, Any]) -> None:
        import marshal

        from smsctl.core.toml_chunks import ChunkedText

        self.chunks = ChunkedText(text)
        self.data: dict[str, Any] = marshal.loads(marshal.dumps(data))
        self.changed = False
        self.consistent = True
        self._changes: list[tuple[str, tuple[Any, ...]]] = []

    def render(self) -> str:
        return self.chunks.render()

    def replayed(self, editor: ConfigEditor) -> ConfigEditor:
        for name, args in self._changes:
            getattr(editor, name)(*args)
        return editor

    def plain(self) -> dict[str, Any]:
        return self.data

    def _node(self, *path: str, create: bool = True) -> dict[str, Any] | None:
        node = self.data
        for key in path:
            if key not in node:
                if not create:
                    return None
                node[key] = {}
                self.changed = True
            node = node[key]
        return node

    def _edit_chunk(self, path: tuple[str, ...] | None, change: Any) -> None:
        if not self.chunks.edit(path, change):
            self.consistent = False

    def ensure_app(self, name: str) -> None:
        self._changes.append(("ensure_app", (name,)))
        apps = self._node("apps")
        assert apps is not None
        if name not in apps:
            from smsctl.core.toml_chunks import render_table

            apps[name] = {}
            self.changed = True
            self.chunks.insert_table(("apps", name), render_table(("apps", name), {}))

    def get_item(self, channel: str, kind: str, name: str) -> Any:
        collection = self._node(channel, kind, create=False)
        return None if collection is None else collection.get(name)

    def set_item(self, channel: str, kind: str, name: str, values: dict[str, Any]) -> None:
        from smsctl.core.toml_chunks import render_table

        self._changes.append(("set_item", (channel, kind, name, values)))
        collection = self._node(channel, kind)
        assert collection is not None
        path = (channel, kind, name)
        if name not in collection:
            collection[name] = {k: _deep_copy(v) for k, v in values.items() if v is not None}
            self.changed = self.changed or bool(collection[name])
            if self.chunks.index(path) is not None:
                self.consistent = False
            self.chunks.insert_table(path, render_table(path, collection[name]))
            return
        item = collection[name]
        updates = {}
        for key, value in values.items():
            if value is None:
                if key in item:
                    del item[key]
                    updates[key] = None
            elif not (key in item and item[key] == value):
                item[key] = _deep_copy(value)
                updates[key] = value
        if updates:
            self.changed = True
            self._edit_chunk(path, lambda table: _apply(table, updates))

    def remove_item(self, channel: str, kind: str, name: str) -> bool:
        self._changes.append(("remove_item", (channel, kind, name)))
        collection = self._node(channel, kind, create=False)
        if collection is None or name not in collection:
            return False
        del collection[name]
        self.changed = True
        if not self.chunks.remove_tree((channel, kind, name)):
            self.consistent = False
        if not collection:
            del self.data[channel][kind]
            self.chunks.remove_tree((channel, kind))
            if not self.data[channel]:
                del self.data[channel]
                self.chunks.remove_tree((channel,))
        return True

    def rename_item(self, channel: str, kind: str, old: str, new: str) -> None:
        self._changes.append(("rename_item", (channel, kind, old, new)))
        collection = self._node(channel, kind)
        assert collection is not None
        collection[new] = collection.pop(old)
        self.changed = True
        if not self.chunks.rename_tree((channel, kind, old), (channel, kind, new)):
            self.consistent = False

    def set_value(self, path: tuple[str, ...], key: str, value: Any) -> None:
        from smsctl.core.toml_chunks import render_table

        self._changes.append(("set_value", (path, key, value)))
        existed = self._node(*path, create=False) is not None
        table = self._node(*path)
        assert table is not None
        chunk_path = path or None
        if path and self.chunks.index(chunk_path) is None:
            if existed and not self.chunks.has_prefix(path):
                self.consistent = False  # defined some other way (dotted keys, inline)
            if existed and value is None:
                return
            self.chunks.insert_table(path, render_table(path, {}), before=True)
        if value is None:
            if key in table:
                del table[key]
                self.changed = True
                self._edit_chunk(chunk_path, lambda t: _apply(t, {key: None}))
            return
        if key in table and table[key] == value:
            return
        table[key] = _deep_copy(value)
        self.changed = True
        self._edit_chunk(chunk_path, lambda t: _apply(t, {key: value}))

    def get_value(self, path: tuple[str, ...], key: str) -> Any:
        table = self._node(*path, create=False)
        return None if table is None else table.get(key)


def _apply(table: Any, updates: dict[str, Any]) -> None:
    for key, value in updates.items():
        if value is None:
            if key in table:
                del table[key]
        else:
            table[key] = _toml_value(value)


def _deep_copy(value: Any) -> Any:
    if isinstance(value, list):
        return [_deep_copy(v) for v in value]
    if isinstance(value, dict):
        return {k: _deep_copy(v) for k, v in value.items()}
    return value


def _plain(value: Any) -> Any:
    unwrap = getattr(value, "unwrap", None)
    return unwrap() if unwrap else value


def _toml_value(value: Any) -> Any:
    import tomlkit

    if isinstance(value, str) and "\n" in value:
        return tomlkit.string(value, multiline=True)
    if isinstance(value, list):
        array = tomlkit.array()
        array.extend(value)
        return array
    if isinstance(value, dict):
        inline = tomlkit.inline_table()
        inline.update(value)
        return inline
    return value


# --- the lock -----------------------------------------------------------------------------

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


def _file_kind(mode: int) -> str:
    kinds = [
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ]
    return next((name for test, name in kinds if test(mode)), "not a file")


class FileLock:
    """`<file>.lock`, held with flock; the file itself stays (it is never unlinked, so there is
    no moment at which two processes can lock two different files of that name).

    The kernel drops the flock of a process that dies, so a killed writer blocks nobody. While
    held, the file records its owner (for the message of a writer that waits too long); a normal
    release empties it, so a record found by the next owner was left by a process killed while
    changing the config, which is worth a warning and nothing more.
    """

    def __init__(self, path: Path, wait_seconds: float = LOCK_WAIT_SECONDS) -> None:
        self.path = path
        self.wait_seconds = wait_seconds
        self._fd: int | None = None
        self.broke_stale: dict[str, Any] | None = None

    def __enter__(self) -> FileLock:
        import fcntl

        fd = self._open()
        deadline = time.monotonic() + self.wait_seconds
        delay = 0.005
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    owner = _owner_text(_parse_record(os.pread(fd, 4096, 0)))
                    os.close(fd)
                    raise ConfigError(
                        f"Another smsctl process is changing the config: {self.path} is held"
                        f"{owner} and was not released within {self.wait_seconds:g} s.",
                        hint="Wait for the other command to finish and retry.",
                        code="config_locked",
                    ) from None
                time.sleep(delay)
                delay = min(delay * 2, 0.1)
        self._fd = fd
        self._record_owner(fd)
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, 0)
            os.close(self._fd)
            self._fd = None

    def _open(self) -> int:
        try:
            return os.open(self.path, os.O_RDWR | os.O_CREAT | _NOFOLLOW, 0o600)
        except OSError as exc:
            if os.path.islink(self.path):
                raise ConfigError(
                    f"{self.path} is a symbolic link; refusing to use it as a lock.",
                    hint=f"Remove {self.path}.",
                ) from None
            raise ConfigError(f"Cannot open the lock {self.path}: {exc.strerror}.") from None

    def _record_owner(self, fd: int) -> None:
        left = os.pread(fd, 4096, 0)
        try:
            record = {"pid": os.getpid(), "host": os.uname().nodename, "since": time.time()}
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps(record).encode(), 0)
        except OSError as exc:
            # A full disk fails here; the empty lock blocks nobody once released.
            self.__exit__()
            raise ConfigError(
                f"Cannot write the lock {self.path}: {exc.strerror or exc}.",
                hint="Nothing was changed (the config is intact). Free disk space or fix the "
                "directory's permissions, then retry.",
                code="config_write_failed",
            ) from None
        if left:
            self.broke_stale = _parse_record(left)
            owner = self.broke_stale.get("pid", "unknown")
            sys.stderr.write(
                f"Warning: took over a stale lock {self.path} left by process {owner}, which "
                "was killed while changing the config. The config itself is intact: writes are "
                "atomic.\n"
            )


def _owner_text(record: dict[str, Any]) -> str:
    if "pid" in record:
        return f" by process {record['pid']} on {record.get('host', '?')}"
    return ""


def _parse_record(content: bytes) -> dict[str, Any]:
    try:
        record = json.loads(content.decode() or "{}")
        return record if isinstance(record, dict) else {}
    except (ValueError, UnicodeDecodeError):
        return {}


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
