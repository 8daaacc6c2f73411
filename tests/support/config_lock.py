"""The config lock as tests check it: the lock file stays next to the config (it is never
unlinked), so "no lock left" means nobody holds it and its last owner released it normally."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path


def released(lock: Path) -> bool:
    """Nobody holds the lock and no owner record is left in it (a normal release empties the
    file; a writer killed while holding it leaves its record)."""
    try:
        fd = os.open(lock, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        return True  # never taken
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return os.fstat(fd).st_size == 0
    finally:
        os.close(fd)
