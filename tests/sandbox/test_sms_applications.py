"""CreateSmsTemplate, UpdateSmsTemplate and CreateSmsSign through the real dysmsapi client: the
answer's fields, the refusals, the review on the service's clock, list paging bounds, drift."""

from __future__ import annotations

import json

import pytest

from smsctl.core.errors import ConfigError
from smsctl.sandbox.seed import seed_from_dict


def models():
    from alibabacloud_dysmsapi20170525 import models

    return models


def rule(content):
    from smsctl.sandbox.alibaba import template_variables

    names = template_variables(content)
    return json.dumps({name: "others" for name in names}) if names else None


def create(sms_client, content="Your code is ${code}", type_=0, sign="Acme", name="Login",
           template_rule=""):  # fmt: skip
    return sms_client.create_sms_template(
        models().CreateSmsTemplateRequest(
            template_name=name, template_content=content, template_type=type_,
            related_sign_name=sign, template_rule=rule(content) if template_rule == "" else
            template_rule,
        )
    ).body  # fmt: skip


def status(sms_client, code):
    body = sms_client.get_sms_template(models().GetSmsTemplateRequest(template_code=code)).body
    return body.template_status, body.audit_info.reject_info


@pytest.fixture
def clock(sandbox):
    state = sandbox.alibaba.state
    state.set_clock(1_900_000_000, frozen=True)
    state.review.delay = 120
    return state


def test_a_created_template_is_pending_then_approved_after_the_review_delay(sms_client, clock):
    body = create(sms_client)
    assert body.code == "OK" and body.template_code.startswith("SMS_")
    assert body.template_name == "Login" and body.order_id and body.request_id
    assert status(sms_client, body.template_code) == ("0", "")
    clock.advance_clock(119)
    assert status(sms_client, body.template_code)[0] == "0"
    clock.advance_clock(1)
    assert status(sms_client, body.template_code) == ("1", "")


def test_the_reject_marker_rejects_with_the_reason_and_update_resubmits(sms_client, clock):
    code = create(sms_client, "REJECTME ${code}").template_code
    clock.advance_clock(120)
    assert status(sms_client, code) == ("2", clock.review.reason)
    updated = sms_client.update_sms_template(
        models().UpdateSmsTemplateRequest(
            template_code=code, template_name="Login", template_content="Code ${code}",
            template_type=0, related_sign_name="Acme", template_rule=rule("Code ${code}"),
        )
    ).body  # fmt: skip
    assert (updated.code, updated.template_code) == ("OK", code)
    assert status(sms_client, code)[0] == "0"
    clock.advance_clock(120)
    assert status(sms_client, code)[0] == "1"


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"sign": None}, "isv.INVALID_PARAMETERS"),  # a mainland type needs a signature
        ({"sign": "AcmeBeta"}, "isv.SMS_SIGNATURE_ILLEGAL"),  # not approved
        ({"name": "N" * 31}, "isv.INVALID_PARAMETERS"),
        ({"content": "x" * 501}, "isv.PARAM_LENGTH_LIMIT"),
        ({"type_": 4}, "isv.INVALID_PARAMETERS"),
        ({"template_rule": None}, "isv.INVALID_PARAMETERS"),  # variables need their rules
        ({"template_rule": '{"other":"others"}'}, "isv.INVALID_PARAMETERS"),
    ],
)
def test_refused_applications_create_nothing(sms_client, sandbox, kwargs, code):
    before = dict(sandbox.alibaba.state.templates)
    assert create(sms_client, **kwargs).code == code
    assert sandbox.alibaba.state.templates == before


def test_an_international_template_needs_no_signature(sms_client):
    assert create(sms_client, type_=3, sign=None).code == "OK"


def test_only_a_rejected_template_can_be_updated(sms_client):
    body = sms_client.update_sms_template(
        models().UpdateSmsTemplateRequest(
            template_code="SMS_100000001", template_name="x", template_content="y",
            template_type=0, related_sign_name="Acme",
        )
    ).body  # fmt: skip
    assert body.code == "isv.INVALID_PARAMETERS"


def sign(sms_client, name="Globex", source=0, **extra):
    return sms_client.create_sms_sign(
        models().CreateSmsSignRequest(
            sign_name=name, sign_source=source, qualification_id=123, **extra
        )
    ).body


def test_a_created_signature_is_reviewed_like_a_template(sms_client, clock):
    body = sign(sms_client)
    assert (body.code, body.sign_name) == ("OK", "Globex") and body.order_id
    get = models().GetSmsSignRequest(sign_name="Globex")
    assert sms_client.get_sms_sign(get).body.sign_status == 0
    clock.advance_clock(120)
    assert sms_client.get_sms_sign(get).body.sign_status == 1


@pytest.mark.parametrize(
    ("name", "source", "extra", "code"),
    [
        ("Acme", 0, {}, "isv.SIGN_NAME_ILLEGAL"),  # exists
        ("A", 0, {}, "isv.SIGN_NAME_ILLEGAL"),
        ("Mytest", 0, {}, "isv.SIGN_NAME_ILLEGAL"),
        ("Glo bex", 0, {}, "isv.SIGN_NAME_ILLEGAL"),
        ("Globex", 5, {}, "isv.INVALID_PARAMETERS"),  # a trademark needs its id
        ("Globex", 3, {}, "isv.INVALID_PARAMETERS"),
    ],
)
def test_refused_signature_applications(sms_client, name, source, extra, code):
    assert sign(sms_client, name, source, **extra).code == code


@pytest.mark.parametrize("page_size", [0, 51])
def test_list_page_size_is_bounded(sms_client, page_size):
    request = models().QuerySmsTemplateListRequest(page_index=1, page_size=page_size)
    assert sms_client.query_sms_template_list(request).body.code == "isv.INVALID_PARAMETERS"


def test_drift_changes_a_template_at_the_provider(sms_client, sandbox):
    sandbox.alibaba.state.change_template("SMS_100000003", content="New ${x}")
    body = sms_client.get_sms_template(
        models().GetSmsTemplateRequest(template_code="SMS_100000003")
    ).body
    assert body.template_content == "New ${x}"


def test_seed_review_and_then_content():
    seed = seed_from_dict(
        {
            "review": {"delay": 5, "reject_marker": "NOPE", "reason": "no"},
            "templates": [
                {"code": "SMS_1", "content": "a ${x}", "then_content": "b ${y}",
                 "after_queries": 0},
            ],
        }
    )  # fmt: skip
    assert (seed.review.delay, seed.review.reject_marker, seed.review.reason) == (5, "NOPE", "no")
    assert seed.templates[0].transitions[0].content == "b ${y}"
    with pytest.raises(ConfigError, match="unknown key 'wait'"):
        seed_from_dict({"review": {"wait": 1}})
    with pytest.raises(ConfigError, match="then_content is for templates"):
        seed_from_dict({"signatures": [{"name": "S1", "then_content": "x", "after_queries": 0}]})
