"""`smsctl doctor`: the pre-flight and CI gate, one line per check."""

from __future__ import annotations

from typing import Any

import typer

from smsctl.cli.context import app_context
from smsctl.core import doctor as doctor_core
from smsctl.core.errors import SmsctlError, UsageError
from smsctl.core.schema import CHANNELS
from smsctl.providers.worker import calls_alibaba


@calls_alibaba("sms", "voice", unless=("--offline",), chosen_by="--channel")
def doctor(
    ctx: typer.Context,
    channel: list[str] = typer.Option(None, "--channel", help="Only this channel; repeat."),
    offline: bool = typer.Option(False, "--offline", help="Skip the checks that call providers."),
) -> None:
    """Check everything a send needs: config, secrets, credentials, approvals, template and
    signature relations, resolution for every app, active accounts. Exits non-zero with the
    exit class of the most fundamental failure."""
    app_ctx = app_context(ctx)
    for name in channel or ():
        if name not in CHANNELS:
            raise UsageError(f"Unknown channel {name!r}: " + ", ".join(CHANNELS) + ".")
    try:
        config = app_ctx.config()
    except SmsctlError as err:
        results = [doctor_core.from_error("config", "config file", err)]
    else:
        results = [doctor_core.passed("config", "config file", f"{config.path} is valid")]
        for problem in config.reference_problems():
            results.append(
                doctor_core.failed(
                    "config", "reference", problem.describe(), "Fix the line named.", 3
                )
            )
        context = doctor_core.DoctorContext(config, app_ctx.secrets, live=not offline)
        results += doctor_core.run(context, tuple(channel) if channel else CHANNELS)
    data = {"ok": all(r.ok for r in results), "checks": [r.to_dict() for r in results]}

    def human(out: Any) -> None:
        for result in results:
            label = f"[{result.channel}] {result.name}: {result.detail}"
            out.check(result.ok, label)
            if not result.ok and result.fix:
                out.line(f"    fix: {result.fix}")
        failures = sum(not r.ok for r in results)
        out.line()
        out.line("All checks passed." if not failures else f"{failures} check(s) failed.")

    app_ctx.output.emit(data, human)
    code = doctor_core.worst_exit(results)
    if code:
        raise typer.Exit(code)
