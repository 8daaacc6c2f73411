"""Signatures, templates, authorization, resolution and validate against the sandbox through
the real Alibaba SDK."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.cli import invoke


@pytest.fixture
def account(fresh_sandbox_state) -> dict:
    info = fresh_sandbox_state.info()["sms"]
    result = invoke(
        "account",
        "add",
        "prod",
        "--access-key-id",
        info["access_key_id"],
        "--endpoint",
        info["endpoint"],
        "--secret-stdin",
        input=info["access_key_secret"] + "\n",
    )
    assert result.exit_code == 0, result.all_output
    return info


def test_signature_add_approved_is_stored_with_its_status(
    account, config_file: Path, monkeypatch
) -> None:
    from smsctl.core import clock

    monkeypatch.setattr(clock, "source", lambda: 1_800_000_000.0)
    result = invoke("--json", "signature", "add", "Acme", "--account", "prod")
    assert result.exit_code == 0, result.all_output
    assert result.json()["status"] == "approved"
    shown = invoke("--json", "signature", "show", "Acme").json()
    assert shown["status"] == "approved"
    assert shown["account"] == "prod"
    monkeypatch.setattr(clock, "source", lambda: 1_800_000_005.0)  # asked again, 5 s later
    again = invoke("--json", "signature", "add", "Acme", "--account", "prod")
    assert again.json()["changed"] is False
    assert invoke("--json", "signature", "show", "Acme").json()["checked_at"] != shown["checked_at"]


def test_chinese_signature_name(account) -> None:
    result = invoke("signature", "add", "阿里云短信测试", "--account", "prod")
    assert result.exit_code == 0, result.all_output
    assert "阿里云短信测试" in invoke("signature", "list").stdout


def test_pending_signature_refused_unless_allowed(account, config_file: Path) -> None:
    refused = invoke("signature", "add", "AcmeBeta", "--account", "prod")
    assert refused.exit_code == 5
    assert "--allow-pending" in refused.stderr
    assert "AcmeBeta" not in config_file.read_text()
    allowed = invoke(
        "--json", "signature", "add", "AcmeBeta", "--account", "prod", "--allow-pending"
    )
    assert allowed.exit_code == 0
    assert allowed.json()["status"] == "pending"


def test_rejected_signature_refused_with_the_providers_reason(account, config_file) -> None:
    result = invoke("signature", "add", "AcmeOld", "--account", "prod")
    assert result.exit_code == 5
    assert "营业执照" in result.stderr
    assert "AcmeOld" not in config_file.read_text()


def test_unknown_signature_refused_with_what_to_check(account, config_file) -> None:
    result = invoke("--json", "signature", "add", "NoSuchSign", "--account", "prod")
    assert result.exit_code == 5
    error = result.error()
    assert error["code"]
    assert "console" in error["hint"]
    assert "NoSuchSign" not in config_file.read_text()


def test_signature_sync_reports_a_status_change(account, fresh_sandbox_state) -> None:
    invoke("signature", "add", "AcmeBeta", "--account", "prod", "--allow-pending")
    fresh_sandbox_state.alibaba.state.set_signature_status("AcmeBeta", "approved")
    synced = invoke("--json", "signature", "sync")
    assert synced.exit_code == 0, synced.all_output
    row = next(r for r in synced.json() if r["name"] == "AcmeBeta")
    assert (row["previous"], row["status"], row["changed"]) == ("pending", "approved", True)
    assert invoke("--json", "signature", "show", "AcmeBeta").json()["status"] == "approved"
    human = invoke("signature", "sync", "AcmeBeta")
    assert "approved (unchanged)" in human.stdout


def test_signature_delete_says_the_provider_keeps_it(account, config_file) -> None:
    invoke("signature", "add", "Acme", "--account", "prod")
    assert invoke("signature", "delete", "Acme").exit_code == 3
    result = invoke("signature", "delete", "Acme", "--yes")
    assert result.exit_code == 0
    assert "stays at the provider" in result.stderr
    assert "Acme" not in config_file.read_text()


def test_template_add_fetches_content_and_variables(account) -> None:
    result = invoke(
        "--json", "template", "add", "SMS_100000002", "--account", "prod", "--scenario", "register"
    )
    assert result.exit_code == 0, result.all_output
    data = result.json()
    assert data["variables"] == ["code", "minutes"]
    assert data["type"] == "verification"
    assert data["related_signature"] == "Acme"
    shown = invoke("--json", "template", "show", "SMS_100000002").json()
    assert shown["content"] == "Your Acme code is ${code}. It expires in ${minutes} minutes."


@pytest.mark.parametrize(
    ("code", "exit_code"), [("SMS_100000004", 5), ("SMS_100000005", 5), ("SMS_999", 5)]
)
def test_unapproved_or_unknown_templates_refused(account, config_file, code, exit_code) -> None:
    result = invoke("template", "add", code, "--account", "prod", "--scenario", "alert")
    assert result.exit_code == exit_code
    assert code not in config_file.read_text()


def test_template_bad_scenario_and_unknown_account(account, config_file) -> None:
    before = config_file.read_text()
    bad = invoke("template", "add", "SMS_100000001", "--account", "prod", "--scenario", "signup")
    assert bad.exit_code == 2
    assert "register" in bad.stderr
    missing = invoke("template", "add", "SMS_100000001", "--account", "prd", "--scenario", "login")
    assert missing.exit_code == 3
    assert "Did you mean `prod`" in missing.stderr
    assert config_file.read_text() == before


def test_template_render_exact_text_and_variable_errors(account) -> None:
    invoke("template", "add", "SMS_100000002", "--account", "prod", "--scenario", "register")
    invoke("signature", "add", "Acme", "--account", "prod")
    text = invoke(
        "template",
        "render",
        "SMS_100000002",
        "--param",
        "code=4711",
        "--param",
        "minutes=5",
        "--signature",
        "Acme",
    )
    assert text.exit_code == 0
    assert text.stdout == "【Acme】Your Acme code is 4711. It expires in 5 minutes.\n"
    missing = invoke("template", "render", "SMS_100000002", "--param", "code=1")
    assert missing.exit_code == 2
    assert "missing value for minutes" in missing.stderr
    unknown = invoke(
        "template",
        "render",
        "SMS_100000002",
        "--params-json",
        '{"code": "1", "minutes": "2", "extra": "x"}',
    )
    assert unknown.exit_code == 2
    assert "unknown variable extra" in unknown.stderr
    bad_json = invoke("template", "render", "SMS_100000002", "--params-json", "{code:1}")
    assert bad_json.exit_code == 2


def test_template_edit_default_and_sync(account, fresh_sandbox_state) -> None:
    invoke("template", "add", "SMS_100000001", "--account", "prod", "--scenario", "login")
    invoke(
        "template", "add", "SMS_154950909", "--account", "prod", "--scenario", "login", "--default"
    )
    edited = invoke("template", "edit", "SMS_100000001", "--default")
    assert edited.exit_code == 0
    assert invoke("--json", "template", "show", "SMS_154950909").json()["default"] is False
    fresh_sandbox_state.alibaba.state.set_template_status("SMS_100000001", "rejected", "no")
    synced = invoke("--json", "template", "sync", "SMS_100000001").json()
    assert synced[0]["status"] == "rejected"
    assert invoke("--json", "template", "list", "--scenario", "login").json()[0]["code"] in (
        "SMS_100000001",
        "SMS_154950909",
    )


def setup_items() -> None:
    for sign in ("Acme", "阿里云短信测试"):
        assert invoke("signature", "add", sign, "--account", "prod").exit_code == 0
    for code in ("SMS_100000001", "SMS_154950909"):
        assert (
            invoke("template", "add", code, "--account", "prod", "--scenario", "login").exit_code
            == 0
        )
    assert invoke("validate", "prod").exit_code == 0


def test_authorize_unknown_app_needs_create_app(account, config_file) -> None:
    setup_items()
    before = config_file.read_text()
    refused = invoke("authorize", "template", "SMS_100000001", "--app", "ios")
    assert refused.exit_code == 3
    assert "--create-app" in refused.stderr
    assert config_file.read_text() == before
    created = invoke("authorize", "template", "SMS_100000001", "--app", "ios", "--create-app")
    assert created.exit_code == 0, created.all_output
    typo = invoke("authorize", "signature", "Acme", "--app", "iso")
    assert typo.exit_code == 3
    assert "Did you mean `ios`" in typo.stderr


def test_resolution_general_vs_personalized_default_disabled(account) -> None:
    setup_items()
    ambiguous = invoke("authorize", "resolve", "--scenario", "login")
    assert ambiguous.exit_code == 3
    assert "Several general templates" in ambiguous.stderr
    invoke("authorize", "template", "SMS_154950909", "--app", "ios", "--create-app")
    invoke("authorize", "signature", "阿里云短信测试", "--app", "ios")
    ios = invoke("--json", "authorize", "resolve", "--scenario", "login", "--app", "ios").json()
    assert ios["template"]["name"] == "SMS_154950909"
    assert ios["template"]["reason"] == "personalized for app `ios`"
    assert ios["signature"]["name"] == "阿里云短信测试"
    invoke("authorize", "template", "SMS_100000001", "--app", "web", "--create-app")
    web = invoke("--json", "authorize", "resolve", "--scenario", "login", "--app", "web").json()
    assert web["template"]["name"] == "SMS_100000001"
    assert web["signature"]["name"] == "Acme"
    invoke("template", "disable", "SMS_100000001")
    none_left = invoke("--json", "authorize", "resolve", "--scenario", "login", "--app", "web")
    assert none_left.exit_code == 3
    considered = {c["name"]: c["skipped"] for c in none_left.error()["details"]["considered"]}
    assert considered["SMS_100000001"] == "disabled"
    assert "personalized for ios" in considered["SMS_154950909"]
    listing = invoke("--json", "authorize", "list", "--app", "ios").json()
    assert {
        "channel": "sms",
        "scenario": "login",
        "app": "ios",
        "uses": "SMS_154950909 + 阿里云短信测试",
    }.items() <= listing["resolution"][0].items()
    revoked = invoke("authorize", "revoke", "template", "SMS_154950909", "--app", "ios")
    assert revoked.exit_code == 0
    assert "now general" in revoked.stdout


def test_items_of_another_account_are_never_used(account, fresh_sandbox_state) -> None:
    setup_items()
    info = fresh_sandbox_state.info()["sms"]
    invoke(
        "account",
        "add",
        "other",
        "--access-key-id",
        info["access_key_id"],
        "--endpoint",
        info["endpoint"],
        "--secret-stdin",
        input=info["access_key_secret"] + "\n",
    )
    result = invoke("--json", "authorize", "resolve", "--scenario", "login", "--account", "other")
    assert result.exit_code == 3
    skipped = [c["skipped"] for c in result.error()["details"]["considered"]]
    assert skipped and all(s == "belongs to account `prod`" for s in skipped)


def test_validate_activates_and_reports_items(account, config_file) -> None:
    invoke("signature", "add", "Acme", "--account", "prod")
    result = invoke("--json", "validate", "prod")
    assert result.exit_code == 0, result.all_output
    data = result.json()
    assert data["active"] is True
    assert data["items"][0]["status"] == "approved"
    assert 'active_account = "prod"' in config_file.read_text()


def test_validate_check_only_changes_nothing(account, config_file) -> None:
    before = config_file.read_text()
    assert invoke("validate", "prod", "--check-only").exit_code == 0
    assert config_file.read_text() == before


def test_validate_wrong_secret_unknown_key_unreachable(fresh_sandbox_state, config_file) -> None:
    info = fresh_sandbox_state.info()["sms"]
    cases = [
        (
            "wrongsecret",
            info["access_key_id"],
            info["endpoint"],
            "wrong-secret",
            4,
            "SignatureDoesNotMatch",
        ),
        (
            "unknownkey",
            "LTAI5tNoSuchKey00001",
            info["endpoint"],
            "x",
            4,
            "InvalidAccessKeyId.NotFound",
        ),
        ("unreachable", info["access_key_id"], "http://127.0.0.1:9", "x", 7, None),
    ]
    for name, key_id, endpoint, secret, code, provider_code in cases:
        assert (
            invoke(
                "account",
                "add",
                name,
                "--access-key-id",
                key_id,
                "--endpoint",
                endpoint,
                "--secret-stdin",
                input=secret + "\n",
            ).exit_code
            == 0
        )
        before = config_file.read_text()
        result = invoke("--json", "validate", name)
        assert result.exit_code == code, (name, result.all_output)
        error = result.error()
        assert error["hint"]
        if provider_code:
            assert error["code"] == provider_code
        assert config_file.read_text() == before
        assert "wrong-secret" not in result.all_output


def test_deleting_an_account_lists_and_removes_its_items(account, config_file) -> None:
    setup_items()
    refused = invoke("account", "delete", "prod")
    assert refused.exit_code == 3
    assert "signature Acme" in refused.stderr
    done = invoke("--json", "account", "delete", "prod", "--yes").json()
    assert {"kind": "template", "name": "SMS_100000001"} in done["removed"]
    text = config_file.read_text()
    assert "SMS_100000001" not in text and "Acme" not in text
    assert "active_account" not in text
