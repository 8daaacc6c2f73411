"""The audit log: every send attempt and every configuration change, as JSON Lines (SPEC §4).

Each record is appended with one write under an exclusive flock, so concurrent smsctl runs never
interleave lines, and a process killed mid-write can damage at most its own last line, which
readers skip.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from smsctl.core import clock, paths
from smsctl.core.redaction import redact_data


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
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield fd
    finally:
        os.close(fd)


def append_line(fd: int, record: dict[str, Any]) -> None:
    data = (json.dumps(record, ensure_ascii=False, default=str) + "\n").encode("utf-8")
    # A torn earlier line (writer killed mid-line) must not swallow this one.
    size = os.fstat(fd).st_size
    if size and _last_byte(fd) != b"\n":
        data = b"\n" + data
    os.write(fd, data)


def record(event: str, **fields: Any) -> None:
    """Append one audit record. Never raises: the command's own outcome matters more."""
    entry = {
        "time": now_iso(),
        "event": event,
        **{k: v for k, v in fields.items() if v is not None},
    }
    try:
        with locked_append(state_file("audit.jsonl")) as fd:
            append_line(fd, redact_data(entry))
    except OSError as exc:
        import sys

        sys.stderr.write(f"Warning: could not write the audit log: {exc.strerror}\n")


def read_lines(path: Path) -> list[dict[str, Any]]:
    """Every intact record; a line torn by a killed writer is skipped."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return []
    records = []
    for line in raw.split(b"\n"):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except (ValueError, UnicodeDecodeError):
            continue
        if isinstance(item, dict):
            records.append(item)
    return records


def read(
    *, channel: str | None = None, since: datetime | None = None, limit: int | None = None
) -> list[dict[str, Any]]:
    entries = read_lines(log_path())
    if channel:
        entries = [e for e in entries if e.get("channel") == channel]
    if since:
        cutoff = since.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
        entries = [e for e in entries if str(e.get("time", "")) >= cutoff]
    if limit is not None:
        entries = entries[-limit:] if limit > 0 else []
    return entries


def sent_at(channel: str, **ids: str | None) -> datetime | None:
    """When the newest send on `channel` with these ids (biz_id=..., out_id=..., call_id=...)
    was recorded, from this machine's log; None when it has no such send."""
    wanted = {key: value for key, value in ids.items() if value}
    if not wanted:
        return None
    for entry in reversed(read(channel=channel)):
        if entry.get("event") == "send" and all(entry.get(k) == v for k, v in wanted.items()):
            return clock.parse_iso(entry.get("time"))
    return None


def _last_byte(fd: int) -> bytes:
    return os.pread(fd, 1, os.fstat(fd).st_size - 1)
