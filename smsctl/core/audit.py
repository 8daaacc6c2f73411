"""The audit log: every send attempt and every configuration change, as JSON Lines
(docs/contract.md §4).

Each record is appended with one write under an exclusive flock, so concurrent smsctl runs never
interleave lines, and a process killed mid-write can damage at most its own last line, which
readers skip. A test send is written twice: an attempt record before the request goes out (a
send that cannot be recorded is not made) and its outcome after; an attempt that never got an
outcome (smsctl killed during the call) reads back as outcome "unknown". Readers skip, and
report, any line that is not a well-formed record (torn, corrupt, or hand-edited).

The log rotates by size: the writer that would take `audit.jsonl` past `[log] rotate_mb` renames
it to `audit.jsonl.1` (the older ones move up, the oldest beyond `[log] keep` is removed) while
it holds the file's lock, and writes to a new `audit.jsonl`; writers waiting for the old file's
lock notice the rename and append to the new one (`locked_append`), so nothing is lost. Readers
go from the newest record backwards, across the rotated files, and stop as soon as they have
what was asked for: `log --limit 20` reads a few blocks whatever the log's size.

With `[log] syslog` set, every record also goes to the system log (syslog, or the systemd
journal through /dev/log), redacted like the file, so that a central collector gathers every
operator's and CI runner's records.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from smsctl.core import clock, paths
from smsctl.core.errors import ConfigError
from smsctl.core.redaction import redact_data

# Fields a reader uses as text: a record where one of them is not a string is skipped.
TEXT_FIELDS = frozenset(
    {
        "time", "event", "channel", "account", "to", "template", "signature", "out_id",
        "outcome", "code", "message", "request_id", "biz_id", "call_id", "message_id", "msgid",
        "command", "action", "item", "receipt", "attempt",
    }
)  # fmt: skip
ATTEMPT = "send.attempt"
NO_OUTCOME = "NoOutcomeRecorded"


@dataclass(frozen=True)
class LogSettings:
    rotate_bytes: int = 10 * 1024 * 1024
    keep: int = 5
    syslog: str = ""
    syslog_facility: str = "user"


_settings = LogSettings()


def configure(settings: LogSettings) -> None:
    """The `[log]` table of the config in use (the defaults until a command has read one)."""
    global _settings
    _settings = settings


def state_file(name: str) -> Path:
    directory = paths.state_dir()
    if not directory.exists():
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    return directory / name


def log_path() -> Path:
    return paths.state_dir() / "audit.jsonl"


def now_iso() -> str:
    """The log's own timestamp: UTC with `Z`, which sorts as text (`read(since=...)`)."""
    return clock.now().astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@contextlib.contextmanager
def locked_append(path: Path) -> Iterator[int]:
    """An O_APPEND descriptor on a 0600 state file, held under an exclusive flock."""
    import fcntl

    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    while True:
        fd = os.open(
            path, os.O_RDWR | os.O_APPEND | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600
        )
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            if _still_at(fd, path):
                break
        except BaseException:
            os.close(fd)
            raise
        # Replaced (compacted) while this process waited for the lock: use the new file.
        os.close(fd)
    try:
        yield fd
    finally:
        os.close(fd)


def _still_at(fd: int, path: Path) -> bool:
    try:
        current = os.stat(path, follow_symlinks=False)
    except FileNotFoundError:
        return False
    opened = os.fstat(fd)
    return (current.st_dev, current.st_ino) == (opened.st_dev, opened.st_ino)


def replace_locked(path: Path, records: list[dict[str, Any]]) -> None:
    """Rewrite a state file while its lock is held: a temp file, fsync, rename. Writers waiting
    for the old file's lock notice the swap and append to the new one."""
    temp = path.with_name(path.name + ".compact")
    data = b"".join(_encoded(r) for r in records)
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0), 0o600)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(temp, path)


def _encoded(record: dict[str, Any]) -> bytes:
    return (json.dumps(record, ensure_ascii=False, default=str) + "\n").encode("utf-8")


