"""Every SMS action through the real dysmsapi client, with the real field names and types."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest

from tests.fixtures.sandbox import TEST_RECEIPT_DELAY
from tests.sandbox.conftest import SERVICE_DATE, SERVICE_NOW


def send(sms_client, number="13800138000", sign="Acme", code="SMS_100000001", param=None):
    from alibabacloud_dysmsapi20170525 import models

    return sms_client.send_sms(
        models.SendSmsRequest(
            phone_numbers=number,
            sign_name=sign,
            template_code=code,
            template_param=json.dumps(param if param is not None else {"code": "123456"}),
        )
    ).body


def details(sms_client, number, biz_id=None):
    from alibabacloud_dysmsapi20170525 import models

    return sms_client.query_send_details(
        models.QuerySendDetailsRequest(
            phone_number=number, send_date=SERVICE_DATE, page_size=10, current_page=1, biz_id=biz_id
        )
    ).body


def test_send_sms_returns_biz_id_and_records_the_message(sms_client, sandbox):
    body = send(sms_client, "+8613800138000")
    assert body.code == "OK" and body.message == "OK"
    assert body.biz_id.endswith("^0") and body.request_id
    record = sandbox.alibaba.state.sms[-1]
    assert (record.biz_id, record.phone) == (body.biz_id, "13800138000")
    assert record.content == "【Acme】您的验证码为：123456，5分钟内有效，请勿泄露于他人！"
    action, params = sandbox.alibaba.state.requests[-1]
    assert action == "SendSms" and params["TemplateCode"] == "SMS_100000001"


def test_receipt_waits_then_is_delivered(sms_client, sandbox):
    biz_id = send(sms_client, "13800138001").biz_id
    waiting = details(sms_client, "13800138001", biz_id)
    assert waiting.total_count == "1"
    dto = waiting.sms_send_detail_dtos.sms_send_detail_dto[0]
    assert (dto.send_status, dto.err_code, dto.receive_date) == (1, "", "")
    sandbox.alibaba.state.advance_clock(TEST_RECEIPT_DELAY + 0.1)
    dto = details(sms_client, "13800138001", biz_id).sms_send_detail_dtos.sms_send_detail_dto[0]
    assert (dto.send_status, dto.err_code) == (3, "DELIVERED")
    assert dto.template_code == "SMS_100000001" and dto.phone_num == "13800138001"
    assert dto.content.startswith("【Acme】") and dto.receive_date >= dto.send_date


def test_sends_are_filed_under_the_china_date_of_the_send(sms_client, sandbox):
    from datetime import datetime, timedelta, timezone

    from alibabacloud_dysmsapi20170525 import models

    china = timezone(timedelta(hours=8))
    sandbox.alibaba.state.set_clock(datetime(2026, 12, 1, 23, 59, 59, tzinfo=china), frozen=True)
    sandbox.alibaba.state.receipt_delay = 2
    biz_id = send(sms_client, "13800138003").biz_id
    sandbox.alibaba.state.advance_clock(5)

    def on(day):
        return sms_client.query_send_details(
            models.QuerySendDetailsRequest(
                phone_number="13800138003",
                send_date=day,
                page_size=10,
                current_page=1,
                biz_id=biz_id,
            )
        ).body

    assert on("20261202").total_count == "0"
    dto = on("20261201").sms_send_detail_dtos.sms_send_detail_dto[0]
    assert (dto.send_status, dto.send_date) == (3, "2026-12-01 23:59:59")
    assert dto.receive_date == "2026-12-02 00:00:01"


def test_service_clock_set_running_moves_on_from_the_moment(sandbox):
    import time
    from datetime import datetime, timezone

    state = sandbox.alibaba.state
    state.set_clock(datetime(2030, 1, 1, tzinfo=timezone.utc))
    first = state.now()
    assert 0 <= first - datetime(2030, 1, 1, tzinfo=timezone.utc).timestamp() < 60
    state.advance_clock(10)
    assert state.now() - first >= 10
    state.set_clock(1_900_000_000.0, frozen=True)
    assert state.now() == state.now() == 1_900_000_000.0
    state.advance_clock(1.5)
    assert state.now() == 1_900_000_001.5
    state.reset()
    assert abs(state.now() - time.time()) < 60


def test_receipt_delay_can_be_changed(sms_client, sandbox):
    sandbox.alibaba.state.receipt_delay = 0
    send(sms_client, "13800138002")
    dto = details(sms_client, "13800138002").sms_send_detail_dtos.sms_send_detail_dto[0]
    assert dto.send_status == 3


@pytest.mark.parametrize(
    ("sign", "code", "expected"),
    [
        ("NoSuchSign", "SMS_100000001", "isv.SMS_SIGNATURE_ILLEGAL"),
        ("AcmeBeta", "SMS_100000001", "isv.SMS_SIGNATURE_ILLEGAL"),
        ("AcmeOld", "SMS_100000001", "isv.SMS_SIGNATURE_ILLEGAL"),
        ("Acme", "SMS_999999999", "isv.SMS_TEMPLATE_ILLEGAL"),
        ("Acme", "SMS_100000004", "isv.SMS_TEMPLATE_ILLEGAL"),
        ("Acme", "SMS_100000005", "isv.SMS_TEMPLATE_ILLEGAL"),
    ],
)
def test_unknown_or_unapproved_signature_or_template_is_http_200_business_error(
    sms_client, sandbox, sign, code, expected
):
    body = send(sms_client, sign=sign, code=code)
    assert body.code == expected
    assert body.biz_id is None and body.request_id
    assert sandbox.alibaba.state.sms == []


@pytest.mark.parametrize(
    ("param", "expected"),
    [
        ("not json", "isv.INVALID_JSON_PARAM"),
        ('{"code": 123456}', "isv.INVALID_JSON_PARAM"),
        ("{}", "isv.TEMPLATE_MISSING_PARAMETERS"),
        ('{"other":"1"}', "isv.TEMPLATE_MISSING_PARAMETERS"),
        ('{"code":"' + "9" * 36 + '"}', "isv.PARAM_LENGTH_LIMIT"),
        ('{"code":"https://x.cn"}', "isv.PARAM_NOT_SUPPORT_URL"),
    ],
)
def test_template_param_validation(sms_client, param, expected):
    from alibabacloud_dysmsapi20170525 import models

    body = sms_client.send_sms(
        models.SendSmsRequest(
            phone_numbers="13800138000",
            sign_name="Acme",
            template_code="SMS_100000001",
            template_param=param,
        )
    ).body
    assert body.code == expected


@pytest.mark.parametrize("number", ["12345", "23800138000", "1380013800a", "+4915112345678"])
def test_bad_number_is_mobile_number_illegal(sms_client, number):
    assert send(sms_client, number).code == "isv.MOBILE_NUMBER_ILLEGAL"


def test_more_than_1000_numbers_is_count_over_limit(sms_client):
    numbers = ",".join(f"138{i:08d}" for i in range(1001))
    assert send(sms_client, numbers).code == "isv.MOBILE_COUNT_OVER_LIMIT"


def test_missing_required_parameter_is_400(sms_client):
    from alibabacloud_dysmsapi20170525 import models
    from alibabacloud_tea_openapi.exceptions import ClientException

    with pytest.raises(ClientException) as caught:
        sms_client.send_sms(models.SendSmsRequest(phone_numbers="13800138000"))
    assert (caught.value.status_code, caught.value.code) == (400, "MissingSignName")


def test_flow_control_minute_hour_day(sms_client, sandbox):
    state = sandbox.alibaba.state
    assert send(sms_client, "13800138003").code == "OK"
    second = send(sms_client, "13800138003")
    assert (second.code, second.message) == (
        "isv.BUSINESS_LIMIT_CONTROL",
        "触发分钟级流控Permits:1",
    )
    # Another signature has its own budget.
    assert send(sms_client, "13800138003", sign="Acme登录").code == "OK"
    for _ in range(4):
        state.advance_clock(61)
        assert send(sms_client, "13800138003").code == "OK"
    state.advance_clock(61)
    assert send(sms_client, "13800138003").message == "触发小时级流控Permits:5"
    for _ in range(5):
        state.advance_clock(3601)
        assert send(sms_client, "13800138003").code == "OK"
    state.advance_clock(3601)
    assert send(sms_client, "13800138003").message == "触发天级流控Permits:10"
    state.advance_clock(86400)
    assert send(sms_client, "13800138003").code == "OK"


def test_send_batch_sms(sms_client, sandbox):
    from alibabacloud_dysmsapi20170525 import models

    body = sms_client.send_batch_sms(
        models.SendBatchSmsRequest(
            phone_number_json=json.dumps(["13800138010", "13800138011"]),
            sign_name_json=json.dumps(["Acme", "Acme登录"]),
            template_code="SMS_100000003",
            template_param_json=json.dumps(
                [{"name": "张三", "order": "A1"}, {"name": "李四", "order": "B2"}]
            ),
        )
    ).body
    assert body.code == "OK" and body.biz_id
    contents = [r.content for r in sandbox.alibaba.state.sms]
    assert contents == [
        "【Acme】尊敬的张三，您的订单A1已发货，请注意查收。",
        "【Acme登录】尊敬的李四，您的订单B2已发货，请注意查收。",
    ]


def test_send_batch_sms_mismatched_lengths(sms_client):
    from alibabacloud_dysmsapi20170525 import models

    body = sms_client.send_batch_sms(
        models.SendBatchSmsRequest(
            phone_number_json='["13800138010","13800138011"]',
            sign_name_json='["Acme"]',
            template_code="SMS_100000003",
            template_param_json='[{"name":"a","order":"b"}]',
        )
    ).body
    assert body.code == "isv.INVALID_PARAMETERS"


def test_query_send_statistics(sms_client, sandbox):
    from alibabacloud_dysmsapi20170525 import models

    send(sms_client, "13800138020")
    send(sms_client, "13900000012")  # receipt fails
    send(sms_client, "13800138021")
    sandbox.alibaba.state.advance_clock(TEST_RECEIPT_DELAY + 0.1)
    send(sms_client, "13800138022", sign="Acme登录")  # still waiting
    body = sms_client.query_send_statistics(
        models.QuerySendStatisticsRequest(
            is_globe=1, start_date=SERVICE_DATE, end_date=SERVICE_DATE, page_index=1, page_size=10
        )
    ).body
    assert body.code == "OK" and body.data.total_size == 1
    row = body.data.target_list[0]
    assert (row.send_date, row.total_count) == (SERVICE_DATE, 4)
    assert (row.responded_success_count, row.responded_fail_count) == (2, 1)
    assert row.no_responded_count == 1
    filtered = sms_client.query_send_statistics(
        models.QuerySendStatisticsRequest(
            is_globe=1,
            start_date=SERVICE_DATE,
            end_date=SERVICE_DATE,
            page_index=1,
            page_size=10,
            sign_name="Acme登录",
        )
    ).body
    assert filtered.data.target_list[0].total_count == 1


def test_query_sms_sign_int_status(sms_client):
    from alibabacloud_dysmsapi20170525 import models

    statuses = {}
    for name in ("Acme", "AcmeBeta", "AcmeOld"):
        body = sms_client.query_sms_sign(models.QuerySmsSignRequest(sign_name=name)).body
        statuses[name] = (body.sign_status, body.reason)
    assert statuses["Acme"] == (1, "")
    assert statuses["AcmeBeta"] == (0, "")
    assert statuses["AcmeOld"][0] == 2 and "营业执照" in statuses["AcmeOld"][1]


def test_get_sms_sign(sms_client):
    from alibabacloud_dysmsapi20170525 import models

    body = sms_client.get_sms_sign(models.GetSmsSignRequest(sign_name="AcmeOld")).body
    assert body.code == "OK" and body.sign_name == "AcmeOld"
    assert body.sign_status == 2 and isinstance(body.sign_status, int)
    assert "营业执照" in body.audit_info.reject_info
    operators = [d.operator_code for d in body.sign_isp_register_detail_list]
    assert operators == ["mobile", "unicom", "telecom"]
    unknown = sms_client.get_sms_sign(models.GetSmsSignRequest(sign_name="Nope")).body
    assert unknown.code == "isv.SMS_SIGNATURE_ILLEGAL"


def test_query_sms_sign_list_audit_strings(sms_client):
    from alibabacloud_dysmsapi20170525 import models

    body = sms_client.query_sms_sign_list(
        models.QuerySmsSignListRequest(page_index=1, page_size=50)
    ).body
    states = {s.sign_name: s.audit_status for s in body.sms_sign_list}
    assert states["Acme"] == "AUDIT_STATE_PASS"
    assert states["AcmeBeta"] == "AUDIT_STATE_INIT"
    assert states["AcmeOld"] == "AUDIT_STATE_NOT_PASS"
    assert body.total_count == 5 and body.current_page == 1
    rejected = next(s for s in body.sms_sign_list if s.sign_name == "AcmeOld")
    assert "营业执照" in rejected.reason.reject_info
    page = sms_client.query_sms_sign_list(
        models.QuerySmsSignListRequest(page_index=2, page_size=2)
    ).body
    assert len(page.sms_sign_list) == 2 and page.total_count == 5


def test_get_sms_template_string_status(sms_client):
    from alibabacloud_dysmsapi20170525 import models

    body = sms_client.get_sms_template(
        models.GetSmsTemplateRequest(template_code="SMS_100000002")
    ).body
    assert (body.template_status, body.template_type) == ("1", "0")
    assert body.template_content == "Your Acme code is ${code}. It expires in ${minutes} minutes."
    assert body.related_sign_name == "Acme"
    assert json.loads(body.variable_attribute) == {
        "code": "characterWithNumber",
        "minutes": "characterWithNumber",
    }
    rejected = sms_client.get_sms_template(
        models.GetSmsTemplateRequest(template_code="SMS_100000005")
    ).body
    assert rejected.template_status == "2" and rejected.audit_info.reject_info
    assert rejected.template_type == "1"


def test_query_sms_template_legacy_int_status(sms_client):
    from alibabacloud_dysmsapi20170525 import models

    body = sms_client.query_sms_template(
        models.QuerySmsTemplateRequest(template_code="SMS_100000004")
    ).body
    assert (body.template_status, body.template_type) == (0, 1)
    missing = sms_client.query_sms_template(
        models.QuerySmsTemplateRequest(template_code="SMS_1")
    ).body
    assert missing.code == "isv.SMS_TEMPLATE_ILLEGAL"


def test_query_sms_template_list_numbering(sms_client):
    from alibabacloud_dysmsapi20170525 import models

    body = sms_client.query_sms_template_list(
        models.QuerySmsTemplateListRequest(page_index=1, page_size=50)
    ).body
    by_code = {t.template_code: t for t in body.sms_template_list}
    login = by_code["SMS_100000001"]
    assert (login.template_type, login.outer_template_type) == (2, 0)
    assert login.audit_status == "AUDIT_STATE_PASS" and login.signature_name == "Acme"
    shipped = by_code["SMS_100000003"]
    assert (shipped.template_type, shipped.outer_template_type) == (0, 1)
    assert by_code["SMS_100000004"].audit_status == "AUDIT_STATE_INIT"
    assert by_code["SMS_100000005"].audit_status == "AUDIT_STATE_NOT_PASS"


def test_unknown_action_is_invalid_action_not_found(sandbox):
    from alibabacloud_tea_openapi import utils_models
    from alibabacloud_tea_openapi.client import Client
    from alibabacloud_tea_openapi.exceptions import ClientException
    from darabonba.runtime import RuntimeOptions

    from tests.fixtures.sandbox import alibaba_config

    client = Client(alibaba_config(sandbox.info()["sms"]))
    params = utils_models.Params(
        action="DeleteEverything",
        version="2017-05-25",
        protocol="HTTP",
        pathname="/",
        method="POST",
        auth_type="AK",
        style="RPC",
        req_body_type="formData",
        body_type="json",
    )
    with pytest.raises(ClientException) as caught:
        client.call_api(params, utils_models.OpenApiRequest(query={}), RuntimeOptions())
    assert (caught.value.status_code, caught.value.code) == (404, "InvalidAction.NotFound")


def test_get_sms_sign_carries_every_field_of_the_sdk_model(sms_client):
    from alibabacloud_dysmsapi20170525 import models

    approved = sms_client.get_sms_sign(models.GetSmsSignRequest(sign_name="Acme")).body
    for name in (
        "qualification_id",
        "app_icp_record_id",
        "trademark_id",
        "authorization_letter_id",
    ):
        value = getattr(approved, name)
        assert isinstance(value, int) and value > 0, name
    assert approved.authorization_letter_audit_pass is True
    pending = sms_client.get_sms_sign(models.GetSmsSignRequest(sign_name="AcmeBeta")).body
    assert pending.authorization_letter_audit_pass is False
    again = sms_client.get_sms_sign(models.GetSmsSignRequest(sign_name="Acme")).body
    assert again.qualification_id == approved.qualification_id  # stable per signature
    unset = [name for name, value in vars(approved).items() if value is None]
    assert unset == []


def test_sms_sign_list_entries_carry_every_field_of_the_sdk_model(sms_client):
    from alibabacloud_dysmsapi20170525 import models

    body = sms_client.query_sms_sign_list(models.QuerySmsSignListRequest(page_size=50)).body
    entries = {entry.sign_name: entry for entry in body.sms_sign_list}
    acme = entries["Acme"]
    assert [name for name, value in vars(acme).items() if value is None] == []
    assert isinstance(acme.trademark_id, int) and isinstance(acme.app_icp_record_id, int)
    assert isinstance(acme.authorization_letter_id, int)
    assert acme.authorization_letter_audit_pass is True
    assert entries["AcmeOld"].authorization_letter_audit_pass is False


def test_get_sms_template_carries_sign_list_vendor_states_and_intl_type(sms_client, sandbox):
    from alibabacloud_dysmsapi20170525 import models

    from smsctl.sandbox.state import Template

    body = sms_client.get_sms_template(
        models.GetSmsTemplateRequest(template_code="SMS_100000002")
    ).body
    assert body.sign_list.sign_list == ["Acme"]
    assert body.vendor_audit_status == {}
    assert body.intl_type is None  # only international templates have one
    sandbox.alibaba.state.add_template(
        Template(
            "SMS_900000001",
            "Overseas notice",
            "Your parcel ${order} has shipped.",
            "international",
            intl_type="notification",
        )
    )
    international = sms_client.get_sms_template(
        models.GetSmsTemplateRequest(template_code="SMS_900000001")
    ).body
    assert (international.template_type, international.intl_type) == ("3", 0)
    assert international.sign_list.sign_list == []


INTERNATIONAL_TEMPLATE = "SMS_100000006"
US_NUMBER = "12025550123"  # +1 202-555-0123, as country code + number


def send_code(sms_client, number, template=INTERNATIONAL_TEMPLATE):
    from alibabacloud_dysmsapi20170525 import models

    return sms_client.send_sms(
        models.SendSmsRequest(
            phone_numbers=number,
            sign_name="Acme",
            template_code=template,
            template_param='{"code":"4711"}',
        )
    ).body


def test_international_template_sends_to_a_number_outside_the_mainland(sms_client, sandbox):
    body = send_code(sms_client, US_NUMBER)
    assert body.code == "OK", body.message
    record = sandbox.alibaba.state.sms[-1]
    assert (record.phone, record.template_type) == (US_NUMBER, "international")
    assert (
        record.content == "【Acme】Your Acme verification code is 4711. It is valid for 5 minutes."
    )


@pytest.mark.parametrize("number", ["8613812345678", "+8613812345678", "008613812345678"])
def test_international_template_to_a_mainland_number_is_refused(sms_client, sandbox, number):
    body = send_code(sms_client, number)
    assert body.code == "isv.DOMESTIC_NUMBER_NOT_SUPPORTED"
    assert sandbox.alibaba.state.sms == []


@pytest.mark.parametrize("number", [US_NUMBER, "+12025550123", "85261234567"])
def test_mainland_template_to_a_number_outside_the_mainland_is_refused(sms_client, sandbox, number):
    body = send_code(sms_client, number, template="SMS_100000001")
    assert body.code == "isv.MOBILE_NUMBER_ILLEGAL"
    assert sandbox.alibaba.state.sms == []


def test_international_batch_checks_every_number(sms_client, sandbox):
    from alibabacloud_dysmsapi20170525 import models

    body = sms_client.send_batch_sms(
        models.SendBatchSmsRequest(
            phone_number_json=f'["{US_NUMBER}","8613812345678"]',
            sign_name_json='["Acme","Acme"]',
            template_code=INTERNATIONAL_TEMPLATE,
            template_param_json='[{"code":"1"},{"code":"2"}]',
        )
    ).body
    assert body.code == "isv.DOMESTIC_NUMBER_NOT_SUPPORTED"
    assert sandbox.alibaba.state.sms == []


def test_receipt_of_an_international_send(sms_client, sandbox):
    from alibabacloud_dysmsapi20170525 import models

    from smsctl.sandbox.alibaba import china_time

    biz_id = send_code(sms_client, US_NUMBER).biz_id
    day = china_time(sandbox.alibaba.state.sms[-1].sent_at).strftime("%Y%m%d")
    body = sms_client.query_send_details(
        models.QuerySendDetailsRequest(
            phone_number=US_NUMBER, send_date=day, page_size=10, current_page=1, biz_id=biz_id
        )
    ).body
    assert body.total_count == "1"
    assert body.sms_send_detail_dtos.sms_send_detail_dto[0].phone_num == US_NUMBER


# --- details and statistics: every accepted send, in pages, from any client ----------------------


def _details_page(sms_client, number, send_date, page, size):
    from alibabacloud_dysmsapi20170525 import models

    return sms_client.query_send_details(
        models.QuerySendDetailsRequest(
            phone_number=number, send_date=send_date, page_size=size, current_page=page
        )
    ).body


def test_send_details_lists_every_send_to_the_number_in_pages_newest_first(sms_client, sandbox):
    state = sandbox.alibaba.state
    state.flow_control_enabled = False
    for index in range(7):
        send(sms_client, "13800138030", param={"code": f"{index:04d}"})
        state.advance_clock(10)
    send(sms_client, "13800138031")  # another number
    pages = [_details_page(sms_client, "13800138030", SERVICE_DATE, page, 3) for page in (1, 2, 3)]
    assert {page.total_count for page in pages} == {"7"}
    shown = [dto for page in pages for dto in page.sms_send_detail_dtos.sms_send_detail_dto]
    assert [len(page.sms_send_detail_dtos.sms_send_detail_dto) for page in pages] == [3, 3, 1]
    codes = [re.search(r"：(\d{4})，", dto.content).group(1) for dto in shown]
    assert codes == [f"{i:04d}" for i in range(6, -1, -1)]
    assert (
        shown[0].send_date == "2026-12-01 12:01:00" and shown[-1].send_date == "2026-12-01 12:00:00"
    )
    beyond = _details_page(sms_client, "13800138030", SERVICE_DATE, 4, 3)
    assert beyond.total_count == "7" and beyond.sms_send_detail_dtos.sms_send_detail_dto == []


@pytest.mark.parametrize("send_date", ["20261101", "20251201"])
def test_send_details_answers_for_the_last_30_china_dates_only(sms_client, send_date):
    body = _details_page(sms_client, "13800138000", send_date, 1, 10)
    assert body.code == "isv.INVALID_PARAMETERS" and "30" in body.message


def test_send_details_answers_for_the_oldest_date_of_the_window_and_a_later_one(sms_client):
    assert _details_page(sms_client, "13800138000", "20261102", 1, 10).total_count == "0"
    assert _details_page(sms_client, "13800138000", "20261202", 1, 10).total_count == "0"


def _statistics(sms_client, start, end, page=1, size=10, **extra):
    from alibabacloud_dysmsapi20170525 import models

    return sms_client.query_send_statistics(
        models.QuerySendStatisticsRequest(
            is_globe=extra.pop("is_globe", 1), start_date=start, end_date=end, page_index=page,
            page_size=size, **extra,
        )
    ).body  # fmt: skip


def test_send_statistics_pages_dates_newest_first(sms_client, sandbox):
    state = sandbox.alibaba.state
    state.flow_control_enabled = False  # the clock goes back between sends
    for days_ago in range(5):
        state.set_clock(SERVICE_NOW - timedelta(days=days_ago), frozen=True)
        send(sms_client, "13800138040")
    state.set_clock(SERVICE_NOW + timedelta(seconds=30), frozen=True)
    first = _statistics(sms_client, "20261126", "20261201", size=2)
    second = _statistics(sms_client, "20261126", "20261201", page=2, size=2)
    third = _statistics(sms_client, "20261126", "20261201", page=3, size=2)
    assert (first.data.total_size, second.data.total_size) == (5, 5)
    dates = [row.send_date for body in (first, second, third) for row in body.data.target_list]
    assert dates == ["20261201", "20261130", "20261129", "20261128", "20261127"]
    assert all(row.responded_success_count == 1 for row in first.data.target_list)


def test_send_statistics_separates_international_sends_and_template_types(sms_client):
    send(sms_client, "13800138041")
    send_code(sms_client, US_NUMBER)
    assert _statistics(sms_client, SERVICE_DATE, SERVICE_DATE).data.target_list[0].total_count == 1
    abroad = _statistics(sms_client, SERVICE_DATE, SERVICE_DATE, is_globe=2).data.target_list
    assert [row.total_count for row in abroad] == [1]
    notification = _statistics(sms_client, SERVICE_DATE, SERVICE_DATE, template_type=1)
    assert notification.data.target_list == []


@pytest.mark.parametrize(
    "start,end,extra",
    [("20261201", "20261130", {}), (SERVICE_DATE, SERVICE_DATE, {"template_type": 5})],
)
def test_send_statistics_refuses_bad_ranges_and_types(sms_client, start, end, extra):
    body = _statistics(sms_client, start, end, **extra)
    assert body.code == "isv.INVALID_PARAMETERS"
