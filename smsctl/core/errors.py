"""One error family for everything a user can cause or meet.

Each class carries the exit code of docs/contract.md §6. Expected failures are raised as one of
these and printed without a traceback; anything else is a bug and exits 1.
"""

from __future__ import annotations

from typing import Any


class SmsctlError(Exception):
    """An expected failure: printed as `Error: message` plus a hint, never as a traceback."""

    exit_code = 1
    kind = "error"

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        code: str | None = None,
        request_id: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.code = code
        self.request_id = request_id
        self.details = details or {}

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": self.kind,
            "exit_code": self.exit_code,
            "code": self.code,
            "message": self.message,
            "hint": self.hint,
            "request_id": self.request_id,
        }
        if self.details:
            body["details"] = self.details
        return body


class UnexpectedError(SmsctlError):
    exit_code = 1
    kind = "unexpected"


class Aborted(SmsctlError):
    """A confirmation prompt was declined."""

    exit_code = 1
    kind = "aborted"

    def __init__(self, message: str = "Aborted", **kwargs: Any) -> None:
        super().__init__(message, **kwargs)


class UsageError(SmsctlError):
    exit_code = 2
    kind = "usage"


class ConfigError(SmsctlError):
    exit_code = 3
    kind = "config"


class ConfirmationRequired(ConfigError):
    """A destructive or paid action was asked for where nobody can confirm it."""

    kind = "confirmation_required"


class CredentialError(SmsctlError):
    exit_code = 4
    kind = "credentials"


class ProviderRefused(SmsctlError):
    exit_code = 5
    kind = "provider_refused"


class RateLimited(SmsctlError):
    exit_code = 6
    kind = "rate_limited"


class ProviderUnavailable(SmsctlError):
    exit_code = 7
    kind = "provider_unavailable"


class DeliveryFailed(SmsctlError):
    exit_code = 8
    kind = "delivery_failed"


class Interrupted(SmsctlError):
    exit_code = 130
    kind = "interrupted"


EXIT_CLASSES: dict[int, type[SmsctlError]] = {
    1: UnexpectedError,
    2: UsageError,
    3: ConfigError,
    4: CredentialError,
    5: ProviderRefused,
    6: RateLimited,
    7: ProviderUnavailable,
    8: DeliveryFailed,
}


def error_for_exit(exit_code: int) -> type[SmsctlError]:
    """The error class a catalog entry's exit class maps to."""
    return EXIT_CLASSES.get(exit_code, UnexpectedError)
