"""Masking follows the number's real country (issue 14 item 3): the country code of the parsed
number, never `+86` for a number that is not mainland, and at least four digits hidden."""

from __future__ import annotations

import pytest

from smsctl.core.masking import mask_email, mask_phone, mask_target


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("+8613812345678", "+86 138****5678"),  # mainland mobile
        ("13812345678", "+86 138****5678"),  # mainland without +86, as send-test reads it
        ("+86 138 1234 5678", "+86 138****5678"),
        ("+861012345678", "+86 10****5678"),  # Beijing landline (voice)
        ("+12025550123", "+1 20****0123"),  # US: not "+86 120****0123"
        ("+85261234567", "+852 ****4567"),  # Hong Kong, 8 digits
        ("+85361234567", "+853 ****4567"),  # Macau
        ("+886912345678", "+886 9****5678"),  # Taiwan
        ("+447400123456", "+44 74****3456"),  # UK mobile
        ("+6591234567", "+65 ****4567"),  # Singapore
        ("+33612345678", "+33 6****5678"),  # France
        ("+4915123456789", "+49 151****6789"),  # Germany, 11 digits
        ("+819012345678", "+81 90****5678"),  # Japan
    ],
)
def test_phone_numbers_keep_their_own_country_code(number: str, masked: str) -> None:
    assert mask_phone(number) == masked


@pytest.mark.parametrize(
    "number", ["+12025550123", "+85261234567", "+447400123456", "+8613812345678", "+6591234567"]
)
def test_at_least_four_digits_are_hidden_and_the_country_is_the_parsed_one(number: str) -> None:
    import phonenumbers

    parsed = phonenumbers.parse(number)
    masked = mask_phone(number)
    country, _, national = masked.partition(" ")
    assert country == f"+{parsed.country_code}"
    assert national.count("*") >= 4
    assert len(national) == len(phonenumbers.national_significant_number(parsed))


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("+0000", "+****"),  # not a number: no country is claimed
        ("+999123456789", "+********6789"),  # no such country code
        ("", ""),
        (None, ""),
    ],
)
def test_what_cannot_be_parsed_keeps_only_its_last_digits(value, masked) -> None:
    assert mask_phone(value) == masked


def test_each_channel_masks_its_own_kind_of_target() -> None:
    assert mask_target("sms", "+12025550123") == "+1 20****0123"
    assert mask_target("voice", "+447400123456") == "+44 74****3456"
    assert mask_target("email", "alice@example.test") == "al***@example.test"
    assert mask_email("bo@example.test") == "b***@example.test"
    assert mask_target("wechat", "oSbx_follower_alice_000000001") == "oSbx****0001"
