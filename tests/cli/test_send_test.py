"""send-test and receipt against the sandbox through the real SDK."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.cli import invoke

OK_NUMBER = "+8613812345678"


@pytest.fixture
def ready(fresh_sandbox_state):
    """An active account with a general signature and a general login template."""
    info = fresh_sandbox_state.info()["sms"]
    steps = [
        (
            "account",
            "add",
            "prod",
            "--access-key-id",
            info["access_key_id"],
            "--endpoint",
            info["endpoint"],
            "--secret-stdin",
        ),
        ("signature", "add", "Acme", "--account", "prod"),
        ("template", "add", "SMS_100000001", "--account", "prod", "--scenario", "login"),
        ("validate", "prod"),
    ]
    for step in steps:
        result = invoke(*step, input=info["access_key_secret"] + "\n")
        assert result.exit_code == 0, result.all_output
    return fresh_sandbox_state


def sends(sandbox) -> list:
    return [params for action, params in sandbox.alibaba.state.requests if action == "SendSms"]


def send(*extra: str, to: str = OK_NUMBER):
    return invoke(
        "send-test", "--to", to, "--scenario", "login", "--param", "code=4711", "--yes", *extra
    )


def test_resolved_send_reports_what_was_used_and_the_provider_answer(ready, state_dir) -> None:
    result = send()
    assert result.exit_code == 0, result.all_output
    assert "account:   prod (the active account)" in result.stdout
    assert "template:  SMS_100000001 (general (any app may use it))" in result.stdout
    assert "【Acme】您的验证码为：4711" in result.stdout
    assert "Accepted by Alibaba Cloud: BizId" in result.stdout
    [params] = sends(ready)
    assert params["PhoneNumbers"] == "13812345678"
    assert json.loads(params["TemplateParam"]) == {"code": "4711"}
    assert params["OutId"].startswith("st")
    log = [json.loads(line) for line in (state_dir / "audit.jsonl").read_text().splitlines()]
    entry = [e for e in log if e["event"] == "send"][-1]
    assert entry["to"] == "+86 138****5678"
    assert entry["outcome"] == "accepted"
    assert entry["biz_id"] and entry["out_id"] == params["OutId"]


def test_json_report_and_wait_until_delivered(ready) -> None:
    result = send("--wait", "10", "--json")
    assert result.exit_code == 0, result.all_output
    report = result.json()
    assert report["sent"] is True
    assert report["final"]["state"] == "delivered"
    assert report["final"]["code"] == "DELIVERED"
    assert report["final"]["at"] and report["sent_at"]
    assert report["resolved"]["template"]["name"] == "SMS_100000001"


def test_personalized_template_wins_for_its_app(ready) -> None:
    invoke("template", "add", "SMS_154950909", "--account", "prod", "--scenario", "login")
    invoke("authorize", "template", "SMS_154950909", "--app", "ios", "--create-app")
    result = send("--app", "ios", "--json")
    assert result.exit_code == 0, result.all_output
    assert result.json()["resolved"]["template"]["reason"] == "personalized for app `ios`"
    assert sends(ready)[0]["TemplateCode"] == "SMS_154950909"


def test_dry_run_sends_nothing(ready) -> None:
    result = invoke(
        "send-test", "--to", OK_NUMBER, "--scenario", "login", "--param", "code=1", "--dry-run"
    )
    assert result.exit_code == 0
    assert "nothing was sent" in result.stdout
    assert sends(ready) == []


def test_no_tty_and_no_yes_is_exit_3_and_nothing_sent(ready) -> None:
    result = invoke("send-test", "--to", OK_NUMBER, "--scenario", "login", "--param", "code=1")
    assert result.exit_code == 3
    assert "--yes" in result.stderr
    assert sends(ready) == []


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("--to", "12345", "--param", "code=1"), "Invalid phone number"),
        (("--to", OK_NUMBER), "missing value for code"),
        (("--to", OK_NUMBER, "--param", "code=1", "--param", "x=2"), "unknown variable x"),
        (("--to", OK_NUMBER, "--params-json", "[1]"), "JSON object"),
        (("--to", OK_NUMBER, "--params-json", "{"), "not valid JSON"),
        (("--to", OK_NUMBER, "--param", "novalue"), "NAME=VALUE"),
    ],
)
def test_bad_input_refused_before_any_request(ready, args, expected) -> None:
    before = len(ready.alibaba.state.requests)
    result = invoke("send-test", "--scenario", "login", "--yes", *args)
    assert result.exit_code == 2, result.all_output
    assert expected in result.stderr
    assert len(ready.alibaba.state.requests) == before


def test_a_misspelt_scenario_or_none_is_a_usage_error_before_any_request(ready) -> None:
    before = len(ready.alibaba.state.requests)
    typo = invoke(
        "--json", "send-test", "--to", OK_NUMBER, "--scenario", "logn", "--param", "code=1", "--yes"
    )
    assert typo.exit_code == 2
    assert typo.error()["code"] == "invalid_scenario"
    missing = invoke("--json", "send-test", "--to", OK_NUMBER, "--param", "code=1", "--yes")
    assert missing.exit_code == 2
    assert missing.error()["code"] == "no_scenario"
    assert invoke("authorize", "resolve", "--scenario", "logn").exit_code == 2
    assert len(ready.alibaba.state.requests) == before


def test_mainland_number_without_country_code(ready) -> None:
    assert send(to="13812345678").exit_code == 0
    assert sends(ready)[0]["PhoneNumbers"] == "13812345678"


def test_guard_refuses_second_send_within_a_minute(ready) -> None:
    assert send().exit_code == 0
    second = send("--json")
    assert second.exit_code == 6
    error = second.error()
    assert error["code"] == "guard_limit"
    assert error["details"]["retry_after_seconds"] <= 60
    assert len(sends(ready)) == 1


def test_guard_limits_are_configurable(ready, config_file: Path) -> None:
    config_file.write_text(config_file.read_text() + "\n[guard.sms]\nper_minute = 2\n")
    ready.alibaba.state.flow_control_enabled = False
    assert send().exit_code == 0
    assert send().exit_code == 0
    third = send("--json")
    assert third.exit_code == 6
    assert third.error()["code"] == "guard_limit"
    assert len(sends(ready)) == 2


@pytest.mark.parametrize(
    ("number", "exit_code", "code", "outcome"),
    [
        ("+8613900000005", 5, "isv.AMOUNT_NOT_ENOUGH", "failed"),
        ("+8613900000003", 6, "isv.BUSINESS_LIMIT_CONTROL", "failed"),
        ("+8613900000004", 6, "isv.BUSINESS_LIMIT_CONTROL", "failed"),
        ("+8613900000006", 7, "isp.SYSTEM_ERROR", "failed"),
        ("+8613900000009", 7, None, "failed"),
        # The connection dropped after the request went out: it may have been delivered.
        ("+8613900000010", 7, "ResponseLost", "unknown"),
    ],
)
def test_fault_modes_give_their_exit_code_and_explanation(
    ready, number, exit_code, code, outcome, state_dir
) -> None:
    result = send("--json", to=number)
    assert result.exit_code == exit_code, result.all_output
    error = result.error()
    if code:
        assert error["code"] == code
    assert error["hint"]
    assert "Traceback" not in result.stderr
    log = (state_dir / "audit.jsonl").read_text()
    assert f'"outcome": "{outcome}"' in log
    assert len(sends(ready)) == 1


def test_read_timeout_is_not_retried_and_says_it_may_be_delivered(ready) -> None:
    result = send("--timeout", "1", "--json", to="+8613900000011")
    assert result.exit_code == 7
    error = result.error()
    assert error["code"] == "ResponseLost"
    assert "may" in error["message"].lower()
    assert len(sends(ready)) == 1


def test_a_lost_send_can_be_found_by_its_out_id(ready) -> None:
    lost = send("--timeout", "1", "--json", to="+8613900000011")
    assert lost.exit_code == 7
    error = lost.error()
    out_id = error["details"]["out_id"]
    assert f"smsctl receipt --to +8613900000011 --out-id {out_id}" in error["hint"]
    ready.alibaba.state.receipt_delay = 0
    found = invoke("--json", "receipt", "--to", "+8613900000011", "--out-id", out_id)
    assert found.exit_code == 0, found.all_output
    assert found.json()["status"] == "delivered"
    assert invoke("receipt", "--to", "+8613900000011").exit_code == 2


def test_throttling_with_retry_after_is_retried_then_succeeds(ready) -> None:
    result = send("--json", to="+8613900000002")
    assert result.exit_code == 0, result.all_output
    assert result.json()["provider"]["attempts"] == 2
    assert len(sends(ready)) == 2


def test_wait_for_a_failed_receipt_is_exit_8_with_the_carrier_code(ready) -> None:
    result = send("--wait", "10", "--json", to="+8613900000012")
    assert result.exit_code == 8
    error = result.error()
    assert error["code"] == "UNDELIV"
    assert error["details"]["biz_id"]


def test_wait_running_out_is_exit_8_with_how_to_check(ready) -> None:
    ready.alibaba.state.receipt_delay = 30
    result = send("--wait", "0.5", "--json")
    assert result.exit_code == 8
    assert "smsctl receipt" in result.error()["hint"]


def test_receipt_command(ready) -> None:
    sent = send("--json").json()
    ready.alibaba.state.receipt_delay = 0
    result = invoke("--json", "receipt", "--to", OK_NUMBER, "--biz-id", sent["biz_id"])
    assert result.exit_code == 0, result.all_output
    assert result.json()["status"] == "delivered"


def test_unusable_explicit_template_or_disabled_account(ready) -> None:
    invoke(
        "template",
        "add",
        "SMS_100000004",
        "--account",
        "prod",
        "--scenario",
        "alert",
        "--allow-pending",
    )
    pending = invoke(
        "send-test",
        "--to",
        OK_NUMBER,
        "--template",
        "SMS_100000004",
        "--param",
        "service=a",
        "--param",
        "status=b",
        "--yes",
    )
    assert pending.exit_code == 3
    assert "not approved" in pending.stderr
    invoke("account", "disable", "prod")
    disabled = send()
    assert disabled.exit_code == 3
    assert "disabled" in disabled.stderr
    assert sends(ready) == []
