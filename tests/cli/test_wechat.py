"""`smsctl wechat ...` in-process against the WeChat API emulator over loopback HTTP."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from smsctl.sandbox import wechat as sbx
from tests.conftest import CANARY
from tests.support.cli import invoke

SEND = "/cgi-bin/message/template/send"
TOKEN = "/cgi-bin/stable_token"
VERIFY_VARS = ("--var", "first=Login", "--var", "keyword1=${code}", "--var", "keyword2=5 min",
               "--var", "remark=Ignore if not you")  # fmt: skip


@pytest.fixture(autouse=True)
def never_the_legacy_token_call(wechat_server):
    """No smsctl command may call cgi-bin/token: it would invalidate production's token."""
    yield wechat_server
    assert wechat_server.state.legacy_token_calls == 0


def add_account(server, name: str = "oa", app_id: str = sbx.APP_ID, secret: str | None = None,
                *extra: str):  # fmt: skip
    return invoke(
        "wechat", "account", "add", name, "--app-id", app_id, "--endpoint", server.endpoint,
        "--secret-stdin", *extra, input=(secret or server.seed.app_secret) + "\n",
    )  # fmt: skip


def add_rule(name: str = "login", *extra: str, account: str = "oa"):
    return invoke(
        "wechat", "rule", "add", name, "--account", account,
        "--template-id", sbx.VERIFY_TEMPLATE_ID, *VERIFY_VARS, *extra,
    )  # fmt: skip


def send(*extra: str, openid: str = sbx.FOLLOWER, rule: str = "login"):
    return invoke(
        "wechat", "send-test", "--openid", openid, "--rule", rule, "--var", "code=246810",
        "--yes", *extra,
    )  # fmt: skip


@pytest.fixture
def ready(wechat_server):
    """Account `oa` (validated, active) with the push rule `login`."""
    for step in (add_account(wechat_server), add_rule(), invoke("wechat", "validate", "oa")):
        assert step.exit_code == 0, step.all_output
    wechat_server.state.reset()
    return wechat_server


def audit_entries(state_dir: Path) -> list[dict]:
    path = state_dir / "audit.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def sends(server) -> list:
    return server.state.calls(SEND)


# --- accounts ---------------------------------------------------------------------------------


def test_add_verifies_with_stable_token_then_saves(wechat_server, config_file, keyring_entries):
    result = add_account(wechat_server)
    assert result.exit_code == 0, result.all_output
    assert "Verified and added wechat account `oa`" in result.stdout
    [token_call] = wechat_server.state.calls(TOKEN)
    assert token_call.body["force_refresh"] is False
    assert token_call.body["appid"] == sbx.APP_ID
    text = config_file.read_text()
    assert f'app_id = "{sbx.APP_ID}"' in text
    assert f'endpoint = "{wechat_server.endpoint}"' in text
    assert keyring_entries == {("smsctl", "wechat/oa"): sbx.APP_SECRET}
    listed = invoke("--json", "wechat", "account", "list").json()
    assert [(a["name"], a["app_id"]) for a in listed] == [("oa", sbx.APP_ID)]


@pytest.mark.parametrize(
    ("app_id", "secret", "code"),
    [
        (sbx.APP_ID, "wrong-secret-0000", "40125"),
        ("wx0000000000000000", sbx.APP_SECRET, "40013"),
    ],
)
def test_bad_credentials_exit_4_and_nothing_saved(
    wechat_server, config_file, keyring_entries, app_id, secret, code
):
    result = add_account(wechat_server, "oa", app_id, secret, "--json")
    assert result.exit_code == 4, result.all_output
    assert result.error()["code"] == code
    assert result.stdout == ""
    assert not config_file.exists()
    assert keyring_entries == {}


def test_ip_not_whitelisted_names_the_ip_and_saves_nothing(
    wechat_server, config_file, keyring_entries
):
    result = add_account(wechat_server, "oa", sbx.IP_BLOCKED_APP_ID)
    assert result.exit_code == 4
    assert "127.0.0.1" in result.stderr
    assert "whitelist" in result.stderr.lower()
    assert not config_file.exists()
    assert keyring_entries == {}


