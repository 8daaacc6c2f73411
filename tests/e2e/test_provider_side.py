"""The provider side of SMS through the installed console script, against the in-process
sandbox: discover and import (several pages), sync at scale counted at the emulator, drift,
applications for review (pending, approved, rejected with the reason), and bad input refused
before any request."""

from __future__ import annotations

import math

import pytest

from smsctl.sandbox.state import Signature, Template
from tests.e2e.conftest import smsctl

ACCOUNT = "ci"


def _requests(state, *actions: str) -> int:
    return sum(1 for action, _ in state.requests if action in actions)


@pytest.fixture
def box(fresh_sandbox_state):
    state = fresh_sandbox_state.alibaba.state
    state.set_clock(1_900_000_000, frozen=True)
    return fresh_sandbox_state


@pytest.fixture
def env(box) -> dict[str, str]:
    info = box.info()["sms"]
    env = {"SMSCTL_SECRET_SMS_CI": info["access_key_secret"], "SMSCTL_NO_INPUT": "1"}
    added = smsctl(
        "account", "add", ACCOUNT, "--access-key-id", info["access_key_id"],
        "--endpoint", info["endpoint"], env=env,
    )  # fmt: skip
    assert added.exit_code == 0, added.stderr
    box.alibaba.state.requests.clear()
    return env


def run(env, *args: str, code: int = 0):
    done = smsctl("--json", *args, env=env)
    assert done.exit_code == code, (args, done.stdout, done.stderr[-3000:])
    return done


def _many_templates(state, count: int, base: int = 700000000) -> list[str]:
    codes = [f"SMS_{base + index}" for index in range(count)]
    for index, code in enumerate(codes):
        state.add_template(
            Template(code, f"Notice {index}", "Order ${order} shipped", "notification",
                     related_sign_name="Acme")
        )  # fmt: skip
    return codes


# --- discover and import ----------------------------------------------------------------------


def test_remote_lists_walk_every_page_and_say_what_smsctl_has(box, env) -> None:
    state = box.alibaba.state
    _many_templates(state, 120)
    for index in range(60):
        state.add_signature(Signature(f"Brand{index}", "approved"))
    run(env, "signature", "add", "Acme", "--account", ACCOUNT)
    state.requests.clear()

    templates = run(env, "template", "list", "--remote").json()
    assert templates["account"] == ACCOUNT
    assert len(templates["items"]) == len(state.templates) > 100
    assert _requests(state, "QuerySmsTemplateList") == math.ceil(len(state.templates) / 50)
    rejected = next(r for r in templates["items"] if r["name"] == "SMS_100000005")
    assert rejected["status"] == "rejected"
    assert rejected["reason"] == "模板内容含营销信息，请选择推广短信类型申请"
    assert not any(r["known"] for r in templates["items"])

    signatures = run(env, "signature", "list", "--remote").json()["items"]
    assert len(signatures) == len(state.signatures) > 50
    assert [r["known"] for r in signatures if r["name"] == "Acme"] == [True]
    assert _requests(state, "QuerySmsSignList") == math.ceil(len(state.signatures) / 50)

    human = smsctl("template", "list", "--remote", "--account", ACCOUNT, env=env)
    assert human.exit_code == 0, human.stderr
    assert "SMS_100000005" in human.stdout and "IN SMSCTL" in human.stdout


def test_import_brings_content_variables_and_signature_as_add_does(box, env) -> None:
    state = box.alibaba.state
    _many_templates(state, 80)
    state.requests.clear()
    imported = run(
        env, "template", "import", "SMS_100000003", "SMS_700000079", "--account", ACCOUNT,
        "--scenario", "notification",
    ).json()  # fmt: skip
    assert imported["added"] == ["SMS_100000003", "SMS_700000079"]
    assert _requests(state, "GetSmsTemplate", "QuerySmsTemplate") == 0
    assert _requests(state, "QuerySmsTemplateList") == math.ceil(len(state.templates) / 50)
    shown = run(env, "template", "show", "SMS_100000003").json()
    assert shown["content"] == "尊敬的${name}，您的订单${order}已发货，请注意查收。"
    assert shown["variables"] == ["name", "order"]
    assert shown["related_signature"] == "Acme"
    assert shown["status"] == "approved" and shown["scenario"] == "notification"

    again = run(env, "template", "import", "SMS_100000003", "--account", ACCOUNT,
                "--scenario", "notification").json()  # fmt: skip
    assert again["added"] == [] and again["already"] == ["SMS_100000003"]

    signatures = run(env, "signature", "import", "--all-approved", "--account", ACCOUNT).json()
    assert set(signatures["added"]) == {"Acme", "Acme登录", "阿里云短信测试"}
    assert {s["name"]: s["status"] for s in signatures["skipped"]} == {
        "AcmeBeta": "pending",
        "AcmeOld": "rejected",
    }
    log = run(env, "log").json()
    assert any(e.get("action") == "template.import" and e.get("item") == "SMS_100000003"
               for e in log)  # fmt: skip
    assert any(e.get("action") == "signature.import" for e in log)


