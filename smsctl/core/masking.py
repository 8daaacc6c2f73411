"""Masking of identifiers shown to people (SPEC §5): enough to recognise, not enough to use."""

from __future__ import annotations


def mask_access_key_id(value: str | None) -> str:
    if not value:
        return ""
    if len(value) <= 8:
        return value[:2] + "****"
    return f"{value[:4]}****{value[-4:]}"


def mask_phone(value: str | None) -> str:
    """`+8613812345678` -> `+86 138****5678`; keeps the country code and the last four digits."""
    if not value:
        return ""
    digits = "".join(ch for ch in value if ch.isdigit())
    if value.startswith("+86") or (len(digits) == 11 and digits.startswith("1")):
        national = digits[2:] if digits.startswith("86") and len(digits) == 13 else digits
        return f"+86 {national[:3]}****{national[-4:]}"
    if len(digits) <= 4:
        return "****"
    prefix = "+" if value.startswith("+") else ""
    return f"{prefix}{digits[:2]}****{digits[-4:]}"


def mask_email(value: str | None) -> str:
    if not value:
        return ""
    local, sep, domain = value.partition("@")
    if not sep:
        return mask_generic(value)
    shown = local[:1] if len(local) <= 3 else local[:2]
    return f"{shown}***@{domain}"


def mask_openid(value: str | None) -> str:
    return mask_generic(value)


def mask_generic(value: str | None) -> str:
    if not value:
        return ""
    if len(value) <= 8:
        return value[:1] + "****"
    return f"{value[:4]}****{value[-4:]}"


def mask_target(channel: str, value: str | None) -> str:
    if channel in ("sms", "voice"):
        return mask_phone(value)
    if channel == "email":
        return mask_email(value)
    return mask_openid(value)