def append_line(fd: int, record: dict[str, Any]) -> None:
    data = _encoded(record)
    # A torn earlier line (writer killed mid-line) must not swallow this one.
    size = os.fstat(fd).st_size
    if size and _last_byte(fd) != b"\n":
        data = b"\n" + data
    os.write(fd, data)


def record(event: str, **fields: Any) -> None:
    """Append one audit record. Never raises: the command's own outcome matters more."""
    try:
        record_or_refuse(event, **fields)
    except ConfigError as exc:
        import sys

        sys.stderr.write(f"Warning: could not write the audit log: {exc.details['reason']}\n")


def record_or_refuse(event: str, **fields: Any) -> None:
    """Append one audit record, or raise ConfigError (exit 3) saying why it cannot be written:
    for what must not happen unrecorded."""
    entry = {
        "time": now_iso(),
        "event": event,
        **{k: v for k, v in fields.items() if v is not None},
    }
    entry = redact_data(entry)
    path = state_file("audit.jsonl")
    try:
        with locked_append(path) as fd:
            size = os.fstat(fd).st_size
            if size and size + len(_encoded(entry)) > _settings.rotate_bytes and _rotated(path):
                with locked_append(path) as fresh:
                    append_line(fresh, entry)
            else:
                append_line(fd, entry)
    except OSError as exc:
        reason = os_reason(exc)
        raise ConfigError(
            f"Cannot write the audit log {exc.filename or log_path()}: {reason}.",
            hint="It must be a regular file you own (not a symbolic link or a directory) in a "
            "writable state directory ($SMSCTL_STATE_DIR) with free space.",
            code="audit_log_unusable",
            details={"reason": reason},
        ) from None
    if _settings.syslog:
        from smsctl.core import syslog

        syslog.send(_settings.syslog, _settings.syslog_facility, entry)


def _rotated(path: Path) -> bool:
    """Rotate now; when that cannot be done the record still goes into the current file: the
    record matters, the size bound can wait."""
    try:
        rotate(path, _settings.keep)
    except OSError as exc:
        import sys

        sys.stderr.write(
            f"Warning: could not rotate the audit log ({exc.filename or path}: "
            f"{os_reason(exc)}); it keeps growing until that is fixed.\n"
        )
        return False
    return True


def rotated(path: Path, number: int) -> Path:
    return path.with_name(f"{path.name}.{number}")


def rotate(path: Path, keep: int) -> None:
    """Move `path` to `path.1` (and each older file one up; the one past `keep` goes), while the
    caller holds `path`'s lock."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(rotated(path, keep))
    for number in range(keep - 1, 0, -1):
        with contextlib.suppress(FileNotFoundError):
            os.replace(rotated(path, number), rotated(path, number + 1))
    os.replace(path, rotated(path, 1))


def log_files(path: Path) -> list[Path]:
    """The log and its rotated files, newest first."""
    files = [path]
    number = 1
    while rotated(path, number).exists():
        files.append(rotated(path, number))
        number += 1
    return files


def os_reason(exc: OSError) -> str:
    """Why a state file cannot be used, in words (O_NOFOLLOW reports a symlink as ELOOP)."""
    if exc.errno == errno.ELOOP:
        return "it is a symbolic link"
    if exc.errno == errno.EISDIR:
        return "it is a directory"
    return exc.strerror or str(exc)


@dataclass
class Scan:
    """The records of a JSON Lines state file, and the line numbers (1-based) it skipped."""

    records: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)


def scan(path: Path, accept: Callable[[dict[str, Any]], bool] | None = None) -> Scan:
    """Every intact JSON object of `path` that `accept` takes; any other line is skipped: one
    torn by a killed writer, corrupt, too deeply nested, or not a record of the right shape."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except FileNotFoundError:
        return Scan()
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise OSError(errno.EINVAL, "it is not a regular file")
    with os.fdopen(fd, "rb") as handle:
        raw = handle.read()
    result = Scan()
    for number, line in enumerate(raw.split(b"\n"), start=1):
        if not line.strip():
            continue
        item = _parsed(line)
        if item is not None and (accept is None or accept(item)):
            result.records.append(item)
        else:
            result.skipped.append(number)
    return result


