"""What Ctrl-C during a send-test means, said plainly: before the request nothing went out;
once it was handed over it may have (how to check, with the OutId); while waiting for a receipt
or call result, the send was accepted (how to look it up later). Always exit 130."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from smsctl.core.errors import Interrupted


@contextmanager
def during_send(
    plan: Any, what: str, hint: Callable[[], str], *, verb: str = "sent"
) -> Iterator[None]:
    """`what` was `verb` ("SMS" sent, "call" placed, "push" pushed); `hint` says how to find
    out whether it went out before sending again."""
    try:
        yield
    except KeyboardInterrupt:
        details = {"out_id": plan.out_id, "sent": "unknown" if plan.handed_over else False}
        if not plan.handed_over:
            raise Interrupted(
                f"Interrupted before the {what} was {verb}: nothing went out.", details=details
            ) from None
        raise Interrupted(
            f"Interrupted while the {what} was being {verb}: it may have gone out "
            f"(OutId {plan.out_id}).",
            hint=hint(),
            code="interrupted_send",
            details=details,
        ) from None


@contextmanager
def during_wait(done: str, how_to_check: str, details: dict[str, Any]) -> Iterator[None]:
    """Waiting for the outcome of a send that was accepted (`done` says so, with its ids)."""
    try:
        yield
    except KeyboardInterrupt:
        raise Interrupted(
            f"Interrupted while waiting: {done}.",
            hint=f"Look it up later with {how_to_check}.",
            code="interrupted_wait",
            details={"sent": True, **details},
        ) from None
