"""Scale benchmark: smsctl with a big config, a year of audit log and hundreds of provider items,
every figure a ratio to what the same command costs small, or to F0, measured in the same run.

    python benchmarks/scale.py [--rounds 7] [--log-lines 1000000]

It builds what it measures in a temporary directory: a config of 20 templates, 20 signatures and
20 accounts, one of 2,000 templates, 200 signatures and 20 accounts, an audit log of
`--log-lines` records over a year, and a sandbox whose SMS account holds 500 approved templates
for `doctor` and `template sync`. Exits 1 when a target is missed. Run by hand (docs/performance.md
shows the last run), never as a timed test: absolute numbers on shared machines drift.
"""

from __future__ import annotations

import argparse
import compileall
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
SMSCTL = str(Path(PYTHON).with_name("smsctl"))
PROVIDER_TEMPLATES = 500


@dataclass
class Case:
    name: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    times: list[float] = field(default_factory=list)
    peak_kib: list[int] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.times)


def config_text(templates: int, signatures: int, accounts: int, endpoint: str) -> str:
    """Signature names: Acme (the sandbox's approved one) for the first, then Sig0001...; the
    first template is the scenario's default."""
    lines = ["[sms]", 'active_account = "bench"', "", "[sms.accounts.bench]"]
    lines += ['access_key_id = "LTAI5tSandboxKey0000001"', f'endpoint = "{endpoint}"']
    for index in range(1, accounts):
        lines += [
            "",
            f"[sms.accounts.account{index:02d}]",
            f'access_key_id = "LTAI5tBen{index:05d}"',
        ]
    for index in range(signatures):
        lines += [
            "",
            f"[sms.signatures.{_signature(index)}]",
            'account = "bench"',
            'status = "approved"',
        ]
    for index in range(templates):
        lines += [
            "",
            f"[sms.templates.SMS_{100000000 + index}]",
            'account = "bench"',
            'scenario = "notification"',
            f'name = "Notice {index}"',
            'content = "Your order ${order} has shipped: ${what}"',
            'variables = ["order", "what"]',
            'type = "notification"',
            'status = "approved"',
            f'related_signature = "{_signature(index % max(signatures, 1))}"',
        ]
        if index == 0:
            lines.append("default = true")
    return "\n".join(lines) + "\n"


def _signature(index: int) -> str:
    return "Acme" if index == 0 else f"Sig{index:04d}"


def write_log(path: Path, count: int, now: datetime) -> None:
    """`count` send and receipt records spread evenly over the year before `now`."""
    step = timedelta(days=365) / count
    start = now - timedelta(days=365)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        for index in range(count):
            moment = (start + step * index).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            record = {
                "time": moment,
                "event": "send" if index % 2 == 0 else "send.receipt",
                "channel": "sms",
                "account": "bench",
                "target": "+86 138****5678",
                "template": "SMS_100000001",
                "signature": "Acme",
                "out_id": f"st{index:013x}",
                "biz_id": f"{900000000000000000 + index}^0",
                "request_id": "F655A8D5-B967-440B-8683-DAD6FF8DE990",
                "outcome": "accepted" if index % 2 == 0 else "delivered",
            }
            handle.write(json.dumps(record) + "\n")
    path.chmod(0o600)


