"""The installed console script across China's midnight, its clock set by SMSCTL_FAKE_NOW (the
testing aid smsctl.core.clock reads) and the in-process sandbox's clock set to match: a send just
before midnight is found just after it, and every time it prints names its zone."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import smsctl
from tests.fixtures.clock import AFTER_CHINA_MIDNIGHT, BEFORE_CHINA_MIDNIGHT

NUMBER = "13812345678"


@pytest.fixture
def box(fresh_sandbox_state):
    fresh_sandbox_state.alibaba.state.set_clock(BEFORE_CHINA_MIDNIGHT, frozen=True)
    return fresh_sandbox_state


def at(moment, env: dict[str, str], zone: str = "UTC") -> dict[str, str]:
    return {**env, "SMSCTL_FAKE_NOW": moment.isoformat(), "TZ": zone}


def test_receipt_after_china_midnight_from_the_console_script(box) -> None:
    info = box.info()["sms"]
    env = {"SMSCTL_SECRET_SMS_CI": info["access_key_secret"], "SMSCTL_NO_INPUT": "1"}
    before = at(BEFORE_CHINA_MIDNIGHT, env)
    for step in (
        ("account", "add", "ci", "--access-key-id", info["access_key_id"],
         "--endpoint", info["endpoint"]),
        ("validate", "ci"),
        ("signature", "add", "Acme", "--account", "ci"),
        ("template", "add", "SMS_100000001", "--account", "ci", "--scenario", "login"),
    ):  # fmt: skip
        done = smsctl("--json", *step, env=before)
        assert done.exit_code == 0, (step, done.stderr)
    sent = smsctl(
        "--json", "send-test", "--to", NUMBER, "--scenario", "login", "--param", "code=1",
        "--yes", env=before,
    )  # fmt: skip
    assert sent.exit_code == 0, sent.stderr
    biz_id = sent.json()["biz_id"]

    box.alibaba.state.set_clock(AFTER_CHINA_MIDNIGHT, frozen=True)
    after = at(AFTER_CHINA_MIDNIGHT, env)
    found = smsctl("--json", "receipt", "--to", NUMBER, "--biz-id", biz_id, env=after)
    assert found.exit_code == 0, found.stderr
    assert found.json()["receive_date"] == "2030-03-31T15:59:58+00:00"
    assert found.json()["china_date"] == "2030-03-31"

    shown = smsctl(
        "receipt",
        "--to",
        NUMBER,
        "--biz-id",
        biz_id,
        env=at(AFTER_CHINA_MIDNIGHT, env, "Asia/Shanghai"),
    )
    assert shown.exit_code == 0, shown.stderr
    assert "at 2030-03-31 23:59:58 +08:00 (DELIVERED)" in shown.stdout

    log = smsctl("--json", "log", "--sends", env=at(AFTER_CHINA_MIDNIGHT, env, "America/New_York"))
    assert log.exit_code == 0, log.stderr
    assert log.json()[-1]["time"] == "2030-03-31T11:59:58-04:00"


def test_a_malformed_fake_now_is_a_config_error() -> None:
    result = smsctl("log", "--since", "1h", env={"SMSCTL_FAKE_NOW": "tomorrow"})
    assert result.exit_code == 3
    assert "SMSCTL_FAKE_NOW='tomorrow' is not an ISO 8601 time with an offset" in result.stderr