def _parsed(line: bytes) -> dict[str, Any] | None:
    """The JSON object of one line; None for a torn, corrupt or too deeply nested line."""
    try:
        item = json.loads(line)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    return item if isinstance(item, dict) else None


def read_lines(path: Path) -> list[dict[str, Any]]:
    """Every intact JSON object; a line torn by a killed writer (or corrupt) is skipped."""
    return scan(path).records


def skipped_warning(path: Path, skipped: list[int]) -> str:
    shown = ", ".join(str(n) for n in skipped[:10]) + (", ..." if len(skipped) > 10 else "")
    lines = "line" if len(skipped) == 1 else "lines"
    return (
        f"skipped {len(skipped)} unreadable {lines} of {path} ({lines} {shown}): not a "
        "well-formed record (torn by a killed process, corrupt, or edited by hand)."
    )


def is_audit_record(entry: dict[str, Any]) -> bool:
    """The shape every reader of the audit log relies on: text fields are strings, other values
    are scalars or flat lists/tables of scalars."""
    if not isinstance(entry.get("time"), str) or not isinstance(entry.get("event"), str):
        return False
    for key, value in entry.items():
        if key in TEXT_FIELDS:
            if value is not None and not isinstance(value, str):
                return False
        elif isinstance(value, list):
            if not all(_is_scalar(v) for v in value):
                return False
        elif isinstance(value, dict):
            if not all(_is_scalar(v) for v in value.values()):
                return False
        elif not _is_scalar(value):
            return False
    return True


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


def resolve_attempt(entry: dict[str, Any]) -> dict[str, Any]:
    """An attempt record without an outcome (smsctl stopped during the call, or the call is
    still running) reads as a send whose outcome is unknown."""
    return {
        **entry,
        "event": "send",
        "outcome": "unknown",
        "code": NO_OUTCOME,
        "message": "no outcome was recorded: smsctl stopped (killed, crashed, lost power) while "
        "the request was with the provider, or is still waiting for it; the message may have "
        "been delivered",
    }


BLOCK = 64 * 1024
MAX_LINE = 1024 * 1024  # no record is anywhere near this long
# Records are written in the order their writers got the lock, not quite the order of their
# times: reading back stops only once records are this much older than --since.
SINCE_SLACK_SECONDS = 300


