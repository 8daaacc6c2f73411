"""Rendering shared by several commands: how a resolution is explained to a person."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from smsctl.core.resolution import Resolution


def render_resolution(out: Any, chosen: Resolution) -> None:
    out.line(f"account:   {chosen.account.name} ({chosen.account.reason})")
    if chosen.signature is not None:
        out.line(f"signature: {chosen.signature.name} ({chosen.signature.reason})")
    noun = "rule" if chosen.channel == "wechat" else "template"
    out.line(f"{noun + ':':<10} {chosen.template.name} ({chosen.template.reason})")
    for candidate in chosen.template.considered:
        if candidate.skipped:
            out.line(f"           skipped {candidate.name}: {candidate.skipped}")
    for note in chosen.notes:
        out.warn(note)


def render_added(out: Any, what: str, change: Any, scenario: str, details: list[str]) -> None:
    """The outcome of a template `add`: added or already there, its details, and which other
    template stopped being the scenario's default."""
    verb = "Added" if change.changed else "Already present, unchanged:"
    out.success(f"{verb} {what} for {scenario}")
    for line in details:
        out.line(f"  {line}")
    for other in change.cleared_default:
        out.info(f"`{other}` is no longer the default for {scenario}.")


class WarningsOnly:
    """An Output for --quiet plans: what could make the send fail is still said, the rest not."""

    def __init__(self, out: Any) -> None:
        self._out = out

    def warn(self, text: str) -> None:
        self._out.warn(text)

    def __getattr__(self, name: str) -> Callable[..., None]:
        return lambda *args, **kwargs: None


def render_validation(
    out: Any, result: Any, label: str, sync_command: Callable[[str], str]
) -> None:
    """`validate`: credentials accepted, which account is active now, and the provider's view of
    the account's reviewed items (sync_command names the command that refreshes one)."""
    out.success(f"Credentials of {label} account `{result.account}` accepted by the provider")
    if result.activated:
        if result.previous_active and result.previous_active != result.account:
            out.success(
                f"`{result.account}` is now the active {label} account (was "
                f"`{result.previous_active}`, which stays configured)"
            )
        else:
            out.success(f"`{result.account}` is the active {label} account")
    for check in result.checks:
        if check.error:
            out.failure(f"{check.name}: {check.error.message}")
            continue
        note = (
            f" (smsctl has {check.previous or 'never checked it'}; run "
            f"`{sync_command(check.name)}`)"
            if check.changed
            else ""
        )
        reason = f": {check.reason}" if check.reason and check.status != "approved" else ""
        out.check(check.status == "approved", f"{check.name}: {check.status}{reason}{note}")


def validation_data(channel: str, result: Any, **extra: Any) -> dict[str, Any]:
    """`validate --json`, the same keys on every channel: the account, how its credentials were
    proved, whether it is the active one, and one entry per item the check looked at (`items`:
    reviewed signatures, templates and voice files, WeChat push rules). Channel facts are passed
    as `extra` keys, added to the common ones."""
    return {
        "channel": channel,
        "account": result.account,
        "credentials": {"accepted": True, "via": result.via},
        # whether it is the channel's active account now, and whether this command made it so
        "active": result.activated or result.previous_active == result.account,
        "activated": result.activated,
        "previous_active": result.previous_active,
        "items": [_validation_item(c) for c in getattr(result, "checks", [])],
        **extra,
    }


def _validation_item(check: Any) -> dict[str, Any]:
    ok = check.error is None and check.status == "approved"
    return {
        "kind": check.kind,
        "name": check.item,
        "ok": ok,
        "status": check.status,
        "reason": check.reason or None,
        "stored_status": check.previous,
        "differs": check.changed,
        "error": check.error.to_dict() if check.error else None,
    }


def rule_validation_item(rule: dict[str, Any]) -> dict[str, Any]:
    """A WeChat push rule checked by `wechat validate`, in the shape of every validate item."""
    return {
        "kind": "rule",
        "name": rule["rule"],
        "ok": rule["ok"],
        "status": "ok" if rule["ok"] else "invalid",
        "reason": rule["problem"],
        "stored_status": None,
        "differs": False,
        "error": None,
    }