def test_env_secret_is_used_and_not_stored(wechat_server, monkeypatch, keyring_entries):
    monkeypatch.setenv("SMSCTL_SECRET_WECHAT_CI", sbx.APP_SECRET)
    result = invoke(
        "--json", "wechat", "account", "add", "ci", "--app-id", sbx.APP_ID,
        "--endpoint", wechat_server.endpoint,
    )  # fmt: skip
    assert result.exit_code == 0, result.all_output
    assert result.json()["secret"] == {
        "source": "env",
        "name": "SMSCTL_SECRET_WECHAT_CI",
        "reason": None,
    }
    assert keyring_entries == {}


def test_no_secret_without_a_terminal_is_exit_4(wechat_server, config_file):
    result = invoke(
        "wechat", "account", "add", "oa", "--app-id", sbx.APP_ID,
        "--endpoint", wechat_server.endpoint,
    )  # fmt: skip
    assert result.exit_code == 4
    assert "SMSCTL_SECRET_WECHAT_OA" in result.stderr
    assert wechat_server.state.requests == []
    assert not config_file.exists()


def test_adding_again_is_idempotent_but_other_values_need_delete_and_re_add(wechat_server):
    assert add_account(wechat_server).exit_code == 0
    again = add_account(wechat_server, "oa", sbx.APP_ID, None, "--json")
    assert again.exit_code == 0
    assert again.json()["changed"] is False
    other = add_account(wechat_server, "oa", sbx.QUOTA_APP_ID)
    assert other.exit_code == 3
    assert "account delete oa" in other.stderr


def test_plain_http_endpoint_refused_for_a_remote_host(wechat_server):
    result = invoke(
        "wechat", "account", "add", "oa", "--app-id", sbx.APP_ID,
        "--endpoint", "http://api.example.com", "--secret-stdin", input="x\n",
    )  # fmt: skip
    assert result.exit_code == 2
    assert "--allow-insecure-endpoint" in result.stderr
    assert wechat_server.state.requests == []


def test_edit_explains_delete_and_re_add(wechat_server, config_file):
    assert add_account(wechat_server).exit_code == 0
    before = config_file.read_text()
    result = invoke("wechat", "account", "edit", "oa", "--app-id", "wx123")
    assert result.exit_code == 2
    assert "cannot be modified" in result.stderr
    assert "wechat account delete oa" in result.stderr
    assert config_file.read_text() == before


def test_add_times_out_with_exit_7_and_saves_nothing(wechat_server, config_file):
    config_file.parent.mkdir(parents=True)
    config_file.write_text("[defaults]\ntimeout = 0.3\n")
    config_file.chmod(0o600)
    wechat_server.state.delay_seconds = 1.0
    result = add_account(wechat_server, "oa", sbx.APP_ID, None, "--json")
    assert result.exit_code == 7
    assert result.error()["code"] == "TIMEOUT"
    assert "wechat" not in config_file.read_text()


# --- templates and rules ----------------------------------------------------------------------


def test_template_list_parses_variables(wechat_server):
    assert add_account(wechat_server).exit_code == 0
    result = invoke("--json", "wechat", "template", "list", "oa")
    assert result.exit_code == 0, result.all_output
    by_id = {t["template_id"]: t for t in result.json()}
    assert by_id[sbx.VERIFY_TEMPLATE_ID]["variables"] == ["first", "keyword1", "keyword2", "remark"]
    assert by_id[sbx.ALERT_TEMPLATE_ID]["variables"] == [
        "first", "keyword1", "keyword2", "keyword3", "remark",
    ]  # fmt: skip
    human = invoke("wechat", "template", "list", "oa")
    assert "验证码通知" in human.stdout and "keyword3" in human.stdout


def test_rule_add_stores_values_and_placeholders(wechat_server, config_file):
    assert add_account(wechat_server).exit_code == 0
    result = add_rule("login", "--url", "https://example.com/a", "--scenario", "login", "--json")
    assert result.exit_code == 0, result.all_output
    assert result.json()["variables"] == ["code"]
    shown = invoke("--json", "wechat", "rule", "show", "login").json()
    assert shown["vars"]["keyword1"] == "${code}"
    assert shown["template_title"] == "验证码通知"
    assert shown["url"] == "https://example.com/a"
    assert shown["valid"] is True
    assert add_rule("login", "--url", "https://example.com/a").exit_code == 0


