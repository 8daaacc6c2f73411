#!/usr/bin/env python3
"""Crash test: kill smsctl writers with SIGKILL at random points, then check what is left.

Each round starts a child process that loops one kind of write — config changes (ConfigStore.edit,
the lock protocol), audit-log records (audit.record) or guard-ledger entries (guard.admit) — and
prints an acknowledgement after each completed one. After a random delay the child is killed with
SIGKILL, and the script checks:

- config: the file parses (stdlib tomllib and smsctl's own loader) and equals the state before or
  after one complete change (change i writes account k<i % 16> AND the note of account
  `counter`, so a half-applied change would show); no temp file is ever read; the next
  change succeeds without manual repair (the killed process's flock is gone with it; the owner
  record it left in the lock is reported as a stale lock);
- audit log / ledger: every line but the last is intact JSON, records are exactly 0..n with no
  gap or corruption, at most the line being written is lost (n >= last acknowledged), a torn last
  line is skipped by readers, and the next append works and is readable.

Usage:  python scripts/crash_test.py [--rounds 300] [--seed N] [--max-delay 0.3]
Prints: crash rounds: 300, config intact: 100/100, log intact: 100/100, ledger intact: 100/100,
        torn log lines: N, stale locks: N, recovered: 300   (exit 1 if any round failed)
tests/reliability/test_crashes.py runs it with a small number of rounds in CI.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

REPO = Path(__file__).resolve().parents[1]
TARGETS = ("config", "audit", "ledger")
FRESH_EVERY = 10  # rounds after which the audit log / ledger start afresh
SLOTS = 16  # config change i sets account k<i % SLOTS> and the `counter` account to i

WORKER = r"""
import os, sys
from pathlib import Path
target, path = sys.argv[1], Path(sys.argv[2])
start = int(sys.argv[3])
if target == "config":
    from smsctl.core.config import ConfigStore
    store = ConfigStore(path)
    write = None
elif target == "audit":
    from smsctl.core import audit
    audit.configure(audit.LogSettings(rotate_bytes=1 << 62))  # one file: counted whole
elif target == "ledger":
    from smsctl.core import guard
    limits = {"per_minute": 10**6, "per_hour": 10**6, "per_day": 10**6}
pad = "x" * int(sys.argv[4])
SLOTS = int(sys.argv[5])
sys.stdout.write("ready\n"); sys.stdout.flush()
i = start
while True:
    if target == "config":
        with store.edit() as e:
            e.set_item("sms", "accounts", f"k{i % SLOTS}", {"access_key_id": "LTAI5tCrash",
                                                            "note": f"{i} {pad[:2000]}"})
            e.set_item("sms", "accounts", "counter", {"access_key_id": "LTAI5tCrash",
                                                      "note": str(i)})
    elif target == "audit":
        audit.record("config.change", i=i, pad=pad)
    else:
        guard.admit("sms", f"+86138{i:08d}", limits)
    sys.stdout.write(f"{i}\n"); sys.stdout.flush()
    i += 1
