"""The Alibaba catalog: every code of docs/providers.md §1, with the right exit class."""

from __future__ import annotations

import pytest

from smsctl.core.catalog import explain, to_error, word, words
from smsctl.core.catalog.alibaba import CODES, flow_control_sentence, flow_control_window
from smsctl.core.catalog.receipts import (
    call_answered,
    explain_call_state,
    explain_receipt,
)
from smsctl.core.errors import (
    ConfigError,
    CredentialError,
    ProviderRefused,
    ProviderUnavailable,
    RateLimited,
)

# (code, exit class) as listed in docs/providers.md, "Error codes and smsctl's exit classes".
REFERENCE_CODES = {
    "InvalidAccessKeyId.NotFound": 4,
    "InvalidAccessKeyId.Inactive": 4,
    "SignatureDoesNotMatch": 4,
    "InvalidTimeStamp.Expired": 4,
    "isp.RAM_PERMISSION_DENY": 4,
    "Forbidden.RAM": 4,
    "InvalidCredentials": 4,
    "Throttling.User": 6,
    "Throttling": 6,
    "isv.BUSINESS_LIMIT_CONTROL": 6,
    "isv.DAY_LIMIT_CONTROL": 6,
    "isv.MONTH_LIMIT_CONTROL": 6,
    "isv.SMS_SIGNATURE_ILLEGAL": 5,
    "isv.SMS_TEMPLATE_ILLEGAL": 5,
    "isv.SMS_SIGNATURE_SCENE_ILLEGAL": 5,
    "isv.SIGN_STATE_ILLEGAL": 5,
    "isv.MOBILE_NUMBER_ILLEGAL": 5,
    "isv.MOBILE_COUNT_OVER_LIMIT": 5,
    "isv.TEMPLATE_MISSING_PARAMETERS": 5,
    "isv.INVALID_JSON_PARAM": 5,
    "isv.INVALID_PARAMETERS": 5,
    "isv.PARAM_LENGTH_LIMIT": 5,
    "isv.PARAM_NOT_SUPPORT_URL": 5,
    "isv.BLACK_KEY_CONTROL_LIMIT": 5,
    "isv.SMS_CONTENT_ILLEGAL": 5,
    "isv.DOMESTIC_NUMBER_NOT_SUPPORTED": 5,
    "isv.AMOUNT_NOT_ENOUGH": 5,
    "isv.OUT_OF_SERVICE": 5,
    "isv.PRODUCT_UN_SUBSCRIPT": 5,
    "isv.PRODUCT_UNSUBSCRIBE": 5,
    "isv.ACCOUNT_NOT_EXISTS": 5,
    "isv.ACCOUNT_ABNORMAL": 5,
    "isv.DENY_IP_RANGE": 5,
    "isp.SYSTEM_ERROR": 7,
    "ServiceUnavailable": 7,
}
EXTRA_GATEWAY_CODES = {
    "SignatureNonceUsed": 4,
    "IncompleteSignature": 4,
    "InvalidAction.NotFound": 3,
    "MissingParameter": 5,
}
CALL_STATES = {
    "200000": 0,
    "200001": 0,
    "200002": 8,
    "200003": 8,
    "200004": 8,
    "200005": 8,
    "200007": 8,
    "200010": 8,
    "200011": 8,
    "200121": 8,
    "999999": 8,
}


@pytest.mark.parametrize(
    "code,exit_code", sorted({**REFERENCE_CODES, **EXTRA_GATEWAY_CODES}.items())
)
def test_every_reference_code_is_listed_exactly_with_its_exit_class(code, exit_code):
    assert code in CODES, f"{code} missing from the catalog"
    assert CODES[code].exit_code == exit_code


@pytest.mark.parametrize("state,exit_code", sorted(CALL_STATES.items()))
def test_every_voice_call_state_is_listed(state, exit_code):
    assert CODES[state].exit_code == exit_code
    assert explain_call_state(state) is CODES[state]
    assert call_answered(state) is (exit_code == 0)


def test_every_entry_says_meaning_cause_and_next_step():
    for code, entry in CODES.items():
        assert entry.meaning and entry.cause and entry.next_step, code
        assert entry.exit_code in (0, 3, 4, 5, 6, 7, 8), code


@pytest.mark.parametrize(
    "code,cls",
    [
        ("SignatureDoesNotMatch", CredentialError),
        ("Throttling.User", RateLimited),
        ("isv.SMS_TEMPLATE_ILLEGAL", ProviderRefused),
        ("isp.SYSTEM_ERROR", ProviderUnavailable),
        ("InvalidAction.NotFound", ConfigError),
        ("isv.SOMETHING_NEW", ProviderRefused),  # the isv.* catch-all
        ("Throttling.Whatever", RateLimited),
        ("isp.NEW_FAILURE", ProviderUnavailable),
    ],
)
def test_to_error_builds_the_class_of_the_exit_code(code, cls):
    error = to_error("alibaba", code, "provider says", request_id="RID-1")
    assert type(error) is cls
    assert error.code == code and error.request_id == "RID-1"
    assert "provider says" in error.message
    assert error.hint is None  # worded by the core, for the channel and account
    assert error.details["provider"] == "alibaba"
    assert "Next:" in word(error, "sms", "prod").hint


