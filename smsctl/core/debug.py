"""`-v`: what smsctl decided and whom it talked to, on stderr, redacted like everything else.

A module flag instead of the logging package keeps the import cost of every command at zero.
"""

from __future__ import annotations

import sys

_enabled = False


def enable(on: bool = True) -> None:
    global _enabled
    _enabled = on


def enabled() -> bool:
    return _enabled


def debug(message: str) -> None:
    if _enabled:
        from smsctl.core.redaction import redact
        from smsctl.core.terminal_text import visible

        sys.stderr.write(f"debug: {visible(redact(message), multiline=True)}\n")
