"""What each provider code means, why it happens, what to do, and which exit class it belongs to.

One catalog per provider (``alibaba``, ``wechat``, ``smtp``) as a plain dict of
``code -> Explanation``; ``explain`` looks a code up and ``to_error`` turns it into the
SmsctlError a command raises. Unknown codes are kept verbatim with the provider's message.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module

from smsctl.core.errors import SmsctlError, error_for_exit


@dataclass(frozen=True)
class Explanation:
    meaning: str
    cause: str
    next_step: str
    exit_code: int


def _table(provider: str) -> dict[str, Explanation]:
    return import_module(f"smsctl.core.catalog.{provider}").CODES


def explain(provider: str, code: str | None) -> Explanation | None:
    if not code:
        return None
    table = _table(provider)
    if code in table:
        return table[code]
    # Families such as "isv.*" or "Throttling.*" may have a catch-all entry under "prefix.*".
    for key, entry in table.items():
        if key.endswith(".*") and code.startswith(key[:-1]):
            return entry
    return None


def to_error(
    provider: str,
    code: str | None,
    provider_message: str | None,
    *,
    request_id: str | None = None,
    default_exit: int = 5,
    details: dict | None = None,
) -> SmsctlError:
    entry = explain(provider, code)
    if entry is None:
        message = f"{provider} answered {code or 'an error'}: {provider_message or 'no message'}"
        return error_for_exit(default_exit)(
            message,
            hint="This code is not in smsctl's catalog; search the provider's error-code "
            "documentation for it and quote the request id to the provider's support.",
            code=code,
            request_id=request_id,
            details={"provider_message": provider_message, **(details or {})},
        )
    message = f"{entry.meaning} ({code})"
    if provider_message:
        message += f": {provider_message}"
    return error_for_exit(entry.exit_code)(
        message,
        hint=f"{entry.cause} Next: {entry.next_step}",
        code=code,
        request_id=request_id,
        details={
            "provider_message": provider_message,
            "meaning": entry.meaning,
            "cause": entry.cause,
            "next_step": entry.next_step,
            **(details or {}),
        },
    )
