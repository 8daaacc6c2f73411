"""`smsctl lookup` and `smsctl stats` through the installed console script, against the sandbox
whose sends come both from smsctl and from the Alibaba SDK used directly (as an application
does). smsctl's clock is SMSCTL_FAKE_NOW and the sandbox's is frozen at the same moment: no test
reads the wall clock or the machine's zone."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from tests.e2e.conftest import smsctl
from tests.fixtures.clock import AFTER_CHINA_MIDNIGHT, BEFORE_CHINA_MIDNIGHT, CHINA
from tests.fixtures.sandbox import alibaba_config

NUMBER = "+8613812345678"
NOON = datetime(2030, 3, 31, 12, 0, 0, tzinfo=CHINA)


class World:
    """The sandbox and smsctl at one frozen moment that both clocks share."""

    def __init__(self, box) -> None:
        self.box = box
        self.state = box.alibaba.state
        self.info = box.info()["sms"]
        self.moment = NOON
        self.zone = "UTC"
        self.state.flow_control_enabled = False  # dozens of sends to one number in a day
        self.state.receipt_delay = 5
        self.set(NOON)

    def set(self, moment: datetime) -> None:
        self.moment = moment
        self.state.set_clock(moment, frozen=True)

    def advance(self, seconds: float) -> None:
        self.set(self.moment + timedelta(seconds=seconds))

    def env(self, zone: str | None = None) -> dict[str, str]:
        return {
            "SMSCTL_SECRET_SMS_CI": self.info["access_key_secret"],
            "SMSCTL_NO_INPUT": "1",
            "SMSCTL_FAKE_NOW": self.moment.isoformat(),
            "TZ": zone or self.zone,
        }

    def run(self, *args: str, zone: str | None = None):
        return smsctl(*args, env=self.env(zone))

    def setup(self) -> None:
        for step in (
            ("account", "add", "ci", "--access-key-id", self.info["access_key_id"],
             "--endpoint", self.info["endpoint"]),
            ("validate", "ci"),
            ("signature", "add", "Acme", "--account", "ci"),
            ("template", "add", "SMS_100000001", "--account", "ci", "--scenario", "login"),
        ):  # fmt: skip
            done = self.run("--json", *step)
            assert done.exit_code == 0, (step, done.stderr)

    def send_test(self, to: str = NUMBER, code: str = "1111") -> dict:
        done = self.run("--json", "send-test", "--to", to, "--scenario", "login",
                        "--param", f"code={code}", "--yes")  # fmt: skip
        assert done.exit_code == 0, done.stderr
        return done.json()

    def sdk_send(self, to: str, code: str = "2222", out_id: str = "",
                 template: str = "SMS_100000001") -> str:  # fmt: skip
        """A send by the application itself: the real SDK, smsctl not involved."""
        from alibabacloud_dysmsapi20170525 import models
        from alibabacloud_dysmsapi20170525.client import Client

        client = Client(alibaba_config(self.info))
        body = client.send_sms(
            models.SendSmsRequest(
                phone_numbers=to,
                sign_name="Acme",
                template_code=template,
                template_param=json.dumps({"code": code}),
                out_id=out_id or None,
            )
        ).body
        assert body.code == "OK", body.message
        return body.biz_id

    def requests(self, action: str | None = None) -> int:
        return sum(1 for name, _ in self.state.requests if action in (None, name))


@pytest.fixture
def world(fresh_sandbox_state) -> World:
    made = World(fresh_sandbox_state)
    made.setup()
    return made


# --- lookup ----------------------------------------------------------------------------------


def test_lookup_lists_every_send_of_the_day_newest_first_and_marks_smsctls(world) -> None:
    ours = []
    world.sdk_send(NUMBER, out_id="app-first")
    world.advance(61)  # the local test-send guard allows one a minute per number
    ours.append(world.send_test(code="1001"))
    for index in range(58):
        world.advance(10)
        world.sdk_send(NUMBER, code=f"{index:04d}", out_id=f"app-{index}")
    world.advance(61)
    ours.append(world.send_test(code="1002"))
    world.sdk_send("+8613812340000", out_id="other-number")  # another number: not listed
    world.advance(2)  # the newest has no receipt yet (the delay is 5 s)
    before = world.requests("QuerySendDetails")

    done = world.run("--json", "lookup", NUMBER)

    assert done.exit_code == 0, done.stderr
    report = done.json()
    assert report["china_date"] == "2030-03-31" and report["date_given"] is False
    assert report["summary"] == {"total": 61, "delivered": 60, "failed": 0, "pending": 1,
                                 "by_smsctl": 2}  # fmt: skip
    items = report["items"]
    assert [item["sent_at"] for item in items] == sorted(
        (item["sent_at"] for item in items), reverse=True
    )
    assert world.requests("QuerySendDetails") - before == 2  # 61 records: two pages of 50
    marked = [item for item in items if item["by_smsctl"]]
    assert [m["out_id"] for m in marked] == [ours[1]["out_id"], ours[0]["out_id"]]
    assert [m["biz_id"] for m in marked] == [ours[1]["biz_id"], ours[0]["biz_id"]]
    assert marked[0]["smsctl"]["command"] == "send-test" and marked[0]["smsctl"]["account"] == "ci"
    assert items[0]["out_id"] == ours[1]["out_id"] and items[0]["status"] == "pending"
    assert items[-1]["out_id"] == "app-first" and not items[-1]["by_smsctl"]
    assert items[-1]["biz_id"] is None and items[-1]["smsctl"] is None
    assert items[-1]["sent_at"] == "2030-03-31T04:00:00+00:00"
    assert items[-1]["status"] == "delivered" and items[-1]["code"] == "DELIVERED"
    assert items[-1]["meaning"] and items[-1]["template"] == "SMS_100000001"
    assert items[-1]["content"] == "【Acme】您的验证码为：2222，5分钟内有效，请勿泄露于他人！"


def test_lookup_for_people_says_what_a_failure_means_and_what_to_do(world) -> None:
    failing = "+8613900000013"  # the sandbox's carrier answers MK:0001 for this number
    world.sdk_send(failing, out_id="app-1")
    world.advance(30)

    done = world.run("lookup", failing, zone="Asia/Shanghai")

    assert done.exit_code == 0, done.stderr
    out = done.stdout
    assert "SMS to +8613900000013 on 2030-03-31 (China date, UTC+08:00)" in out
    assert "2030-03-31 12:00:00 +08:00  failed  MK:0001" in out
    assert "not smsctl on this machine" in out
    assert "What it means: The newest SMS, sent 2030-03-31 12:00:00 +08:00, was NOT delivered: " \
        "MK:0001" in out  # fmt: skip
    assert "\nNext: " in out and out.rstrip().splitlines()[-1].startswith("Next: ")


def test_lookup_across_china_midnight_names_the_dates_and_zones(world) -> None:
    world.set(BEFORE_CHINA_MIDNIGHT)
    sent = world.send_test()
    world.set(AFTER_CHINA_MIDNIGHT)

    today = world.run("--json", "lookup", NUMBER)  # China's today is 2030-04-01 by now
    assert today.exit_code == 0, today.stderr
    assert today.json()["china_date"] == "2030-04-01" and today.json()["items"] == []
    # 2030-03-31 12:00 in New York: the operator's date is not China's
    told = world.run("lookup", NUMBER, zone="America/New_York")
    assert "That is today in China, where the provider files sends; your local date is " \
        "2030-03-31." in told.stdout  # fmt: skip
    assert "run `smsctl lookup +8613812345678 --date 2030-03-31`" in told.stdout

    found = world.run("--json", "lookup", NUMBER, "--date", "20300331")
    assert found.exit_code == 0, found.stderr
    [item] = found.json()["items"]
    assert item["out_id"] == sent["out_id"] and item["by_smsctl"]
    assert item["sent_at"] == "2030-03-31T15:59:58+00:00"  # TZ=UTC
    shanghai = world.run("lookup", NUMBER, "--date", "2030-03-31", zone="Asia/Shanghai")
    assert "2030-03-31 23:59:58 +08:00  delivered" in shanghai.stdout
    new_york = world.run("lookup", NUMBER, "--date", "2030-03-31", zone="America/New_York")
    assert "2030-03-31 11:59:58 -04:00  delivered" in new_york.stdout
    assert "your local date" not in new_york.stdout  # the date was given


# --- stats -----------------------------------------------------------------------------------


def test_stats_count_what_was_sent_per_day(world) -> None:
    world.set(NOON - timedelta(days=1))
    world.sdk_send("+8613800000001")
    world.sdk_send("+8613900000012")  # fails: UNDELIV
    world.set(NOON)
    world.send_test()
    world.sdk_send("+8613800000002")
    world.sdk_send("+8613900000013")  # fails: MK:0001
    world.sdk_send("+12025550123", template="SMS_100000006")  # international
    world.advance(30)
    world.sdk_send("+8613800000003")  # no receipt yet
    before = world.requests()

    done = world.run("--json", "stats", "--days", "3")

    assert done.exit_code == 0, done.stderr
    assert world.requests() - before == 1
    report = done.json()
    assert (report["from"], report["to"], report["international"]) == (
        "2030-03-29",
        "2030-03-31",
        False,
    )
    counts = [(d["date"], d["total"], d["delivered"], d["failed"], d["pending"])
              for d in report["items"]]  # fmt: skip
    assert counts == [
        ("2030-03-29", 0, 0, 0, 0),
        ("2030-03-30", 2, 1, 1, 0),
        ("2030-03-31", 4, 2, 1, 1),
    ]
    assert report["items"][0]["delivery_rate"] is None
    assert report["items"][2]["delivery_rate"] == 0.5
    assert report["totals"] == {"total": 6, "delivered": 3, "failed": 2, "pending": 1,
                                "delivery_rate": 0.5}  # fmt: skip

    abroad = world.run("--json", "stats", "--from", "2030-03-30", "--international").json()
    assert [(d["date"], d["total"]) for d in abroad["items"]] == [
        ("2030-03-30", 0), ("2030-03-31", 1)
    ]  # fmt: skip
    signed = world.run("--json", "stats", "--days", "1", "--signature", "Acme登录").json()
    assert signed["totals"]["total"] == 0

    shown = world.run("stats", "--days", "2")  # a pipe: plain aligned text, bars in ASCII
    assert shown.exit_code == 0, shown.stderr
    lines = shown.stdout.splitlines()
    header = next(line for line in lines if line.startswith("DATE"))
    assert header.split() == ["DATE", "TOTAL", "DELIVERED", "FAILED", "PENDING", "RATE"]
    today = next(line for line in lines if line.startswith("2030-03-31"))
    assert today.split()[:6] == ["2030-03-31", "4", "2", "1", "1", "50.0%"]
    assert today.split()[6] == "#" * 12 + "x" * 6 + "." * 6
    assert "Today (2030-03-31, China date): 4 SMS, 50% delivered, 1 failed" in shown.stdout
    assert "Next: Many sends fail: run `smsctl lookup NUMBER`" in shown.stdout


# --- refused before any request ----------------------------------------------------------------

BAD = [
    (("lookup", "12345"), "Invalid phone number"),
    (("lookup", "+86138"), "Invalid phone number"),
    (("lookup", "hello"), "Invalid phone number"),
    (("lookup", NUMBER, "--date", "2030-13-01"), "expected a date as YYYY-MM-DD"),
    (("lookup", NUMBER, "--date", "31.03.2030"), "expected a date as YYYY-MM-DD"),
    (("lookup", NUMBER, "--date", "2030-04-01"), "after today in China (2030-03-31"),
    (("lookup", NUMBER, "--date", "2030-03-01"), "oldest date it answers for is 2030-03-02"),
    (("stats", "--days", "0"), "--days 0: give 1 to 30"),
    (("stats", "--days", "31"), "--days 31: give 1 to 30"),
    (("stats", "--days", "3", "--from", "2030-03-30"), "Give --days or --from/--to, not both"),
    (("stats", "--to", "2030-03-30"), "--to needs --from"),
    (("stats", "--from", "2030-03-31", "--to", "2030-03-30"), "is after --to 2030-03-30"),
    (("stats", "--from", "2030-03-30", "--to", "2030-04-01"), "after today in China"),
    (("stats", "--from", "2030-02-28", "--to", "2030-03-31"), "spans 32 days"),
    (("stats", "--from", "yesterday"), "expected a date as YYYY-MM-DD"),
    (("stats", "--days", "two"), "is not a valid integer"),
    (("stats", "--signature", " Acme"), "surrounded by blanks"),
]


@pytest.mark.parametrize("args,message", BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_input_is_refused_before_any_request(world, args, message) -> None:
    before = world.requests()
    done = world.run(*args)
    assert done.exit_code == 2, (done.stdout, done.stderr)
    assert message in done.stderr
    assert done.stdout == ""
    assert world.requests() == before


@pytest.mark.parametrize("command", [("lookup", NUMBER), ("stats",)])
def test_an_unknown_account_is_a_config_error_before_any_request(world, command) -> None:
    before = world.requests()
    done = world.run("--json", *command, "--account", "nope")
    assert done.exit_code == 3, done.stderr
    assert json.loads(done.stderr.strip().splitlines()[-1])["error"]["code"] == "unknown_account"
    assert world.requests() == before


@pytest.mark.parametrize(
    "fault,exit_code",
    [("amount_not_enough", 5), ("throttling", 6), ("service_unavailable", 7)],
)
@pytest.mark.parametrize(
    "command,action",
    [(("lookup", NUMBER), "QuerySendDetails"), (("stats",), "QuerySendStatistics")],
)
def test_provider_failures_keep_their_exit_codes(world, fault, exit_code, command, action) -> None:
    for _ in range(3):  # a retried request meets the fault again
        world.state.fail_next(action, fault)
    done = world.run("--json", *command)
    assert done.exit_code == exit_code, done.stderr
    assert done.stdout == ""
