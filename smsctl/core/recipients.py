"""Recipients checked before any network call (docs/contract.md §7): phone numbers, email
addresses, OpenIDs."""

from __future__ import annotations

import re
from dataclasses import dataclass

from smsctl.core.errors import UsageError


@dataclass(frozen=True)
class PhoneNumber:
    e164: str  # +8613812345678
    region: str  # CN
    country_code: int

    @property
    def for_alibaba(self) -> str:
        """Mainland numbers as 11 digits; others as country code + number, no `+` (Alibaba's
        format for international SMS and calls)."""
        digits = self.e164.lstrip("+")
        return digits[2:] if self.country_code == 86 else digits


def parse_phone(value: str, *, mobile_only: bool = True) -> PhoneNumber:
    """E.164, or a mainland number without +86. Raises UsageError naming the value."""
    import phonenumbers

    raw = (value or "").strip()
    if not raw:
        raise UsageError("Empty phone number.", code="invalid_phone")
    candidate = raw
    if not raw.startswith("+"):
        digits = re.sub(r"[\s-]", "", raw)
        if digits.startswith("00"):
            candidate = "+" + digits[2:]
        elif digits.startswith("86") and len(digits) == 13:
            candidate = "+" + digits
    try:
        number = phonenumbers.parse(candidate, "CN")
    except phonenumbers.NumberParseException as exc:
        raise UsageError(
            f"Invalid phone number {raw!r}: {exc._msg}.",
            code="invalid_phone",
            hint="Give it in E.164 form (+8613812345678); mainland numbers may omit +86.",
        ) from None
    if not phonenumbers.is_valid_number(number):
        raise UsageError(
            f"Invalid phone number {raw!r}: not a valid number for its region.",
            code="invalid_phone",
            hint="Check the digits and the country code (E.164: +<country><number>).",
        )
    if mobile_only:
        kind = phonenumbers.number_type(number)
        if kind not in (
            phonenumbers.PhoneNumberType.MOBILE,
            phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
        ):
            raise UsageError(
                f"{raw!r} is not a mobile number; SMS needs one.", code="invalid_phone"
            )
    region = phonenumbers.region_code_for_number(number) or "ZZ"
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return PhoneNumber(e164, region, number.country_code)


_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}"
    r"[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
)


def check_email(value: str, what: str = "email address") -> str:
    raw = (value or "").strip()
    if len(raw) > 254 or not _EMAIL.match(raw) or ".." in raw.split("@")[0]:
        raise UsageError(
            f"Invalid {what} {value!r}.",
            code="invalid_email",
            hint="Give a plain address such as ops@example.com.",
        )
    return raw


_OPENID = re.compile(r"^[A-Za-z0-9_-]{6,64}$")


def check_openid(value: str) -> str:
    # fullmatch: `$` in a pattern also matches before a trailing newline.
    if not _OPENID.fullmatch(value or ""):
        raise UsageError(
            f"Invalid OpenID {value!r}: expected 6-64 letters, digits, `_` or `-`.",
            code="invalid_openid",
        )
    return value
