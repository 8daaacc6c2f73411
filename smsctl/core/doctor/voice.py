"""Doctor checks for the voice channel: secrets, credentials (live), the active account, and
each enabled template (its account, and for TTS the ${var} syntax of its content)."""

from __future__ import annotations

from collections.abc import Iterator

from smsctl.core import templating
from smsctl.core.doctor import (
    Check,
    DoctorContext,
    credential_detail,
    failed,
    from_error,
    passed,
    secret_needed,
)
from smsctl.core.errors import SmsctlError

CHANNEL = "voice"


def checks(context: DoctorContext) -> Iterator[Check]:
    config = context.config
    accounts = config.accounts(CHANNEL)
    if not accounts and not config.collection(CHANNEL, "templates"):
        return
    yield from _active(context)
    for name, item in accounts.items():
        if not item["enabled"]:
            continue
        check = f"account {name}"
        if secret_needed(item):
            try:
                # SecretStore reads the env var first and asks the keyring only without one.
                found = context.secrets.lookup(CHANNEL, name)
                if found.value is None:
                    from smsctl.core.secrets import missing_secret_error

                    raise missing_secret_error(CHANNEL, name)
            except SmsctlError as err:
                yield from_error(CHANNEL, f"{check}: secret", err)
                continue
            yield passed(CHANNEL, f"{check}: secret", f"set ({found.source})")
        if not context.live:
            continue
        from smsctl.core import connect

        try:
            detail = credential_detail(config, context.secrets, CHANNEL, name)
            connect.adapter(config, context.secrets, CHANNEL, name).check_credentials()
        except SmsctlError as err:
            yield from_error(CHANNEL, f"{check}: credentials", err)
            continue
        yield passed(CHANNEL, f"{check}: credentials", "accepted by the provider" + detail)
    yield from _templates(context)


def _active(context: DoctorContext) -> Iterator[Check]:
    config = context.config
    accounts = config.accounts(CHANNEL)
    active = config.active_account(CHANNEL)
    if not active:
        yield failed(
            CHANNEL,
            "active account",
            "no active voice account",
            "Run `smsctl voice validate ACCOUNT` to check one and make it active.",
            3,
        )
    elif active not in accounts:
        yield failed(
            CHANNEL,
            "active account",
            f"the active account `{active}` does not exist",
            "Run `smsctl voice validate ACCOUNT` with an existing account.",
            3,
        )
    elif not accounts[active]["enabled"]:
        yield failed(
            CHANNEL,
            "active account",
            f"the active account `{active}` is disabled",
            f"`smsctl voice account enable {active}`, or validate another account.",
            3,
        )
    else:
        yield passed(CHANNEL, "active account", f"`{active}`")


def _templates(context: DoctorContext) -> Iterator[Check]:
    config = context.config
    accounts = config.accounts(CHANNEL)
    for code, item in config.collection(CHANNEL, "templates").items():
        if not item["enabled"]:
            continue
        check = f"template {code}"
        account = accounts.get(item["account"])
        if account is None or not account["enabled"]:
            yield failed(
                CHANNEL,
                check,
                f"its account `{item['account']}` is missing or disabled",
                f"Enable the account, or `smsctl voice template disable {code}`.",
                3,
            )
            continue
        if item["kind"] == "voice-file":
            if item.get("status") == "approved":
                yield passed(CHANNEL, check, f"approved voice file on `{item['account']}`")
            else:
                yield failed(
                    CHANNEL,
                    check,
                    "a voice file not approved at the provider "
                    f"(status {item.get('status') or 'never checked'})",
                    f"`smsctl voice template sync {code}` once the voice console shows it "
                    "approved.",
                    3,
                )
            continue
        problem = _content_problem(item)
        if problem:
            yield failed(
                CHANNEL,
                check,
                problem,
                f"`smsctl voice template edit {code} --content TEXT` with the text approved at "
                "the provider (variables as ${name}).",
                3,
            )
            continue
        variables = ", ".join(item["variables"]) or "no variables"
        yield passed(CHANNEL, check, f"TTS on `{item['account']}` ({variables})")


def _content_problem(item: dict) -> str | None:
    content = item.get("content") or ""
    if not content.strip():
        return "a TTS template without content"
    malformed = templating.find_malformed(content)
    if malformed:
        where = "; ".join(f"line {line}, column {col}: {snip!r}" for line, col, snip in malformed)
        return f"malformed placeholder in its content: {where}"
    parsed = templating.variables(content)
    if sorted(parsed) != sorted(item.get("variables") or []):
        return (
            f"its variables ({', '.join(item.get('variables') or []) or 'none'}) do not match "
            f"its content ({', '.join(parsed) or 'none'})"
        )
    return None
