"""What callers may ask of a provider adapter, one Protocol per channel, as types.

Every adapter is made by `smsctl.core.connect.adapter` from the account's access data, picked by
the account's `provider` from connect's registry: SmsAdapter (alibaba_sms.AlibabaSms),
VoiceAdapter (alibaba_voice.AlibabaVoice), EmailAdapter (smtp.SmtpEmail), WechatAdapter
(wechat.WechatApi). For Alibaba Cloud, connect may hand out the stand-in whose calls run in the
provider worker instead (providers.worker.RemoteSms, RemoteVoice), with exactly the same methods
and signatures; tests/reliability/test_provider_worker.py fails when one of them drifts, and
tests/providers/test_interfaces.py when an adapter drifts from its Protocol.

An adapter knows nothing of command names: its errors carry structured data (the error code,
the provider in `details["provider"]`, what the operator should look at), and the core words
the hint (smsctl.core.catalog.word). Importing this module costs nothing: the result types are
only named for type checkers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from datetime import date, datetime
    from email.message import EmailMessage

    from smsctl.providers import wechat
    from smsctl.providers.alibaba_sms import (
        DayCounts,
        Receipt,
        SendDetail,
        SendResult,
        SignatureInfo,
        Submitted,
        TemplateInfo,
    )
    from smsctl.providers.alibaba_voice import CallDetail, CallResult, VoiceFileInfo
    from smsctl.providers.smtp import SendOutcome
    from smsctl.providers.wechat import WechatTemplate


class SmsAdapter(Protocol):
    """Alibaba Cloud SMS (dysmsapi) for one account."""

    def check_credentials(self) -> None: ...

    def get_signature(self, name: str) -> SignatureInfo: ...

    def get_template(self, code: str) -> TemplateInfo: ...

    def list_signatures(self, wanted: int | None = None) -> dict[str, SignatureInfo]: ...

    def list_templates(self, wanted: int | None = None) -> dict[str, TemplateInfo]: ...

    def create_template(
        self, name: str, content: str, type_: str, signature: str | None, remark: str | None
    ) -> Submitted: ...

    def update_template(
        self,
        code: str,
        name: str,
        content: str,
        type_: str,
        signature: str | None,
        remark: str | None,
    ) -> Submitted: ...

    def create_signature(
        self,
        name: str,
        *,
        source: str,
        qualification_id: int,
        remark: str | None,
        trademark_id: int | None = None,
        app_icp_record_id: int | None = None,
    ) -> Submitted: ...

    def send(
        self,
        phone: str,
        sign_name: str,
        template_code: str,
        params: dict[str, str],
        out_id: str,
    ) -> SendResult: ...

    def query_receipt(
        self, phone: str, biz_id: str | None, send_date: date, *, out_id: str | None = None
    ) -> Receipt: ...

    def send_details(self, phone: str, send_date: date) -> list[SendDetail]: ...

    def send_statistics(
        self, start: date, end: date, *, international: bool, sign_name: str | None
    ) -> list[DayCounts]: ...


class VoiceAdapter(Protocol):
    """Alibaba Cloud voice (dyvmsapi) for one account."""

    def check_credentials(self) -> None: ...

    def voice_files(self, codes: list[str]) -> dict[str, VoiceFileInfo]: ...

    def call_tts(
        self,
        called_number: str,
        tts_code: str,
        params: dict[str, str],
        *,
        out_id: str,
        called_show_number: str | None = None,
        play_times: int | None = None,
        volume: int | None = None,
        speed: int | None = None,
    ) -> CallResult: ...

    def call_voice_file(
        self,
        called_number: str,
        voice_code: str,
        *,
        out_id: str,
        called_show_number: str | None = None,
        play_times: int | None = None,
        volume: int | None = None,
        speed: int | None = None,
    ) -> CallResult: ...

    def query_call(self, call_id: str, kind: str, query_date: datetime) -> CallDetail: ...


class EmailAdapter(Protocol):
    """An SMTP submission server for one account."""

    def check_credentials(self) -> None: ...

    def compose(
        self, to: str | list[str], subject: str, text: str | None, html: str | None
    ) -> EmailMessage: ...

    def send(self, message: EmailMessage) -> SendOutcome: ...


class WechatAdapter(Protocol):
    """The WeChat official-account API for one account."""

    def check_credentials(self) -> None: ...

    def list_templates(self) -> list[WechatTemplate]: ...

    def send(
        self,
        openid: str,
        template_id: str,
        data: dict[str, str],
        *,
        url: str | None = None,
        miniprogram: tuple[str, str] | None = None,
        client_msg_id: str | None = None,
    ) -> wechat.SendResult: ...