def test_next_steps_name_smsctl_commands_where_there_is_one():
    assert "smsctl signature sync" in CODES["isv.SMS_SIGNATURE_ILLEGAL"].next_step
    assert "smsctl template sync" in CODES["isv.SMS_TEMPLATE_ILLEGAL"].next_step
    # `{cli}` becomes `smsctl` or `smsctl voice` when the core words the hint (catalog.word).
    assert "{cli} validate" in CODES["InvalidAccessKeyId.NotFound"].next_step
    # `{store_secret}` names the edit that stores a keyring secret, or where else it comes from.
    wrong_secret = CODES["SignatureDoesNotMatch"].next_step
    assert "`smsctl account edit prod --rotate-secret`" in wrong_secret.format_map(
        words("sms", "prod")
    )
    from_env = wrong_secret.format_map(words("sms", "prod", secret_from="env"))
    assert "SMSCTL_SECRET_SMS_PROD variable" in from_env and "--rotate-secret" not in from_env


def test_exact_codes_win_over_catch_alls():
    assert explain("alibaba", "isv.AMOUNT_NOT_ENOUGH") is CODES["isv.AMOUNT_NOT_ENOUGH"]
    assert explain("alibaba", "isv.BRAND_NEW") is CODES["isv.*"]


@pytest.mark.parametrize(
    "message,window,permits",
    [
        ("触发分钟级流控Permits:1", "minute", 1),
        ("触发小时级流控Permits:5", "hour", 5),
        ("触发天级流控Permits:10", "day", 10),
        ("Triggered hour-level flow control Permits:5", "hour", 5),
        ("flow control", None, None),
        (None, None, None),
    ],
)
def test_business_limit_control_says_which_limit(message, window, permits):
    assert flow_control_window(message) == (window, permits)
    sentence = flow_control_sentence(message)
    if window:
        assert f"per-{window}" in sentence
    else:
        assert sentence is None


@pytest.mark.parametrize(
    "err_code,exit_code,fragment",
    [
        ("DELIVERED", 0, "Delivered"),
        ("UNDELIV", 8, "could not deliver"),
        ("EXPIRED", 8, "expired"),
        ("REJECTD", 8, "rejected"),
        ("MK:0001", 8, "SMS centre"),
        ("mk:0005", 8, "SMS centre"),
        ("IC:0151", 8, "gateways"),
        ("DB:0141", 8, "subscriber database"),
        ("ID:0076", 8, "gateway"),
        ("isv.MOBILE_ACCOUNT_ABNORMAL", 8, "abnormal"),
        ("ZZ:9999", 8, "not delivered"),
    ],
)
def test_receipt_codes_are_explained(err_code, exit_code, fragment):
    entry = explain_receipt(err_code)
    assert entry.exit_code == exit_code
    assert fragment.lower() in (entry.meaning + entry.cause).lower()


def test_no_receipt_code_means_no_explanation():
    assert explain_receipt(None) is None
    assert explain_receipt("") is None


def test_unknown_call_state_is_a_final_failure_kept_verbatim():
    entry = explain_call_state("123456")
    assert entry.exit_code == 8 and "123456" in entry.meaning
    assert explain_call_state(None) is None


def test_word_names_the_channels_commands_and_the_real_account() -> None:
    sms = word(to_error("alibaba", "SignatureDoesNotMatch", "no"), "sms", "prod")
    assert "`smsctl account edit prod --rotate-secret`" in sms.hint
    assert "`smsctl validate prod`" in sms.details["next_step"]
    voice = word(to_error("alibaba", "SignatureDoesNotMatch", "no"), "voice", "calls")
    assert "`smsctl voice account edit calls --rotate-secret`" in voice.hint
    assert "ACCOUNT" not in voice.hint and "{" not in voice.hint


def test_word_keeps_the_adapters_own_sentence_and_what_a_lost_send_needs() -> None:
    from smsctl.core.errors import ProviderUnavailable

    lost = ProviderUnavailable(
        "lost", hint="Look the OutId up.", code="ResponseLost", details={"maybe_sent": True}
    )
    assert word(lost, "sms", "prod").hint == (
        "Check before sending again: `smsctl log --sends` shows the OutId of this attempt. "
        "Look the OutId up."
    )
    unreachable = ProviderUnavailable("x", hint="Check it.", details={"check": "endpoint"})
    assert "`smsctl voice account show calls`" in word(unreachable, "voice", "calls").hint


def test_word_leaves_a_templates_dollar_variable_as_it_is() -> None:
    error = word(to_error("alibaba", "isv.TEMPLATE_MISSING_PARAMETERS", "m"), "sms", "prod")
    assert "${var}" in error.hint
