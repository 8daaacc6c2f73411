"""One send-test, one answer: `send-test --json` (and `--dry-run`) has the same keys on every
channel, each channel's own ids in addition, never instead."""

from __future__ import annotations

import re

import pytest

from smsctl.core import channels, testsend
from tests.support.cli import invoke
from tests.support.sends import SENDS, set_up

COMMON = {
    "channel", "account", "to", "template", "out_id", "dry_run", "sent", "sent_at", "resolved",
    "variables", "text", "warnings", "provider", "final",
}  # fmt: skip
PROVIDER = {"name", "request_id", "message_id", "code", "message", "attempts"}
OWN_ID = {"sms": "biz_id", "voice": "call_id", "email": "message_id", "wechat": "msgid"}
TARGET = {"sms": "+8613812345678", "voice": "+8613812345678", "email": "ops@example.test"}
ISO_WITH_OFFSET = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?[+-]\d\d:\d\d$")


@pytest.fixture
def every_channel(fresh_sandbox_state, smtp_server, wechat_server, tmp_path):
    for name in SENDS:
        set_up(name, fresh_sandbox_state, smtp_server, wechat_server, tmp_path)
    return wechat_server


def reports(*extra: str) -> dict[str, dict]:
    found = {}
    for name, (argv, _) in SENDS.items():
        result = invoke("--json", *argv, *extra)
        assert result.exit_code == 0, (name, result.all_output)
        found[name] = result.json()
    return found


def test_a_send_reports_the_same_keys_on_every_channel(every_channel) -> None:
    sent = reports("--yes")
    shared = set.intersection(*(set(report) for report in sent.values()))
    assert shared == COMMON
    for name, report in sent.items():
        assert (report["channel"], report["sent"], report["dry_run"]) == (name, True, False)
        if name in TARGET:
            assert report["to"] == TARGET[name]
        assert set(report["provider"]) == PROVIDER
        assert isinstance(report[OWN_ID[name]], str) and report[OWN_ID[name]]
        assert report["provider"]["message_id"] == report[OWN_ID[name]]
        assert ISO_WITH_OFFSET.match(report["sent_at"]), report["sent_at"]
        assert report["final"] is None
        assert "client_msg_id" not in report and "request_id" not in report
    assert {r["template"] for r in sent.values()} == {"SMS_100000001", "TTS_100000001", "login"}
    assert {r["account"] for r in sent.values()} == {"prod", "mail", "oa"}


def test_a_dry_run_reports_the_same_keys_on_every_channel(every_channel) -> None:
    planned = reports("--dry-run")
    shared = set.intersection(*(set(report) for report in planned.values()))
    assert shared == COMMON
    for name, report in planned.items():
        assert (report["sent"], report["dry_run"], report["sent_at"]) == (False, True, None)
        assert report["provider"] is None and report[OWN_ID[name]] is None
        assert report["text"]


def test_wechat_reports_the_openid_as_given(every_channel) -> None:
    from smsctl.sandbox import wechat as sbx

    assert reports("--dry-run")["wechat"]["to"] == sbx.FOLLOWER


def test_a_wait_reports_the_final_state_in_one_shape(every_channel) -> None:
    finals = {}
    for name in ("sms", "voice"):
        result = invoke("--json", *SENDS[name][0], "--yes", "--wait", "10")
        assert result.exit_code == 0, result.all_output
        finals[name] = result.json()["final"]
    shared = set(finals["sms"]) & set(finals["voice"])
    assert shared >= {"state", "at", "code", "meaning", "waited_seconds"}
    assert (finals["sms"]["state"], finals["voice"]["state"]) == ("delivered", "answered")
    assert all(ISO_WITH_OFFSET.match(f["at"]) for f in finals.values())


def test_every_channel_names_its_part_of_the_one_flow() -> None:
    for name in channels.NAMES:
        assert testsend.sender(name).channel == name
