"""The provider side of SMS: what an account holds at the provider (every page of its lists),
bringing those items into the config, and applying for new ones (review, then approved or
rejected), so that an operator sets SMS up without the provider's console."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from smsctl.core import audit, connect, sms
from smsctl.core.config import Config, ConfigStore
from smsctl.core.errors import ConfigError, ProviderRefused, SmsctlError, UsageError
from smsctl.core.names import check_provider_name

KINDS = ("signatures", "templates")
TEMPLATE_TYPES = ("verification", "notification", "promotional", "international")
SIGN_SOURCES = ("enterprise", "trademark", "app")
TEMPLATE_NAME_LIMIT = 30  # CreateSmsTemplate's TemplateName
TEMPLATE_CONTENT_LIMIT = 500  # CreateSmsTemplate's TemplateContent
# A sign name is 2-12 characters without brackets, punctuation or spaces, and not "test".
_SIGN_NAME_FORBIDDEN = re.compile(r"[【】()\[\]（）,.，。\s]|test", re.IGNORECASE)
_VARIABLE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


def account_for(config: Config, account: str | None, command: str) -> str:
    """--account, else the active SMS account, else the only one."""
    if account:
        config.get("sms", "accounts", account)
        return account
    name = config.active_account("sms")
    if name:
        return name
    names = list(config.accounts("sms"))
    if len(names) == 1:
        return names[0]
    if not names:
        raise UsageError(
            "There is no SMS account yet.",
            hint="smsctl account add NAME --access-key-id ID",
        )
    raise UsageError(
        f"Name the SMS account with --account (one of {', '.join(names)}).",
        hint=f"{command} --account {names[0]}",
    )


# --- discover ---------------------------------------------------------------------------------


def discover(store: ConfigStore, secrets: Any, kind: str, account: str | None) -> dict[str, Any]:
    """Everything the account has at the provider (all pages of the list API), each with its
    review state and whether smsctl already has it."""
    config = store.load()
    name = account_for(config, account, f"smsctl {kind[:-1]} list --remote")
    client = connect.adapter(config, secrets, "sms", name)
    listing = client.list_signatures() if kind == "signatures" else client.list_templates()
    known = config.collection("sms", kind)
    rows = [_row(kind, key, info, known.get(key)) for key, info in listing.items()]
    return {"account": name, "items": rows}


def _row(kind: str, key: str, info: Any, item: dict[str, Any] | None) -> dict[str, Any]:
    row: dict[str, Any] = {
        "name": key,
        "status": info.status,
        "reason": info.reason,
        "known": item is not None,
        "known_status": item["status"] if item else None,
    }
    if kind == "templates":
        row.update(
            label=info.name,
            type=info.type,
            content=info.content,
            variables=list(info.variables),
            related_signature=info.related_signature,
        )
    return row


# --- import ------------------------------------------------------------------------------------


@dataclass
class Imported:
    account: str
    added: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)  # in smsctl before; state refreshed
    skipped: list[dict[str, str]] = field(default_factory=list)  # not approved (--all-approved)


def import_items(
    store: ConfigStore,
    secrets: Any,
    kind: str,
    names: list[str],
    *,
    account: str,
    scenario: str | None = None,
    all_approved: bool = False,
    allow_pending: bool = False,
) -> Imported:
    """Bring provider items into the config as `add` does, from one pass over the list API.
    Every named item is checked first: one the provider lacks, or one not approved (without
    --allow-pending), stops the import before anything is written."""
    from smsctl.core import items as items_module

    noun = kind[:-1]
    if bool(names) == all_approved:
        raise UsageError(
            f"Name the {noun}s to import, or give --all-approved (not both).",
            hint=f"smsctl {noun} list --remote --account {account} shows them.",
        )
    for name in names:
        check_provider_name(name, "template code" if kind == "templates" else "signature name")
    config = store.load()
    config.get("sms", "accounts", account)
    client = connect.adapter(config, secrets, "sms", account)
    listing = client.list_signatures() if kind == "signatures" else client.list_templates()
    result = Imported(account)
    if all_approved:
        chosen = [key for key, info in listing.items() if info.status == "approved"]
        result.skipped = [
            {"name": key, "status": info.status, "reason": info.reason}
            for key, info in listing.items()
            if info.status != "approved"
        ]
    else:
        missing = [name for name in names if name not in listing]
        if missing:
            raise ProviderRefused(
                f"The provider lists no {noun} {', '.join(missing)} under account `{account}`.",
                hint=f"`smsctl {noun} list --remote --account {account}` shows what it has.",
                code=f"{noun}_not_found",
                details={"missing": missing},
            )
        chosen = list(dict.fromkeys(names))
        for name in chosen:
            info = listing[name]
            items_module.refuse_unapproved(
                noun, name, info.status, info.reason, allow_pending, sync=f"smsctl {noun} sync"
            )
    known = config.collection("sms", kind)
    for key in chosen:
        existing = known.get(key)
        if existing is not None and existing.get("account") != account:
            raise ConfigError(
                f"{noun.capitalize()} `{key}` is already in the config under account "
                f"`{existing.get('account')}`; nothing was imported.",
                hint=f"Delete it first: `smsctl {noun} delete {key}`.",
                code="exists",
            )
    for key in chosen:
        info = listing[key]
        if kind == "templates":
            assert scenario is not None
            values = sms.template_values(info, account=account, scenario=scenario)
        else:
            values = {"account": account, **items_module.review_fields(info.status, info.reason)}
        existing = known.get(key)
        items_module.add(store, "sms", kind, key, values, command=f"{noun} import", action="import")
        (result.added if existing is None else result.already).append(key)
    return result


# --- submit for review -------------------------------------------------------------------------


@dataclass
class Application:
    """An item sent for review: where it stands now (after --wait, if given)."""

    kind: str  # signature | template
    name: str  # the template code, or the sign name
    label: str  # the template's name at the provider ("" for a signature)
    account: str
    status: str
    reason: str
    order_id: str | None
    request_id: str | None
    waited: float | None = None
    final: bool = False


def check_template_application(
    config: Config,
    *,
    name: str,
    account: str,
    content: str,
    type_: str,
    signature: str | None,
) -> str | None:
    """Everything the provider would refuse that can be seen here; returns the related
    signature (given, or the account's default; none for international)."""
    if type_ not in TEMPLATE_TYPES:
        raise UsageError(
            f"--type {type_!r} is not one of {', '.join(TEMPLATE_TYPES)}.",
            hint="--type verification",
        )
    if not name.strip() or len(name) > TEMPLATE_NAME_LIMIT:
        raise UsageError(
            f"The template name must be 1 to {TEMPLATE_NAME_LIMIT} characters ({len(name)} given).",
            hint="A short label, e.g. `Login code`.",
        )
    check_content(content)
    config.get("sms", "accounts", account)
    if type_ == "international":
        return signature
    if signature:
        known = config.collection("sms", "signatures").get(signature)
        if known is not None and known.get("account") != account:
            raise UsageError(
                f"Signature `{signature}` belongs to account `{known.get('account')}`, "
                f"not `{account}`.",
                hint=f"`smsctl signature list --account {account}` shows this account's.",
            )
        return signature
    return default_signature(config, account)


def check_content(content: str) -> None:
    if not content.strip():
        raise UsageError("--content is empty.", hint='--content "Your code is ${code}."')
    if len(content) > TEMPLATE_CONTENT_LIMIT:
        raise UsageError(
            f"--content is {len(content)} characters; the provider takes at most "
            f"{TEMPLATE_CONTENT_LIMIT}.",
        )
    stripped = sms.PLACEHOLDER.sub("", content)
    if "${" in stripped or re.search(r"\$\{[^}]*$", content):
        raise UsageError(
            "--content has a `${` that does not close as a variable.",
            hint="Variables are written ${name}, e.g. `Your code is ${code}.`",
        )
    for variable in sms.variables(content):
        if not _VARIABLE_NAME.match(variable):
            raise UsageError(
                f"Variable `${{{variable}}}`: a variable name is letters, digits and _, "
                "starting with a letter.",
                hint="e.g. ${code}, ${order_no}",
            )


def default_signature(config: Config, account: str) -> str:
    """The signature a template of `account` is related to when --signature is not given: the
    account's default signature, else its only approved one."""
    mine = {
        name: item
        for name, item in config.collection("sms", "signatures").items()
        if item.get("account") == account and item.get("enabled", True)
    }
    defaults = [name for name, item in mine.items() if item.get("default")]
    if len(defaults) == 1:
        return defaults[0]
    approved = [name for name, item in mine.items() if item.get("status") == "approved"]
    if len(approved) == 1:
        return approved[0]
    raise UsageError(
        "The provider requires a related signature for every template type but international, "
        f"and account `{account}` has "
        + (
            f"several approved signatures ({', '.join(approved)}) and no default one."
            if approved
            else "no approved signature in smsctl."
        ),
        hint="Give --signature NAME"
        + (
            ""
            if approved
            else f", or add one first: `smsctl signature import --all-approved --account {account}`"
        )
        + ".",
        code="signature_required",
    )


def submit_template(
    store: ConfigStore,
    secrets: Any,
    *,
    name: str,
    account: str,
    content: str,
    type_: str,
    scenario: str,
    signature: str | None,
    remark: str | None,
) -> Application:
    """CreateSmsTemplate, then the template is in the config as pending under its new code
    (never used for sending until approved)."""
    from smsctl.core import items

    config = store.load()
    related = check_template_application(
        config, name=name, account=account, content=content, type_=type_, signature=signature
    )
    client = connect.adapter(config, secrets, "sms", account)
    submitted = client.create_template(name, content, type_, related, remark)
    _record_submit("template", submitted, account, "template submit")
    values = {
        "account": account,
        "scenario": scenario,
        "name": name,
        "content": content,
        "variables": sms.variables(content),
        "type": type_,
        **items.review_fields("pending", ""),
        "related_signature": related or "",
    }
    items.add(
        store, "sms", "templates", submitted.name, values, command="template submit",
        action="submit",
    )  # fmt: skip
    return Application(
        "template", submitted.name, name, account, "pending", "", submitted.order_id,
        submitted.request_id,
    )  # fmt: skip


def resubmit_template(
    store: ConfigStore,
    secrets: Any,
    code: str,
    *,
    content: str | None,
    remark: str | None,
) -> Application:
    """UpdateSmsTemplate for a template the provider rejected: its content (new, or as it was)
    goes for review again; the config has it as pending until the review ends."""
    from smsctl.core import items

    config = store.load()
    item = config.get("sms", "templates", code)
    if item["status"] != "rejected":
        raise UsageError(
            f"Template `{code}` is {item['status']}, not rejected: only a rejected template "
            "can be sent for review again.",
            hint=f"`smsctl template sync {code}` refreshes its state from the provider.",
            code="not_rejected",
        )
    new_content = item.get("content", "") if content is None else content
    check_content(new_content)
    type_ = item.get("type") if item.get("type") in TEMPLATE_TYPES else "notification"
    client = connect.adapter(config, secrets, "sms", item["account"])
    submitted = client.update_template(
        code,
        item.get("name") or code,
        new_content,
        type_,
        item.get("related_signature") or None,
        remark,
    )
    _record_submit("template", submitted, item["account"], "template resubmit")
    items.update(
        store, "sms", "templates", code,
        {
            "content": new_content,
            "variables": sms.variables(new_content),
            **items.review_fields("pending", ""),
        },
        command="template resubmit", action="resubmit",
    )  # fmt: skip
    return Application(
        "template", code, item.get("name") or "", item["account"], "pending", "",
        submitted.order_id, submitted.request_id,
    )  # fmt: skip


def check_signature_application(
    config: Config,
    *,
    name: str,
    account: str,
    source: str,
    qualification_id: int,
    trademark_id: int | None,
    app_icp_record_id: int | None,
) -> None:
    if not 2 <= len(name) <= 12 or _SIGN_NAME_FORBIDDEN.search(name):
        raise UsageError(
            f"Signature name {name!r}: 2 to 12 characters, without brackets, punctuation, "
            "spaces or the word `test` (the provider's rule).",
            hint="e.g. your company's or product's short name: Acme",
        )
    if source not in SIGN_SOURCES:
        raise UsageError(
            f"--source {source!r} is not one of {', '.join(SIGN_SOURCES)}.",
            hint="--source enterprise (the organisation's full or short name)",
        )
    if qualification_id <= 0:
        raise UsageError("--qualification-id must be a positive number.")
    if source == "trademark" and not trademark_id:
        raise UsageError("--source trademark needs --trademark-id ID.")
    if source == "app" and not app_icp_record_id:
        raise UsageError("--source app needs --app-icp-record-id ID.")
    config.get("sms", "accounts", account)
    existing = config.collection("sms", "signatures").get(name)
    if existing is not None:
        raise ConfigError(
            f"Signature `{name}` is already in the config ({existing['status']}).",
            hint=f"`smsctl signature sync {name}` refreshes its state.",
            code="exists",
        )


def submit_signature(
    store: ConfigStore,
    secrets: Any,
    *,
    name: str,
    account: str,
    source: str,
    qualification_id: int,
    remark: str | None,
    trademark_id: int | None = None,
    app_icp_record_id: int | None = None,
) -> Application:
    """CreateSmsSign, then the signature is in the config as pending."""
    from smsctl.core import items

    config = store.load()
    check_signature_application(
        config, name=name, account=account, source=source, qualification_id=qualification_id,
        trademark_id=trademark_id, app_icp_record_id=app_icp_record_id,
    )  # fmt: skip
    client = connect.adapter(config, secrets, "sms", account)
    submitted = client.create_signature(
        name, source=source, qualification_id=qualification_id, remark=remark,
        trademark_id=trademark_id, app_icp_record_id=app_icp_record_id,
    )  # fmt: skip
    _record_submit("signature", submitted, account, "signature submit")
    values = {"account": account, **items.review_fields("pending", "")}
    items.add(store, "sms", "signatures", name, values, command="signature submit", action="submit")
    return Application(
        "signature", name, "", account, "pending", "", submitted.order_id, submitted.request_id
    )


def _record_submit(noun: str, submitted: Any, account: str, command: str) -> None:
    audit.record(
        "provider.submit",
        command=command,
        channel="sms",
        account=account,
        action=f"{noun}.{command.split()[-1]}",
        item=submitted.name,
        request_id=submitted.request_id,
        order_id=submitted.order_id,
        outcome="pending",
    )


def wait_review(
    store: ConfigStore, secrets: Any, application: Application, seconds: float, on_tick: Any
) -> Application:
    """Follow a review until approved or rejected, or `seconds` run out; the config takes the
    outcome (through `sync`, as any state the provider reports)."""
    from smsctl.core import testsend

    config = store.load()
    client = connect.adapter(config, secrets, "sms", application.account)
    getter = client.get_signature if application.kind == "signature" else client.get_template
    outcome = testsend.poll_until(
        lambda: getter(application.name),
        lambda info: info.status != "pending",
        seconds,
        interval=min(2.0, max(0.2, seconds / 10)),
        on_tick=on_tick,
    )
    info = outcome.state
    if info is not None:
        sms.sync(store, secrets, application.kind + "s", [application.name])
        application.status, application.reason = info.status, info.reason
    application.waited = outcome.waited
    application.final = outcome.final
    return application


def rejection(application: Application) -> SmsctlError | None:
    """Exit 5 for an application the provider rejected, with its reason and what to do."""
    if application.status not in ("rejected", "cancelled"):
        return None
    again = (
        f"`smsctl template resubmit {application.name} --content TEXT`"
        if application.kind == "template"
        else f"`smsctl signature submit {application.name} ...` with other materials"
    )
    return ProviderRefused(
        f"The provider {application.status} {application.kind} `{application.name}`"
        + (f": {application.reason}" if application.reason else "."),
        hint=f"Fix what the reason says, then {again}.",
        code=f"{application.kind}_{application.status}",
        details={
            "name": application.name,
            "status": application.status,
            "reason": application.reason,
        },
    )