def test_rule_with_unknown_template_is_exit_3_and_not_saved(wechat_server, config_file):
    assert add_account(wechat_server).exit_code == 0
    result = invoke(
        "wechat", "rule", "add", "x", "--account", "oa", "--template-id", "nope",
        "--var", "first=a",
    )  # fmt: skip
    assert result.exit_code == 3
    assert "nope" in result.stderr and sbx.VERIFY_TEMPLATE_ID in result.stderr
    assert "rules" not in config_file.read_text()


@pytest.mark.parametrize(
    ("vars_", "expected"),
    [
        (VERIFY_VARS[:-2], "no value for remark"),
        ((*VERIFY_VARS, "--var", "keyword9=x"), "no field keyword9"),
        ((*VERIFY_VARS[:-2], "--var", "remark="), "no value for remark"),
    ],
)
def test_rule_variables_must_match_the_template(wechat_server, config_file, vars_, expected):
    assert add_account(wechat_server).exit_code == 0
    result = invoke(
        "wechat", "rule", "add", "x", "--account", "oa",
        "--template-id", sbx.VERIFY_TEMPLATE_ID, *vars_,
    )  # fmt: skip
    assert result.exit_code == 2, result.all_output
    assert expected in result.stderr
    assert "rules" not in config_file.read_text()


@pytest.mark.parametrize("value", ["${code", "$ {x}", "${1abc}", "cost $5"])
def test_malformed_placeholder_refused_before_any_request(wechat_server, config_file, value):
    assert add_account(wechat_server).exit_code == 0
    wechat_server.state.reset()
    result = invoke(
        "wechat", "rule", "add", "x", "--account", "oa",
        "--template-id", sbx.VERIFY_TEMPLATE_ID, *VERIFY_VARS[:2], "--var", f"keyword1={value}",
    )  # fmt: skip
    assert result.exit_code == 2
    assert "Malformed placeholder" in result.stderr
    assert wechat_server.state.requests == []


def test_rule_edit_rechecks_and_enable_disable_delete(ready, config_file):
    bad = invoke("wechat", "rule", "edit", "login", "--var", "keyword7=x")
    assert bad.exit_code == 2
    good = invoke("wechat", "rule", "edit", "login", "--var", "keyword2=${minutes} min")
    assert good.exit_code == 0, good.all_output
    assert invoke("--json", "wechat", "rule", "show", "login").json()["variables"] == [
        "code", "minutes",
    ]  # fmt: skip
    assert invoke("wechat", "rule", "disable", "login").exit_code == 0
    refused = send()
    assert refused.exit_code == 3
    assert "disabled" in refused.stderr
    assert invoke("wechat", "rule", "enable", "login").exit_code == 0
    assert invoke("wechat", "rule", "delete", "login").exit_code == 3  # needs --yes
    assert invoke("wechat", "rule", "delete", "login", "--yes").exit_code == 0
    assert "rules" not in config_file.read_text()


# --- validate ---------------------------------------------------------------------------------


def test_validate_makes_the_account_active_unless_check_only(wechat_server, config_file):
    assert add_account(wechat_server).exit_code == 0
    checked = invoke("--json", "wechat", "validate", "oa", "--check-only")
    assert checked.exit_code == 0, checked.all_output
    assert checked.json()["active"] is False
    assert "active_account" not in config_file.read_text()
    result = invoke("--json", "wechat", "validate")
    assert result.json()["active"] is True
    assert result.json()["approved_templates"] == 2
    assert result.json()["credentials"] == {"accepted": True, "via": "stable_token"}
    assert 'active_account = "oa"' in config_file.read_text()


def test_validate_reports_ip_whitelist(wechat_server):
    assert add_account(wechat_server).exit_code == 0
    wechat_server.state.ip_blocked = True
    result = invoke("wechat", "validate", "oa")
    assert result.exit_code == 4
    assert "127.0.0.1" in result.stderr


# --- send-test --------------------------------------------------------------------------------


