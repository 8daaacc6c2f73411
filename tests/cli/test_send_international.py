"""SMS to numbers outside the mainland: the template must fit the number's region, checked
before any request (dry run and real send), and the sandbox refuses what the provider refuses."""

from __future__ import annotations

import pytest

from tests.support.cli import add_sandbox_sms_account, invoke

US = "+12025550123"
CN = "+8613812345678"
INTERNATIONAL = "SMS_100000006"  # the sandbox's international verification template
MAINLAND = "SMS_100000001"


@pytest.fixture
def ready(fresh_sandbox_state):
    """An active account with a signature and a mainland login template only."""
    add_sandbox_sms_account(fresh_sandbox_state.info()["sms"])
    return fresh_sandbox_state


@pytest.fixture
def with_international(ready):
    result = invoke("template", "add", INTERNATIONAL, "--account", "prod", "--scenario", "login")
    assert result.exit_code == 0, result.all_output
    assert invoke("--json", "template", "show", INTERNATIONAL).json()["type"] == "international"
    return ready


def send_requests(sandbox) -> list[dict]:
    return [params for action, params in sandbox.alibaba.state.requests if action == "SendSms"]


def send(to: str, *extra: str):
    return invoke(
        "--json", "send-test", "--to", to, "--scenario", "login", "--param", "code=4711", *extra
    )


@pytest.mark.parametrize("mode", ["--dry-run", "--yes"])
def test_number_outside_the_mainland_without_international_template_is_refused_first(
    ready, state_dir, mode
):
    result = send(US, mode)
    assert result.exit_code == 3, result.all_output
    error = result.error()
    assert error["code"] == "no_template"
    assert (
        "for a +1 number: it needs an international template (type international)"
        in (error["message"])
    )
    assert (
        f"{MAINLAND} (a mainland template (verification); +1 numbers need an international"
        in (error["message"])
    )
    assert send_requests(ready) == []
    assert not (state_dir / "guard.jsonl").exists()  # nothing counted against the quota


def test_mainland_number_still_uses_the_mainland_template(ready):
    result = send(CN, "--dry-run")
    assert result.exit_code == 0, result.all_output
    assert result.json()["resolved"]["template"]["name"] == MAINLAND


@pytest.mark.parametrize(("to", "template"), [(US, INTERNATIONAL), (CN, MAINLAND)])
def test_dry_run_picks_the_template_of_the_number_region(with_international, to, template):
    result = send(to, "--dry-run")
    assert result.exit_code == 0, result.all_output
    assert result.json()["resolved"]["template"]["name"] == template
    assert send_requests(with_international) == []


@pytest.mark.parametrize(
    ("to", "template", "wire"),
    [(US, INTERNATIONAL, "12025550123"), (CN, MAINLAND, "13812345678")],
)
def test_real_send_uses_the_template_of_the_number_region(with_international, to, template, wire):
    result = send(to, "--yes")
    assert result.exit_code == 0, result.all_output
    [params] = send_requests(with_international)
    assert (params["TemplateCode"], params["PhoneNumbers"]) == (template, wire)
    record = with_international.alibaba.state.sms[-1]
    assert (record.phone, record.template_code) == (wire, template)


def test_explicit_mainland_template_to_a_number_outside_the_mainland_is_refused(
    with_international,
):
    result = send(US, "--template", MAINLAND, "--yes")
    assert result.exit_code == 3
    assert "+1 numbers need an international one" in result.stderr
    assert send_requests(with_international) == []


def test_explicit_international_template_to_a_mainland_number_is_refused(with_international):
    result = send(CN, "--template", INTERNATIONAL, "--dry-run")
    assert result.exit_code == 3
    assert "+86 numbers need a mainland one" in result.stderr
