"""A cache of the parsed and validated config, so that a config of thousands of templates costs
a command about what a small one does.

Keyed by a hash of the file's whole content (plus smsctl's version and schema), never by its
modification time: a cached answer exists only for exactly the bytes being read, so it can never
be stale — an edit by hand in the same second, a file restored with its old mtime, a copy from
another machine all simply miss. Reading the file and hashing it cost about a millisecond for
half a megabyte; parsing and validating it cost a few hundred.

One cache file per config file, in the user's cache directory (0600 in a 0700 directory), written
atomically. Anything wrong with it (missing, torn, from another version, unreadable) is a miss.
Stdlib only: the completion fast path reads it too.
"""

from __future__ import annotations

import contextlib
import hashlib
import marshal
import os
import sys
from typing import Any

FORMAT = 1
APP_NAME = "smsctl"


def cache_dir() -> str:
    env_value = os.environ.get("SMSCTL_CACHE_DIR")
    if env_value:
        return os.path.expanduser(env_value)
    if sys.platform.startswith("linux") or "bsd" in sys.platform:
        base = os.environ.get("XDG_CACHE_HOME", "").strip()
        if not os.path.isabs(base):
            base = os.path.expanduser("~/.cache")
        return os.path.join(base, APP_NAME)
    from platformdirs import user_cache_dir

    return user_cache_dir(APP_NAME, appauthor=False)


def _cache_file(config_path: str) -> str:
    name = hashlib.blake2b(os.path.abspath(config_path).encode(), digest_size=12).hexdigest()
    return os.path.join(cache_dir(), f"config-{name}.marshal")


def _code_identity() -> bytes:
    """What the validation depends on besides the text: smsctl's version and its schema."""
    from smsctl import __version__

    schema = os.path.join(os.path.dirname(os.path.abspath(__file__)), "schema.py")
    try:
        info = os.stat(schema)
        stamp = f"{info.st_size}:{info.st_mtime_ns}"
    except OSError:
        stamp = "?"
    return f"{FORMAT}|{__version__}|{stamp}|".encode()


def content_key(content: bytes) -> bytes:
    return hashlib.blake2b(_code_identity() + content, digest_size=32).digest()


def load(config_path: str, content: bytes) -> dict[str, Any] | None:
    """The data parsed and validated from exactly `content`, or None."""
    try:
        with open(_cache_file(config_path), "rb") as handle:
            key, data = marshal.loads(handle.read())
    except (OSError, ValueError, EOFError, TypeError):
        return None
    if key != content_key(content) or not isinstance(data, dict):
        return None
    return data


UNUSED_DAYS = 30


def _forget_unused(directory: str) -> None:
    """Entries not rewritten for a month (a config since deleted, or one nobody changes: it is
    parsed once more) are removed, so the cache never grows without bound."""
    import time

    cutoff = time.time() - UNUSED_DAYS * 86400
    for entry in os.scandir(directory):
        if entry.name.startswith("config-") and entry.stat().st_mtime < cutoff:
            with contextlib.suppress(OSError):
                os.unlink(entry.path)


def store(config_path: str, content: bytes, data: dict[str, Any]) -> None:
    """Remember what `content` parsed to; silently nothing when that cannot be done."""
    try:
        payload = marshal.dumps((content_key(content), data))
    except ValueError:  # a value marshal cannot carry (a TOML date): no cache for this file
        return
    path = _cache_file(config_path)
    temporary = f"{path}.tmp-{os.getpid()}"
    try:
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        _forget_unused(os.path.dirname(path))
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
        os.replace(temporary, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
