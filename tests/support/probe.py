"""Run the console script's entry point in a fresh interpreter and report, besides the exit
code, every module the process imported (what the import guard and the provider-worker tests
inspect). With PROBE_KILL_WORKER_FIRST=1 the provider worker is started and killed before the
command runs, as if it had died at start-up. PROBE_PRELUDE is Python run before the entry point
(a thread started, an adapter method replaced: a worker forked later inherits it)."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

PROBE = """\
import json, os, signal, sys
sys.argv = ["smsctl", *json.loads(sys.argv[1])]
from smsctl.entry import main
exec(os.environ.get("PROBE_PRELUDE", ""))
if os.environ.get("PROBE_KILL_WORKER_FIRST") == "1":
    from smsctl.providers import worker
    worker.start(("sms",))
    os.kill(worker._running.pid, signal.SIGKILL)
    os.waitpid(worker._running.pid, 0)
try:
    main()
except SystemExit as done:
    code = done.code
else:
    code = 0
sys.stdout.flush()
sys.stderr.write("\\nMODULES " + json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


def probe(argv: list[str], env: dict[str, str]) -> tuple[dict[str, Any], str, str]:
    """(report with "code" and "modules", stdout, stderr without the report)."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(argv)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    stderr, _, report = done.stderr.rpartition("\nMODULES ")
    return json.loads(report), done.stdout, stderr
