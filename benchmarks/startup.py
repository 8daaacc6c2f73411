"""Start-up benchmark: smsctl's hot paths as ratios to floors measured in the same run.

    python benchmarks/startup.py [--rounds 15]

Floors (docs/performance.md): F0 = this venv's `python -c pass`; F1 = a one-command Typer
hello-world on the installed Typer (its command, and its --help); F2 = a minimal script that
imports the Alibaba SMS SDK and sends one SMS to the sandbox. Every case runs once per round,
rounds alternate the cases in a rotating order, and the medians are compared. Exits 1 when a
target is missed. It is run by hand (its output goes in docs/performance.md), never as a timed
test in CI: absolute numbers on shared machines move by ±10 % from run to run.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
SMSCTL = str(Path(PYTHON).with_name("smsctl"))
TEMPLATE = "SMS_100000001"  # approved login template of the sandbox's default seed
SIGNATURE = "Acme"

HELLO = """\
import typer

app = typer.Typer()


@app.command()
def hello(name: str = "world") -> None:
    print(f"Hello {name}")


if __name__ == "__main__":
    app()
"""

F2_SCRIPT = """\
import json, sys

from alibabacloud_dysmsapi20170525 import models
from alibabacloud_dysmsapi20170525.client import Client
from alibabacloud_tea_openapi import models as open_api_models

info = json.loads(sys.argv[1])
client = Client(
    open_api_models.Config(
        access_key_id=info["access_key_id"],
        access_key_secret=info["access_key_secret"],
        endpoint=info["endpoint"].split("://", 1)[1],
        protocol="http",
        region_id=info["region"],
    )
)
answer = client.send_sms(
    models.SendSmsRequest(
        phone_numbers=sys.argv[2],
        sign_name="Acme",
        template_code="SMS_100000001",
        template_param=json.dumps({"code": "1234"}),
    )
)
assert answer.body.code == "OK", answer.body
"""


# F3 is not a floor the targets use: it is the least the required stack does for a send-test
# in one process (a Typer command, a phonenumbers check, then exactly F2's work). smsctl gets
# below it only because its provider worker imports the SDK while the command is parsed.
F3_SCRIPT = (
    """\
import json, sys

import phonenumbers
import typer


def send(info: str, to: str) -> None:
    number = phonenumbers.parse(to, "CN")
    assert phonenumbers.is_valid_number(number)
    sys.argv[1:] = [info, phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)]
"""
    + "".join(f"    {line}\n" if line else "\n" for line in F2_SCRIPT.splitlines()[1:])
    + """

