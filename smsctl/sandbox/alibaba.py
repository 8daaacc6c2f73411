"""Emulator of Alibaba Cloud SMS (dysmsapi) and voice (dyvmsapi), both API version 2017-05-25,
served on one port: their action names are disjoint.

The gateway part (`AlibabaEmulator.handle`) verifies signatures and applies transport faults; the
API part (`Operations`) answers each action with the field names and value types of the real
service. Facts: docs/providers.md §1 and the installed SDK models.
"""

from __future__ import annotations

import hmac
import json
import random
import re
import time
import uuid
import zlib
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any
from xml.sax.saxutils import escape

from smsctl.sandbox.emulator import HttpEmulator, Reply
from smsctl.sandbox.seed import SANDBOX_ACCESS_KEY_ID, default_seed, national_number
from smsctl.sandbox.signing import IncomingRequest, SignatureError, Verifier
from smsctl.sandbox.state import (
    CALL_FAULTS,
    RECEIPT_FAULTS,
    RESERVED_NUMBERS,
    STATUS_CODES,
    CallRecord,
    Seed,
    Signature,
    SmsRecord,
    State,
    Template,
)

API_VERSION = "2017-05-25"
REGION = "cn-hangzhou"
SMS_HOST_ID = "dysmsapi.aliyuncs.com"
VOICE_HOST_ID = "dyvmsapi.aliyuncs.com"
CHINA_TZ = timezone(timedelta(hours=8))
PROD_ID_TTS = "11010000138001"
PROD_ID_VOICE = "11000000300006"
# Parameters of the RPC v1 signature scheme, not of the action.
PROTOCOL_PARAMS = {
    "Action",
    "Version",
    "Format",
    "Timestamp",
    "SignatureNonce",
    "SignatureMethod",
    "SignatureVersion",
    "Signature",
    "AccessKeyId",
    "SecurityToken",
    "SignatureType",
    "RegionId",
}
SEND_ACTIONS = {"SendSms", "SendBatchSms", "SingleCallByTts", "SingleCallByVoice"}
VARIABLE = re.compile(r"\$\{(\w+)\}")
URL_PATTERN = re.compile(r"https?://|www\.", re.IGNORECASE)
MAX_VARIABLE_LENGTH = 35
HTML_502 = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>Tengine</center>\r\n"
    b"</body>\r\n</html>\r\n"
)
CALL_STATE_DESCRIPTIONS = {
    "200000": "用户听完挂断",
    "200001": "用户未听完挂断",
    "200002": "被叫忙",
    "200003": "被叫无应答",
    "200004": "被叫号码不存在",
    "200005": "被叫无法接通",
    "200007": "被叫不在服务区",
    "200010": "被叫关机",
    "200011": "被叫停机",
}
# The emulated call timeline, in seconds: ringing before an answer, talk per answered state,
# and when an unanswered call is given up (no answer after ringing out; the others at once).
RING_SECONDS = 3
CALL_DURATIONS = {"200000": 12, "200001": 4}
CALL_FAILED_AFTER = {"200003": 45, "200002": 1, "200004": 1, "200005": 1, "200010": 1}
SIGN_LIST_STATUS = {
    "pending": "AUDIT_STATE_INIT",
    "approved": "AUDIT_STATE_PASS",
    "rejected": "AUDIT_STATE_NOT_PASS",
    "cancelled": "AUDIT_STATE_CANCEL",
}
# The template list and voice-file audit spell the cancelled state this way (see the SDK docs).
TEMPLATE_LIST_STATUS = {**SIGN_LIST_STATUS, "cancelled": "AUDIT_SATE_CANCEL"}
TEMPLATE_TYPE_CODES = {"verification": 0, "notification": 1, "promotional": 2, "international": 3}
# GetSmsTemplate's IntlType: what an international template (TemplateType 3) is for.
INTL_TYPE_CODES = {"notification": 0, "promotional": 1, "verification": 2}
# QuerySendStatistics' TemplateType: the usual numbering, plus 7 for digital messages (which
# the emulator never sends, so a filter on it counts nothing).
STATISTICS_TEMPLATE_TYPES = {"0", "1", "2", "3", "7"}
# QuerySendDetails answers for this many China dates, today included.
DETAILS_DAYS = 30
# CreateSmsSign's SignSource (0 organisation, 2 app, 5 trademark) and the filing each one needs.
SIGN_SOURCE_IDS = {0: None, 2: "AppIcpRecordId", 5: "TrademarkId"}
# A sign name is 2-12 characters, without brackets, punctuation, spaces or the word "test".
SIGN_NAME_FORBIDDEN = re.compile(r"[【】()\[\]（）,.，。\s]|test", re.IGNORECASE)
TEMPLATE_LIST_TYPE_CODES = {
    "notification": 0,
    "promotional": 1,
    "verification": 2,
    "international": 6,
}