def run_measured(argv: list[str], env: dict[str, str]) -> tuple[float, int]:
    """Wall time in ms and the child's peak resident memory in KiB."""
    start = time.perf_counter()
    process = subprocess.Popen(
        argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    output = process.stdout.read().decode() if process.stdout else ""
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = (time.perf_counter() - start) * 1000
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        sys.exit(f"{' '.join(argv[1:])} failed (exit {process.returncode}):\n{output[-3000:]}")
    return elapsed, usage.ru_maxrss


def base_env(workdir: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.lower().endswith("_proxy")
        and not k.startswith(("SMSCTL_", "_SMSCTL"))
        and k != "PYTHONDONTWRITEBYTECODE"
    }
    env.update(SMSCTL_NO_INPUT="1", NO_PROXY="*", SMSCTL_CACHE_DIR=str(workdir / "cache"))
    return env


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--log-lines", type=int, default=1_000_000)
    options = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from smsctl.sandbox.server import Sandbox
    from smsctl.sandbox.state import Template

    compileall.compile_dir(ROOT / "smsctl", quiet=1)
    with tempfile.TemporaryDirectory(prefix="smsctl-scale-") as tmp, Sandbox() as sandbox:
        workdir = Path(tmp)
        info = sandbox.info()["sms"]
        state = sandbox.alibaba.state
        for index in range(PROVIDER_TEMPLATES):
            state.add_template(
                Template(
                    f"SMS_{100000000 + index}",
                    f"Notice {index}",
                    "Your order ${order} has shipped: ${what}",
                    type="notification",
                )
            )
        env = base_env(workdir)
        configs = {}
        for name, sizes in {"small": (20, 20, 20), "large": (2000, 200, 20)}.items():
            configs[name] = workdir / f"{name}.toml"
            configs[name].write_text(config_text(*sizes, info["endpoint"]), encoding="utf-8")
            configs[name].chmod(0o600)
        provider = workdir / "provider.toml"
        provider.write_text(config_text(PROVIDER_TEMPLATES, 1, 1, info["endpoint"]))
        provider.chmod(0o600)
        state_dir = workdir / "state"
        print(f"writing {options.log_lines:,} audit records ...", file=sys.stderr)
        write_log(state_dir / "audit.jsonl", options.log_lines, datetime.now(timezone.utc))
        env["SMSCTL_STATE_DIR"] = str(state_dir)

        def on(config: str, *argv: str) -> tuple[list[str], dict[str, str]]:
            return [SMSCTL, *argv], {"SMSCTL_CONFIG": str(configs[config])}

        tab = {
            "_SMSCTL_COMPLETE": "complete_bash",
            "COMP_WORDS": "smsctl\ntemplate\nshow\n",
            "COMP_CWORD": "3",
        }
        cases = [Case("F0 python -c pass", [PYTHON, "-c", "pass"])]
        for size in ("small", "large"):
            for label, argv in (
                ("template show", ("template", "show", "SMS_100000001")),
                ("account list --json", ("account", "list", "--json")),
                ("config path", ("config", "path")),
            ):
                command, extra = on(size, *argv)
                cases.append(Case(f"{label} ({size})", command, extra))
        command, extra = on("large", "template", "list", "--json")
        cases.append(Case("template list --json (large)", command, extra))
        command, extra = on("large")
        cases.append(Case("TAB template show (large)", command, {**extra, **tab}))
        command, extra = on("small", "log", "--limit", "20")
        cases.append(Case("log --limit 20 (1M lines)", command, extra))
        command, extra = on("small", "log", "--since", "1h")
        cases.append(Case("log --since 1h (1M lines)", command, extra))
        edits = iter(range(10**6))
        for case in cases:  # once, untimed: each must work, and the caches and disk get warm
            run_measured(case.argv, {**env, **case.env})
        for round_index in range(options.rounds):
            shift = round_index % len(cases)
            for case in cases[shift:] + cases[:shift]:
                elapsed, peak = run_measured(case.argv, {**env, **case.env})
                case.times.append(elapsed)
                case.peak_kib.append(peak)
        edit = Case("template edit --name (large)", [])
        for _ in range(options.rounds):
            command, extra = on("large", "template", "edit", "SMS_100000005")
            elapsed, peak = run_measured(
                [*command, "--name", f"Edit {next(edits)}"], {**env, **extra}
            )
            edit.times.append(elapsed)
            edit.peak_kib.append(peak)
        provider_env = {
            **env,
            "SMSCTL_CONFIG": str(provider),
            "SMSCTL_SECRET_SMS_BENCH": info["access_key_secret"],
        }
        provider_runs = {}
        for label, argv in (
            ("doctor --channel sms", ["doctor", "--channel", "sms"]),
            ("template sync", ["template", "sync"]),
        ):
            before = len(state.requests)
            elapsed, _peak = run_measured([SMSCTL, *argv], provider_env)
            provider_runs[label] = (elapsed, len(state.requests) - before)
    return report(cases, edit, provider_runs, options)


def report(cases: list[Case], edit: Case, provider_runs: dict, options) -> int:
    by_name = {case.name: case for case in cases}
    f0 = by_name["F0 python -c pass"].median
    missed = 0

    def line(name: str, value: str, target: str, ok: bool | None) -> None:
        nonlocal missed
        verdict = "" if ok is None else ("ok" if ok else "MISSED")
        missed += ok is False
        print(f"{name:34} {value:>26}  {target:>22}  {verdict}")

    print(f"smsctl at scale, {options.rounds} rounds, median ms, {os.cpu_count()} CPUs")
    print(f"{'path':34} {'measured':>26}  {'target':>22}")
    line("F0 python -c pass", f"{f0:.1f} ms", "", None)
    for label in ("template show", "account list --json", "config path"):
        small, large = by_name[f"{label} (small)"].median, by_name[f"{label} (large)"].median
        line(
            f"{label} (2,000 templates)",
            f"{large:.0f} ms = {large / small:.2f} x small",
            "<= 1.5 x small",
            large / small <= 1.5,
        )
        line(f"{label} (2,000 templates)", f"{large / f0:.2f} x F0", "<= 12 x F0", large / f0 <= 12)
    listed = by_name["template list --json (large)"].median
    line("template list --json (2,000)", f"{listed:.0f} ms = {listed / f0:.2f} x F0", "", None)
    tab = by_name["TAB template show (large)"].median
    line("TAB template show (2,000)", f"{tab / f0:.2f} x F0", "<= 3 x F0", tab / f0 <= 3)
    line("template edit --name (2,000)", f"{edit.median:.0f} ms", "<= 600 ms", edit.median <= 600)
    for label in ("log --limit 20 (1M lines)", "log --since 1h (1M lines)"):
        case = by_name[label]
        line(label, f"{case.median / f0:.2f} x F0", "<= 12 x F0", case.median / f0 <= 12)
        peak = max(case.peak_kib) / 1024
        line(label, f"{peak:.1f} MB peak", "<= 50 MB", peak <= 50)
    budget = math.ceil(PROVIDER_TEMPLATES / 50) + 5
    for label, (elapsed, requests) in provider_runs.items():
        line(
            f"{label} ({PROVIDER_TEMPLATES})",
            f"{requests} requests",
            f"<= {budget} requests",
            requests <= budget,
        )
        line(
            f"{label} ({PROVIDER_TEMPLATES})", f"{elapsed / 1000:.2f} s", "<= 3 s", elapsed <= 3000
        )
    print("all targets met" if not missed else f"{missed} target(s) missed")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
