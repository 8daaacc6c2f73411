"""What the config keeps of a provider's review: the four known states as they are; anything else
as "unknown" with the raw state kept in the reason, so the config stays loadable and the item is
never used for sending."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from smsctl.core.config import parse_config
from smsctl.core.errors import ProviderRefused
from smsctl.core.items import refuse_unapproved, review_fields


@pytest.mark.parametrize(
    ("status", "reason", "stored"),
    [
        ("approved", "", ("approved", "")),
        ("rejected", "签名不合规", ("rejected", "签名不合规")),
        ("unknown(5)", "", ("unknown", "provider state unknown(5)")),
        ("unknown(AUDIT_NEW)", "复核中", ("unknown", "provider state unknown(AUDIT_NEW); 复核中")),
    ],
)
def test_review_fields(status: str, reason: str, stored: tuple[str, str]) -> None:
    fields = review_fields(status, reason)
    assert (fields["status"], fields["reason"]) == stored
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", fields["checked_at"])


def test_an_unexpected_provider_state_keeps_the_config_loadable() -> None:
    fields = review_fields("unknown(7)", "")
    text = (
        '[sms.accounts.prod]\naccess_key_id = "LTAI5tProd"\n'
        '[sms.templates.SMS_1]\naccount = "prod"\nscenario = "login"\n'
        f'status = "{fields["status"]}"\n'
        f'reason = "{fields["reason"]}"\n'
    )
    config = parse_config(text, Path("config.toml"))
    assert config.get("sms", "templates", "SMS_1")["status"] == "unknown"


@pytest.mark.parametrize(
    ("status", "allow_pending", "code"),
    [
        ("pending", False, "voice_file_pending"),
        ("rejected", True, "voice_file_rejected"),
        ("not_found", True, "voice_file_not_found"),
        ("unknown(9)", True, "voice_file_unknown"),
    ],
)
def test_only_approved_or_allowed_pending_is_stored(status, allow_pending, code) -> None:
    with pytest.raises(ProviderRefused) as caught:
        refuse_unapproved("voice file", "a.wav", status, "", allow_pending, sync="sync it")
    assert caught.value.code == code
    assert refuse_unapproved("voice file", "a.wav", "approved", "", False, sync="s") is None
    assert refuse_unapproved("voice file", "a.wav", "pending", "", True, sync="s") is None
