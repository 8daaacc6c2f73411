"""SMS administration: signatures and templates checked against the provider, validation of an
account, and local rendering of a template exactly as the recipient will read it."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from smsctl.core import audit, channels, clock, connect, testsend
from smsctl.core.config import Config, ConfigStore
from smsctl.core.errors import SmsctlError, UsageError
from smsctl.core.names import check_provider_name

# Alibaba template placeholders: `${name}`; a `$` elsewhere is literal text.
PLACEHOLDER = re.compile(r"\$\{\s*([^}\s]+)\s*\}")
SMS_VARIABLE_LIMIT = 35  # a common per-variable length limit (isv.PARAM_LENGTH_LIMIT)


def variables(content: str) -> list[str]:
    return list(dict.fromkeys(PLACEHOLDER.findall(content or "")))


def render(content: str, values: dict[str, str]) -> str:
    """The exact text the recipient gets (without the 【signature】 prefix)."""
    from smsctl.core.templating import check_values

    check_values(variables(content), values)
    return PLACEHOLDER.sub(lambda m: str(values[m.group(1)]), content)


def value_warnings(values: dict[str, str]) -> list[str]:
    """Limits the provider enforces only after sending."""
    warnings = []
    for name, value in values.items():
        if len(value) > SMS_VARIABLE_LIMIT:
            warnings.append(
                f"`{name}` is {len(value)} characters; providers commonly refuse "
                f"variables over {SMS_VARIABLE_LIMIT} (isv.PARAM_LENGTH_LIMIT)."
            )
        if re.search(r"https?://|www\.", value, re.I):
            warnings.append(
                f"`{name}` contains a URL; variables with links are often refused "
                "(isv.PARAM_NOT_SUPPORT_URL)."
            )
    return warnings


def render_item(
    config: Any, code: str, item: dict[str, Any], values: dict[str, str], *, signature: str | None
) -> dict[str, Any]:
    """`template render`: the text as the phone shows it (with the signature when one is
    given), its length, and warnings about the values."""
    body = render(item["content"], values)
    if signature:
        config.get("sms", "signatures", signature)
    text = full_text(signature, body) if signature else body
    return {
        "text": text,
        "variables": list(item.get("variables") or variables(item["content"])),
        "warnings": value_warnings(values),
        "code": code,
        "length": len(text),
    }


def full_text(signature: str, body: str) -> str:
    return f"【{signature}】{body}"


@dataclass
class StatusCheck:
    name: str
    status: str
    reason: str
    changed: bool = False
    previous: str | None = None
    error: SmsctlError | None = None
    info: Any = None
    kind: str = ""  # what the item is (signature, template, voice_file), for --json
    item: str = ""  # its name or code, for --json
    drift: dict[str, Any] = field(default_factory=dict)  # templates: field -> {old, new}
    affected: list[str] = field(default_factory=list)  # what no longer matches after drift


def add_signature(
    store: ConfigStore, secrets: Any, name: str, account: str, allow_pending: bool
) -> tuple[Any, Any]:
    check_provider_name(name, "signature name")
    config = store.load()
    config.get("sms", "accounts", account)
    info = connect.adapter(config, secrets, "sms", account).get_signature(name)
    from smsctl.core import items

    items.refuse_unapproved(
        "signature", name, info.status, info.reason, allow_pending, sync="smsctl signature sync"
    )
    values = {"account": account, **items.review_fields(info.status, info.reason)}
    return items.add(store, "sms", "signatures", name, values, command="signature add"), info


def add_template(
    store: ConfigStore,
    secrets: Any,
    code: str,
    *,
    account: str,
    scenario: str,
    name: str | None,
    default: bool,
    allow_pending: bool,
) -> tuple[Any, Any]:
    check_provider_name(code, "template code")
    config = store.load()
    config.get("sms", "accounts", account)
    info = connect.adapter(config, secrets, "sms", account).get_template(code)
    from smsctl.core import items

    items.refuse_unapproved(
        "template", code, info.status, info.reason, allow_pending, sync="smsctl template sync"
    )
    values = template_values(info, account=account, scenario=scenario, name=name, default=default)
    return items.add(store, "sms", "templates", code, values, command="template add"), info


def template_values(
    info: Any, *, account: str, scenario: str, name: str | None = None, default: bool = False
) -> dict[str, Any]:
    """What the config keeps of a provider template (`template add`, `import`, `submit`)."""
    from smsctl.core import items

    return {
        "account": account,
        "scenario": scenario,
        "name": name or info.name,
        "content": info.content,
        "variables": variables(info.content),
        "type": info.type,
        **items.review_fields(info.status, info.reason),
        "related_signature": info.related_signature or "",
        "default": True if default else None,
    }


def drift_of(item: dict[str, Any], info: Any) -> dict[str, dict[str, Any]]:
    """What changed at the provider in a template since smsctl stored it: content, variables,
    related signature, each as {"old": ..., "new": ...}. A template stored before smsctl kept
    its content has nothing to compare with."""
    if not item.get("content"):
        return {}
    now = {
        "content": info.content,
        "variables": variables(info.content),
        "related_signature": info.related_signature or "",
    }
    was = {
        "content": item.get("content", ""),
        "variables": list(item.get("variables") or variables(item.get("content", ""))),
        "related_signature": item.get("related_signature", ""),
    }
    return {key: {"old": was[key], "new": now[key]} for key in now if was[key] != now[key]}


def drift_affects(config: Config, code: str, item: dict[str, Any], drift: dict) -> list[str]:
    """What no longer matches after a template drifted: the apps authorized to send with it
    (their callers pass the old variables), its scenario's resolution, and the signature smsctl
    pairs with it when the provider relates another one."""
    affected = []
    if "variables" in drift:
        apps = list(item.get("apps") or [])
        for app in apps:
            affected.append(f"authorization: app {app} sends {code} with the old variables")
        affected.append(
            f"scenario {item.get('scenario')} on account {item.get('account')}: sends resolve "
            f"to {code}, whose variables are now {', '.join(drift['variables']['new']) or 'none'}"
        )
    if "related_signature" in drift:
        new = drift["related_signature"]["new"]
        signatures = config.collection("sms", "signatures")
        if new and new not in signatures:
            affected.append(
                f"signature {new}: the provider now relates {code} to it, smsctl does not have it"
            )
        old = drift["related_signature"]["old"]
        if old and old in signatures:
            affected.append(f"signature {old}: no longer the one {code} is related to")
    return affected


def sync(
    store: ConfigStore, secrets: Any, kind: str, names: Iterable[str] | None = None
) -> list[StatusCheck]:
    """Refresh the provider status (and, for templates, content) of one or all items."""
    from smsctl.core.items import review_fields

    config = store.load()
    collection = config.collection("sms", kind)
    wanted = list(names) if names else list(collection)
    for name in wanted:
        config.get("sms", kind, name)
    results: list[StatusCheck] = []
    updates: dict[str, dict[str, Any]] = {}
    by_account: dict[str, list[str]] = {}
    for name in wanted:
        by_account.setdefault(collection[name]["account"], []).append(name)
    answers: dict[str, Any] = {}
    for account, names in by_account.items():
        client = connect.adapter(config, secrets, "sms", account)
        answers.update(provider_items(client, kind, names))
    for name in wanted:
        item = collection[name]
        info = answers[name]
        if isinstance(info, SmsctlError):
            if info.exit_code == 4 or info.exit_code == 7:
                raise info
            results.append(StatusCheck(name, item["status"], item.get("reason", ""), error=info))
            continue
        fields = review_fields(info.status, info.reason)
        if kind == "templates":
            fields.update(
                content=info.content,
                variables=variables(info.content),
                type=info.type,
                related_signature=info.related_signature or "",
            )
        status, reason = fields["status"], fields["reason"]
        drift = drift_of(item, info) if kind == "templates" else {}
        changed = (
            status != item["status"]
            or bool(drift)
            or (kind == "templates" and info.content != item.get("content"))
        )
        results.append(
            StatusCheck(
                name,
                status,
                reason,
                changed,
                item["status"],
                info=info,
                drift=drift,
                affected=drift_affects(config, name, item, drift) if drift else [],
            )  # fmt: skip
        )
        updates[name] = fields
    if updates:
        with store.edit() as editor:
            for name, fields in updates.items():
                editor.set_item("sms", kind, name, fields)
        audit.record(
            "config.change",
            command=f"{kind[:-1]} sync",
            channel="sms",
            action=f"{kind[:-1]}.sync",
            changed=[f"{r.name}: {r.previous} -> {r.status}" for r in results if r.changed],
            drifted=[r.name for r in results if r.drift] or None,
        )
    return results


@dataclass
class Validation:
    account: str
    activated: bool
    previous_active: str | None
    checks: list[StatusCheck] = field(default_factory=list)
    via: str = "QuerySmsSignList"  # the read-only call that proved the credentials


def validate(
    store: ConfigStore, secrets: Any, account: str | None, *, check_only: bool, channel: str = "sms"
) -> Validation:
    """Check credentials live; on success make the account active (unless check_only), and
    report the provider's view of the account's signatures and templates."""
    config = store.load()
    name = account or config.active_account(channel) or _only_account(config, channel)
    config.get(channel, "accounts", name)
    client = connect.adapter(config, secrets, "sms", name)
    client.check_credentials()
    previous = config.active_account(channel)  # stays so with --check-only
    activated = False
    if not check_only:
        from smsctl.core import accounts

        previous = accounts.activate(store, channel, name, command="validate")
        activated = True
    checks = []
    for kind in ("signatures", "templates"):
        items = {n: i for n, i in config.collection("sms", kind).items() if i["account"] == name}
        for item_name, info in provider_items(client, kind, list(items)).items():
            label = f"{kind[:-1]} {item_name}"
            if isinstance(info, SmsctlError):
                checks.append(
                    StatusCheck(
                        label, "error", info.message, error=info, kind=kind[:-1], item=item_name
                    )
                )
                continue
            previous_status = items[item_name]["status"]
            changed = info.status != previous_status
            checks.append(
                StatusCheck(
                    label,
                    info.status,
                    info.reason,
                    changed,
                    previous_status,
                    None,
                    None,
                    kind[:-1],
                    item_name,
                )  # fmt: skip
            )
    return Validation(name, activated, previous, checks)


def provider_items(client: Any, kind: str, names: list[str]) -> dict[str, Any]:
    """The provider's view of each named signature or template of one account: its info, or the
    SmsctlError that asking for it gave. One pass over the list API costs a request per 50 items
    the account holds, one query per item a request each: whichever is fewer is used."""
    listing: dict[str, Any] = {}
    if len(names) > 1:
        lister = client.list_signatures if kind == "signatures" else client.list_templates
        try:
            listing = lister(wanted=len(names))
        except SmsctlError as err:
            if err.exit_code in (6, 7):  # asking again item by item would only fail slower
                return {name: err for name in names}
    getter = client.get_signature if kind == "signatures" else client.get_template
    answers: dict[str, Any] = {}
    for name in names:
        if name in listing:
            answers[name] = listing[name]
            continue
        try:
            answers[name] = getter(name)
        except SmsctlError as err:
            answers[name] = err
    return answers


def _only_account(config: Config, channel: str) -> str:
    names = list(config.accounts(channel))
    if len(names) == 1:
        return names[0]
    prefix = channels.channel(channel).prefix
    raise UsageError(
        f"Name the {channel} account to validate"
        + (f" (one of {', '.join(names)})." if names else "; there are none yet."),
        hint=f"smsctl {prefix}validate ACCOUNT",
    )


# --- test sends ---------------------------------------------------------------------------------


def prepare_send(
    config: Config,
    *,
    to: str,
    scenario: str | None,
    app: str | None,
    account: str | None,
    signature: str | None,
    template: str | None,
    values: dict[str, str],
) -> Any:
    """Resolve, validate and render; nothing touches the network."""
    from smsctl.core import resolution, testsend
    from smsctl.core.recipients import parse_phone

    phone = parse_phone(to, mobile_only=True)
    chosen = resolution.resolve(
        config,
        "sms",
        scenario=scenario,
        app=app,
        account=account,
        template=template,
        signature=signature,
        recipient=phone,
    )
    body = render(chosen.template.item["content"], values)
    assert chosen.signature is not None
    text = full_text(chosen.signature.name, body)
    plan = testsend.Plan(
        "sms",
        chosen,
        phone.e164,
        values,
        text,
        testsend.new_out_id(),
        warnings=value_warnings(values) + chosen.notes,
    )
    plan.extra["length"] = len(text)
    plan.extra["segments"] = 1 if len(text) <= 70 else -(-len(text) // 67)
    return plan


@contextmanager
def _how_to_find(plan: Any) -> Iterator[None]:
    """A send whose response was lost has no BizId: say how to find it by its OutId."""
    try:
        yield
    except SmsctlError as err:
        if err.code == "ResponseLost":
            err.hint = (
                f"{err.hint} `smsctl receipt --to {plan.target} --out-id "
                f"{plan.out_id}` finds it by its OutId once the provider lists it."
            )
        raise


def wait_receipt(
    client: Any, plan: Any, biz_id: str, wait_seconds: float, on_tick: Any = None
) -> Any:
    """Poll the receipt under the China date of the send itself (the provider's filing date),
    not today's: a send just before China's midnight is found after it."""
    from smsctl.core import testsend

    days = list(clock.china_dates_around(plan.sent_at or clock.now()))

    def fetch() -> Any:
        receipt = None
        for day in days:
            receipt = client.query_receipt(plan.target, biz_id, day)
            if receipt.recorded:
                days[:] = [day]  # found: the provider's date for this send
                break
        return receipt

    outcome = testsend.poll_until(
        fetch,
        lambda receipt: receipt.status in ("delivered", "failed"),
        wait_seconds,
        interval=min(1.0, max(0.2, wait_seconds / 10)),
        on_tick=on_tick,
    )
    receipt = outcome.state
    audit.record(
        "send.receipt",
        channel="sms",
        account=plan.account,
        to=plan.masked_target,
        biz_id=biz_id,
        out_id=plan.out_id,
        receipt=receipt.status if outcome.final else "no final receipt",
        err_code=getattr(receipt, "err_code", None),
    )
    return outcome


class SmsSend(testsend.ChannelSend):
    """The SMS part of the send-test flow (core.testsend.run): one SendSms, its receipt."""

    channel = "sms"
    noun = "SMS"
    verb = "sent"
    id_keys = ("biz_id",)
    can_wait = True
    dry_run_text = "Dry run: nothing was sent"
    confirm_what = "Sending a test SMS"

    def prepare(self, config: Config, request: dict[str, Any]) -> Any:
        return prepare_send(config, **request)

    def connect(self, config: Config, secrets: Any, plan: Any, timeout: float | None) -> Any:
        return connect.adapter(config, secrets, "sms", plan.account, timeout=timeout)

    def errors(self, plan: Any) -> Any:
        return _how_to_find(plan)

    def deliver(self, adapter: Any, plan: Any) -> Any:
        return adapter.send(
            plan.target,
            plan.resolution.signature.name,
            plan.resolution.template.name,
            plan.values,
            plan.out_id,
        )

    def answer(self, raw: Any, plan: Any, adapter: Any) -> Any:
        return testsend.Sent(
            testsend.provider_answer(
                "alibaba",
                request_id=raw.request_id,
                message_id=raw.biz_id,
                code=raw.code,
                message=raw.message,
                attempts=raw.attempts,
            ),
            {"biz_id": raw.biz_id},
            {"biz_id": raw.biz_id, "request_id": raw.request_id, "attempts": raw.attempts},
            adapter,
        )

    def wait(self, result: Any, seconds: float, on_tick: Any) -> Any:
        plan, biz_id = result.plan, result.sent.ids["biz_id"]
        outcome = wait_receipt(result.sent.adapter, plan, biz_id, seconds, on_tick=on_tick)
        receipt = outcome.state
        data = final_of(receipt, outcome.final, outcome.waited)
        failure = receipt_error(plan.masked_target, biz_id, outcome, seconds)
        return testsend.Final(data, failure, receipt)

    def question(self, plan: Any) -> str:
        return f"Send this SMS to {plan.target}?"

    def plan_lines(self, plan: Any) -> list[str]:
        return [
            f"to:        {plan.target}",
            f"text:      {plan.text}",
            f"           ({plan.extra['length']} characters, {plan.extra['segments']} segment(s))",
        ]

    def in_flight_hint(self, plan: Any, config: Config) -> str:
        lookup = receipt_command(config, plan, "--out-id", plan.out_id)
        return f"Check before sending again: `{lookup}` finds it once the provider lists it."

    def accepted_text(self, result: Any) -> str:
        provider = result.sent.provider
        retried = f" after {provider['attempts']} attempts" if provider["attempts"] > 1 else ""
        return (
            f"Accepted by Alibaba Cloud{retried}: BizId {result.sent.ids['biz_id']}, RequestId "
            f"{provider['request_id']}, OutId {result.plan.out_id}"
        )

    def accepted_note(self, result: Any) -> str | None:
        return (
            "Accepted means queued for the carrier, not delivered; add --wait 60 to wait for "
            "the delivery receipt."
        )

    def waiting_texts(self, seconds: float) -> tuple[str, Any]:
        return (
            f"Waiting for the delivery receipt (up to {seconds:g} s)...",
            lambda state, waited: (
                f"Waiting for the delivery receipt: {getattr(state, 'status', 'no answer')} "
                f"after {waited:.0f} s"
            ),
        )

    def wait_lookup(self, result: Any, config: Config) -> tuple[str, str]:
        biz_id = result.sent.ids["biz_id"]
        return (
            f"the SMS was accepted (BizId {biz_id}, OutId {result.plan.out_id})",
            f"`{receipt_command(config, result.plan, '--biz-id', biz_id)}`",
        )

    def final_text(self, result: Any) -> str:
        receipt = result.final.state
        return (
            f"Delivered to {result.plan.target} at {clock.show(receipt.receive_date)} "
            f"({receipt.err_code})"
        )


SEND_TEST = SmsSend()


def final_of(receipt: Any, final: bool, waited: float | None = None) -> dict[str, Any]:
    """A receipt as `--json` reports a final state on every channel: `state` delivered, failed
    or waiting, `at` when the carrier answered, `code` the carrier's code."""
    explanation = getattr(receipt, "explanation", None)
    extra = {} if waited is None else {"waited_seconds": round(waited, 1)}
    return testsend.final_data(
        receipt.status if receipt is not None and final else "waiting",
        getattr(receipt, "receive_date", None),
        getattr(receipt, "err_code", None),
        explanation.meaning if explanation else None,
        **extra,
    )


def receipt_command(config: Config, plan: Any, flag: str, value: str) -> str:
    """`smsctl receipt` for this send, by BizId or OutId (with --account unless it went
    through the active account)."""
    import shlex

    account = "" if config.active_account("sms") == plan.account else f" --account {plan.account}"
    return f"smsctl receipt --to {plan.target} {flag} {shlex.quote(value)}{account}"


def receipt_error(
    plan_target_masked: str, biz_id: str, outcome: Any, wait_seconds: float
) -> SmsctlError | None:
    """None when delivered; otherwise the exit-8 error that explains the receipt."""
    from smsctl.core.errors import DeliveryFailed

    receipt = outcome.state
    if outcome.final and receipt.status == "delivered":
        return None
    if outcome.final:
        explanation = receipt.explanation
        meaning = explanation.meaning if explanation else "the carrier reported a failure"
        hint = (
            f"{explanation.cause} Next: {explanation.next_step}"
            if explanation
            else "Look the carrier code up in Alibaba Cloud's delivery-receipt codes (doc 101347)."
        )
        return DeliveryFailed(
            f"Not delivered to {plan_target_masked}: {receipt.err_code or 'failed'} — {meaning}.",
            hint=hint,
            code=receipt.err_code,
            details={"biz_id": biz_id, "receipt": "failed", "err_code": receipt.err_code},
        )
    return DeliveryFailed(
        f"No final delivery receipt within {wait_seconds:g} s (still waiting for the carrier).",
        hint=f"The message was accepted (BizId {biz_id}). Check again later with "
        f"`smsctl receipt --to NUMBER --biz-id {biz_id}`; receipts usually arrive within "
        "seconds, sometimes minutes.",
        code="receipt_timeout",
        details={"biz_id": biz_id, "receipt": "waiting"},
    )


def find_receipt(
    client: Any, phone: str, biz_id: str | None, out_id: str | None, date_option: str | None
) -> tuple[Any, clock.ChinaDays, date]:
    """The receipt of an earlier send, asked for under --date (a China date) or else the China
    date of the send itself, which smsctl's log (or its own OutId) tells; China's today when
    neither does. Returns the receipt, the dates considered and the date it was found under."""
    from smsctl.core import testsend

    sent = audit.sent_at("sms", biz_id=biz_id, out_id=out_id) or testsend.out_id_time(out_id)
    days = clock.days_to_ask(date_option, sent)
    found = None
    for day in days.dates:
        found = client.query_receipt(phone, biz_id, day, out_id=out_id)
        if found.recorded:
            return found, days, day
    return found, days, days.dates[0]


def receipt_pending_error(
    phone: str,
    biz_id: str | None,
    out_id: str | None,
    found: Any,
    days: clock.ChinaDays,
    details: dict[str, Any],
) -> SmsctlError:
    """Exit 8 for a receipt that is not final: the record is there and waiting for the carrier,
    or the provider lists no such send on the China date asked (and why that date)."""
    from smsctl.core.errors import DeliveryFailed

    which = f"BizId {biz_id}" if biz_id else f"OutId {out_id}"
    if found.recorded:
        return DeliveryFailed(
            f"No final receipt yet for {which}: the carrier has not answered.",
            hint="Try again in a minute; receipts usually arrive within seconds, sometimes "
            "minutes.",
            code="receipt_waiting",
            details=details,
        )
    ids = f"--biz-id {biz_id}" if biz_id else f"--out-id {out_id}"
    what, hint = clock.explain_days(
        days, lambda day: f"smsctl receipt --to {phone} {ids} --date {day}"
    )
    return DeliveryFailed(
        f"The provider lists no SMS with {which} to {phone} {what}.",
        hint=hint,
        code="receipt_waiting",
        details=details,
    )