def test_import_of_an_item_the_provider_lacks_writes_nothing(box, env) -> None:
    done = run(env, "template", "import", "SMS_100000003", "SMS_999999999", "--account",
               ACCOUNT, "--scenario", "notification", code=5)  # fmt: skip
    assert "SMS_999999999" in done.stderr
    assert run(env, "template", "list").json() == []


def test_import_of_a_pending_one_is_refused_unless_allowed(box, env) -> None:
    run(env, "template", "import", "SMS_100000004", "--account", ACCOUNT, "--scenario",
        "alert", code=5)  # fmt: skip
    done = run(env, "template", "import", "SMS_100000004", "--account", ACCOUNT,
               "--scenario", "alert", "--allow-pending")  # fmt: skip
    assert done.json()["added"] == ["SMS_100000004"]


# --- sync at scale, drift ---------------------------------------------------------------------


def test_sync_of_500_templates_costs_a_request_per_page(box, env) -> None:
    state = box.alibaba.state
    codes = _many_templates(state, 500)
    run(env, "template", "import", "--all-approved", "--account", ACCOUNT, "--scenario",
        "notification")  # fmt: skip
    state.set_template_status(codes[250], "rejected", "违规")
    state.requests.clear()
    synced = run(env, "template", "sync").json()
    assert len(synced) >= 500
    assert _requests(state, "QuerySmsTemplateList") <= math.ceil(500 / 50) + 2
    assert _requests(state, "GetSmsTemplate", "QuerySmsTemplate") == 0
    assert [r["name"] for r in synced if r["changed"]] == [codes[250]]


def test_drift_is_reported_by_sync_and_doctor_with_old_and_new_text(box, env) -> None:
    state = box.alibaba.state
    run(env, "signature", "add", "Acme", "--account", ACCOUNT)
    run(env, "template", "add", "SMS_100000003", "--account", ACCOUNT, "--scenario",
        "notification")  # fmt: skip
    run(env, "authorize", "template", "SMS_100000003", "--app", "shop", "--create-app")
    old = "尊敬的${name}，您的订单${order}已发货，请注意查收。"
    new = "尊敬的${name}，您的订单${order}已发货，预计${eta}送达。"
    state.change_template("SMS_100000003", content=new)

    doctor = smsctl("doctor", "--channel", "sms", env=env)
    assert doctor.exit_code == 3, doctor.stdout
    assert "changed at the provider" in doctor.stdout
    assert old in doctor.stdout and new in doctor.stdout
    assert "app shop" in doctor.stdout

    (row,) = run(env, "template", "sync", "SMS_100000003").json()
    assert row["drift"]["content"] == {"old": old, "new": new}
    assert row["drift"]["variables"] == {"old": ["name", "order"], "new": ["name", "order", "eta"]}
    assert any("app shop" in line for line in row["affected"])
    assert row["changed"] is True
    assert run(env, "template", "show", "SMS_100000003").json()["content"] == new
    after = smsctl("doctor", "--channel", "sms", env=env)
    assert "changed at the provider" not in after.stdout, after.stdout


# --- applications for review ------------------------------------------------------------------


def test_template_submit_is_pending_until_the_review_approves_it(box, env) -> None:
    state = box.alibaba.state
    state.review.delay = 600
    run(env, "signature", "add", "Acme", "--account", ACCOUNT)
    state.requests.clear()
    submitted = run(
        env, "template", "submit", "Welcome", "--account", ACCOUNT, "--type", "notification",
        "--scenario", "notification", "--content", "Welcome, ${name}!",
    ).json()  # fmt: skip
    code = submitted["name"]
    assert submitted["status"] == "pending" and submitted["order_id"]
    (_, params), *_ = [r for r in state.requests if r[0] == "CreateSmsTemplate"]
    assert params["RelatedSignName"] == "Acme"  # the account's only signature
    assert params["TemplateType"] == "1"
    assert params["TemplateRule"] == '{"name":"others"}'  # what each variable holds
    shown = run(env, "template", "show", code).json()
    assert shown["status"] == "pending" and shown["variables"] == ["name"]

    refused = smsctl("--json", "send-test", "--to", "+8613812345678", "--scenario",
                     "notification", "--param", "name=Al", "--account", ACCOUNT, "--yes",
                     env=env)  # fmt: skip
    assert refused.exit_code == 3 and "pending" in refused.stderr, refused.stderr
    assert _requests(state, "SendSms") == 0

    state.advance_clock(600)
    (row,) = run(env, "template", "sync", code).json()
    assert (row["previous"], row["status"]) == ("pending", "approved")
    log = run(env, "log").json()
    assert any(e["event"] == "provider.submit" and e.get("item") == code for e in log)


