"""Masking of identifiers shown to people (docs/contract.md §5): enough to recognise, not enough
to use."""

from __future__ import annotations


def mask_access_key_id(value: str | None) -> str:
    if not value:
        return ""
    if len(value) <= 8:
        return value[:2] + "****"
    return f"{value[:4]}****{value[-4:]}"


def mask_phone(value: str | None) -> str:
    """The country code of the parsed number, then its national number with at least four digits
    hidden: `+8613812345678` -> `+86 138****5678`, `+12025550123` -> `+1 20****0123`,
    `+85261234567` -> `+852 ****4567`. A number without `+` is read as a mainland one, as
    send-test reads it; one that cannot be parsed keeps no country, only its last digits."""
    if not value:
        return ""
    import phonenumbers

    try:
        number = phonenumbers.parse(value, "CN")
    except phonenumbers.NumberParseException:
        digits = "".join(ch for ch in value if ch.isdigit())
        prefix = "+" if value.strip().startswith("+") else ""
        return prefix + _mask_digits(digits, head=False)
    national = phonenumbers.national_significant_number(number)
    return f"+{number.country_code} {_mask_digits(national)}"


def _mask_digits(digits: str, *, head: bool = True) -> str:
    """Show at most the first three (with `head`) and the last four digits, never fewer than
    four hidden."""
    if len(digits) <= 4:
        return "*" * max(len(digits), 4)
    shown_tail = 4 if len(digits) >= 8 else len(digits) - 4
    shown_head = min(3, len(digits) - shown_tail - 4) if head else 0
    hidden = len(digits) - shown_head - shown_tail
    return digits[:shown_head] + "*" * hidden + digits[len(digits) - shown_tail :]


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
    from smsctl.core.channels import channel as model

    return model(channel).mask(value)