typer.run(send)
"""
)


@dataclass
class Case:
    name: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    floor: str | None = None  # the floor case's name
    limit: float | None = None  # target: at most limit x floor
    numbered: bool = False  # a fresh phone number per run (appended to argv)
    times: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=15)
    options = parser.parse_args()

    from smsctl.sandbox.seed import seed_from_dict
    from smsctl.sandbox.server import Sandbox

    limits = {"per_minute": 100_000, "per_hour": 100_000, "per_day": 100_000}
    seed = seed_from_dict({"flow_control": {"sms": limits}})
    # An installed package runs from bytecode that pip compiled at install time; an editable
    # checkout under PYTHONDONTWRITEBYTECODE would recompile smsctl on every run instead.
    compileall.compile_dir(ROOT / "smsctl", quiet=1)
    with tempfile.TemporaryDirectory(prefix="smsctl-bench-") as tmp, Sandbox(seed=seed) as sandbox:
        info = sandbox.info()["sms"]
        workdir = Path(tmp)
        env = _environment(workdir, info)
        cases, skipped = _cases(workdir, info)
        _check(cases, env)
        counter = iter(range(10**6))
        for round_index in range(options.rounds):
            shift = round_index % len(cases)
            for case in cases[shift:] + cases[:shift]:
                argv = case.argv + ([f"+86138{next(counter):08d}"] if case.numbered else [])
                case.times.append(_time(argv, {**env, **case.env}))
    return _report(cases, skipped, options.rounds)


def _environment(workdir: Path, info: dict[str, str]) -> dict[str, str]:
    config = workdir / "config.toml"
    config.write_text(_config(info), encoding="utf-8")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.lower().endswith("_proxy")
        and not k.startswith(("SMSCTL_", "_SMSCTL"))
        and k != "PYTHONDONTWRITEBYTECODE"
    }
    env.update(
        SMSCTL_CONFIG=str(config),
        SMSCTL_STATE_DIR=str(workdir / "state"),
        SMSCTL_SECRET_SMS_BENCH=info["access_key_secret"],
        SMSCTL_NO_INPUT="1",
        NO_PROXY="*",
    )
    return env


def _config(info: dict[str, str]) -> str:
    """20 SMS accounts (one on the sandbox, active), the Acme signature, 50 templates (one real),
    and guard limits high enough for repeated sends."""
    lines = [
        "[guard.sms]",
        "per_minute = 1000000",
        "per_hour = 1000000",
        "per_day = 1000000",
        "",
        "[sms]",
        'active_account = "bench"',
        "",
        "[sms.accounts.bench]",
        f'access_key_id = "{info["access_key_id"]}"',
        f'endpoint = "{info["endpoint"]}"',
        f'region = "{info["region"]}"',
    ]
    for index in range(1, 20):
        lines += [
            "",
            f"[sms.accounts.account{index:02d}]",
            f'access_key_id = "LTAI5tBench{index:04d}"',
        ]
    lines += [
        "",
        f"[sms.signatures.{SIGNATURE}]",
        'account = "bench"',
        'status = "approved"',
        "",
        f"[sms.templates.{TEMPLATE}]",
        'account = "bench"',
        'scenario = "login"',
        'name = "Login code"',
        'content = "您的验证码为：${code}，5分钟内有效，请勿泄露于他人！"',
        'variables = ["code"]',
        'type = "verification"',
        'status = "approved"',
        f'related_signature = "{SIGNATURE}"',
    ]
    for index in range(2, 51):
        lines += [
            "",
            f"[sms.templates.SMS_2000000{index:02d}]",
            'account = "bench"',
            'scenario = "notification"',
            f'name = "Notice {index}"',
            'content = "Notice ${what}"',
            'variables = ["what"]',
            'type = "notification"',
            'status = "approved"',
        ]
    return "\n".join(lines) + "\n"


def _cases(workdir: Path, info: dict[str, str]) -> tuple[list[Case], list[str]]:
    hello = workdir / "hello.py"
    hello.write_text(HELLO, encoding="utf-8")
    f2 = workdir / "f2_send.py"
    f2.write_text(F2_SCRIPT, encoding="utf-8")
    f3 = workdir / "f3_stack_send.py"
    f3.write_text(F3_SCRIPT, encoding="utf-8")
    tree = json.loads((ROOT / "smsctl" / "_command_tree.json").read_text(encoding="utf-8"))
    complete_env = {
        "_SMSCTL_COMPLETE": "complete_bash",
        "COMP_WORDS": "smsctl\ntemplate\nshow\n",
        "COMP_CWORD": "3",
    }
    wanted = [
        Case("F0 python -c pass", [PYTHON, "-c", "pass"]),
        Case("F1 Typer hello", [PYTHON, str(hello)]),
        Case("F1 Typer hello --help", [PYTHON, str(hello), "--help"]),
        Case("F2 SDK import + SendSms", [PYTHON, str(f2), json.dumps(info)], numbered=True),
        Case(
            "F3 Typer+phonenumbers+F2",
            [PYTHON, str(f3), json.dumps(info)],
            floor="F2",
            numbered=True,
        ),
        Case("smsctl --version", [SMSCTL, "--version"], floor="F0", limit=2),
        Case(
            "TAB: template show <TAB> (50)",
            [SMSCTL],
            complete_env,
            floor="F0",
            limit=3,
        ),
        Case(
            "account list --json (20)", [SMSCTL, "account", "list", "--json"], floor="F0", limit=12
        ),
        Case("template show CODE", [SMSCTL, "template", "show", TEMPLATE], floor="F0", limit=12),
        Case("config path", [SMSCTL, "config", "path"], floor="F0", limit=12),
        Case("smsctl --help", [SMSCTL, "--help"], floor="F1help", limit=1.1),
        Case("smsctl template --help", [SMSCTL, "template", "--help"], floor="F1help", limit=1.1),
        Case(
            "send-test --yes (sandbox)",
            [SMSCTL, "send-test", "--scenario", "login", "--param", "code=1234", "--yes", "--to"],
            floor="F2",
            limit=1.15,
            numbered=True,
        ),
        Case(
            "send-test --yes, worker off",
            [SMSCTL, "send-test", "--scenario", "login", "--param", "code=1234", "--yes", "--to"],
            {"SMSCTL_PROVIDER_WORKER": "0"},
            floor="F2",
            numbered=True,
        ),
    ]
    cases, skipped = [], []
    for case in wanted:
        command = [w for w in case.argv[1:] if not w.startswith("-")][:2]
        if case.argv[0] == SMSCTL and command and not _exists(tree, command):
            skipped.append(f"{case.name}: not available yet (`smsctl {' '.join(command)}`)")
            continue
        cases.append(case)
    return cases, skipped


def _exists(tree: dict, words: list[str]) -> bool:
    node = tree["root"]
    for word in words:
        if "commands" not in node:
            return True
        if word not in node["commands"]:
            return False
        node = node["commands"][word]
    return True


def _check(cases: list[Case], env: dict[str, str]) -> None:
    """Each case once, untimed: it must succeed (and warms the disk cache)."""
    for number, case in enumerate(cases):
        argv = case.argv + ([f"+86137{number:08d}"] if case.numbered else [])
        done = subprocess.run(
            argv, env={**env, **case.env}, capture_output=True, text=True, stdin=subprocess.DEVNULL
        )
        if done.returncode != 0 or (case.env and not done.stdout.strip()):
            sys.exit(f"{case.name} failed (exit {done.returncode}):\n{done.stdout}{done.stderr}")


def _time(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(
        argv,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=True,
    )
    return (time.perf_counter() - start) * 1000


def _report(cases: list[Case], skipped: list[str], rounds: int) -> int:
    floors = {
        "F0": _find(cases, "F0 "),
        "F1help": _find(cases, "F1 Typer hello --help"),
        "F2": _find(cases, "F2 "),
        "F3": _find(cases, "F3 "),
    }
    print(
        f"smsctl start-up, {rounds} rounds alternating, median ms (min-max), {os.cpu_count()} CPUs"
    )
    print(f"{'path':34} {'median':>8} {'min-max':>13}  {'ratio':>14}  {'target':>8}")
    missed = 0
    for case in cases:
        spread = f"{min(case.times):.0f}-{max(case.times):.0f}"
        ratio = target = verdict = ""
        if case.floor:
            floor = floors[case.floor]
            value = case.median / floor.median
            floor_name = "F1 --help" if case.floor == "F1help" else case.floor
            ratio = f"{value:.2f} x {floor_name}"
            if case.limit is not None:
                target = f"<= {case.limit:g} x"
                ok = value <= case.limit
                verdict = "ok" if ok else "MISSED"
                missed += not ok
        print(
            f"{case.name:34} {case.median:8.1f} {spread:>13}  {ratio:>14}  {target:>8}  {verdict}"
        )
    send_test = next((case for case in cases if case.name.startswith("send-test --yes (")), None)
    if send_test:
        share = (send_test.median - floors["F3"].median) / floors["F2"].median
        print(f"send-test minus F3 (the stack's floor in one process): {share:+.2f} x F2")
    worker_off = next((case for case in cases if case.name.endswith("worker off")), None)
    if send_test and worker_off:
        saved = worker_off.median - send_test.median
        paired = statistics.median(
            off - on for on, off in zip(send_test.times, worker_off.times, strict=True)
        )
        print(
            f"provider worker saves {saved:.0f} ms on send-test "
            f"({send_test.median / floors['F2'].median:.2f} vs "
            f"{worker_off.median / floors['F2'].median:.2f} x F2 without it; "
            f"median of the per-round differences {paired:.0f} ms)"
        )
    for line in skipped:
        print(f"skipped  {line}")
    print("all targets met" if not missed else f"{missed} target(s) missed")
    return 1 if missed else 0


def _find(cases: list[Case], prefix: str) -> Case:
    return next(case for case in cases if case.name.startswith(prefix))


if __name__ == "__main__":
    sys.exit(main())