class ApiError(Exception):
    """An answer other than OK. HTTP 200 for business (isv.*) errors, as the service does."""

    def __init__(
        self,
        code: str,
        message: str,
        status: int = 200,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status
        self.headers = headers or {}


def new_request_id() -> str:
    return str(uuid.uuid4()).upper()


def host_id_for(action: str) -> str:
    return VOICE_HOST_ID if action in VOICE_ACTIONS else SMS_HOST_ID


def json_reply(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Reply:
    data = json.dumps(body, ensure_ascii=False).encode("utf-8")
    return Reply(status, data, headers=headers or {}, document=body)


def xml_document(root: str, body: dict[str, Any]) -> bytes:
    """The body as the gateway writes it for `Format=XML`: a list becomes repeated elements."""
    inner = "".join(_xml_members(body))
    return f"<?xml version='1.0' encoding='UTF-8'?><{root}>{inner}</{root}>".encode()


def _xml_members(body: dict[str, Any]) -> list[str]:
    members = []
    for name, value in body.items():
        for item in value if isinstance(value, list) else [value]:
            members.append(f"<{name}>{_xml_value(item)}</{name}>")
    return members


def _xml_value(value: Any) -> str:
    if isinstance(value, dict):
        return "".join(_xml_members(value))
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else escape(str(value))


def as_xml(reply: Reply, action: str) -> Reply:
    if reply.document is None:
        return reply
    root = f"{action}Response" if reply.status == 200 else "Error"
    reply.body = xml_document(root, reply.document)
    reply.content_type = "text/xml;charset=utf-8"
    return reply


def error_reply(error: ApiError | SignatureError, action: str, request_id: str) -> Reply:
    headers = getattr(error, "headers", {})
    if error.status == 200:
        body = {"RequestId": request_id, "Code": error.code, "Message": error.message}
        return json_reply(200, body, headers)
    product = "Dyvmsapi" if action in VOICE_ACTIONS else "Dysmsapi"
    body = {
        "RequestId": request_id,
        "HostId": host_id_for(action),
        "Code": error.code,
        "Message": error.message,
        "Recommend": (
            f"https://api.aliyun.com/troubleshoot?q={error.code}&product={product}"
            f"&requestId={request_id}"
        ),
    }
    return json_reply(error.status, body, headers)


def china_time(stamp: float) -> datetime:
    return datetime.fromtimestamp(stamp, CHINA_TZ)


def format_time(stamp: float) -> str:
    return china_time(stamp).strftime("%Y-%m-%d %H:%M:%S")


def template_variables(content: str) -> list[str]:
    return list(dict.fromkeys(VARIABLE.findall(content)))


def render(content: str, values: dict[str, str]) -> str:
    return VARIABLE.sub(lambda match: values.get(match.group(1), match.group(0)), content)


def required(params: dict[str, str], *names: str) -> None:
    for name in names:
        if not params.get(name):
            raise ApiError(f"Missing{name}", f"{name} is mandatory for this action.", 400)


def int_param(params: dict[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = params.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError("isv.INVALID_PARAMETERS", f"参数异常：{name}={raw}") from None
    if not low <= value <= high:
        raise ApiError("isv.INVALID_PARAMETERS", f"参数异常：{name}超出范围[{low},{high}]")
    return value


def date_param(params: dict[str, str], name: str) -> str:
    value = params[name]
    try:
        datetime.strptime(value, "%Y%m%d")
    except ValueError:
        raise ApiError("isv.INVALID_PARAMETERS", f"参数异常：{name}格式应为yyyyMMdd") from None
    return value


def parse_variables(raw: str | None, content: str) -> dict[str, str]:
    """The template's variable values from a TemplateParam/TtsParam JSON string."""
    values: dict[str, Any] = {}
    if raw:
        try:
            values = json.loads(raw)
        except ValueError:
            raise ApiError("isv.INVALID_JSON_PARAM", "JSON参数不合法，只接受字符串值") from None
        if not isinstance(values, dict) or not all(isinstance(v, str) for v in values.values()):
            raise ApiError("isv.INVALID_JSON_PARAM", "JSON参数不合法，只接受字符串值")
    for name in template_variables(content):
        if not values.get(name):
            raise ApiError("isv.TEMPLATE_MISSING_PARAMETERS", f"模版缺少变量：{name}")
        if len(values[name]) > MAX_VARIABLE_LENGTH:
            raise ApiError("isv.PARAM_LENGTH_LIMIT", f"参数超出长度限制：{name}")
        if URL_PATTERN.search(values[name]):
            raise ApiError("isv.PARAM_NOT_SUPPORT_URL", f"不支持url为变量：{name}")
    return values


def international_number(number: str) -> str | None:
    """Country code + number (digits, no `+`) of a valid phone number, or None."""
    import phonenumbers

    digits = number.strip().replace(" ", "").replace("-", "")
    digits = digits[1:] if digits.startswith("+") else digits
    digits = digits[2:] if digits.startswith("00") else digits
    if not digits.isdigit():
        return None
    try:
        parsed = phonenumbers.parse("+" + digits)
    except phonenumbers.NumberParseException:
        return None
    return digits if phonenumbers.is_valid_number(parsed) else None


def phone_numbers(raw: str, limit: int, international: bool = False) -> list[str]:
    """The numbers of a send: mainland ones (national form) for a mainland template; for an
    international template, country code + number, a mainland one being refused as the service
    refuses it."""
    numbers = [number.strip() for number in raw.split(",") if number.strip()]
    if len(numbers) > limit:
        raise ApiError("isv.MOBILE_COUNT_OVER_LIMIT", f"手机号码数量超过限制，最多支持{limit}条")
    if not numbers:
        raise ApiError("isv.MOBILE_NUMBER_ILLEGAL", "非法手机号")
    found = []
    for number in numbers:
        if not international:
            found.append(national_number(number))
            continue
        digits = international_number(number)
        if digits is not None and digits.startswith("86"):
            raise ApiError(
                "isv.DOMESTIC_NUMBER_NOT_SUPPORTED", "国际/港澳台消息模板不支持发送境内号码"
            )
        found.append(digits)
    if None in found:
        raise ApiError("isv.MOBILE_NUMBER_ILLEGAL", "非法手机号")
    return [number for number in found if number is not None]


def receipt_number(raw: str) -> str | None:
    """A number as sends are filed: national form for the mainland, else country code + number."""
    national = national_number(raw)
    if national is not None:
        return national
    digits = international_number(raw)
    return None if digits is None or digits.startswith("86") else digits


def json_list(raw: str, name: str) -> list[Any]:
    try:
        value = json.loads(raw)
    except ValueError:
        raise ApiError("isv.INVALID_JSON_PARAM", f"JSON参数不合法：{name}") from None
    if not isinstance(value, list):
        raise ApiError("isv.INVALID_JSON_PARAM", f"JSON参数不合法：{name}应为数组")
    return value


def stable_digits(text: str, count: int) -> str:
    """Digits derived from `text`, the same in every process (order ids, sign codes)."""
    return f"{zlib.crc32(text.encode('utf-8')) % 10**count:0{count}d}"


def sign_entity_ids(signature: Signature) -> dict[str, int]:
    """The ids of the filings a signature was applied with (app ICP filing, trademark, letter of
    authorization), stable per name like the service's."""
    return {
        "AppIcpRecordId": int(stable_digits(f"icp:{signature.name}", 8)),
        "TrademarkId": int(stable_digits(f"trademark:{signature.name}", 8)),
        "AuthorizationLetterId": int(stable_digits(f"letter:{signature.name}", 8)),
    }


def compact_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def random_digits(count: int) -> str:
    return str(random.randint(10 ** (count - 1), 10**count - 1))


class Operations:
    """The API actions, each taking the request parameters and returning the OK body."""

    def __init__(self, state: State) -> None:
        self.state = state
        self.actions: dict[str, Callable[[dict[str, str]], dict[str, Any]]] = {
            "SendSms": self.send_sms,
            "SendBatchSms": self.send_batch_sms,
            "QuerySendDetails": self.query_send_details,
            "QuerySendStatistics": self.query_send_statistics,
            "QuerySmsSign": self.query_sms_sign,
            "GetSmsSign": self.get_sms_sign,
            "QuerySmsSignList": self.query_sms_sign_list,
            "QuerySmsTemplate": self.query_sms_template,
            "GetSmsTemplate": self.get_sms_template,
            "QuerySmsTemplateList": self.query_sms_template_list,
            "CreateSmsTemplate": self.create_sms_template,
            "UpdateSmsTemplate": self.update_sms_template,
            "CreateSmsSign": self.create_sms_sign,
            "SingleCallByTts": self.single_call_by_tts,
            "SingleCallByVoice": self.single_call_by_voice,
            "QueryCallDetailByCallId": self.query_call_detail_by_call_id,
            "QueryVoiceFileAuditInfo": self.query_voice_file_audit_info,
        }

    # -- sending SMS --------------------------------------------------------------------------

    def send_sms(self, params: dict[str, str]) -> dict[str, Any]:
        required(params, "PhoneNumbers", "SignName", "TemplateCode")
        signature = self._sendable_signature(params["SignName"])
        template = self._sendable_template(params["TemplateCode"])
        international = template.type == "international"
        numbers = phone_numbers(params["PhoneNumbers"], 1000, international)
        values = parse_variables(params.get("TemplateParam"), template.content)
        self._check_sms_flow(signature.name, numbers)
        biz_id = f"{random_digits(15)}^0"
        content = f"【{signature.name}】{render(template.content, values)}"
        for number in numbers:
            self._record_sms(biz_id, number, signature, template, content, params.get("OutId", ""))
        return {"Code": "OK", "Message": "OK", "BizId": biz_id}

    def send_batch_sms(self, params: dict[str, str]) -> dict[str, Any]:
        required(params, "PhoneNumberJson", "SignNameJson", "TemplateCode")
        raw_numbers = json_list(params["PhoneNumberJson"], "PhoneNumberJson")
        sign_names = json_list(params["SignNameJson"], "SignNameJson")
        param_list = json_list(params.get("TemplateParamJson") or "[]", "TemplateParamJson")
        if len(raw_numbers) > 100:
            raise ApiError("isv.MOBILE_COUNT_OVER_LIMIT", "手机号码数量超过限制，最多支持100条")
        if len(sign_names) != len(raw_numbers) or (
            param_list and len(param_list) != len(raw_numbers)
        ):
            raise ApiError("isv.INVALID_PARAMETERS", "手机号码、签名和模板参数的数量不一致")
        template = self._sendable_template(params["TemplateCode"])
        international = template.type == "international"
        numbers = phone_numbers(",".join(str(n) for n in raw_numbers), 100, international)
        batch = []
        for index, number in enumerate(numbers):
            signature = self._sendable_signature(str(sign_names[index]))
            raw_values = json.dumps(param_list[index]) if param_list else None
            values = parse_variables(raw_values, template.content)
            batch.append((number, signature, values))
        for number, signature, _ in batch:
            self._check_sms_flow(signature.name, [number])
        biz_id = f"{random_digits(15)}^0"
        for number, signature, values in batch:
            content = f"【{signature.name}】{render(template.content, values)}"
            self._record_sms(biz_id, number, signature, template, content, params.get("OutId", ""))
        return {"Code": "OK", "Message": "OK", "BizId": biz_id}

    def _sendable_signature(self, name: str) -> Signature:
        signature = self.state.current_signature(name)
        if signature is None or signature.status != "approved":
            raise ApiError("isv.SMS_SIGNATURE_ILLEGAL", "该账号下找不到对应签名")
        return signature

    def _sendable_template(self, code: str) -> Template:
        template = self.state.current_template(code)
        if template is None or template.status != "approved":
            raise ApiError("isv.SMS_TEMPLATE_ILLEGAL", "该账号下找不到对应模板")
        return template

    def _check_sms_flow(self, sign_name: str, numbers: list[str]) -> None:
        for number in numbers:
            message = self.state.flow_violation(
                ("sms", sign_name, number), self.state.sms_flow_limit
            )
            if message:
                raise ApiError("isv.BUSINESS_LIMIT_CONTROL", message)

    def _record_sms(
        self,
        biz_id: str,
        number: str,
        signature: Signature,
        template: Template,
        content: str,
        out_id: str,
    ) -> None:
        fault = self.state.faults.get(number) or RESERVED_NUMBERS.get(number, "")
        self.state.record_flow(("sms", signature.name, number))
        self.state.sms.append(
            SmsRecord(
                biz_id=biz_id,
                phone=number,
                sign_name=signature.name,
                template_code=template.code,
                template_type=template.type,
                content=content,
                out_id=out_id,
                sent_at=self.state.now(),
                outcome=RECEIPT_FAULTS.get(fault, "DELIVERED"),
            )
        )

    # -- receipts and statistics --------------------------------------------------------------

    def query_send_details(self, params: dict[str, str]) -> dict[str, Any]:
        required(params, "PhoneNumber", "SendDate", "PageSize", "CurrentPage")
        send_date = date_param(params, "SendDate")
        today = china_time(self.state.now()).date()
        asked = datetime.strptime(send_date, "%Y%m%d").date()
        # Older dates are refused; a later one (a client whose clock is past China's midnight
        # already) simply lists nothing yet.
        if asked < today - timedelta(days=DETAILS_DAYS - 1):
            raise ApiError(
                "isv.INVALID_PARAMETERS", f"参数异常：SendDate只支持查询近{DETAILS_DAYS}天的记录"
            )
        page_size = int_param(params, "PageSize", 10, 1, 50)
        page = int_param(params, "CurrentPage", 1, 1, 10**6)
        number = receipt_number(params["PhoneNumber"])
        if number is None:
            raise ApiError("isv.MOBILE_NUMBER_ILLEGAL", "非法手机号")
        biz_id = params.get("BizId")
        matches = [
            record
            for record in reversed(self.state.sms)
            if record.phone == number
            and china_time(record.sent_at).strftime("%Y%m%d") == send_date
            and (not biz_id or record.biz_id == biz_id)
        ]
        shown = matches[(page - 1) * page_size : page * page_size]
        return {
            "Code": "OK",
            "Message": "OK",
            "TotalCount": str(len(matches)),
            "SmsSendDetailDTOs": {"SmsSendDetailDTO": [self._detail(r) for r in shown]},
        }

    def _detail(self, record: SmsRecord) -> dict[str, Any]:
        received_at = record.sent_at + self.state.receipt_delay
        if self.state.now() < received_at:
            status, err_code, receive_date = 1, "", ""
        else:
            status = 3 if record.outcome == "DELIVERED" else 2
            err_code, receive_date = record.outcome, format_time(received_at)
        return {
            "PhoneNum": record.phone,
            "SendStatus": status,
            "ErrCode": err_code,
            "TemplateCode": record.template_code,
            "Content": record.content,
            "SendDate": format_time(record.sent_at),
            "ReceiveDate": receive_date,
            "OutId": record.out_id,
        }

    def query_send_statistics(self, params: dict[str, str]) -> dict[str, Any]:
        required(params, "IsGlobe", "StartDate", "EndDate", "PageIndex", "PageSize")
        start, end = date_param(params, "StartDate"), date_param(params, "EndDate")
        is_globe = int_param(params, "IsGlobe", 1, 1, 2)
        page = int_param(params, "PageIndex", 1, 1, 10**6)
        page_size = int_param(params, "PageSize", 10, 1, 50)
        if start > end:
            raise ApiError("isv.INVALID_PARAMETERS", "参数异常：StartDate不能晚于EndDate")
        template_type = params.get("TemplateType")
        if template_type not in (None, "") and template_type not in STATISTICS_TEMPLATE_TYPES:
            raise ApiError("isv.INVALID_PARAMETERS", f"参数异常：TemplateType={template_type}")
        sign_name = params.get("SignName")
        days: dict[str, dict[str, int]] = {}
        for record in self.state.sms:
            day = china_time(record.sent_at).strftime("%Y%m%d")
            international = record.template_type == "international"
            if not start <= day <= end or (is_globe == 2) != international:
                continue
            if sign_name and record.sign_name != sign_name:
                continue
            if template_type not in (None, "") and str(
                TEMPLATE_TYPE_CODES[record.template_type]
            ) != str(template_type):
                continue
            counts = days.setdefault(
                day,
                {
                    "TotalCount": 0,
                    "RespondedSuccessCount": 0,
                    "RespondedFailCount": 0,
                    "NoRespondedCount": 0,
                },
            )
            counts["TotalCount"] += 1
            counts[self._statistics_bucket(record)] += 1
        ordered = sorted(days.items(), reverse=True)
        shown = ordered[(page - 1) * page_size : page * page_size]
        return {
            "Code": "OK",
            "Message": "OK",
            "Data": {
                "TotalSize": len(ordered),
                "TargetList": [{"SendDate": day, **counts} for day, counts in shown],
            },
        }

    def _statistics_bucket(self, record: SmsRecord) -> str:
        if self.state.now() < record.sent_at + self.state.receipt_delay:
            return "NoRespondedCount"
        if record.outcome == "DELIVERED":
            return "RespondedSuccessCount"
        return "RespondedFailCount"

    # -- signatures ---------------------------------------------------------------------------

    def _observed_signature(self, params: dict[str, str]) -> Signature:
        required(params, "SignName")
        signature = self.state.observe_signature(params["SignName"])
        if signature is None:
            raise ApiError("isv.SMS_SIGNATURE_ILLEGAL", "该账号下找不到对应签名")
        return signature

    def query_sms_sign(self, params: dict[str, str]) -> dict[str, Any]:
        signature = self._observed_signature(params)
        return {
            "Code": "OK",
            "Message": "OK",
            "SignName": signature.name,
            "SignStatus": STATUS_CODES[signature.status],
            "Reason": signature.reason,
            "CreateDate": signature.create_date,
        }

    def get_sms_sign(self, params: dict[str, str]) -> dict[str, Any]:
        signature = self._observed_signature(params)
        return {
            "Code": "OK",
            "Message": "OK",
            "SignName": signature.name,
            "SignCode": f"SIGN_{stable_digits(signature.name, 12)}",
            "SignStatus": STATUS_CODES[signature.status],
            "SignTag": "2",
            "SignUsage": "自用",
            "ThirdParty": False,
            "ApplyScene": "登录验证、订单通知" if signature.usage == "general" else "登录验证",
            "Remark": "",
            "CreateDate": signature.create_date,
            "OrderId": f"2000{stable_digits(signature.name, 8)}",
            "AuditInfo": {
                "AuditDate": signature.create_date if signature.status != "pending" else "",
                "RejectInfo": signature.reason if signature.status == "rejected" else "",
            },
            "FileUrlList": [],
            "RegisterResult": 1 if signature.status == "approved" else -1,
            "SignIspRegisterDetailList": self._isp_registration(signature),
            **sign_entity_ids(signature),
            "QualificationId": int(stable_digits(f"qualification:{signature.name}", 8)),
            "AuthorizationLetterAuditPass": signature.status == "approved",
        }

    def _isp_registration(self, signature: Signature) -> list[dict[str, Any]]:
        register_status, reason = {
            "approved": (3, "DETECT_SUCCESS"),
            "pending": (-1, "REGISTERING"),
        }.get(signature.status, (-2, "NON_REGISTER"))
        completed = signature.create_date if register_status == 3 else ""
        return [
            {
                "OperatorCode": operator,
                "OperatorCompleteTime": completed,
                "RegisterStatus": register_status,
                "RegisterStatusReasons": [{"ReasonCode": reason, "ReasonDescList": []}],
            }
            for operator in ("mobile", "unicom", "telecom")
        ]

    def query_sms_sign_list(self, params: dict[str, str]) -> dict[str, Any]:
        page = int_param(params, "PageIndex", 1, 1, 10**6)
        page_size = int_param(params, "PageSize", 10, 1, 50)
        names = list(self.state.signatures)
        signatures = [self.state.observe_signature(name) for name in names]
        shown = signatures[(page - 1) * page_size : page * page_size]
        return {
            "Code": "OK",
            "Message": "OK",
            "CurrentPage": page,
            "PageSize": page_size,
            "TotalCount": len(signatures),
            "SmsSignList": [self._sign_list_entry(sig) for sig in shown if sig is not None],
        }

    def _sign_list_entry(self, signature: Signature) -> dict[str, Any]:
        rejected = signature.status == "rejected"
        return {
            "SignName": signature.name,
            "AuditStatus": SIGN_LIST_STATUS[signature.status],
            "CreateDate": signature.create_date,
            "BusinessType": "验证码" if signature.usage == "verification" else "通用",
            "OrderId": f"2000{stable_digits(signature.name, 8)}",
            **sign_entity_ids(signature),
            # Spelled with a lower-case initial in this list, as the SDK model reads it.
            "authorizationLetterAuditPass": signature.status == "approved",
            "Reason": {
                "RejectDate": signature.create_date if rejected else "",
                "RejectInfo": signature.reason if rejected else "",
                "RejectSubInfo": "",
            },
        }

    # -- templates ----------------------------------------------------------------------------

    def _observed_template(self, params: dict[str, str]) -> Template:
        required(params, "TemplateCode")
        template = self.state.observe_template(params["TemplateCode"])
        if template is None:
            raise ApiError("isv.SMS_TEMPLATE_ILLEGAL", "该账号下找不到对应模板")
        return template

    def query_sms_template(self, params: dict[str, str]) -> dict[str, Any]:
        template = self._observed_template(params)
        return {
            "Code": "OK",
            "Message": "OK",
            "TemplateCode": template.code,
            "TemplateName": template.name,
            "TemplateContent": template.content,
            "TemplateStatus": STATUS_CODES[template.status],
            "TemplateType": TEMPLATE_TYPE_CODES[template.type],
            "Reason": template.reason,
            "CreateDate": template.create_date,
        }

    def get_sms_template(self, params: dict[str, str]) -> dict[str, Any]:
        template = self._observed_template(params)
        kind = "characterWithNumber" if template.type == "verification" else "others"
        variables = {name: kind for name in template_variables(template.content)}
        body: dict[str, Any] = {
            "Code": "OK",
            "Message": "OK",
            "TemplateCode": template.code,
            "TemplateName": template.name,
            "TemplateContent": template.content,
            "TemplateStatus": str(STATUS_CODES[template.status]),
            "TemplateType": str(TEMPLATE_TYPE_CODES[template.type]),
            "TemplateTag": 2,
            "RelatedSignName": template.related_sign_name,
            "VariableAttribute": json.dumps(variables, ensure_ascii=False, separators=(",", ":")),
            "CreateDate": template.create_date,
            "OrderId": f"2000{stable_digits(template.code, 8)}",
            "Remark": "",
            "ApplyScene": "",
            "AuditInfo": {
                "AuditDate": template.create_date if template.status != "pending" else "",
                "RejectInfo": template.reason if template.status == "rejected" else "",
            },
            "FileUrlList": {"FileUrl": []},
            "MoreDataFileUrlList": {"MoreDataFileUrl": []},
            "SignList": {
                "SignList": [template.related_sign_name] if template.related_sign_name else []
            },
            # Per-carrier review states: only digital (multimedia) templates have them.
            "VendorAuditStatus": {},
        }
        if template.type == "international":
            body["IntlType"] = INTL_TYPE_CODES[template.intl_type]
        return body

    def query_sms_template_list(self, params: dict[str, str]) -> dict[str, Any]:
        page = int_param(params, "PageIndex", 1, 1, 10**6)
        page_size = int_param(params, "PageSize", 10, 1, 50)
        templates = [self.state.observe_template(code) for code in list(self.state.templates)]
        shown = templates[(page - 1) * page_size : page * page_size]
        return {
            "Code": "OK",
            "Message": "OK",
            "CurrentPage": page,
            "PageSize": page_size,
            "TotalCount": len(templates),
            "SmsTemplateList": [self._template_list_entry(t) for t in shown if t is not None],
        }

    def _template_list_entry(self, template: Template) -> dict[str, Any]:
        rejected = template.status == "rejected"
        return {
            "TemplateCode": template.code,
            "TemplateName": template.name,
            "TemplateContent": template.content,
            "TemplateType": TEMPLATE_LIST_TYPE_CODES[template.type],
            "OuterTemplateType": TEMPLATE_TYPE_CODES[template.type],
            "AuditStatus": TEMPLATE_LIST_STATUS[template.status],
            "SignatureName": template.related_sign_name,
            "CreateDate": template.create_date,
            "OrderId": f"2000{stable_digits(template.code, 8)}",
            "TrafficDriving": "",
            "Reason": {
                "RejectDate": template.create_date if rejected else "",
                "RejectInfo": template.reason if rejected else "",
                "RejectSubInfo": "",
            },
        }

    # -- applying for templates and signatures ------------------------------------------------

    def create_sms_template(self, params: dict[str, str]) -> dict[str, Any]:
        name, content, kind = self._template_application(params)
        code = f"SMS_{500000000 + len(self.state.templates) + self.state.created}"
        self.state.created += 1
        template = Template(
            code, name, content, kind, related_sign_name=params.get("RelatedSignName", "")
        )
        template.create_date = format_time(self.state.now())
        if kind == "international":
            intl = {v: k for k, v in INTL_TYPE_CODES.items()}
            template.intl_type = intl[int_param(params, "IntlType", 2, 0, 2)]
        self.state.submit_for_review(template, content)
        self.state.add_template(template)
        return self._application_answer(template.code, name)

    def update_sms_template(self, params: dict[str, str]) -> dict[str, Any]:
        required(params, "TemplateCode")
        template = self.state.current_template(params["TemplateCode"])
        if template is None:
            raise ApiError("isv.SMS_TEMPLATE_ILLEGAL", "该账号下找不到对应模板")
        if template.status != "rejected":
            raise ApiError("isv.INVALID_PARAMETERS", "参数异常：只能修改审核未通过的模板")
        name, content, kind = self._template_application(params)
        template.name, template.content, template.type = name, content, kind
        template.related_sign_name = params.get("RelatedSignName", template.related_sign_name)
        self.state.submit_for_review(template, content)
        return self._application_answer(template.code, name)

    def _template_application(self, params: dict[str, str]) -> tuple[str, str, str]:
        required(params, "TemplateName", "TemplateContent", "TemplateType")
        kinds = {code: kind for kind, code in TEMPLATE_TYPE_CODES.items()}
        kind = kinds[int_param(params, "TemplateType", 0, 0, 3)]
        name, content = params["TemplateName"], params["TemplateContent"]
        if len(name) > 30:
            raise ApiError("isv.INVALID_PARAMETERS", "参数异常：TemplateName长度不能超过30个字符")
        if len(content) > 500:
            raise ApiError("isv.PARAM_LENGTH_LIMIT", "参数超出长度限制：TemplateContent")
        rule = params.get("TemplateRule")
        if template_variables(content):
            try:
                rules = json.loads(rule) if rule else None
            except ValueError:
                rules = None
            if not isinstance(rules, dict) or set(rules) != set(template_variables(content)):
                raise ApiError("isv.INVALID_PARAMETERS", "参数异常：TemplateRule与模板变量不一致")
        related = params.get("RelatedSignName", "")
        if kind != "international":
            if not related:
                raise ApiError("isv.INVALID_PARAMETERS", "参数异常：RelatedSignName不能为空")
            signature = self.state.current_signature(related)
            if signature is None or signature.status != "approved":
                raise ApiError("isv.SMS_SIGNATURE_ILLEGAL", "该账号下找不到对应签名")
        return name, content, kind

    def _application_answer(self, code: str, name: str) -> dict[str, Any]:
        return {
            "Code": "OK",
            "Message": "OK",
            "TemplateCode": code,
            "TemplateName": name,
            "OrderId": f"2000{stable_digits(code, 8)}",
        }

    def create_sms_sign(self, params: dict[str, str]) -> dict[str, Any]:
        required(params, "SignName", "SignSource", "QualificationId")
        name = params["SignName"]
        source = int_param(params, "SignSource", 0, 0, 5)
        if source not in SIGN_SOURCE_IDS:
            raise ApiError("isv.INVALID_PARAMETERS", f"参数异常：SignSource={source}")
        needed = SIGN_SOURCE_IDS[source]
        if needed and not params.get(needed):
            raise ApiError("isv.INVALID_PARAMETERS", f"参数异常：{needed}不能为空")
        int_param(params, "QualificationId", 0, 1, 10**18)
        if not 2 <= len(name) <= 12 or SIGN_NAME_FORBIDDEN.search(name):
            raise ApiError("isv.SIGN_NAME_ILLEGAL", "签名名称不符合规范")
        if name in self.state.signatures:
            raise ApiError("isv.SIGN_NAME_ILLEGAL", "签名名称已存在")
        signature = Signature(name, create_date=format_time(self.state.now()))
        usage = int_param(params, "SignType", 1, 0, 1)
        signature.usage = "verification" if usage == 0 else "general"
        self.state.submit_for_review(signature, name + " " + params.get("Remark", ""))
        self.state.add_signature(signature)
        return {
            "Code": "OK",
            "Message": "OK",
            "SignName": name,
            "OrderId": f"2000{stable_digits(name, 8)}",
        }

    # -- voice --------------------------------------------------------------------------------

    def single_call_by_tts(self, params: dict[str, str]) -> dict[str, Any]:
        required(params, "CalledNumber", "TtsCode")
        template = self.state.voice_templates.get(params["TtsCode"])
        if template is None or template.kind != "tts" or template.status != "approved":
            raise ApiError("isv.TTS_TEMPLATE_ILLEGAL", "TTS模板不存在或未审核通过")
        values = parse_variables(params.get("TtsParam"), template.content)
        content = render(template.content, values)
        return self._place_call(params, PROD_ID_TTS, template.code, content)

    def single_call_by_voice(self, params: dict[str, str]) -> dict[str, Any]:
        required(params, "CalledNumber", "VoiceCode")
        template = self.state.voice_templates.get(params["VoiceCode"])
        if template is None or template.kind != "voice-file" or template.status != "approved":
            raise ApiError("isv.VOICE_FILE_ILLEGAL", "语音文件不存在或未审核通过")
        return self._place_call(params, PROD_ID_VOICE, template.code, "")

    def _place_call(
        self, params: dict[str, str], prod_id: str, code: str, content: str
    ) -> dict[str, Any]:
        callee = national_number(params["CalledNumber"])
        if callee is None or "," in params["CalledNumber"]:
            raise ApiError("isv.MOBILE_NUMBER_ILLEGAL", "非法手机号")
        int_param(params, "PlayTimes", 3, 1, 3)
        int_param(params, "Volume", 100, 0, 100)
        int_param(params, "Speed", 0, -500, 500)
        out_id = params.get("OutId", "")
        if len(out_id.encode("utf-8")) > 15:
            raise ApiError("isv.INVALID_PARAMETERS", "参数异常：OutId长度不能超过15字节")
        message = self.state.flow_violation(("voice", callee), self.state.voice_flow_limit)
        if message:
            raise ApiError("isv.BUSINESS_LIMIT_CONTROL", message)
        self.state.record_flow(("voice", callee))
        fault = self.state.faults.get(callee) or RESERVED_NUMBERS.get(callee, "")
        call_id = f"{random_digits(12)}^{random_digits(11)}"
        self.state.calls.append(
            CallRecord(
                call_id=call_id,
                callee=callee,
                caller_show_number=params.get("CalledShowNumber", ""),
                prod_id=prod_id,
                code=code,
                content=content,
                out_id=out_id,
                started_at=self.state.now(),
                state=CALL_FAULTS.get(fault, "200000"),
            )
        )
        return {"Code": "OK", "Message": "OK", "CallId": call_id}

    def query_call_detail_by_call_id(self, params: dict[str, str]) -> dict[str, Any]:
        required(params, "CallId", "ProdId", "QueryDate")
        # Call records are kept per China date: QueryDate (epoch ms) names the day.
        day = china_time(int_param(params, "QueryDate", 0, 0, 10**14) / 1000).date()
        body: dict[str, Any] = {"Code": "OK", "Message": "OK"}
        for call in self.state.calls:
            published = self.state.now() >= call.started_at + self.state.call_result_delay
            if (
                call.call_id == params["CallId"]
                and call.prod_id == params["ProdId"]
                and china_time(call.started_at).date() == day
                and published
            ):
                body["Data"] = compact_json(self._call_detail(call))
        return body

    def _call_detail(self, call: CallRecord) -> dict[str, Any]:
        """The emulated call's own timeline: created when placed, answered after ringing, ended
        after `duration` seconds of talk (the sandbox publishes it after call_result_delay)."""
        duration = CALL_DURATIONS.get(call.state, 0)
        connected = duration > 0
        answered_at = call.started_at + RING_SECONDS
        ended_at = (
            answered_at + duration
            if connected
            else call.started_at + CALL_FAILED_AFTER.get(call.state, RING_SECONDS)
        )
        return {
            "callId": call.call_id,
            "caller": call.caller_show_number,
            "callerShowNumber": call.caller_show_number,
            "callee": call.callee,
            "calleeShowNumber": call.callee,
            "gmtCreate": format_time(call.started_at),
            "startDate": format_time(answered_at) if connected else "",
            "endDate": format_time(ended_at),
            "duration": duration,
            "state": call.state,
            "stateDesc": CALL_STATE_DESCRIPTIONS.get(call.state, "系统错误"),
            "hangupDirection": "1" if call.state == "200001" else "0",
            "outId": call.out_id,
        }

    def query_voice_file_audit_info(self, params: dict[str, str]) -> dict[str, Any]:
        required(params, "VoiceCodes")
        codes = [code.strip() for code in params["VoiceCodes"].split(",") if code.strip()]
        if len(codes) > 10:
            raise ApiError("isv.INVALID_PARAMETERS", "参数异常：VoiceCodes最多支持10个")
        data = []
        for code in codes:
            template = self.state.voice_templates.get(code)
            if template is None:
                continue
            data.append(
                {
                    "VoiceCode": code,
                    "AuditState": TEMPLATE_LIST_STATUS[template.status],
                    "RejectInfo": template.reason if template.status == "rejected" else "",
                }
            )
        return {"Code": "OK", "Message": "OK", "Data": data}


SMS_ACTIONS = {
    "SendSms",
    "SendBatchSms",
    "QuerySendDetails",
    "QuerySendStatistics",
    "QuerySmsSign",
    "GetSmsSign",
    "QuerySmsSignList",
    "QuerySmsTemplate",
    "GetSmsTemplate",
    "QuerySmsTemplateList",
    "CreateSmsTemplate",
    "UpdateSmsTemplate",
    "CreateSmsSign",
}
VOICE_ACTIONS = {
    "SingleCallByTts",
    "SingleCallByVoice",
    "QueryCallDetailByCallId",
    "QueryVoiceFileAuditInfo",
}


class AlibabaEmulator(HttpEmulator):
    """The SMS + voice emulator as a sandbox component: start(), stop(), info()."""

    thread_name = "alibaba-emulator"
    server_version = "Tengine"
    sys_version = ""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, seed: Seed | None = None) -> None:
        super().__init__(host, port)
        self.state = State(seed or default_seed())
        self.operations = Operations(self.state)
        self.verifier = Verifier(self.state.lookup_key, self.state.use_nonce, time.time)

    def info(self) -> dict[str, dict[str, Any]]:
        key = self.state.lookup_key(SANDBOX_ACCESS_KEY_ID) or next(
            iter(self.state.access_keys.values())
        )
        entry = {
            "endpoint": self.endpoint,
            "access_key_id": key.id,
            "access_key_secret": key.secret,
            "region": REGION,
        }
        return {"sms": dict(entry), "voice": dict(entry)}

    # -- the gateway --------------------------------------------------------------------------

    def handle(self, request: IncomingRequest) -> Reply:
        reply = self._handle(request)
        if (request.param("Format") or "").upper() == "XML":
            return as_xml(reply, self._action(request))
        return reply

    def _action(self, request: IncomingRequest) -> str:
        return request.header("x-acs-action") or request.param("Action") or ""

    def _handle(self, request: IncomingRequest) -> Reply:
        request_id = new_request_id()
        action = self._action(request)
        try:
            self._check_route(request, action)
            key_id = self.verifier.verify(request)
            self._check_security_token(request, key_id)
            params = {
                key: value
                for key, value in [*request.query, *request.form]
                if key not in PROTOCOL_PARAMS
            }
            self.state.log_request(action, params)
            return self._answer(action, params, request_id)
        except (ApiError, SignatureError) as error:
            return error_reply(error, action, request_id)

    def _check_security_token(self, request: IncomingRequest, key_id: str) -> None:
        """Temporary credentials (an STS AccessKey) need their own token, unexpired; a token
        does not go with a long-term AccessKey."""
        token = request.header("x-acs-security-token") or request.param("SecurityToken")
        session = self.state.sts_session(key_id)
        if session is None:
            if token:
                raise SignatureError(
                    "InvalidSecurityToken.MismatchWithAccessKey",
                    "Specified SecurityToken mismatch with the AccessKey.",
                )
            return
        if not token:
            raise SignatureError(
                "MissingSecurityToken", "SecurityToken is mandatory for this action."
            )
        if not hmac.compare_digest(token, session.security_token):
            issued = any(
                hmac.compare_digest(token, other.security_token)
                for other in list(self.state.sts_sessions.values())
            )
            if issued:
                raise SignatureError(
                    "InvalidSecurityToken.MismatchWithAccessKey",
                    "Specified SecurityToken mismatch with the AccessKey.",
                )
            raise SignatureError(
                "InvalidSecurityToken.Malformed", "Specified SecurityToken is malformed."
            )
        if self.state.now() >= session.expires_at:
            raise SignatureError(
                "InvalidSecurityToken.Expired", "Specified SecurityToken is expired."
            )

    def _check_route(self, request: IncomingRequest, action: str) -> None:
        version = request.header("x-acs-version") or request.param("Version")
        if action not in SMS_ACTIONS and action not in VOICE_ACTIONS:
            raise ApiError(
                "InvalidAction.NotFound",
                "Specified api is not found, please check your url and method.",
                404,
            )
        if version != API_VERSION:
            raise ApiError("InvalidVersion", "Specified parameter Version is not valid.", 400)

    def _answer(self, action: str, params: dict[str, str], request_id: str) -> Reply:
        fault = self.state.take_pending_fault(action) or self._numbers_fault(action, params)
        if fault == "throttle_once":
            fault = self._throttle_once(action, params)
        if fault == "drop_connection":
            return Reply(0, b"", drop=True)
        if fault == "html_502":
            return Reply(502, HTML_502, content_type="text/html")
        if fault == "slow":
            reply = error_reply(service_unavailable(), action, request_id)
            reply.delay = self.state.slow_seconds
            return reply
        if fault in GATEWAY_FAULTS:
            raise fault_error(fault, self.state.retry_after_ms)
        with self.state.lock:
            body = self.operations.actions[action](params)
        reply = json_reply(200, {"RequestId": request_id, **body})
        if fault == "response_lost":
            reply.delay = self.state.slow_seconds
        return reply

    def _throttle_once(self, action: str, params: dict[str, str]) -> str | None:
        """Throttled on the first request, answered on the next (and so on, alternating)."""
        key = f"{action}:{params.get('PhoneNumbers') or params.get('CalledNumber')}"
        with self.state.lock:
            if key in self.state.throttled_once:
                self.state.throttled_once.discard(key)
                return None
            self.state.throttled_once.add(key)
        return "throttling"

    def _numbers_fault(self, action: str, params: dict[str, str]) -> str | None:
        if action not in SEND_ACTIONS:
            return None
        raw = params.get("PhoneNumbers") or params.get("CalledNumber") or ""
        numbers = raw.split(",")
        if params.get("PhoneNumberJson"):
            try:
                numbers = [str(n) for n in json.loads(params["PhoneNumberJson"])]
            except (ValueError, TypeError):
                numbers = []
        for number in numbers:
            national = national_number(number)
            if national is None:
                continue
            fault = self.state.faults.get(national) or RESERVED_NUMBERS.get(national)
            if fault:
                return fault
        return None


def service_unavailable() -> ApiError:
    return ApiError(
        "ServiceUnavailable",
        "The request has failed due to a temporary failure of the server.",
        503,
    )


GATEWAY_FAULTS = {
    "throttling",
    "flow_control",
    "flow_control_400",
    "amount_not_enough",
    "system_error",
    "service_unavailable",
}


def fault_error(fault: str, retry_after_ms: int) -> ApiError:
    limit_message = "触发分钟级流控Permits:1"
    errors = {
        "throttling": ApiError(
            "Throttling.User",
            "Request was denied due to user flow control.",
            400,
            {"x-acs-retry-after": str(retry_after_ms)},
        ),
        "flow_control": ApiError("isv.BUSINESS_LIMIT_CONTROL", limit_message),
        "flow_control_400": ApiError("isv.BUSINESS_LIMIT_CONTROL", limit_message, 400),
        "amount_not_enough": ApiError("isv.AMOUNT_NOT_ENOUGH", "账户余额不足"),
        "system_error": ApiError("isp.SYSTEM_ERROR", "系统出现错误，请重新调用", 500),
        "service_unavailable": service_unavailable(),
    }
    return errors[fault]
