"""Doctor checks for the email channel."""

from __future__ import annotations

from collections.abc import Iterator

from smsctl.core.doctor import Check, DoctorContext


def checks(context: DoctorContext) -> Iterator[Check]:
    return iter(())
