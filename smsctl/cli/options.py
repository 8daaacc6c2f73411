"""Options several commands share, declared once so they read the same everywhere."""

from __future__ import annotations

import typer

from smsctl.core.schema import SCENARIOS

SCENARIO_HELP = "What it is for: " + ", ".join(SCENARIOS) + "."
PARAM = typer.Option(None, "--param", metavar="NAME=VALUE", help="A template variable; repeat.")
PARAMS_JSON = typer.Option(
    None,
    "--params-json",
    metavar="JSON",
    help='All variables as a JSON object, e.g. {"code":"1234"}.',
)
DRY_RUN = typer.Option(False, "--dry-run", help="Resolve, validate and render; send nothing.")
YES = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation (needed without a TTY).")
TIMEOUT = typer.Option(
    None,
    "--timeout",
    metavar="SECONDS",
    min=0.1,
    max=600,
    help="Read timeout of the send request (default: [defaults] timeout).",
)
ACCOUNT_FILTER = typer.Option(None, "--account", help="Only this account's items.")
SCENARIO_FILTER = typer.Option(None, "--scenario", help="Only this scenario.")
CHECK_ONLY = typer.Option(False, "--check-only", help="Check without making it the active account.")
VALIDATE_ACCOUNT = typer.Argument(
    None, metavar="[ACCOUNT]", help="Default: the active account, or the only one."
)
ALLOW_PENDING = typer.Option(
    False,
    "--allow-pending",
    help="Store it while still under review (never used until sync sees it approved).",
)
