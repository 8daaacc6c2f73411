"""The hint of a provider adapter's error as the operator reads it: worded by the core for a
channel and an account (smsctl.core.catalog.word), as connect.adapter does for every call."""

from __future__ import annotations

from smsctl.core.catalog import word
from smsctl.core.errors import SmsctlError


def worded_hint(error: SmsctlError, channel: str, account: str = "prod") -> str:
    return word(error, channel, account).hint or ""
