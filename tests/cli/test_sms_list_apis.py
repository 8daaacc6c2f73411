"""`template sync`, `signature sync`, `validate` and `doctor` read the provider's state through the
list APIs when that costs fewer requests: about one request per 50 items, counted at the emulator,
with the same answers as one query per item."""

from __future__ import annotations

import math

import pytest

from smsctl.sandbox.state import Template
from tests.support.cli import invoke

COUNT = 120  # three pages of 50


def _requests(state, *actions: str) -> int:
    return sum(1 for action, _ in state.requests if action in actions)


@pytest.fixture
def many(fresh_sandbox_state):
    """COUNT approved templates at the provider, all known to smsctl under account prod."""
    state = fresh_sandbox_state.alibaba.state
    codes = [f"SMS_{700000000 + index}" for index in range(COUNT)]
    for index, code in enumerate(codes):
        state.add_template(
            Template(code, f"Notice {index}", "Order ${order} shipped", type="notification")
        )
    info = fresh_sandbox_state.info()["sms"]
    secret = info["access_key_secret"] + "\n"
    added = invoke(
        "account", "add", "prod", "--access-key-id", info["access_key_id"],
        "--endpoint", info["endpoint"], "--secret-stdin", input=secret,
    )  # fmt: skip
    assert added.exit_code == 0, added.all_output
    assert invoke("signature", "add", "Acme", "--account", "prod").exit_code == 0
    for code in codes:
        default = ("--default",) if code == codes[0] else ()
        done = invoke(
            "template", "add", code, "--account", "prod", "--scenario", "notification", *default
        )
        assert done.exit_code == 0, done.all_output
    assert invoke("validate", "prod").exit_code == 0
    state.requests.clear()
    return state, codes


def test_template_sync_of_all_costs_a_request_per_page(many):
    state, codes = many
    state.set_template_status(codes[7], "rejected", "wording")
    result = invoke("--json", "template", "sync")
    assert result.exit_code == 0, result.all_output
    total_at_provider = len(state.templates)
    assert _requests(state, "QuerySmsTemplateList") == math.ceil(total_at_provider / 50)
    assert _requests(state, "GetSmsTemplate", "QuerySmsTemplate") == 0
    changed = [row for row in result.json() if row.get("changed")]
    assert [row["name"] for row in changed] == [codes[7]]
    assert invoke("--json", "template", "show", codes[7]).json()["status"] == "rejected"


def test_one_item_is_asked_for_directly(many):
    state, codes = many
    assert invoke("template", "sync", codes[0]).exit_code == 0
    assert _requests(state, "QuerySmsTemplateList") == 0
    assert _requests(state, "GetSmsTemplate") == 1


def test_an_item_the_list_lacks_is_asked_for_and_reported(many):
    state, codes = many
    del state.templates[codes[3]]
    result = invoke("--json", "template", "sync")
    (row,) = [row for row in result.json() if row["name"] == codes[3]]
    assert row["error"]["code"] == "isv.SMS_TEMPLATE_ILLEGAL"
    assert _requests(state, "GetSmsTemplate") == 1  # only the missing one


def test_doctor_and_validate_use_the_lists_too(many):
    state, _codes = many
    doctor = invoke("doctor", "--channel", "sms")
    assert doctor.exit_code == 0, doctor.stdout[-2000:]
    doctor_lists = _requests(state, "QuerySmsTemplateList")
    assert doctor_lists == math.ceil(len(state.templates) / 50)
    assert _requests(state, "GetSmsTemplate", "QuerySmsTemplate") == 0
    state.requests.clear()
    assert invoke("validate", "prod").exit_code == 0
    assert _requests(state, "QuerySmsTemplateList") == doctor_lists
    assert _requests(state, "GetSmsTemplate", "QuerySmsTemplate") == 0


def test_a_long_provider_list_is_not_walked_for_a_few_items(fresh_sandbox_state):
    """With 3 items known but 500 at the provider, listing all pages (10 requests) would cost
    more than asking for the 3: one page, then single queries."""
    from smsctl.providers.alibaba_common import AlibabaAccess
    from smsctl.providers.alibaba_sms import AlibabaSms

    state = fresh_sandbox_state.alibaba.state
    for index in range(500):
        state.add_template(Template(f"SMS_{800000000 + index}", "n", "x", type="notification"))
    entry = fresh_sandbox_state.info()["sms"]
    client = AlibabaSms(
        AlibabaAccess(
            entry["access_key_id"], entry["access_key_secret"], entry["endpoint"], None, 2.0, 2.0
        )
    )
    from smsctl.core.sms import provider_items

    wanted = ["SMS_800000001", "SMS_800000499", "SMS_100000001"]
    state.requests.clear()
    answers = provider_items(client, "templates", wanted)
    assert all(answers[code].status == "approved" for code in wanted)
    assert _requests(state, "QuerySmsTemplateList") == 1
    assert _requests(state, "GetSmsTemplate") <= len(wanted)
