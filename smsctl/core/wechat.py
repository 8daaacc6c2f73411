"""WeChat official accounts: verified accounts, push rules built from approved templates, test
pushes. The command module (cli/wechat.py) only parses and renders; the decisions are here.

- An account is verified live (a `stable_token` with force_refresh=false, which never invalidates
  the token a production sender is using) before anything is saved. It cannot be modified:
  delete it and add it again.
- Deleting an account keeps its push rules but invalidates them for good: their `account` key
  becomes `deleted_account` and they are disabled. They are listed as invalid, every use of them
  is refused (exit 3), and a new account of the same name does not revive them.
  Both are steps of the one account flow (smsctl.core.accounts): it calls verify_new_account,
  and reads the channel's `account_editable` and `account_items_on_delete`.
- A rule gives a value to every `{{name.DATA}}` variable of its template; values may contain
  `${var}` placeholders that `send-test --var var=value` fills.

The adapter (smsctl.providers.wechat) is imported inside the functions that call the API.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from smsctl.core import accounts, items, templating, testsend
from smsctl.core.config import Config, ConfigStore
from smsctl.core.errors import ConfigError, SmsctlError, UsageError
from smsctl.core.names import check_identifier

CHANNEL = "wechat"
_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_APP_ID = re.compile(r"^[A-Za-z0-9_-]{4,64}$")
# A code whose failure means the answer to a send may have been lost after it went out.
RESPONSE_LOST = "TIMEOUT-AFTER-SEND"


# --- input checks (no network) ----------------------------------------------------------------


def parse_vars(pairs: Sequence[str] | None, *, flag: str = "--var") -> dict[str, str]:
    """`name=value` pairs; a name twice with different values is an error."""
    values: dict[str, str] = {}
    for pair in pairs or ():
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep:
            raise UsageError(f"{flag} {pair!r}: expected NAME=VALUE.", code="invalid_var")
        if not _KEY.match(key):
            raise UsageError(
                f"{flag} {pair!r}: invalid name {key!r} (letters, digits and `_`, not starting "
                "with a digit).",
                code="invalid_var",
            )
        if key in values and values[key] != value:
            raise UsageError(f"`{key}` is given twice with different values.", code="invalid_var")
        values[key] = value
    return values


def check_app_id(value: str) -> str:
    if not _APP_ID.fullmatch(value or ""):
        raise UsageError(
            f"Invalid AppID {value!r}: expected letters and digits such as wx0123456789abcdef.",
            hint="Copy it from the official-account platform: Settings and Development > Basic "
            "configuration.",
            code="invalid_app_id",
        )
    return value


def normalize_endpoint(value: str, *, allow_insecure: bool) -> str:
    """`host[:port]` or `http(s)://host[:port]` -> a base URL (http:// only for loopback)."""
    from smsctl.core.endpoints import check_endpoint

    raw = check_endpoint(value, allow_insecure=allow_insecure).rstrip("/")
    return raw if "://" in raw else f"https://{raw}"


def check_url(value: str) -> str:
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc or any(c.isspace() for c in value):
        raise UsageError(
            f"Invalid --url {value!r}: expected an http(s) URL such as https://example.com/page.",
            code="invalid_url",
        )
    return value.strip()


def parse_miniprogram(value: str) -> tuple[str, str]:
    appid, sep, path = value.partition(":")
    if not sep or not appid.strip() or not path.strip():
        raise UsageError(
            f"Invalid --miniprogram {value!r}: expected APPID:PATH, e.g. "
            "wx1234567890abcdef:pages/index/index.",
            code="invalid_miniprogram",
        )
    check_app_id(appid.strip())
    return appid.strip(), path.strip()


def placeholders(values: dict[str, str]) -> list[str]:
    """The `${var}` names used in rule values, in order; malformed ones are an error."""
    found: dict[str, None] = {}
    for key, value in values.items():
        templating.check_syntax(value, what=f"value of `{key}`")
        for name in templating.variables(value):
            found.setdefault(name, None)
    return list(found)


# --- the API ----------------------------------------------------------------------------------


def fetch_templates(
    config: Config, secrets: Any, account: str, *, timeout: float | None = None
) -> list[Any]:
    from smsctl.core import connect

    return connect.adapter(config, secrets, CHANNEL, account, timeout=timeout).list_templates()


def find_template(templates: list[Any], template_id: str, account: str) -> Any:
    for template in templates:
        if template.template_id == template_id:
            return template
    known = ", ".join(f"{t.template_id} ({t.title})" for t in templates) or "none"
    raise ConfigError(
        f"Template `{template_id}` is not among the approved templates of wechat account "
        f"`{account}`.",
        hint=f"Its templates: {known}. See `smsctl wechat template list {account}`.",
        code="unknown_template",
        details={"template_ids": [t.template_id for t in templates]},
    )


def check_values(template: Any, values: dict[str, str]) -> None:
    """Every variable of the template has a non-empty value, and no value is for a field the
    template does not have."""
    missing = [name for name in template.variables if not values.get(name, "").strip()]
    unknown = [name for name in values if name not in template.variables]
    if missing or unknown:
        parts = []
        if missing:
            parts.append("no value for " + ", ".join(missing))
        if unknown:
            parts.append("the template has no field " + ", ".join(unknown))
        raise UsageError(
            f"Variables of template `{template.template_id}` ({template.title}) do not match: "
            + "; ".join(parts)
            + ".",
            hint="Its variables are: "
            + (", ".join(template.variables) or "none")
            + ". Give each as --var NAME=VALUE (values may contain ${placeholders} filled at "
            "send time).",
            code="template_variables",
            details={"missing": missing, "unknown": unknown, "variables": list(template.variables)},
        )


# --- accounts ---------------------------------------------------------------------------------


def new_account_values(
    *, app_id: str, endpoint: str | None, note: str | None, allow_insecure: bool
) -> dict[str, Any]:
    """The checked fields of a new official account."""
    check_app_id(app_id)
    values: dict[str, Any] = {"app_id": app_id, "note": note}
    if endpoint is not None:
        values["endpoint"] = normalize_endpoint(endpoint, allow_insecure=allow_insecure)
        if allow_insecure:
            values["allow_insecure_endpoint"] = True
    return values


def verify_new_account(config: Config, name: str, values: dict[str, Any], secret: str) -> None:
    """The AppSecret obtains a token for the AppID (stable_token, force_refresh=false), or
    nothing is saved."""
    from smsctl.core import connect
    from smsctl.core.redaction import register_secret

    register_secret(secret)
    account = connect.account_of(config, None, CHANNEL, name, values=values, secret=secret)
    connect.adapter_for(account).check_credentials()


def rules_of(config: Config, account: str) -> list[str]:
    return [
        n for n, item in config.collection(CHANNEL, "rules").items() if item["account"] == account
    ]


@dataclass
class Validation:
    account: str
    activated: bool
    previous_active: str | None
    templates: int
    rules: list[dict[str, Any]] = field(default_factory=list)
    via: str = "stable_token"  # how the token was obtained (never the legacy token call)


def validate(
    store: ConfigStore, secrets: Any, account: str | None, *, check_only: bool
) -> Validation:
    """Token obtainable (stable_token), templates readable; on success the active account."""
    from smsctl.core import connect

    config = store.load()
    name = account or config.active_account(CHANNEL) or _only_account(config)
    item = config.get(CHANNEL, "accounts", name)
    if not item["enabled"] and not check_only:
        raise ConfigError(
            f"wechat account `{name}` is disabled; it cannot become the active account.",
            hint=f"Enable it with `smsctl wechat account enable {name}`, or add --check-only.",
            code="account_disabled",
        )
    target = connect.adapter(config, secrets, CHANNEL, name)
    target.check_credentials()
    templates = target.list_templates()
    previous = config.active_account(CHANNEL)  # stays so with --check-only
    if not check_only:
        previous = accounts.activate(store, CHANNEL, name, command="wechat validate")
    checks = []
    for rule in rules_of(config, name):
        problem = rule_problem(config, rule, config.get(CHANNEL, "rules", rule), templates)
        checks.append({"rule": rule, "ok": problem is None, "problem": problem})
    return Validation(name, not check_only, previous, len(templates), checks)


def _only_account(config: Config) -> str:
    names = list(config.accounts(CHANNEL))
    if len(names) == 1:
        return names[0]
    raise UsageError(
        "Name the wechat account to validate"
        + (f" (one of {', '.join(names)})." if names else "; there are none yet."),
        hint="smsctl wechat validate ACCOUNT",
    )


# --- rules ------------------------------------------------------------------------------------


def invalid_reason(config: Config, item: dict[str, Any]) -> str | None:
    """Why a rule can never be used as it stands (its account is gone), or None."""
    if item.get("deleted_account"):
        return f"account `{item['deleted_account']}` deleted"
    if not item.get("account"):
        return "no account"
    if item["account"] not in config.accounts(CHANNEL):
        return f"account `{item['account']}` missing"
    return None


def rule_problem(
    config: Config, name: str, item: dict[str, Any], templates: list[Any] | None
) -> str | None:
    """What keeps a rule from working: invalid account, or (given the account's live template
    list) its template gone or a variable without a value."""
    reason = invalid_reason(config, item)
    if reason:
        return f"invalid: {reason}"
    if templates is None:
        return None
    try:
        template = find_template(templates, item["template_id"], item["account"])
        check_values(template, item["vars"])
    except SmsctlError as err:
        return err.message
    return None


def _refuse_invalid(config: Config, name: str, item: dict[str, Any]) -> None:
    reason = invalid_reason(config, item)
    if reason:
        raise ConfigError(
            f"wechat rule `{name}` is invalid ({reason}) and can never be used.",
            hint=f"Delete it (`smsctl wechat rule delete {name}`) and add a new rule for an "
            "existing account.",
            code="rule_invalid",
        )


@dataclass
class RuleChange:
    change: items.ItemChange
    template: Any
    values: dict[str, Any]


def add_rule(
    store: ConfigStore,
    secrets: Any,
    name: str,
    *,
    account: str,
    template_id: str,
    values: dict[str, str],
    url: str | None,
    miniprogram: str | None,
    scenario: str | None,
    default: bool,
    note: str | None,
) -> RuleChange:
    check_identifier(name, "rule")
    fields = _rule_fields(values, url, miniprogram)
    config = store.load()
    config.get(CHANNEL, "accounts", account)
    existing = config.find(CHANNEL, "rules", name)
    if existing is not None:
        _refuse_invalid(config, name, existing)
    template = find_template(fetch_templates(config, secrets, account), template_id, account)
    check_values(template, values)
    fields.update(
        account=account,
        template_id=template_id,
        template_title=template.title,
        scenario=scenario,
        note=note,
        default=True if default else None,
    )
    change = items.add(store, CHANNEL, "rules", name, fields, command="wechat rule add")
    return RuleChange(change, template, fields)


def edit_rule(
    store: ConfigStore,
    secrets: Any,
    name: str,
    *,
    template_id: str | None,
    values: dict[str, str],
    clear_vars: bool,
    url: str | None,
    miniprogram: str | None,
    scenario: str | None,
    default: bool | None,
    note: str | None,
) -> RuleChange:
    config = store.load()
    item = config.get(CHANNEL, "rules", name)
    _refuse_invalid(config, name, item)
    changes: dict[str, Any] = {}
    new_vars = ({} if clear_vars else dict(item["vars"])) | values
    template = None
    if template_id is not None or values or clear_vars:
        placeholders(new_vars)  # syntax first: no request for a malformed value
        templates = fetch_templates(config, secrets, item["account"])
        template = find_template(templates, template_id or item["template_id"], item["account"])
        check_values(template, new_vars)
        changes.update(
            template_id=template.template_id,
            template_title=template.title,
            vars=new_vars,
            variables=placeholders(new_vars),
        )
    if url is not None:
        changes["url"] = check_url(url) if url else None
    if miniprogram is not None:
        appid, path = parse_miniprogram(miniprogram) if miniprogram else (None, None)
        changes.update(miniprogram_appid=appid, miniprogram_path=path)
    if scenario is not None:
        changes["scenario"] = scenario or None
    if default is not None:
        changes["default"] = default
    if note is not None:
        changes["note"] = note
    if not changes:
        raise UsageError(
            "Nothing to change.",
            hint="Give at least one of --template-id, --var, --clear-vars, --url, --miniprogram, "
            "--scenario, --default/--no-default, --note.",
        )
    change = items.update(store, CHANNEL, "rules", name, changes, command="wechat rule edit")
    return RuleChange(change, template, changes)


def set_rule_enabled(store: ConfigStore, name: str, enabled: bool) -> accounts.AccountChange:
    config = store.load()
    item = config.get(CHANNEL, "rules", name)
    if enabled:
        _refuse_invalid(config, name, item)
    return accounts.set_item_enabled(store, CHANNEL, "rules", name, enabled)


def _rule_fields(values: dict[str, str], url: str | None, miniprogram: str | None) -> dict:
    """The parts of a rule checked without the network."""
    fields: dict[str, Any] = {"vars": values, "variables": placeholders(values)}
    if url:
        fields["url"] = check_url(url)
    if miniprogram:
        fields["miniprogram_appid"], fields["miniprogram_path"] = parse_miniprogram(miniprogram)
    return fields


def rule_view(config: Config, name: str, item: dict[str, Any]) -> dict[str, Any]:
    """A rule as `rule list` and `rule show` report it: the keys of every template view."""
    from smsctl.core import items

    return items.view(config, CHANNEL, "rules", name)


# --- test sends -------------------------------------------------------------------------------


def prepare_send(
    config: Config,
    *,
    openid: str,
    rule: str | None,
    scenario: str | None,
    app: str | None,
    account: str | None,
    values: dict[str, str],
    client_msg_id: str | None = None,
) -> Any:
    """Resolve, validate and render; nothing touches the network."""
    from smsctl.core import resolution, testsend
    from smsctl.core.recipients import check_openid

    check_openid(openid)
    if rule is None and scenario is None:
        raise UsageError("Give --rule NAME (or --scenario S to resolve one).", code="no_rule")
    from_rule = rule is not None and account is None
    if rule is not None:
        item = config.get(CHANNEL, "rules", rule)
        _refuse_invalid(config, rule, item)
        account = account or item["account"]
    chosen = resolution.resolve(
        config, CHANNEL, scenario=scenario, app=app, account=account, template=rule
    )
    if from_rule:
        chosen.account.reason = f"the account of rule `{rule}`"
    rule_name, item = chosen.template.name, chosen.template.item
    _refuse_invalid(config, rule_name, item)
    data = render_data(item["vars"], values)
    text = "\n".join(f"{key}: {value}" for key, value in data.items())
    plan = testsend.Plan(CHANNEL, chosen, openid, values, text, client_msg_id or _msg_id())
    plan.extra.update(
        template_id=item["template_id"],
        template_title=item.get("template_title") or "",
        data=data,
        url=item.get("url"),
        miniprogram=(
            {"appid": item["miniprogram_appid"], "pagepath": item["miniprogram_path"]}
            if item.get("miniprogram_appid")
            else None
        ),
    )
    return plan


def _msg_id() -> str:
    from smsctl.core.testsend import new_out_id

    return new_out_id()


def render_data(rule_values: dict[str, str], given: dict[str, str]) -> dict[str, str]:
    """Fill the `${var}`s of the rule's values; missing or unknown --var is an error."""
    templating.check_values(
        placeholders(rule_values), given, what="Rule", flag="--var", code="rule_variables"
    )
    data = {}
    for key, text in rule_values.items():
        needed = {n: given[n] for n in templating.variables(text)}
        data[key] = templating.render(text, needed)
        if not data[key].strip():
            raise UsageError(
                f"Template field `{key}` would be empty; WeChat refuses empty fields (47003).",
                code="empty_field",
            )
    return data


class WechatSend(testsend.ChannelSend):
    """The WeChat part of the send-test flow (core.testsend.run): one template push. WeChat's
    msgid is its answer; there is no delivery state to wait for."""

    channel = CHANNEL
    noun = "message"
    verb = "pushed"
    id_keys = ("msgid",)
    can_wait = False
    dry_run_text = "Dry run: nothing was pushed"
    confirm_what = "Sending a test push"

    def prepare(self, config: Config, request: dict[str, Any]) -> Any:
        return prepare_send(config, **request)

    def connect(self, config: Config, secrets: Any, plan: Any, timeout: float | None) -> Any:
        from smsctl.core import connect

        return connect.adapter(config, secrets, CHANNEL, plan.account, timeout=timeout)

    def context(self, adapter: Any, plan: Any) -> dict[str, Any]:
        return {"template_id": plan.extra["template_id"]}

    @contextmanager
    def errors(self, plan: Any) -> Iterator[None]:
        try:
            yield
        except SmsctlError as err:
            if err.code == RESPONSE_LOST:
                err.hint = (
                    f"{err.hint} Re-send with --client-msg-id {plan.out_id} so that WeChat drops "
                    "a duplicate."
                )
            raise

    def deliver(self, adapter: Any, plan: Any) -> Any:
        mini = plan.extra.get("miniprogram")
        return adapter.send(
            plan.target,
            plan.extra["template_id"],
            plan.extra["data"],
            url=plan.extra.get("url"),
            miniprogram=(mini["appid"], mini["pagepath"]) if mini else None,
            client_msg_id=plan.out_id,
        )

    def answer(self, raw: Any, plan: Any, adapter: Any) -> Any:
        msgid = str(raw.msgid)
        return testsend.Sent(
            testsend.provider_answer("wechat", request_id=raw.rid, message_id=msgid),
            {"msgid": msgid},
            {"msgid": msgid, "rid": raw.rid},
        )

    def question(self, plan: Any) -> str:
        return f"Push this message to {plan.masked_target}?"

    def plan_lines(self, plan: Any) -> list[str]:
        extra = plan.extra
        lines = [
            f"to:        {plan.masked_target}",
            f"template:  {extra['template_id']} ({extra['template_title']})",
            *(f"  {key}: {value}" for key, value in extra["data"].items()),
        ]
        if extra["url"]:
            lines.append(f"url:       {extra['url']}")
        if extra["miniprogram"]:
            mini = extra["miniprogram"]
            lines.append(f"miniprogram: {mini['appid']}:{mini['pagepath']}")
        return lines

    def in_flight_hint(self, plan: Any, config: Config) -> str:
        return (
            "To push it again without a duplicate, run the same command with "
            f"`--client-msg-id {plan.out_id}`: WeChat drops a second push with the same id."
        )

    def accepted_text(self, result: Any) -> str:
        return (
            f"Pushed by WeChat to {result.plan.masked_target}: msgid {result.sent.ids['msgid']}, "
            f"client_msg_id {result.plan.out_id}"
        )


SEND_TEST = WechatSend()
