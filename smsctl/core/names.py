"""What a name may be. Names become TOML keys, keyring entries and env-var suffixes, so they are
checked before anything is written (docs/contract.md §7)."""

from __future__ import annotations

import re
import unicodedata

from smsctl.core.errors import UsageError

IDENTIFIER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
MAX_PROVIDER_NAME = 128


def check_identifier(value: str, what: str) -> str:
    """Account, app, rule and email-template names: ASCII letters, digits, `_ . -`."""
    # fullmatch: `$` in a pattern also matches before a trailing newline ("prod\n").
    if not IDENTIFIER.fullmatch(value or ""):
        raise UsageError(
            f"Invalid {what} name {value!r}: use 1-64 ASCII letters, digits, `_`, `.` or `-`, "
            "starting with a letter or digit.",
            code="invalid_name",
        )
    return value


def check_provider_name(value: str, what: str) -> str:
    """Signature names and template codes come from the provider and may be any script
    (Chinese signature names are the norm); only control characters, surrounding blanks and
    absurd lengths are refused."""
    if not value or value != value.strip():
        raise UsageError(
            f"Invalid {what} {value!r}: empty or surrounded by blanks.", code="invalid_name"
        )
    if len(value) > MAX_PROVIDER_NAME:
        raise UsageError(
            f"Invalid {what}: longer than {MAX_PROVIDER_NAME} characters.", code="invalid_name"
        )
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn") for ch in value):
        raise UsageError(
            f"Invalid {what} {value!r}: contains control or unassigned characters.",
            code="invalid_name",
        )
    return value
