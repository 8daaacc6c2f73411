"""Registered secrets are masked in every encoded form a protocol or a server may echo back."""

from __future__ import annotations

import base64
from urllib.parse import quote, quote_plus

import pytest

from smsctl.core import redaction
from tests.conftest import CANARY


@pytest.fixture(autouse=True)
def fresh_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(redaction, "_known_secrets", set())
    monkeypatch.setattr(redaction, "_base64_cores", set())


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.mark.parametrize(
    "form",
    [
        CANARY,
        b64(CANARY),  # AUTH LOGIN's password line
        b64(CANARY).rstrip("="),
        base64.urlsafe_b64encode(CANARY.encode()).decode(),
        quote(CANARY + "/&", safe=""),
        quote_plus(CANARY, safe=""),
        CANARY.encode().hex(),
    ],
)
def test_each_encoded_form_of_a_registered_secret_is_masked(form: str) -> None:
    redaction.register_secret(CANARY)
    assert form not in redaction.redact(f"server said: {form} (end)")
    assert redaction.redact(f"server said: {form} (end)").startswith("server said: ")


@pytest.mark.parametrize("user", ["", "a", "ab", "abc", "ops@acme.test", "运维"])
def test_auth_plain_and_basic_blobs_are_masked_whole_whatever_the_user(user: str) -> None:
    redaction.register_secret(CANARY)  # the user is not known to the redactor
    plain = b64(f"\0{user}\0{CANARY}")
    basic = b64(f"{user}:{CANARY}")
    text = f"535 5.7.8 AUTH PLAIN {plain} refused; Authorization: Basic {basic}"
    redacted = redaction.redact(text)
    assert plain not in redacted and basic not in redacted
    assert redacted.startswith("535 5.7.8 AUTH PLAIN **** refused")


def test_a_short_password_in_an_auth_plain_blob_is_masked_once_the_login_is_known() -> None:
    password = "pw123"
    blob = b64(f"\0ops@acme.tst\0{password}")
    redaction.register_secret(password)
    assert blob in redaction.redact(f"AUTH PLAIN {blob}")  # too short to find inside a blob
    redaction.register_smtp_login("ops@acme.tst", password)
    assert redaction.redact(f"AUTH PLAIN {blob}") == "AUTH PLAIN ****"


def test_unrelated_base64_and_words_are_left_alone() -> None:
    redaction.register_secret(CANARY)
    text = f"Authentication failed for {b64('someone else entirely')} at smtp.example.com"
    assert redaction.redact(text) == text


def test_redact_data_masks_nested_strings_and_keys() -> None:
    redaction.register_secret(CANARY)
    record = {"message": f"AUTH PLAIN {b64(chr(0) + 'u' + chr(0) + CANARY)}", "n": 3,
              "list": [CANARY, {b64(CANARY): True}]}  # fmt: skip
    assert redaction.redact_data(record) == {
        "message": "AUTH PLAIN ****",
        "n": 3,
        "list": ["****", {"****": True}],
    }
