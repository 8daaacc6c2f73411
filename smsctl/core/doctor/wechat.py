"""Doctor checks for the WeChat channel.

Per enabled account: the AppSecret is present, a token is obtainable through `stable_token`
with force_refresh=false (never the legacy `token` call, which would invalidate the token the
production sender uses), and this machine's IP is whitelisted (40164 names the IP to add).
Per rule: its account exists and is enabled, its template is still approved on the account, and
every variable of the template has a value. A rule whose account was deleted always fails.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from smsctl.core import wechat
from smsctl.core.doctor import Check, DoctorContext, failed, from_error, passed
from smsctl.core.errors import SmsctlError

CHANNEL = "wechat"


def checks(context: DoctorContext) -> Iterator[Check]:
    config = context.config
    accounts = config.accounts(CHANNEL)
    rules = config.collection(CHANNEL, "rules")
    if not accounts and not rules:
        return
    yield from _active(context)
    templates: dict[str, list[Any] | None] = {}
    for name, item in accounts.items():
        if item["enabled"]:
            templates[name] = yield from _account(context, name)
    for name, item in rules.items():
        yield from _rule(context, name, item, templates)


def _active(context: DoctorContext) -> Iterator[Check]:
    config = context.config
    accounts = config.accounts(CHANNEL)
    active = config.active_account(CHANNEL)
    if not accounts:
        return
    if not active:
        yield failed(
            CHANNEL,
            "active account",
            "no active wechat account",
            "Run `smsctl wechat validate ACCOUNT` to check one and make it active.",
            3,
        )
    elif active not in accounts or not accounts[active]["enabled"]:
        yield failed(
            CHANNEL,
            "active account",
            f"the active account `{active}` is missing or disabled",
            f"`smsctl wechat account enable {active}`, or validate another account.",
            3,
        )
    else:
        yield passed(CHANNEL, "active account", f"`{active}`")


def _account(context: DoctorContext, name: str) -> Iterator[Check]:
    """The account's checks; returns its live template list (None when not fetched)."""
    from smsctl.core import connect

    check = f"account {name}"
    try:
        context.secrets.require(CHANNEL, name)
    except SmsctlError as err:
        yield from_error(CHANNEL, f"{check}: secret", err)
        return None
    yield passed(CHANNEL, f"{check}: secret", context.secrets.status(CHANNEL, name))
    if not context.live:
        return None
    try:
        target = connect.adapter(context.config, context.secrets, CHANNEL, name)
        target.check_credentials()
    except SmsctlError as err:
        if err.code == "40164":
            ip = err.details.get("ip", "this machine's IP")
            yield failed(
                CHANNEL,
                f"{check}: IP whitelist",
                f"{ip} is not in the account's IP whitelist (40164)",
                err.hint,
                err.exit_code,
            )
        else:
            yield from_error(CHANNEL, f"{check}: token", err)
        return None
    yield passed(CHANNEL, f"{check}: token", "obtainable (stable_token, force_refresh=false)")
    yield passed(CHANNEL, f"{check}: IP whitelist", "this machine's IP is accepted")
    try:
        found = target.list_templates()
    except SmsctlError as err:
        yield from_error(CHANNEL, f"{check}: templates", err)
        return None
    yield passed(CHANNEL, f"{check}: templates", f"{len(found)} approved template(s)")
    return found


def _rule(
    context: DoctorContext,
    name: str,
    item: dict[str, Any],
    templates: dict[str, list[Any] | None],
) -> Iterator[Check]:
    config = context.config
    check = f"rule {name}"
    reason = wechat.invalid_reason(config, item)
    if reason:
        yield failed(
            CHANNEL,
            check,
            f"invalid: {reason}; it can never be used",
            f"`smsctl wechat rule delete {name} --yes`, then add a rule for an existing account.",
            3,
        )
        return
    if not item["enabled"]:
        return
    account = config.accounts(CHANNEL)[item["account"]]
    if not account["enabled"]:
        yield failed(
            CHANNEL,
            check,
            f"its account `{item['account']}` is disabled",
            f"`smsctl wechat account enable {item['account']}`, or disable the rule.",
            3,
        )
        return
    found = templates.get(item["account"])
    if found is None:
        return  # the account's own checks failed or were skipped (--offline)
    problem = wechat.rule_problem(config, name, item, found)
    if problem:
        yield failed(
            CHANNEL,
            check,
            problem,
            f"`smsctl wechat template list {item['account']}`, then "
            f"`smsctl wechat rule edit {name} --template-id ID --var NAME=VALUE ...`.",
            3,
        )
        return
    yield passed(CHANNEL, check, f"template {item['template_id']} present, every variable set")
