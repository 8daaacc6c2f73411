"""What callers may ask of the Alibaba Cloud adapters, as types.

`smsctl.core.connect` hands out either the adapter itself (alibaba_sms.AlibabaSms,
alibaba_voice.AlibabaVoice) or its stand-in whose calls run in the provider worker
(providers.worker.RemoteSms, RemoteVoice). Both have exactly these methods, with the same
signatures; tests/reliability/test_provider_worker.py fails when one of the four drifts.
Importing this module costs nothing: the result types are only named for type checkers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from datetime import date, datetime

    from smsctl.providers.alibaba_sms import Receipt, SendResult, SignatureInfo, TemplateInfo
    from smsctl.providers.alibaba_voice import CallDetail, CallResult, VoiceFileInfo


class SmsAdapter(Protocol):
    """Alibaba Cloud SMS (dysmsapi) for one account."""

    def check_credentials(self) -> None: ...

    def get_signature(self, name: str) -> SignatureInfo: ...

    def get_template(self, code: str) -> TemplateInfo: ...

    def list_signatures(self, wanted: int | None = None) -> dict[str, SignatureInfo]: ...

    def list_templates(self, wanted: int | None = None) -> dict[str, TemplateInfo]: ...

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
