"""Alibaba Cloud SMS (dysmsapi 2017-05-25) adapter: plain dataclasses in, plain dataclasses out.

The SDK is imported inside methods only. Every failure is an SmsctlError (alibaba_common).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from smsctl.core import clock
from smsctl.core.catalog import Explanation
from smsctl.core.catalog.receipts import explain_receipt
from smsctl.core.errors import SmsctlError
from smsctl.providers.alibaba_common import (
    MALFORMED,
    SMS_ENDPOINT,
    AlibabaAccess,
    AlibabaAdapter,
    RetryPolicy,
    provider_number,
)
from smsctl.providers.answers import Answer

__all__ = [
    "AlibabaAccess",
    "AlibabaSms",
    "DayCounts",
    "Receipt",
    "RetryPolicy",
    "SendDetail",
    "SendResult",
    "SignatureInfo",
    "Submitted",
    "TemplateInfo",
]

# Numeric audit states shared by QuerySmsSign/GetSmsSign (ints) and GetSmsTemplate (strings).
_AUDIT_STATUS = {"0": "pending", "1": "approved", "2": "rejected", "10": "cancelled"}
_TEMPLATE_TYPE = {
    "0": "verification",
    "1": "notification",
    "2": "promotional",
    "3": "international",
}
_TEMPLATE_CODES = {kind: code for code, kind in _TEMPLATE_TYPE.items()}
# The list APIs spell review states as words (and the template list misspells one).
_LIST_AUDIT_STATUS = {
    "AUDIT_STATE_INIT": "pending",
    "AUDIT_STATE_PASS": "approved",
    "AUDIT_STATE_NOT_PASS": "rejected",
    "AUDIT_STATE_CANCEL": "cancelled",
    "AUDIT_SATE_CANCEL": "cancelled",
}
LIST_PAGE_SIZE = 50  # the most QuerySmsSignList / QuerySmsTemplateList give in one page
DETAILS_PAGE_SIZE = 50  # the most QuerySendDetails / QuerySendStatistics give in one page
# A provider that keeps saying there is more is not followed forever (50 pages of one number on
# one day is far beyond any flow control).
MAX_PAGES = 200
_RECEIPT_STATUS = {"1": "waiting", "2": "failed", "3": "delivered"}
# Codes that mean "this endpoint does not offer the newer Get* action": use the legacy Query*.
_FALLBACK_CODES = frozenset({"InvalidAction.NotFound", "InvalidAction", "InvalidApi.NotFound"})
_VARIABLE = re.compile(r"\$\{\s*([^}\s]+)\s*\}")


@dataclass(frozen=True)
class SignatureInfo:
    name: str
    status: str  # approved | pending | rejected | cancelled
    reason: str
    created: str | None


@dataclass(frozen=True)
class TemplateInfo:
    code: str
    name: str
    content: str
    variables: tuple[str, ...]
    type: str  # verification | notification | promotional | international | unknown
    status: str  # approved | pending | rejected | cancelled
    reason: str
    related_signature: str | None


@dataclass(frozen=True)
class Submitted:
    """What the provider answers to an application (CreateSmsTemplate, UpdateSmsTemplate,
    CreateSmsSign): the item's code or name, and the ticket its reviewers know it by."""

    name: str
    order_id: str | None
    request_id: str | None


# CreateSmsSign's SignSource numbers.
SIGN_SOURCES = {"enterprise": 0, "app": 2, "trademark": 5}


@dataclass(frozen=True)
class SendResult:
    biz_id: str
    request_id: str | None
    code: str
    message: str | None
    attempts: int


@dataclass(frozen=True)
class Receipt:
    status: str  # waiting | delivered | failed
    err_code: str | None
    receive_date: datetime | None  # the provider's China times, parsed as UTC+8
    send_date: datetime | None
    content: str | None
    explanation: Explanation | None = None
    recorded: bool = True  # False: the provider lists no such send (yet) on the date asked


