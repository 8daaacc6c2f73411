"""Last line of defence against secrets in text that leaves the process.

Every secret smsctl reads is registered here, and everything written to stderr (errors, debug
lines, tracebacks under SMSCTL_DEBUG) passes through `redact`. Patterns catch credentials that
smsctl never saw as a value, such as an Authorization header or an access_token in a URL.
"""

from __future__ import annotations

import re

_known_secrets: set[str] = set()

_PATTERNS = [
    (re.compile(r"(Authorization['\"]?\s*[:=]\s*['\"]?)[^'\",\n]+", re.I), r"\1****"),
    (re.compile(r"(Signature=)[^&\s,]+"), r"\1****"),
    (re.compile(r"(access_token=)[^&\s'\"]+"), r"\1****"),
    (
        re.compile(
            r"(['\"]?(?:secret|password|app_secret|access_key_secret)['\"]?\s*[:=]\s*)"
            r"['\"][^'\"]*['\"]",
            re.I,
        ),
        r"\1'****'",
    ),
]


def register_secret(value: str | None) -> None:
    if value and len(value) >= 4:
        _known_secrets.add(value)


def redact(text: str) -> str:
    for secret in sorted(_known_secrets, key=len, reverse=True):
        text = text.replace(secret, "****")
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text