def test_submit_with_wait_follows_the_review_to_approved(box, env) -> None:
    box.alibaba.state.review.delay = 0
    done = run(
        env, "template", "submit", "Intl code", "--account", ACCOUNT, "--type",
        "international", "--scenario", "login", "--content", "Your code is ${code}.",
        "--wait", "5",
    ).json()  # fmt: skip
    assert done["status"] == "approved"
    assert run(env, "template", "show", done["name"]).json()["status"] == "approved"


def test_a_rejected_template_shows_the_reason_and_can_be_resubmitted(box, env) -> None:
    state = box.alibaba.state
    state.review.delay = 0
    run(env, "signature", "add", "Acme", "--account", ACCOUNT)
    rejected = run(
        env, "template", "submit", "Promo", "--account", ACCOUNT, "--type", "promotional",
        "--scenario", "notification", "--content", "REJECTME sale ${link}", "--wait", "5",
        code=5,
    )  # fmt: skip
    assert state.review.reason in rejected.stderr
    code = next(c for c, t in state.templates.items() if t.name == "Promo")
    assert run(env, "template", "show", code).json()["status"] == "rejected"
    refused = smsctl("--json", "send-test", "--to", "+8613812345678", "--template", code,
                     "--param", "link=x", "--account", ACCOUNT, "--yes", env=env)  # fmt: skip
    assert refused.exit_code == 3 and "rejected" in refused.stderr, refused.stderr
    assert _requests(state, "SendSms") == 0

    state.requests.clear()
    again = run(env, "template", "resubmit", code, "--content", "Sale: ${item}", "--wait", "5")
    assert again.json()["status"] == "approved"
    assert _requests(state, "UpdateSmsTemplate") == 1
    shown = run(env, "template", "show", code).json()
    assert shown["content"] == "Sale: ${item}" and shown["status"] == "approved"


def test_signature_submit_pending_then_rejected_with_reason(box, env) -> None:
    state = box.alibaba.state
    state.review.delay = 300
    submitted = run(env, "signature", "submit", "Globex", "--account", ACCOUNT,
                    "--qualification-id", "12345", "--source", "enterprise").json()  # fmt: skip
    assert submitted["status"] == "pending"
    assert run(env, "signature", "show", "Globex").json()["status"] == "pending"
    state.finish_review("signature", "Globex", "rejected", "资质不符")
    (row,) = run(env, "signature", "sync", "Globex").json()
    assert (row["status"], row["reason"]) == ("rejected", "资质不符")

    state.review.delay = 0
    approved = run(env, "signature", "submit", "Initech", "--account", ACCOUNT,
                   "--qualification-id", "12345", "--source", "trademark",
                   "--trademark-id", "777", "--wait", "5").json()  # fmt: skip
    assert approved["status"] == "approved"


# --- bad input: refused before any request ----------------------------------------------------

BAD = [
    ("template", "submit", "T", "--account", ACCOUNT, "--type", "marketing", "--scenario",
     "login", "--content", "x"),
    ("template", "submit", "T", "--account", ACCOUNT, "--type", "verification", "--scenario",
     "login", "--content", "code ${code"),
    ("template", "submit", "T", "--account", ACCOUNT, "--type", "verification", "--scenario",
     "login", "--content", "code ${1x}"),
    ("template", "submit", "T" * 31, "--account", ACCOUNT, "--type", "verification",
     "--scenario", "login", "--content", "x"),
    ("template", "submit", "T", "--account", ACCOUNT, "--type", "verification", "--scenario",
     "nope", "--content", "x"),
    ("template", "submit", "T", "--account", ACCOUNT, "--type", "verification", "--scenario",
     "login", "--content", "   "),
    # no --signature and the account has no signature in smsctl
    ("template", "submit", "T", "--account", ACCOUNT, "--type", "verification", "--scenario",
     "login", "--content", "Code ${code}"),
    ("template", "import", "--account", ACCOUNT, "--scenario", "login"),
    ("template", "import", "SMS_100000001", "--all-approved", "--account", ACCOUNT,
     "--scenario", "login"),
    ("template", "import", "SMS_100000001", "--account", ACCOUNT, "--scenario", "nope"),
    ("template", "list", "--remote", "--scenario", "login"),
    ("signature", "import", "--account", ACCOUNT),
    ("signature", "submit", "a b", "--account", ACCOUNT, "--qualification-id", "1",
     "--source", "enterprise"),
    ("signature", "submit", "Mytest", "--account", ACCOUNT, "--qualification-id", "1",
     "--source", "enterprise"),
    ("signature", "submit", "Globex", "--account", ACCOUNT, "--qualification-id", "1",
     "--source", "trademark"),
    ("signature", "submit", "Globex", "--account", ACCOUNT, "--qualification-id", "1",
     "--source", "website"),
    ("signature", "submit", "Globex", "--account", ACCOUNT, "--qualification-id", "0",
     "--source", "enterprise"),
    ("template", "submit", "T", "--account", ACCOUNT, "--type", "verification", "--scenario",
     "login", "--content", "x", "--wait", "-1"),
]  # fmt: skip