@dataclass(frozen=True)
class SendDetail:
    """One SMS the provider recorded to a number (QuerySendDetails carries no BizId)."""

    phone: str | None
    status: str  # waiting | delivered | failed
    err_code: str | None
    template: str | None
    content: str | None
    send_date: datetime | None  # the provider's China times, parsed as UTC+8
    receive_date: datetime | None
    out_id: str | None
    explanation: Explanation | None = None


@dataclass(frozen=True)
class DayCounts:
    """QuerySendStatistics for one China date."""

    day: date
    total: int
    delivered: int  # RespondedSuccessCount
    failed: int  # RespondedFailCount
    pending: int  # NoRespondedCount: no receipt yet


def template_variables(content: str) -> tuple[str, ...]:
    """The ${var} names of a template, in order of first appearance."""
    return tuple(dict.fromkeys(_VARIABLE.findall(content or "")))


def audit_status(value: Any) -> str:
    """Provider audit state -> approved|pending|rejected|cancelled ("unknown(x)" otherwise, which
    is never treated as approved)."""
    return _AUDIT_STATUS.get(str(value).strip(), f"unknown({value})")


class AlibabaSms(AlibabaAdapter):
    default_host = SMS_ENDPOINT

    @staticmethod
    def _client_class() -> Any:
        from alibabacloud_dysmsapi20170525.client import Client

        return Client

    @staticmethod
    def _models() -> Any:
        from alibabacloud_dysmsapi20170525 import models

        return models

    def check_credentials(self) -> None:
        """A read-only call that needs valid credentials and SMS permissions."""
        request = self._models().QuerySmsSignListRequest(page_index=1, page_size=1)
        self.invoke("query_sms_sign_list", request, action="QuerySmsSignList")

    def get_signature(self, name: str) -> SignatureInfo:
        models = self._models()
        try:
            body, _ = self.invoke(
                "get_sms_sign", models.GetSmsSignRequest(sign_name=name), action="GetSmsSign"
            )
            answer = _answer(body, "GetSmsSign")
            audit = answer.object("AuditInfo")
            reason = (audit.text("RejectInfo") if audit else None) or ""
        except SmsctlError as error:
            if error.code not in _FALLBACK_CODES:
                raise _unknown_item(error, "signature", name) from None
            body, reason = self._query_sms_sign(name)
            answer = _answer(body, "QuerySmsSign")
        return SignatureInfo(
            name=answer.text("SignName") or name,
            status=audit_status(answer.token("SignStatus")),
            reason=reason or "",
            created=answer.text("CreateDate"),
        )

    def _query_sms_sign(self, name: str) -> tuple[dict[str, Any], str]:
        request = self._models().QuerySmsSignRequest(sign_name=name)
        try:
            body, _ = self.invoke("query_sms_sign", request, action="QuerySmsSign")
        except SmsctlError as error:
            raise _unknown_item(error, "signature", name) from None
        return body, _answer(body, "QuerySmsSign").text("Reason") or ""

    def get_template(self, code: str) -> TemplateInfo:
        models = self._models()
        try:
            body, _ = self.invoke(
                "get_sms_template",
                models.GetSmsTemplateRequest(template_code=code),
                action="GetSmsTemplate",
            )
            answer = _answer(body, "GetSmsTemplate")
            audit = answer.object("AuditInfo")
            reason = (audit.text("RejectInfo") if audit else None) or ""
        except SmsctlError as error:
            if error.code not in _FALLBACK_CODES:
                raise _unknown_item(error, "template", code) from None
            body, reason = self._query_sms_template(code)
            answer = _answer(body, "QuerySmsTemplate")
        content = answer.text("TemplateContent") or ""
        return TemplateInfo(
            code=answer.text("TemplateCode") or code,
            name=answer.text("TemplateName") or "",
            content=content,
            variables=template_variables(content),
            type=_TEMPLATE_TYPE.get(str(answer.token("TemplateType")), "unknown"),
            status=audit_status(answer.token("TemplateStatus")),
            reason=reason,
            related_signature=answer.text("RelatedSignName") or None,
        )

    def list_signatures(self, wanted: int | None = None) -> dict[str, SignatureInfo]:
        """The account's signatures from QuerySmsSignList, page by page. With `wanted`, stops
        after the first page when listing would take more requests than `wanted` single
        queries (the caller asks for the rest one by one)."""
        signatures = {}
        for entry in self._pages("query_sms_sign_list", "QuerySmsSignList", "SmsSignList", wanted):
            name = entry.text("SignName", required=True) or ""
            signatures[name] = SignatureInfo(
                name=name,
                status=_list_status(entry.text("AuditStatus")),
                reason=_reject_info(entry),
                created=entry.text("CreateDate"),
            )
        return signatures

    def list_templates(self, wanted: int | None = None) -> dict[str, TemplateInfo]:
        """The account's templates from QuerySmsTemplateList (see list_signatures)."""
        templates = {}
        for entry in self._pages(
            "query_sms_template_list", "QuerySmsTemplateList", "SmsTemplateList", wanted
        ):
            code = entry.text("TemplateCode", required=True) or ""
            content = entry.text("TemplateContent") or ""
            templates[code] = TemplateInfo(
                code=code,
                name=entry.text("TemplateName") or "",
                content=content,
                variables=template_variables(content),
                # the list numbers types its own way; OuterTemplateType is the usual numbering
                type=_TEMPLATE_TYPE.get(str(entry.token("OuterTemplateType")), "unknown"),
                status=_list_status(entry.text("AuditStatus")),
                reason=_reject_info(entry),
                related_signature=entry.text("SignatureName") or None,
            )
        return templates

    def _pages(self, method: str, action: str, key: str, wanted: int | None) -> list[Answer]:
        request_class = getattr(self._models(), action + "Request")
        entries: list[Answer] = []
        page = 1
        while True:
            request = request_class(page_index=page, page_size=LIST_PAGE_SIZE)
            body, _ = self.invoke(method, request, action=action)
            answer = _answer(body, action)
            shown = answer.objects(key)
            entries += shown
            total = answer.integer("TotalCount") or 0
            pages = -(-total // LIST_PAGE_SIZE)
            if page == 1 and wanted is not None and pages > wanted:
                return entries
            if not shown or len(entries) >= total or page >= pages:
                return entries
            page += 1

    def create_template(
        self, name: str, content: str, type_: str, signature: str | None, remark: str | None
    ) -> Submitted:
        """CreateSmsTemplate: the template is pending at the provider until reviewed."""
        request = self._models().CreateSmsTemplateRequest(
            template_name=name,
            template_content=content,
            template_type=int(_TEMPLATE_CODES[type_]),
            related_sign_name=signature,
            remark=remark,
            intl_type=2 if type_ == "international" else None,
            template_rule=variable_rules(content, type_),
        )
        body, _ = self.invoke("create_sms_template", request, action="CreateSmsTemplate")
        answer = _answer(body, "CreateSmsTemplate")
        return Submitted(
            answer.text("TemplateCode", required=True) or "",
            answer.text("OrderId"),
            answer.text("RequestId"),
        )

    def update_template(
        self,
        code: str,
        name: str,
        content: str,
        type_: str,
        signature: str | None,
        remark: str | None,
    ) -> Submitted:
        """UpdateSmsTemplate: a rejected template, changed and sent for review again."""
        request = self._models().UpdateSmsTemplateRequest(
            template_code=code,
            template_name=name,
            template_content=content,
            template_type=int(_TEMPLATE_CODES[type_]),
            related_sign_name=signature,
            remark=remark,
            intl_type=2 if type_ == "international" else None,
            template_rule=variable_rules(content, type_),
        )
        try:
            body, _ = self.invoke("update_sms_template", request, action="UpdateSmsTemplate")
        except SmsctlError as error:
            raise _unknown_item(error, "template", code) from None
        answer = _answer(body, "UpdateSmsTemplate")
        return Submitted(
            answer.text("TemplateCode") or code, answer.text("OrderId"), answer.text("RequestId")
        )

    def create_signature(
        self,
        name: str,
        *,
        source: str,
        qualification_id: int,
        remark: str | None,
        trademark_id: int | None = None,
        app_icp_record_id: int | None = None,
    ) -> Submitted:
        """CreateSmsSign: the signature is pending at the provider until reviewed."""
        request = self._models().CreateSmsSignRequest(
            sign_name=name,
            sign_source=SIGN_SOURCES[source],
            qualification_id=qualification_id,
            remark=remark,
            trademark_id=trademark_id,
            app_icp_record_id=app_icp_record_id,
        )
        body, _ = self.invoke("create_sms_sign", request, action="CreateSmsSign")
        answer = _answer(body, "CreateSmsSign")
        return Submitted(
            answer.text("SignName") or name, answer.text("OrderId"), answer.text("RequestId")
        )

    def _query_sms_template(self, code: str) -> tuple[dict[str, Any], str]:
        request = self._models().QuerySmsTemplateRequest(template_code=code)
        try:
            body, _ = self.invoke("query_sms_template", request, action="QuerySmsTemplate")
        except SmsctlError as error:
            raise _unknown_item(error, "template", code) from None
        return body, _answer(body, "QuerySmsTemplate").text("Reason") or ""

    def send(
        self,
        phone: str,
        sign_name: str,
        template_code: str,
        params: dict[str, str],
        out_id: str,
    ) -> SendResult:
        """One SendSms. Never retried once the request may have reached the provider."""
        request = self._models().SendSmsRequest(
            phone_numbers=provider_number(phone),
            sign_name=sign_name,
            template_code=template_code,
            template_param=json.dumps(
                {key: str(value) for key, value in params.items()}, ensure_ascii=False
            ),
            out_id=out_id,
        )
        body, attempts = self.invoke("send_sms", request, action="SendSms", is_send=True)
        answer = _answer(body, "SendSms", is_send=True)
        return SendResult(
            biz_id=answer.text("BizId", required=True) or "",
            request_id=answer.text("RequestId"),
            code=answer.text("Code") or "OK",
            message=answer.text("Message"),
            attempts=attempts,
        )

    def query_receipt(
        self, phone: str, biz_id: str | None, send_date: date, *, out_id: str | None = None
    ) -> Receipt:
        """The receipt of one send, by BizId, or by the OutId smsctl attached to it (for a send
        whose response was lost, there is no BizId)."""
        request = self._models().QuerySendDetailsRequest(
            phone_number=provider_number(phone),
            biz_id=biz_id,
            send_date=clock.compact(send_date),
            page_size=10 if biz_id else 50,
            current_page=1,
        )
        body, _ = self.invoke("query_send_details", request, action="QuerySendDetails")
        listing = _answer(body, "QuerySendDetails").object("SmsSendDetailDTOs")
        details = listing.objects("SmsSendDetailDTO") if listing else []
        if out_id is not None:
            details = [d for d in details if d.text("OutId") == out_id]
        if not details:
            # The record appears a moment after the send: nothing yet means "waiting".
            return Receipt("waiting", None, None, None, None, recorded=False)
        detail = details[0]
        status = _RECEIPT_STATUS.get(str(detail.token("SendStatus")), "waiting")
        err_code = detail.text("ErrCode") or None
        explanation = explain_receipt(err_code) if status != "waiting" else None
        return Receipt(
            status=status,
            err_code=err_code,
            receive_date=clock.china_time(detail.text("ReceiveDate")),
            send_date=clock.china_time(detail.text("SendDate")),
            content=detail.text("Content") or None,
            explanation=explanation,
        )

    def send_details(self, phone: str, send_date: date) -> list[SendDetail]:
        """Every SMS the provider recorded to `phone` under the China date `send_date`, whoever
        sent it: all pages of QuerySendDetails, in the provider's order."""
        models = self._models()
        found: list[SendDetail] = []
        for page in range(1, MAX_PAGES + 1):
            request = models.QuerySendDetailsRequest(
                phone_number=provider_number(phone),
                send_date=clock.compact(send_date),
                page_size=DETAILS_PAGE_SIZE,
                current_page=page,
            )
            body, _ = self.invoke("query_send_details", request, action="QuerySendDetails")
            answer = _answer(body, "QuerySendDetails")
            listing = answer.object("SmsSendDetailDTOs")
            shown = listing.objects("SmsSendDetailDTO") if listing else []
            found += [_send_detail(entry) for entry in shown]
            total = _count(answer, "TotalCount")
            if not shown or len(found) >= total:
                break
        return found

    def send_statistics(
        self, start: date, end: date, *, international: bool, sign_name: str | None
    ) -> list[DayCounts]:
        """QuerySendStatistics from `start` to `end` (China dates), all pages: one entry per
        date the provider reports."""
        models = self._models()
        days: list[DayCounts] = []
        for page in range(1, MAX_PAGES + 1):
            request = models.QuerySendStatisticsRequest(
                is_globe=2 if international else 1,
                start_date=clock.compact(start),
                end_date=clock.compact(end),
                page_index=page,
                page_size=DETAILS_PAGE_SIZE,
                sign_name=sign_name or None,
            )
            body, _ = self.invoke("query_send_statistics", request, action="QuerySendStatistics")
            data = _answer(body, "QuerySendStatistics").object("Data")
            shown = data.objects("TargetList") if data else []
            days += [_day_counts(entry) for entry in shown]
            total = _count(data, "TotalSize") if data else 0
            if not shown or len(days) >= total:
                break
        return days


def _send_detail(entry: Answer) -> SendDetail:
    status = _RECEIPT_STATUS.get(str(entry.token("SendStatus")), "waiting")
    err_code = entry.text("ErrCode") or None
    return SendDetail(
        phone=entry.text("PhoneNum"),
        status=status,
        err_code=err_code,
        template=entry.text("TemplateCode") or None,
        content=entry.text("Content") or None,
        send_date=clock.china_time(entry.text("SendDate")),
        receive_date=clock.china_time(entry.text("ReceiveDate")),
        out_id=entry.text("OutId") or None,
        explanation=explain_receipt(err_code) if status != "waiting" else None,
    )


def _day_counts(entry: Answer) -> DayCounts:
    raw = entry.text("SendDate", required=True) or ""
    try:
        day = datetime.strptime(raw, "%Y%m%d").date()
    except ValueError:
        raise entry.malformed(entry._name("SendDate"), raw, "a date as yyyyMMdd") from None
    return DayCounts(
        day=day,
        total=_count(entry, "TotalCount"),
        delivered=_count(entry, "RespondedSuccessCount"),
        failed=_count(entry, "RespondedFailCount"),
        pending=_count(entry, "NoRespondedCount"),
    )


def _count(answer: Answer, key: str) -> int:
    """A count the provider gives as a number or as a string of digits (TotalCount)."""
    value = answer.token(key)
    if value is None:
        return 0
    if not value.isdigit():
        raise answer.malformed(answer._name(key), value, "a count")
    return int(value)


def variable_rules(content: str, type_: str) -> str | None:
    """TemplateRule, which an application with variables must carry: what each variable holds
    (a verification template's are codes, others free text)."""
    names = template_variables(content)
    if not names:
        return None
    kind = "characterWithNumber" if type_ == "verification" else "others"
    return json.dumps({name: kind for name in names}, separators=(",", ":"))


def _reject_info(entry: Answer) -> str:
    reason = entry.object("Reason")
    return (reason.text("RejectInfo") if reason else None) or ""


def _list_status(value: str | None) -> str:
    return _LIST_AUDIT_STATUS.get(str(value).strip(), f"unknown({value})")


def _answer(body: dict[str, Any], action: str, *, is_send: bool = False) -> Answer:
    return Answer(body, f"Alibaba Cloud {action}", MALFORMED, is_send)


def _unknown_item(error: SmsctlError, kind: str, name: str) -> SmsctlError:
    """Add what to check when the provider refuses to describe a signature/template."""
    if error.exit_code == 5:
        error.hint = (
            f"Check that the {kind} {name!r} exists under the Alibaba Cloud account that owns this "
            f"AccessKey, spelled exactly (case, full-width characters), in the SMS console. "
            f"{error.hint or ''}"
        ).strip()
        error.details.setdefault(kind, name)
    return error