def test_send_test_pushes_rendered_data_and_masks_the_openid(ready, state_dir):
    result = send()
    assert result.exit_code == 0, result.all_output
    [push] = ready.state.pushes
    assert push["touser"] == sbx.FOLLOWER
    assert push["template_id"] == sbx.VERIFY_TEMPLATE_ID
    assert push["data"] == {
        "first": {"value": "Login"},
        "keyword1": {"value": "246810"},
        "keyword2": {"value": "5 min"},
        "remark": {"value": "Ignore if not you"},
    }
    assert push["client_msg_id"]
    assert f"msgid {push['msgid']}" in result.stdout
    assert "keyword1: 246810" in result.stdout
    assert sbx.FOLLOWER not in result.all_output
    assert "oSbx****0001" in result.stdout
    [entry] = [e for e in audit_entries(state_dir) if e["event"] == "send"]
    assert entry["outcome"] == "accepted"
    assert entry["msgid"] == str(push["msgid"])
    assert entry["to"] == "oSbx****0001"
    assert entry["out_id"] == push["client_msg_id"]
    assert sbx.FOLLOWER not in (state_dir / "audit.jsonl").read_text()
    assert sbx.FOLLOWER not in (state_dir / "guard.jsonl").read_text()


def test_send_test_json_report(ready):
    result = send("--json")
    assert result.exit_code == 0, result.all_output
    report = result.json()
    assert report["sent"] is True
    assert report["msgid"] == str(ready.state.pushes[0]["msgid"])  # a string: above 2**53
    assert f'"msgid": "{ready.state.pushes[0]["msgid"]}"' in result.stdout
    assert report["to"] == sbx.FOLLOWER  # the OpenID given, as the other channels report theirs
    assert report["out_id"] == ready.state.pushes[0]["client_msg_id"]  # WeChat's name for it
    assert "client_msg_id" not in report
    assert report["data"]["keyword1"] == "246810"
    assert report["resolved"]["template"]["name"] == "login"


def test_dry_run_renders_and_sends_nothing(ready):
    result = invoke(
        "wechat", "send-test", "--openid", sbx.FOLLOWER, "--rule", "login",
        "--var", "code=1", "--dry-run",
    )  # fmt: skip
    assert result.exit_code == 0
    assert "keyword1: 1" in result.stdout
    assert "nothing was pushed" in result.stdout
    assert ready.state.requests == []


def test_without_yes_and_terminal_is_exit_3_and_nothing_sent(ready):
    result = invoke(
        "wechat", "send-test", "--openid", sbx.FOLLOWER, "--rule", "login", "--var", "code=1"
    )
    assert result.exit_code == 3
    assert "--yes" in result.stderr
    assert ready.state.requests == []


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("--openid", "bad id!", "--var", "code=1"), "Invalid OpenID"),
        (("--openid", sbx.FOLLOWER), "missing value for code"),
        (("--openid", sbx.FOLLOWER, "--var", "code=1", "--var", "x=2"), "unknown variable x"),
        (("--openid", sbx.FOLLOWER, "--var", "code"), "NAME=VALUE"),
        (("--openid", sbx.FOLLOWER, "--var", "code= "), "would be empty"),
    ],
)
def test_bad_input_refused_before_any_request(ready, args, expected):
    result = invoke("wechat", "send-test", "--rule", "login", "--yes", *args)
    assert result.exit_code == 2, result.all_output
    assert expected in result.stderr
    assert ready.state.requests == []


def test_scenario_resolution_prefers_the_apps_rule(ready):
    assert add_rule("general", "--scenario", "login").exit_code == 0
    assert add_rule("ios-only", "--scenario", "login").exit_code == 0
    granted = invoke("authorize", "rule", "ios-only", "--app", "ios", "--create-app")
    assert granted.exit_code == 0, granted.all_output
    base = ("wechat", "send-test", "--openid", sbx.FOLLOWER, "--scenario", "login",
            "--var", "code=1", "--json", "--dry-run")  # fmt: skip
    for_ios = invoke(*base, "--app", "ios")
    assert for_ios.json()["resolved"]["template"]["name"] == "ios-only"
    assert for_ios.json()["resolved"]["account"]["name"] == "oa"
    general = invoke(*base)
    assert general.json()["resolved"]["template"]["name"] == "general"


@pytest.mark.parametrize(
    ("openid", "app_id", "exit_code", "code"),
    [
        (sbx.NON_FOLLOWER, sbx.APP_ID, 5, "43004"),
        ("oSbx_unknown_user_0000000099", sbx.APP_ID, 5, "40003"),
        (sbx.FOLLOWER, sbx.QUOTA_APP_ID, 6, "45009"),
        (sbx.FOLLOWER, sbx.TEST_ACCOUNT_APP_ID, 5, "48001"),
    ],
)
def test_errcodes_are_explained_with_their_exit_code(
    wechat_server, state_dir, openid, app_id, exit_code, code
):
    assert add_account(wechat_server, "oa", app_id).exit_code == 0
    assert add_rule().exit_code == 0
    result = send("--json", openid=openid)
    assert result.exit_code == exit_code, result.all_output
    error = result.error()
    assert error["code"] == code
    assert error["hint"] and "Next:" in error["hint"]
    assert error["request_id"]
    assert result.stdout == ""
    assert openid not in result.all_output
    [entry] = [e for e in audit_entries(state_dir) if e["event"] == "send"]
    assert entry["outcome"] == "failed" and entry["code"] == code
    assert len(sends(wechat_server)) == 1


