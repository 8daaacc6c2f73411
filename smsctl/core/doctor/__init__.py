"""`smsctl doctor`: the pre-flight and CI gate. One module per channel contributes checks.

Each channel module exposes `checks(context) -> Iterator[Check]`, where `context` is a
`DoctorContext`. Live checks talk to the provider through the adapters; a failed check carries
the exit class of its failure (docs/contract.md §6) and the fix.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from importlib import import_module
from typing import Any

from smsctl.core import channels
from smsctl.core.config import Config
from smsctl.core.errors import SmsctlError

CHANNEL_MODULES = channels.NAMES


@dataclass(frozen=True)
class Check:
    channel: str
    name: str
    ok: bool
    detail: str
    fix: str | None = None
    exit_code: int = 0  # the exit class when the check failed

    def to_dict(self) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "check": self.name,
            "ok": self.ok,
            "detail": self.detail,
            "fix": self.fix,
            "exit_code": 0 if self.ok else self.exit_code,
        }


@dataclass
class DoctorContext:
    config: Config
    secrets: Any  # SecretStore
    live: bool = True


def passed(channel: str, name: str, detail: str) -> Check:
    return Check(channel, name, True, detail)


def failed(channel: str, name: str, detail: str, fix: str | None, exit_code: int) -> Check:
    return Check(channel, name, False, detail, fix, exit_code)


def from_error(channel: str, name: str, err: SmsctlError) -> Check:
    detail = err.message + (f" (request id {err.request_id})" if err.request_id else "")
    return failed(channel, name, detail, err.hint, err.exit_code)


def run(context: DoctorContext, channels: tuple[str, ...] = CHANNEL_MODULES) -> list[Check]:
    results: list[Check] = []
    for channel in channels:
        module = import_module(f"smsctl.core.doctor.{channel}")
        results.extend(_guarded(channel, module.checks(context)))
        results.extend(leftover_secrets(context, channel))
    return results


def leftover_secrets(context: DoctorContext, channel: str) -> Iterator[Check]:
    """Keyring entries that an interrupted `account add` or `account delete` of this config
    left behind for an account the config does not have (smsctl.core.leftover_secrets)."""
    from smsctl.core import leftover_secrets as notes

    accounts = context.config.accounts(channel)
    prefix = channels.channel(channel).command() + " "
    for note in notes.notes(context.config.path):
        if note.channel != channel or note.account in accounts:
            continue
        try:
            if not context.secrets.in_keyring(channel, note.account):
                continue
        except SmsctlError:
            continue  # no keyring to ask: the account checks report why
        yield failed(
            channel,
            f"leftover secret {note.account}",
            f"the keyring holds `{channel}/{note.account}`, but the config has no {channel} "
            f"account `{note.account}`: an `account add` or `account delete` of it was "
            "interrupted",
            f"Remove the entry with `{prefix}account delete {note.account}`, or add the "
            f"account again with `{prefix}account add {note.account} ...`.",
            4,
        )


def credential_detail(config: Any, secrets: Any, channel: str, name: str) -> str:
    """` (MODE, expires TIME)` for an Alibaba Cloud account whose credential mode is not
    access-key; obtaining its credentials is the check (exit 4 when the mode cannot)."""
    from smsctl.core import clock, connect

    item = config.get(channel, "accounts", name)
    mode = connect.credential_mode(item)
    if mode == "access-key":
        return ""
    session: Any = connect.alibaba_session(connect.account_of(config, secrets, channel, name))
    if session.expires_at is None:
        return f" ({mode})"
    return f" ({mode}, expires {clock.show(session.expires_at)})"


def secret_needed(item: Any) -> bool:
    from smsctl.core.credentials import needs_secret

    return needs_secret(item)


def _guarded(channel: str, checks: Iterator[Check]) -> Iterator[Check]:
    """A check that raises an SmsctlError becomes a failed check, not a crash."""
    try:
        yield from checks
    except SmsctlError as err:
        yield from_error(channel, "checks", err)


def worst_exit(results: list[Check]) -> int:
    codes = [c.exit_code or 1 for c in results if not c.ok]
    if not codes:
        return 0
    # "Worst" = the most fundamental cause: config (3) before credentials (4) before provider.
    order = [3, 4, 5, 7, 6, 8, 2, 1]
    return min(codes, key=lambda code: order.index(code) if code in order else len(order))
