"""Doctor checks for the SMS channel: secrets, credentials, approvals, relations, resolution."""

from __future__ import annotations

from collections.abc import Iterator

from smsctl.core import resolution
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

CHANNEL = "sms"


def checks(context: DoctorContext) -> Iterator[Check]:
    config = context.config
    accounts = config.accounts(CHANNEL)
    if not accounts:
        return
    active = config.active_account(CHANNEL)
    if not active:
        yield failed(
            CHANNEL,
            "active account",
            "no active SMS account",
            "Run `smsctl validate ACCOUNT` to check one and make it active.",
            3,
        )
    elif not accounts.get(active, {}).get("enabled", False):
        yield failed(
            CHANNEL,
            "active account",
            f"the active account `{active}` is disabled",
            f"`smsctl account enable {active}`, or validate another account.",
            3,
        )
    else:
        yield passed(CHANNEL, "active account", f"`{active}`")
    clients = {}
    for name, item in accounts.items():
        if not item["enabled"]:
            continue
        check = f"account {name}"
        if secret_needed(item):
            try:
                context.secrets.require(CHANNEL, name)
            except SmsctlError as err:
                yield from_error(CHANNEL, f"{check}: secret", err)
                continue
            yield passed(CHANNEL, f"{check}: secret", context.secrets.status(CHANNEL, name))
        if not context.live:
            continue
        from smsctl.core import connect

        try:
            detail = credential_detail(config, context.secrets, CHANNEL, name)
            client = connect.adapter(config, context.secrets, CHANNEL, name)
            client.check_credentials()
        except SmsctlError as err:
            yield from_error(CHANNEL, f"{check}: credentials", err)
            continue
        clients[name] = client
        yield passed(CHANNEL, f"{check}: credentials", "accepted by the provider" + detail)
    yield from _items(context, clients)
    yield from _resolution(context)


def _items(context: DoctorContext, clients: dict) -> Iterator[Check]:
    from smsctl.core.sms import drift_affects, drift_of, provider_items

    config = context.config
    signatures = config.collection(CHANNEL, "signatures")
    for kind in ("signatures", "templates"):
        noun = kind[:-1]
        collection = config.collection(CHANNEL, kind)
        answers: dict[str, object] = {}
        for account, client in clients.items():
            names = [n for n, i in collection.items() if i["enabled"] and i["account"] == account]
            answers.update(provider_items(client, kind, names))
        for name, item in collection.items():
            if not item["enabled"]:
                continue
            check = f"{noun} {name}"
            account = config.accounts(CHANNEL).get(item["account"])
            if account is None or not account["enabled"]:
                yield failed(
                    CHANNEL,
                    check,
                    f"its account `{item['account']}` is missing or disabled",
                    f"Enable the account or disable the {noun}.",
                    3,
                )
                continue
            client = clients.get(item["account"])
            status = item["status"]
            if client is not None:
                info = answers[name]
                if isinstance(info, SmsctlError):
                    yield from_error(CHANNEL, check, info)
                    continue
                status = info.status
            if status != "approved":
                yield failed(
                    CHANNEL,
                    check,
                    f"{status} at the provider"
                    + (
                        " (smsctl has it as " + item["status"] + ")"
                        if status != item["status"]
                        else ""
                    ),
                    f"Fix it in the SMS console, then `smsctl {noun} sync {name}`.",
                    5,
                )
                continue
            if status != item["status"]:
                yield failed(
                    CHANNEL,
                    check,
                    f"approved at the provider but smsctl has it as {item['status']}",
                    f"`smsctl {noun} sync {name}`",
                    3,
                )
                continue
            drift = drift_of(item, answers[name]) if kind == "templates" and client else {}
            if drift:
                yield failed(
                    CHANNEL,
                    check,
                    drift_text(drift, drift_affects(config, name, item, drift)),
                    f"Check the senders, then `smsctl template sync {name}` to take the "
                    "provider's version.",
                    3,
                )
                continue
            yield passed(CHANNEL, check, "approved")
            if kind == "templates":
                yield from _template_relation(name, item, signatures)


def _template_relation(name: str, item: dict, signatures: dict) -> Iterator[Check]:
    usable = [
        s
        for s, v in signatures.items()
        if v["enabled"] and v["status"] == "approved" and v["account"] == item["account"]
    ]
    related = item.get("related_signature")
    check = f"template {name}: signature"
    if not usable:
        yield failed(
            CHANNEL,
            check,
            f"no approved, enabled signature on account `{item['account']}`",
            f"`smsctl signature add NAME --account {item['account']}`",
            3,
        )
    elif related and related not in usable:
        yield failed(
            CHANNEL,
            check,
            f"it was approved with signature `{related}`, which smsctl "
            f"does not have; sending with {', '.join(usable)} may be refused "
            "(isv.SMS_SIGNATURE_SCENE_ILLEGAL)",
            f"`smsctl signature add {related} --account {item['account']}`",
            3,
        )
    else:
        yield passed(CHANNEL, check, f"usable with {related or ', '.join(usable)}")


def _resolution(context: DoctorContext) -> Iterator[Check]:
    config = context.config
    if not config.active_account(CHANNEL):
        return
    scenarios = sorted(
        {t["scenario"] for t in config.collection(CHANNEL, "templates").values() if t["enabled"]}
    )
    apps = sorted(config.apps())
    for scenario in scenarios:
        for app in [None, *apps]:
            check = f"resolve {scenario}" + (f" for {app}" if app else "")
            try:
                chosen = resolution.resolve(config, CHANNEL, scenario=scenario, app=app)
            except SmsctlError as err:
                if app is None and err.code == "no_template" and apps:
                    continue  # only personalized templates for this scenario: fine
                yield from_error(CHANNEL, check, err)
                continue
            yield passed(CHANNEL, check, f"{chosen.template.name} + {chosen.signature.name}")


def drift_text(drift: dict, affected: list[str]) -> str:
    """A drifted template in one doctor line: each changed field, old and new."""
    parts = []
    for key, change in drift.items():
        old, new = change["old"], change["new"]
        if isinstance(old, list):
            old, new = ", ".join(old) or "none", ", ".join(new) or "none"
        parts.append(f"{key} was {old!r}, now {new!r}")
    text = "changed at the provider since it was added: " + "; ".join(parts)
    if affected:
        text += ". No longer matches: " + "; ".join(affected)
    return text