def test_template_removed_at_the_provider_is_40037(ready, monkeypatch):
    monkeypatch.setattr(ready.seed, "templates", ready.seed.templates[1:])
    result = send()
    assert result.exit_code == 5
    assert "40037" in result.stderr
    assert "template list" in result.stderr


def test_template_data_invalid_names_the_field(ready, monkeypatch):
    changed = [dict(t) for t in ready.seed.templates]
    changed[0]["content"] += "\n{{keyword3.DATA}}"
    monkeypatch.setattr(ready.seed, "templates", changed)
    result = send("--json")
    assert result.exit_code == 5
    error = result.error()
    assert error["code"] == "47003"
    assert error["details"]["field"] == "keyword3"
    assert "keyword3" in error["message"]


def test_expired_token_is_fetched_again_and_the_send_retried_once(ready):
    result = send(openid=sbx.TOKEN_EXPIRES_OPENID)
    assert result.exit_code == 0, result.all_output
    assert len(sends(ready)) == 2
    assert len(ready.state.pushes) == 1
    assert len(ready.state.calls(TOKEN)) == 2


def test_token_rejected_again_is_retried_once_and_never_more(ready):
    result = send("--json", openid=sbx.TOKEN_ALWAYS_INVALID_OPENID)
    assert result.exit_code == 4
    assert result.error()["code"] == "40001"
    assert len(sends(ready)) == 2
    assert len(ready.state.calls(TOKEN)) == 2
    assert all(call.body["force_refresh"] is False for call in ready.state.calls(TOKEN))


def test_lost_answer_is_exit_7_not_retried_and_logged_as_unknown(ready, state_dir):
    result = send("--timeout", "0.4", "--json", openid=sbx.SLOW_OPENID)
    assert result.exit_code == 7
    error = result.error()
    assert error["code"] == "TIMEOUT-AFTER-SEND"
    assert "MAY have been delivered" in error["hint"]
    assert "--client-msg-id" in error["hint"]
    assert len(sends(ready)) == 1
    [entry] = [e for e in audit_entries(state_dir) if e["event"] == "send"]
    assert entry["outcome"] == "unknown"


def test_guard_limits_test_pushes_per_openid(ready, config_file):
    config_file.write_text(config_file.read_text() + "\n[guard.wechat]\nper_minute = 1\n")
    assert send().exit_code == 0
    second = send("--json")
    assert second.exit_code == 6
    assert second.error()["code"] == "guard_limit"
    assert sbx.FOLLOWER not in second.all_output
    assert len(sends(ready)) == 1


# --- deleting an account ----------------------------------------------------------------------


def test_delete_needs_yes_and_lists_the_rules_it_invalidates(ready, config_file, keyring_entries):
    before = config_file.read_text()
    refused = invoke("wechat", "account", "delete", "oa")
    assert refused.exit_code == 3
    assert "rule login" in refused.stderr
    assert "--yes" in refused.stderr
    assert config_file.read_text() == before
    deleted = invoke("--json", "wechat", "account", "delete", "oa", "--yes")
    assert deleted.exit_code == 0, deleted.all_output
    assert deleted.json()["invalidated"] == [{"kind": "rule", "name": "login"}]
    assert deleted.json()["removed"] == []
    assert deleted.json()["keyring_entry_deleted"] is True
    assert keyring_entries == {}


