"""`smsctl validate [ACCOUNT]`: check an SMS account live and make it the active one."""

from __future__ import annotations

from typing import Any

import typer

from smsctl.cli.context import app_context
from smsctl.cli.options import CHECK_ONLY, VALIDATE_ACCOUNT
from smsctl.core import sms


def validate(
    ctx: typer.Context,
    account: str = VALIDATE_ACCOUNT,
    check_only: bool = CHECK_ONLY,
) -> None:
    """Check an SMS account's credentials with a read-only provider call; on success make it
    the active SMS account (the previous one stays configured) and report the approval state of
    its signatures and templates."""
    app_ctx = app_context(ctx)
    result = sms.validate(app_ctx.store, app_ctx.secrets, account, check_only=check_only)
    data = {
        "account": result.account,
        "credentials": "accepted",
        "active": result.activated,
        "previous_active": result.previous_active,
        "items": [
            {
                "item": c.name,
                "status": c.status,
                "reason": c.reason,
                "stored_status": c.previous,
                "differs": c.changed,
                "error": c.error.to_dict() if c.error else None,
            }
            for c in result.checks
        ],
    }

    def human(out: Any) -> None:
        out.success(f"Credentials of SMS account `{result.account}` accepted by the provider")
        if result.activated:
            if result.previous_active and result.previous_active != result.account:
                out.success(
                    f"`{result.account}` is now the active SMS account (was "
                    f"`{result.previous_active}`, which stays configured)"
                )
            else:
                out.success(f"`{result.account}` is the active SMS account")
        for check in result.checks:
            if check.error:
                out.failure(f"{check.name}: {check.error.message}")
            else:
                note = (
                    f" (smsctl has {check.previous}; run `smsctl {check.name.split()[0]} sync`)"
                    if check.changed
                    else ""
                )
                out.check(check.status == "approved", f"{check.name}: {check.status}{note}")

    app_ctx.output.emit(data, human)