@pytest.mark.parametrize("args", BAD, ids=lambda args: " ".join(args)[:70])
def test_bad_input_is_refused_with_nothing_sent(box, env, args) -> None:
    state = box.alibaba.state
    done = smsctl("--json", *args, env=env)
    assert done.exit_code == 2, (done.stdout, done.stderr)
    assert done.stdout == ""
    assert '"error"' in done.stderr
    assert state.requests == []


def test_resubmit_of_a_template_that_is_not_rejected_sends_nothing(box, env) -> None:
    state = box.alibaba.state
    run(env, "template", "add", "SMS_100000001", "--account", ACCOUNT, "--scenario", "login")
    state.requests.clear()
    done = run(env, "template", "resubmit", "SMS_100000001", code=2)
    assert "not rejected" in done.stderr
    assert state.requests == []


def test_several_signatures_and_no_default_needs_signature(box, env) -> None:
    state = box.alibaba.state
    run(env, "signature", "import", "Acme", "Acme登录", "--account", ACCOUNT)
    state.requests.clear()
    done = run(env, "template", "submit", "T", "--account", ACCOUNT, "--type", "verification",
               "--scenario", "login", "--content", "Code ${code}", code=2)  # fmt: skip
    assert "--signature" in done.stderr
    assert state.requests == []


@pytest.mark.parametrize(
    ("fault", "exit_code"), [("throttling", 6), ("service_unavailable", 7), ("system_error", 7)]
)
def test_a_refused_application_request_stores_nothing(box, env, fault, exit_code) -> None:
    state = box.alibaba.state
    state.retry_after_ms = 0  # the retries of a throttled request do not wait
    run(env, "signature", "add", "Acme", "--account", ACCOUNT)
    for _ in range(10):  # a throttled request is retried a few times before giving up
        state.fail_next("CreateSmsTemplate", fault)
    done = run(env, "template", "submit", "T", "--account", ACCOUNT, "--type", "verification",
               "--scenario", "login", "--content", "Code ${code}", code=exit_code)  # fmt: skip
    assert '"error"' in done.stderr
    assert run(env, "template", "list").json() == []
    state.pending_faults.clear()
    for _ in range(10):
        state.fail_next("QuerySmsTemplateList", fault)
    run(env, "template", "list", "--remote", code=exit_code)


def test_the_secret_never_shows_even_with_verbose_output(box, env) -> None:
    secret = env["SMSCTL_SECRET_SMS_CI"]
    box.alibaba.state.review.delay = 0
    run(env, "signature", "add", "Acme", "--account", ACCOUNT)
    for args in (
        ("template", "list", "--remote"),
        ("template", "submit", "T", "--account", ACCOUNT, "--type", "verification",
         "--scenario", "login", "--content", "Code ${code}", "--wait", "5"),
        ("signature", "submit", "Globex", "--account", ACCOUNT, "--qualification-id", "1",
         "--source", "enterprise"),
    ):  # fmt: skip
        done = smsctl("-v", *args, env=env)
        assert done.exit_code == 0, done.stderr
        assert secret not in done.stdout + done.stderr
    log = smsctl("--json", "log", env=env)
    assert secret not in log.stdout


def test_an_item_of_another_account_stops_the_import_before_anything_is_written(box, env):
    info = box.info()["sms"]
    env = {**env, "SMSCTL_SECRET_SMS_OTHER": info["access_key_secret"]}
    run(env, "account", "add", "other", "--access-key-id", info["access_key_id"],
        "--endpoint", info["endpoint"])  # fmt: skip
    run(env, "signature", "add", "阿里云短信测试", "--account", "other")
    done = run(env, "signature", "import", "--all-approved", "--account", ACCOUNT, code=3)
    assert "under account `other`" in done.stderr
    names = [row["name"] for row in run(env, "signature", "list").json()]
    assert names == ["阿里云短信测试"]