def test_rules_of_a_deleted_account_are_invalid_and_unusable(ready, config_file):
    assert add_rule("other", "--scenario", "login").exit_code == 0
    assert invoke("wechat", "account", "delete", "oa", "--yes").exit_code == 0
    listed = {r["name"]: r for r in invoke("--json", "wechat", "rule", "list").json()}
    assert set(listed) == {"login", "other"}
    assert listed["login"]["valid"] is False
    assert listed["login"]["invalid_reason"] == "account `oa` deleted"
    human = invoke("wechat", "rule", "list")
    assert "invalid: account `oa` deleted" in human.stdout
    assert invoke("config", "check").exit_code == 0
    # Even an account of the same name does not revive them.
    assert add_account(ready).exit_code == 0
    ready.state.reset()
    by_rule = send()
    assert by_rule.exit_code == 3
    assert "invalid" in by_rule.stderr
    by_scenario = invoke(
        "wechat", "send-test", "--openid", sbx.FOLLOWER, "--scenario", "login",
        "--account", "oa", "--var", "code=1", "--yes",
    )  # fmt: skip
    assert by_scenario.exit_code == 3
    assert ready.state.calls(SEND) == []
    assert invoke("wechat", "rule", "enable", "login").exit_code == 3
    assert invoke("wechat", "rule", "edit", "login", "--note", "x").exit_code == 3
    assert invoke("--json", "wechat", "account", "show", "oa").json()["depends_on_it"] == []
    assert invoke("wechat", "rule", "delete", "login", "--yes").exit_code == 0


# --- doctor -----------------------------------------------------------------------------------


def doctor_checks(*extra: str) -> tuple[int, dict[str, dict]]:
    result = invoke("--json", "doctor", "--channel", "wechat", *extra)
    return result.exit_code, {c["check"]: c for c in result.json()["checks"]}


def test_doctor_passes_for_a_healthy_account_and_rule(ready):
    code, checks = doctor_checks()
    assert code == 0, checks
    for name in ("account oa: secret", "account oa: token", "account oa: IP whitelist",
                 "rule login", "active account"):  # fmt: skip
        assert checks[name]["ok"], checks[name]
    assert all(c.body["force_refresh"] is False for c in ready.state.calls(TOKEN))


def test_doctor_fails_on_ip_whitelist_naming_the_ip(ready):
    ready.state.ip_blocked = True
    code, checks = doctor_checks()
    assert code == 4
    check = checks["account oa: IP whitelist"]
    assert not check["ok"] and "127.0.0.1" in check["detail"]


def test_doctor_fails_on_a_template_gone_and_an_invalid_rule(ready, monkeypatch):
    monkeypatch.setattr(ready.seed, "templates", ready.seed.templates[1:])
    code, checks = doctor_checks()
    assert code == 3
    assert not checks["rule login"]["ok"]
    assert sbx.VERIFY_TEMPLATE_ID in checks["rule login"]["detail"]
    assert invoke("wechat", "account", "delete", "oa", "--yes").exit_code == 0
    code, checks = doctor_checks()
    assert code == 3
    assert "account `oa` deleted" in checks["rule login"]["detail"]


def test_doctor_reports_a_missing_secret(ready, keyring_entries):
    keyring_entries.clear()
    code, checks = doctor_checks()
    assert code == 4
    assert not checks["account oa: secret"]["ok"]


# --- secrets ----------------------------------------------------------------------------------


def test_canary_app_secret_never_appears_in_output_config_or_logs(
    wechat_server, monkeypatch, config_file, state_dir
):
    monkeypatch.setattr(wechat_server.seed, "app_secret", CANARY)
    runs = [
        add_account(wechat_server, "oa", sbx.APP_ID, CANARY, "-v"),
        invoke("-v", "wechat", "account", "show", "oa"),
        invoke("--json", "wechat", "account", "list"),
        invoke("-v", "wechat", "template", "list", "oa"),
        add_rule("login", "-v"),
        invoke("-v", "wechat", "validate", "oa"),
        send("-v"),
        send("-v", "--json", openid=sbx.TOKEN_ALWAYS_INVALID_OPENID),
        send("-v", openid=sbx.NON_FOLLOWER),
        invoke("--json", "doctor", "--channel", "wechat"),
        invoke("config", "show"),
        invoke("log"),
        add_account(wechat_server, "bad", sbx.APP_ID, CANARY + "x"),
        invoke("wechat", "account", "delete", "oa", "--yes", "-v"),
    ]
    assert runs[0].exit_code == 0 and runs[6].exit_code == 0, runs[0].all_output
    for run in runs:
        assert CANARY not in run.all_output
    assert CANARY not in config_file.read_text()
    for path in state_dir.iterdir():
        assert CANARY not in path.read_text()
    for record in wechat_server.state.requests:
        assert CANARY not in json.dumps(record.query)