"""


class Failure(Exception):
    pass


def run_worker(target: str, path: Path, start: int, pad: int, delay: float, env: dict) -> int:
    """Start the writer, kill it with SIGKILL `delay` seconds after it is ready; returns the last
    acknowledged change (-1 when none)."""
    proc = subprocess.Popen(
        [sys.executable, "-c", WORKER, target, str(path), str(start), str(pad), str(SLOTS)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
    )
    assert proc.stdout is not None
    if proc.stdout.readline().strip() != "ready":
        proc.kill()
        raise Failure(f"worker did not start: {proc.stderr.read() if proc.stderr else ''}")
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    out, err = proc.communicate()
    if proc.returncode != -signal.SIGKILL:
        raise Failure(f"worker ended on its own ({proc.returncode}): {err[-500:]}")
    acks = [int(line) for line in out.split()]
    return acks[-1] if acks else start - 1


def check_config(path: Path, before: int, acked: int) -> tuple[int, bool]:
    """Returns (changes now in the file, whether a stale lock had to be broken)."""
    from smsctl.core.config import ConfigStore

    text = path.read_text() if path.exists() else ""
    data = tomllib.loads(text)  # raises on a half-written file
    ConfigStore(path).load()
    accounts = data.get("sms", {}).get("accounts", {})
    count = int(accounts["counter"]["note"]) + 1 if "counter" in accounts else 0
    if count not in (acked + 1, acked + 2) or count < before:
        raise Failure(f"config has {count} changes; before {before}, acknowledged {acked + 1}")
    for slot in range(SLOTS):  # every slot shows the last change that wrote it, no other
        latest = max((i for i in range(count) if i % SLOTS == slot), default=None)
        note = accounts.get(f"k{slot}", {}).get("note")
        shown = None if note is None else int(note.split()[0])
        if shown != latest:
            raise Failure(f"half-applied change: k{slot} shows {shown}, expected {latest}")
    # The next run recovers by itself: the kernel dropped the killed writer's flock, and the
    # owner record it left in the lock file (if it got that far) is reported as a stale lock.
    lock = path.with_name(path.name + ".lock")
    stale = lock.exists() and lock.stat().st_size > 0
    store = ConfigStore(path)
    warnings = io.StringIO()
    with contextlib.redirect_stderr(warnings), store.edit() as editor:
        editor.set_item(
            "sms", "accounts", f"k{count % SLOTS}", {"access_key_id": "LTAI5tCrash",
                                                     "note": str(count)}
        )  # fmt: skip
        editor.set_item("sms", "accounts", "counter", {"access_key_id": "LTAI5tCrash",
                                                       "note": str(count)})  # fmt: skip
    if lock.stat().st_size:
        raise Failure("owner record left in the lock after a normal change")
    if stale and "stale lock" not in warnings.getvalue():
        raise Failure("a lock left by the killed process was not detected as stale")
    if list(path.parent.glob(f".{path.name}.tmp-*")):
        raise Failure("temp file left behind after a normal change")
    return count + 1, stale


def check_lines(path: Path, kind: str, before: int, acked: int) -> tuple[int, int]:
    """Returns (intact records now, torn lines in the file)."""
    from smsctl.core import audit, guard

    raw = path.read_bytes() if path.exists() else b""
    lines = raw.split(b"\n")
    torn = 0
    intact = []
    for line in lines:
        if not line.strip():
            continue
        try:
            intact.append(json.loads(line))
        except ValueError:
            torn += 1  # a line cut by a kill; readers skip it
    records = audit.read_lines(path)
    if records != intact:
        raise Failure("reader and raw parse disagree")
    count = len(records)
    if count < before or count not in (acked + 1, acked + 2):
        raise Failure(f"{kind}: {count} records; before {before}, acknowledged {acked + 1}")
    if kind == "audit":
        numbers = [r.get("i") for r in records]
        if numbers != list(range(count)):
            raise Failure(f"audit records out of order or lost: ...{numbers[-5:]}")
        # The checks count the records of one file: rotation (tested on its own) would move
        # them; a config loaded meanwhile set the default size.
        audit.configure(audit.LogSettings(rotate_bytes=1 << 62))
        audit.record("config.change", i=count, pad="")
    else:
        guard.admit("sms", f"+86138{count:08d}", {"per_minute": 10**6})
    after = audit.read_lines(path)
    if len(after) != count + 1:
        raise Failure(f"{kind}: the append after the crash is not readable")
    return count + 1, torn


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--max-delay", type=float, default=0.3)
    args = parser.parse_args(argv)
    seed = args.seed if args.seed is not None else random.randrange(2**32)
    rng = random.Random(seed)
    scratch = Path(tempfile.mkdtemp(prefix="smsctl-crash-"))
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    env["SMSCTL_STATE_DIR"] = str(scratch / "state")
    os.environ["SMSCTL_STATE_DIR"] = env["SMSCTL_STATE_DIR"]
    paths = {
        "config": scratch / "cfg" / "config.toml",
        "audit": scratch / "state" / "audit.jsonl",
        "ledger": scratch / "state" / "guard.jsonl",
    }
    counts = dict.fromkeys(TARGETS, 0)
    intact = dict.fromkeys(TARGETS, 0)
    rounds_of = dict.fromkeys(TARGETS, 0)
    torn_in = dict.fromkeys(TARGETS, 0)
    torn_done = 0
    stale = recovered = 0
    failures: list[str] = []
    for number in range(args.rounds):
        target = TARGETS[number % len(TARGETS)]
        if target != "config" and rounds_of[target] % FRESH_EVERY == 0 and counts[target]:
            # Start a fresh log now and then so that a long run stays fast and small.
            paths[target].unlink()
            counts[target] = 0
            torn_done += torn_in[target]
            torn_in[target] = 0
        rounds_of[target] += 1
        pad = rng.choice([0, 100, 4096])
        delay = rng.uniform(0.0, args.max_delay)
        try:
            acked = run_worker(target, paths[target], counts[target], pad, delay, env)
            if target == "config":
                counts[target], was_stale = check_config(paths[target], counts[target], acked)
                stale += was_stale
            else:
                counts[target], torn_in[target] = check_lines(
                    paths[target], target, counts[target], acked
                )
            intact[target] += 1
            recovered += 1
        except Exception as exc:  # noqa: BLE001 - every failure is reported, then the run goes on
            failures.append(f"round {number} ({target}, pad {pad}, delay {delay:.3f}): {exc}")
            break
    done = sum(rounds_of.values())
    print(
        f"crash rounds: {done}, config intact: {intact['config']}/{rounds_of['config']}, "
        f"log intact: {intact['audit']}/{rounds_of['audit']}, "
        f"ledger intact: {intact['ledger']}/{rounds_of['ledger']}, "
        f"torn log lines: {torn_done + sum(torn_in.values())}, "
        f"stale locks: {stale}, recovered: {recovered} (seed {seed})"
    )
    for failure in failures:
        print("FAILED " + failure, file=sys.stderr)
    if not failures:
        import shutil

        shutil.rmtree(scratch, ignore_errors=True)
    else:
        print(f"files kept in {scratch}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
