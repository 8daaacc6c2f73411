"""Last line of defence against secrets in text that leaves the process.

Every secret smsctl reads is registered here, and everything written to stderr (errors, debug
lines, tracebacks under SMSCTL_DEBUG) and to the audit log passes through `redact`. Patterns catch
credentials that smsctl never saw as a value, such as an Authorization header or an access_token
in a URL.

A secret is also recognised in the forms a protocol or a server may echo it back in: base64
(what SMTP AUTH LOGIN sends), base64 inside a longer base64 blob (AUTH PLAIN's
`\\0user\\0password`, HTTP Basic's `user:password`, at any of the three byte alignments),
URL-safe base64, URL encoding and hex.
"""

from __future__ import annotations

import re
from typing import Any

MASK = "****"

_known_secrets: set[str] = set()
# Base64 characters that depend on the secret's bytes alone, whatever precedes it in the encoded
# blob: a token that contains one of them carries the secret.
_base64_cores: set[str] = set()
_BASE64_TOKEN = re.compile(r"[A-Za-z0-9+/_-]{8,}={0,2}")
# Shorter cores would match unrelated base64 text; 8 characters are 6 bytes of the secret.
_MIN_CORE = 8

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
    if not value or len(value) < 4:
        return
    _known_secrets.add(value)
    _known_secrets.update(form for form in _encoded_forms(value) if len(form) >= 4)
    _base64_cores.update(_cores(value.encode("utf-8")))


def register_smtp_login(username: str, password: str) -> None:
    """The exact AUTH PLAIN blob (base64 of `\\0user\\0password`), however short the password."""
    if password:
        register_secret(f"\0{username}\0{password}")


def redact(text: str) -> str:
    if _base64_cores:  # whole tokens first: a blob is masked entirely, not around the secret
        text = _BASE64_TOKEN.sub(_mask_if_secret, text)
    for secret in sorted(_known_secrets, key=len, reverse=True):
        text = text.replace(secret, MASK)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def redact_data(value: Any) -> Any:
    """`value` with every string in it (keys of dicts included) redacted; for JSON records."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {redact_data(key): redact_data(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact_data(item) for item in value]
    return value


def _mask_if_secret(match: re.Match[str]) -> str:
    token = match.group(0)
    if any(core in token for core in _base64_cores):
        return MASK
    return token


def _encoded_forms(value: str) -> set[str]:
    import base64
    from urllib.parse import quote, quote_plus

    raw = value.encode("utf-8")
    encoded = base64.b64encode(raw).decode("ascii")
    url_safe = base64.urlsafe_b64encode(raw).decode("ascii")
    forms = {
        encoded,
        encoded.rstrip("="),
        url_safe,
        url_safe.rstrip("="),
        quote(value, safe=""),
        quote_plus(value, safe=""),
        raw.hex(),
        raw.hex().upper(),
    }
    for quoted in (quote(value, safe=""), quote_plus(value, safe="")):
        forms.add(re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), quoted))
    forms.discard(value)
    return forms


def _cores(raw: bytes) -> set[str]:
    """For each alignment of `raw` inside a longer byte string, the base64 characters that only
    `raw`'s bytes determine (standard and URL-safe alphabets)."""
    import base64

    cores = set()
    for offset in range(3):
        encoded = base64.b64encode(b"\0" * offset + raw).decode("ascii")
        start = 4 if offset else 0  # the first group mixes in bytes before the secret
        end = 4 * ((offset + len(raw)) // 3)  # the last full group made of the secret's bytes
        core = encoded[start:end]
        if len(core) >= _MIN_CORE:
            cores.add(core)
            cores.add(core.translate(str.maketrans("+/", "-_")))
    return cores
