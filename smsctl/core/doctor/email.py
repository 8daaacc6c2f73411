"""Doctor checks for the email channel: active account, per enabled account its password,
CA file and a live connect + verified TLS + login; per enabled template its account, its
placeholders, and ${code} in verification templates."""

from __future__ import annotations

from collections.abc import Iterator

from smsctl.core.doctor import Check, DoctorContext, failed, from_error, passed
from smsctl.core.errors import SmsctlError

CHANNEL = "email"


def checks(context: DoctorContext) -> Iterator[Check]:
    config = context.config
    accounts = config.accounts(CHANNEL)
    templates = config.collection(CHANNEL, "templates")
    if not accounts and not templates:
        return
    yield _active(config, accounts)
    for name, item in accounts.items():
        if item["enabled"]:
            yield from _account(context, name, item)
    for name, item in templates.items():
        if item["enabled"]:
            yield _template(name, item, accounts)


def _active(config, accounts: dict) -> Check:
    active = config.active_account(CHANNEL)
    if not active:
        only = next(iter(accounts)) if len(accounts) == 1 else "ACCOUNT"
        return failed(
            CHANNEL,
            "active account",
            "no active email account",
            f"Run `smsctl email validate {only}` to check one and make it active.",
            3,
        )
    if active not in accounts:
        return failed(
            CHANNEL,
            "active account",
            f"the active account `{active}` does not exist",
            "Validate an existing account: `smsctl email validate ACCOUNT`.",
            3,
        )
    if not accounts[active]["enabled"]:
        return failed(
            CHANNEL,
            "active account",
            f"the active account `{active}` is disabled",
            f"`smsctl email account enable {active}`, or validate another account.",
            3,
        )
    return passed(CHANNEL, "active account", f"`{active}`")


def _account(context: DoctorContext, name: str, item: dict) -> Iterator[Check]:
    from smsctl.core import email

    check = f"account {name}"
    ca_file = item.get("ca_file")
    if ca_file:
        try:
            email.check_ca_file(ca_file)
        except SmsctlError as err:
            yield failed(
                CHANNEL,
                f"{check}: CA file",
                err.message.replace("--ca-file", "ca_file", 1),
                f"`smsctl email account edit {name} --ca-file PEM` (or --ca-file '' to rely on "
                "the system's CAs).",
                3,
            )
            return
        yield passed(CHANNEL, f"{check}: CA file", f"{ca_file} readable")
    try:
        email.check_plain_allowed_config(name, item)
    except SmsctlError as err:
        yield from_error(CHANNEL, f"{check}: TLS", err)
        return
    try:
        # SecretStore.lookup reads the env var first and asks the keyring only without one.
        context.secrets.require(CHANNEL, name)
    except SmsctlError as err:
        yield from_error(CHANNEL, f"{check}: secret", err)
        return
    yield passed(CHANNEL, f"{check}: secret", context.secrets.status(CHANNEL, name))
    if not context.live:
        return
    from smsctl.core import connect

    try:
        connect.adapter(context.config, context.secrets, CHANNEL, name).check_credentials()
    except SmsctlError as err:
        yield from_error(CHANNEL, f"{check}: connect", err)
        return
    security = item["security"]
    tls = "no TLS (loopback)" if security == "none" else f"{security}, TLS verified"
    yield passed(
        CHANNEL,
        f"{check}: connect",
        f"{item['host']}:{item['port']} ({tls}), login accepted",
    )


def _template(name: str, item: dict, accounts: dict) -> Check:
    from smsctl.core import email

    check = f"template {name}"
    account = item.get("account")
    if account and (account not in accounts or not accounts[account]["enabled"]):
        return failed(
            CHANNEL,
            check,
            f"its account `{account}` is missing or disabled",
            f"Enable the account, bind the template to another "
            f"(`smsctl email template edit {name} --account ACC`), or disable the template.",
            3,
        )
    problems = email.template_problems(
        item.get("scenario"), item.get("subject") or "", item.get("html") or "", item.get("text")
    )
    if problems:
        return failed(
            CHANNEL,
            check,
            "; ".join(problems),
            f"`smsctl email template edit {name} --html FILE ...`",
            3,
        )
    variables = email.template_variables(
        item.get("subject") or "", item.get("html") or "", item.get("text")
    )
    detail = "variables: " + (", ".join(variables) or "none")
    stored = item.get("variables") or []
    if sorted(variables) != sorted(stored):
        # Informational only (sends use the placeholders themselves), but worth refreshing.
        detail += f" (the stored list says {', '.join(stored) or 'none'}; any edit refreshes it)"
    return passed(CHANNEL, check, detail)
