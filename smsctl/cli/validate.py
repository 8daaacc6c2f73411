"""`smsctl validate [ACCOUNT]`: check an SMS account live and make it the active one."""

from __future__ import annotations

import typer

from smsctl.cli.context import app_context
from smsctl.cli.options import CHECK_ONLY, VALIDATE_ACCOUNT
from smsctl.cli.render import render_validation, validation_data
from smsctl.core import sms
from smsctl.providers.worker import calls_alibaba


@calls_alibaba("sms")
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
    app_ctx.output.emit(
        validation_data("sms", result),
        lambda out: render_validation(
            out, result, "SMS", lambda item: f"smsctl {item.split()[0]} sync"
        ),
    )
