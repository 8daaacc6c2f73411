"""Reading a provider's parsed JSON answer field by field, with each field's type checked.

A provider (or whatever answers at its endpoint) can send any JSON: `"BizId": null`, a number
where an id string is due, a list where an object is. Adapters read answers through `Answer`,
so such an answer is a provider failure (exit 7) that names the field, never a crash (exit 1)
or a success built from a wrong value. The message describes the value by its type only: the
text of a hostile answer is not repeated.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from smsctl.core.errors import ProviderUnavailable


@dataclass(frozen=True)
class Answer:
    data: Any
    source: str  # e.g. "Alibaba Cloud SendSms", for messages
    code: str  # the error code of a malformed answer
    is_send: bool = False  # a send that may have been accepted although its answer is malformed
    path: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.data, dict):
            raise self.malformed(self.path or "the answer", self.data, "a JSON object")

    def text(self, key: str, *, required: bool = False) -> str | None:
        """A string field; absent or null is None (unless required); "" is None too when
        required, since an empty id identifies nothing."""
        value = self.data.get(key)
        if value is None and not required:
            return None
        if not isinstance(value, str) or (required and not value.strip()):
            raise self.malformed(
                self._name(key), value, "a non-empty string" if required else "a string"
            )
        return value

    def token(self, key: str) -> str | None:
        """A code that some answers give as a number and others as a string (e.g. SignStatus 1
        or "1"), as a string."""
        value = self.data.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise self.malformed(self._name(key), value, "a string or an integer")
        return str(value)

    def integer(self, key: str) -> int | None:
        value = self.data.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.malformed(self._name(key), value, "an integer")
        return value

    def object(self, key: str) -> Answer | None:
        value = self.data.get(key)
        if value is None:
            return None
        return Answer(value, self.source, self.code, self.is_send, self._name(key))

    def objects(self, key: str) -> list[Answer]:
        value = self.data.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.malformed(self._name(key), value, "a list")
        return [
            Answer(item, self.source, self.code, self.is_send, f"{self._name(key)}[{index}]")
            for index, item in enumerate(value)
        ]

    def malformed(
        self, field: str, value: Any, expected: str, *, got: str | None = None
    ) -> ProviderUnavailable:
        hint = (
            "smsctl does not guess what a malformed answer means. Retry in a moment; if it "
            "persists, check that the account's endpoint is the provider's API (not a proxy "
            "or another service)."
        )
        details: dict[str, Any] = {"field": field, "expected": expected, "got": type_name(value)}
        if self.is_send:
            hint = (
                "The request reached the provider, so the message MAY have been delivered. " + hint
            )
            details["maybe_sent"] = True
        return ProviderUnavailable(
            f"{self.source} answered with a malformed response: {field} is "
            f"{got or describe(value)}, "
            f"expected {expected}.",
            hint=hint,
            code=self.code,
            details=details,
        )

    def _name(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key


def type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def describe(value: Any) -> str:
    kind = type_name(value)
    if kind == "null":
        return "null"
    if kind in ("boolean", "number"):
        return f"the {kind} {str(value).lower() if kind == 'boolean' else value!r}"[:60]
    if kind == "string":
        return "an empty string" if not value.strip() else "a string"
    return {"list": "a list", "object": "an object"}.get(kind, f"a {kind}")