def _lines_backwards(path: Path) -> Iterator[bytes]:
    """The lines of `path`, last first, read in blocks from its end."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except FileNotFoundError:
        return
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "it is not a regular file")
        position = os.fstat(fd).st_size
        if position and os.pread(fd, 1, position - 1) == b"\n":
            position -= 1  # the newline that ends the last line starts no line of its own
        pieces: list[bytes] = []  # the start of the line being read, last piece first
        kept = 0  # their length; past MAX_LINE the line is junk and is not kept
        while position > 0:
            step = min(BLOCK, position)
            position -= step
            lines = os.pread(fd, step, position).split(b"\n")
            for line in reversed(lines[1:]):
                yield _joined(line, pieces, kept)
                pieces, kept = [], 0
            if kept <= MAX_LINE:
                pieces.append(lines[0])
                kept += len(lines[0])
        yield _joined(b"", pieces, kept)
    finally:
        os.close(fd)


def _joined(last: bytes, pieces: list[bytes], kept: int) -> bytes:
    """A line read backwards in pieces; one longer than any record is junk (NUL runs a crash
    left, say), returned as such without keeping it in memory."""
    if kept > MAX_LINE:
        return b"\0"
    return b"".join([last, *reversed(pieces)]) if pieces else last


def newest_first(warn: Callable[[str], None] | None = None) -> Iterator[dict[str, Any]]:
    """The audit records, newest first, across the rotated files, attempts resolved; lines that
    are not well-formed records are skipped and, when the reading stops, reported via `warn`."""
    finished: set[str] = set()
    skipped: dict[Path, list[int]] = {}
    whole: dict[Path, int] = {}  # files read to their first line: how many lines they have
    try:
        for path in log_files(log_path()):
            counted = 0
            for counted, line in enumerate(_lines_backwards(path), start=1):  # noqa: B007
                if not line.strip():
                    continue
                item = _parsed(line)
                if item is None or not is_audit_record(item):
                    skipped.setdefault(path, []).append(counted)
                    continue
                if item.get("event") == "send" and item.get("attempt") is not None:
                    finished.add(item["attempt"])
                elif item.get("event") == ATTEMPT:
                    if item.get("attempt") in finished:
                        continue
                    item = resolve_attempt(item)
                yield item
            whole[path] = counted
    except OSError as exc:
        raise ConfigError(
            f"Cannot read the audit log {log_path()}: {os_reason(exc)}.",
            hint="It must be a regular file you own (not a symbolic link or a directory) in "
            "the state directory ($SMSCTL_STATE_DIR).",
            code="audit_log_unusable",
        ) from None
    finally:
        if warn is not None:
            for path, numbers in skipped.items():
                warn(_skipped_warning(path, numbers, whole.get(path)))


def _skipped_warning(path: Path, backwards: list[int], lines: int | None) -> str:
    if lines is not None:  # read to its start: number the lines from the top, as editors do
        return skipped_warning(path, sorted(lines + 1 - n for n in backwards))
    shown = ", ".join(str(n) for n in backwards[:10]) + (", ..." if len(backwards) > 10 else "")
    return (
        f"skipped {len(backwards)} unreadable line(s) of {path} ({shown} from its end): not a "
        "well-formed record (torn by a killed process, corrupt, or edited by hand)."
    )


def read(
    *,
    channel: str | None = None,
    since: datetime | None = None,
    limit: int | None = None,
    sends_only: bool = False,
    warn: Callable[[str], None] | None = None,
) -> list[dict[str, Any]]:
    """The newest records (at most `limit`, none older than `since`), oldest first."""
    cutoff = stop = None
    if since:
        utc = since.astimezone(timezone.utc)
        cutoff = utc.strftime("%Y-%m-%dT%H:%M:%S")
        stop = datetime.fromtimestamp(utc.timestamp() - SINCE_SLACK_SECONDS, timezone.utc).strftime(
            "%Y-%m-%dT%H:%M:%S"
        )
    if limit is not None and limit <= 0:
        return []
    found: list[dict[str, Any]] = []
    records = newest_first(warn)
    try:
        for entry in records:
            moment = str(entry.get("time", ""))
            if stop is not None and moment < stop:
                break
            if cutoff is not None and moment < cutoff:
                continue
            if channel and entry.get("channel") != channel:
                continue
            if sends_only and not str(entry.get("event", "")).startswith("send"):
                continue
            found.append(entry)
            if limit is not None and len(found) >= limit:
                break
    finally:
        records.close()
    found.reverse()
    return found


# The provider keeps receipts and call records for at most a month: an older send is not worth
# finding, and a lookup of an id this machine never sent stops here instead of at the log's start.
LOOKUP_DAYS = 32


def sent_at(channel: str, **ids: str | None) -> datetime | None:
    """When the newest send on `channel` with these ids (biz_id=..., out_id=..., call_id=...)
    was recorded in this machine's log in the last LOOKUP_DAYS days; None when there is none."""
    wanted = {key: value for key, value in ids.items() if value}
    if not wanted:
        return None
    horizon = datetime.fromtimestamp(
        clock.timestamp() - LOOKUP_DAYS * 86400, timezone.utc
    ).strftime("%Y-%m-%dT%H:%M:%S")
    records = newest_first()
    try:
        for entry in records:
            if str(entry.get("time", "")) < horizon:
                break
            if (
                entry.get("channel") == channel
                and entry.get("event") == "send"
                and all(entry.get(k) == v for k, v in wanted.items())
            ):
                return clock.parse_iso(entry.get("time"))
    finally:
        records.close()
    return None


def _last_byte(fd: int) -> bytes:
    return os.pread(fd, 1, os.fstat(fd).st_size - 1)
