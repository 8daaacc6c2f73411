"""Which account, signature and template a send uses, and why (docs/contract.md §2 "Resolution").

For (channel, scenario, app): among the enabled items of the account in use, the ones
personalized for the app win over the general ones; several at that level -> the one marked
default, else an error that asks for an explicit choice; none -> an error that lists every
candidate considered and why it was skipped. Explicit flags win, but are checked by the same
rules: nothing disabled, unapproved, of another account or not authorized is ever used.

SMS templates also fit a region, as Alibaba Cloud enforces: a number outside the mainland needs
an international template (type `international`), a mainland number a mainland one. Given the
recipient, the templates of the other region are skipped (and say why); without one, a scenario
that has both resolves to the mainland template and names the international one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from smsctl.core import channels
from smsctl.core.config import Config, unknown_item_error
from smsctl.core.errors import ConfigError
from smsctl.core.schema import check_scenario

# Items the provider reviews; only approved ones are used.
NEEDS_APPROVAL = {("sms", "signatures"), ("sms", "templates")}
TEMPLATE_KIND = {"sms": "templates", "voice": "templates", "email": "templates", "wechat": "rules"}
MAINLAND_TEMPLATE_TYPES = ("verification", "notification", "promotional")
MAINLAND_COUNTRY_CODE = 86
REGION_SKIP = "numbers need"  # in the skip reason of a template of the other region


def template_region(item: dict[str, Any]) -> str | None:
    """ "mainland" or "international" for an SMS template; None when its type is not known."""
    kind = item.get("type")
    if kind == "international":
        return "international"
    return "mainland" if kind in MAINLAND_TEMPLATE_TYPES else None


def number_region(recipient: Any) -> str:
    return "mainland" if recipient.country_code == MAINLAND_COUNTRY_CODE else "international"


def _region_mismatch(item: dict[str, Any], recipient: Any) -> str | None:
    region = template_region(item)
    if recipient is None or region is None or region == number_region(recipient):
        return None
    if region == "mainland":
        return (
            f"a mainland template ({item['type']}); +{recipient.country_code} {REGION_SKIP} an "
            "international one"
        )
    return f"an international template; +86 {REGION_SKIP} a mainland one"


@dataclass(frozen=True)
class Candidate:
    name: str
    level: str  # "personalized" | "general"
    skipped: str | None = None  # why it was not usable, None when it was

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "level": self.level, "skipped": self.skipped}


@dataclass
class Choice:
    name: str
    item: dict[str, Any]
    reason: str
    considered: list[Candidate] = field(default_factory=list)


@dataclass
class Resolution:
    channel: str
    scenario: str | None
    app: str | None
    account: Choice
    template: Choice
    signature: Choice | None = None
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        def choice(c: Choice | None) -> dict[str, Any] | None:
            if c is None:
                return None
            return {
                "name": c.name,
                "reason": c.reason,
                "considered": [x.to_dict() for x in c.considered],
            }

        return {
            "channel": self.channel,
            "scenario": self.scenario,
            "app": self.app,
            "account": choice(self.account),
            "template": choice(self.template),
            "signature": choice(self.signature),
            "notes": self.notes,
        }


def resolve_account(config: Config, channel: str, explicit: str | None = None) -> Choice:
    prefix = channels.channel(channel).prefix
    if explicit:
        item = config.get(channel, "accounts", explicit)
        reason = "named with --account"
        name = explicit
    else:
        name = config.active_account(channel)
        if not name:
            accounts = list(config.accounts(channel))
            raise ConfigError(
                f"No active {channel} account.",
                hint=(
                    f"Validate one to make it active: `smsctl {prefix}validate "
                    f"{accounts[0] if len(accounts) == 1 else 'ACCOUNT'}`, or name one with "
                    "--account."
                    if accounts
                    else f"Add one first: `smsctl {prefix}account add NAME ...`."
                ),
                code="no_active_account",
            )
        item = config.get(channel, "accounts", name)
        reason = "the active account"
    if not item["enabled"]:
        raise ConfigError(
            f"{channel} account `{name}` is disabled.",
            hint=f"Enable it with `smsctl {prefix}account enable {name}`.",
            code="account_disabled",
        )
    return Choice(name, item, reason)


def needs_approval(channel: str, kind: str, item: dict[str, Any]) -> bool:
    """SMS signatures and templates, and recorded voice files (TTS templates cannot be looked
    up at the provider, so their approval is the operator's word)."""
    if channel == "voice" and kind == "templates":
        return item.get("kind") == "voice-file"
    return (channel, kind) in NEEDS_APPROVAL


def _skip_reason(
    channel: str,
    kind: str,
    item: dict[str, Any],
    account: str,
    app: str | None,
    recipient: Any = None,
) -> str | None:
    if item.get("deleted_account"):
        return f"invalid: its account `{item['deleted_account']}` was deleted"
    if item.get("account") and item["account"] != account:
        return f"belongs to account `{item['account']}`"
    if not item.get("enabled", True):
        return "disabled"
    if needs_approval(channel, kind, item) and item.get("status") != "approved":
        if item.get("status") is None:
            return "review state at the provider never checked (run `smsctl voice template sync`)"
        return f"not approved at the provider (status {item.get('status')})"
    apps = item.get("apps") or []
    if apps and app not in apps:
        return f"personalized for {', '.join(apps)}" + (f", not {app}" if app else "; give --app")
    if channel == "sms" and kind == "templates":
        return _region_mismatch(item, recipient)
    return None


def pick(
    config: Config,
    channel: str,
    kind: str,
    *,
    account: str,
    app: str | None,
    scenario: str | None = None,
    explicit: str | None = None,
    flag: str = "--template",
    recipient: Any = None,
) -> Choice:
    """Choose one item of `kind` by the rules above; `recipient` (a parsed phone number) makes
    SMS templates fit its region."""
    items = config.collection(channel, kind)
    noun = {"signatures": "signature", "templates": "template", "rules": "rule"}[kind]
    if explicit:
        if explicit not in items:
            raise unknown_item_error(channel, kind, explicit, list(items))
        item = items[explicit]
        why = _skip_reason(channel, kind, item, account, app, recipient)
        if why:
            raise ConfigError(
                f"The {noun} `{explicit}` named with {flag} cannot be used: {why}.",
                code=f"{noun}_unusable",
            )
        if scenario and item.get("scenario") and item["scenario"] != scenario:
            raise ConfigError(
                f"The {noun} `{explicit}` serves scenario `{item['scenario']}`, not `{scenario}`.",
                code="scenario_mismatch",
            )
        return Choice(explicit, item, f"named with {flag}")

    considered: list[Candidate] = []
    usable: dict[str, list[str]] = {"personalized": [], "general": []}
    for name, item in items.items():
        if scenario and item.get("scenario") != scenario:
            continue
        level = "personalized" if item.get("apps") else "general"
        why = _skip_reason(channel, kind, item, account, app, recipient)
        considered.append(Candidate(name, level, why))
        if why is None:
            usable[level].append(name)
    for level in ("personalized", "general"):
        names = usable[level]
        if not names:
            continue
        by_region: dict[str, list[str]] = {}
        if channel == "sms" and kind == "templates" and recipient is None:
            for name in names:
                by_region.setdefault(template_region(items[name]) or "mainland", []).append(name)
        if len(by_region) > 1:
            # No number to choose by: the mainland template, naming the one for other numbers.
            mainland, international = by_region["mainland"], by_region["international"]
            chosen = _one_of(mainland, items, level, app, considered, noun, flag, scenario, channel)
            other = _one_of(international, items, level, app, [], noun, flag, scenario, channel)
            chosen.reason += f"; numbers outside the mainland get {other.name} (international)"
            return chosen
        return _one_of(names, items, level, app, considered, noun, flag, scenario, channel)
    listing = "; ".join(f"{c.name} ({c.skipped})" for c in considered) or "none configured"
    message = f"No usable {noun}{_for(scenario, app)} on account `{account}`"
    hint = _none_hint(channel, noun, scenario)
    if recipient is not None and any(c.skipped and "numbers need" in c.skipped for c in considered):
        needed = "an international" if number_region(recipient) == "international" else "a mainland"
        message += f" for a +{recipient.country_code} number: it needs {needed} template" + (
            " (type international)" if needed == "an international" else ""
        )
        hint = (
            f"Add {needed} template approved at Alibaba Cloud for this scenario: "
            f"`smsctl template add CODE --account {account}"
            + (f" --scenario {scenario}`" if scenario else " --scenario SCENARIO`")
            + " (its type comes from the provider)."
        )
    raise ConfigError(
        f"{message}. Considered: {listing}.",
        hint=hint,
        code=f"no_{noun}",
        details={"considered": [c.to_dict() for c in considered]},
    )


def _one_of(
    names: list[str],
    items: dict[str, Any],
    level: str,
    app: str | None,
    considered: list[Candidate],
    noun: str,
    flag: str,
    scenario: str | None = None,
    channel: str = "sms",
) -> Choice:
    """The one usable item at a level: the only one, else the one marked default."""
    if len(names) == 1:
        return Choice(names[0], items[names[0]], _reason(level, app), considered)
    defaults = [n for n in names if items[n].get("default")]
    if len(defaults) == 1:
        return Choice(
            defaults[0],
            items[defaults[0]],
            _reason(level, app) + f", marked default among {len(names)}",
            considered,
        )
    raise ConfigError(
        f"Several {level} {noun}s fit{_for(scenario, app)}: {', '.join(sorted(names))}; "
        "none is marked default.",
        hint=f"Name one with {flag}, or mark one default: "
        f"`{channels.channel(channel).command(noun, 'edit', sorted(names)[0], '--default')}`.",
        code="ambiguous",
        details={"candidates": sorted(names)},
    )


def _reason(level: str, app: str | None) -> str:
    if level == "personalized":
        return f"personalized for app `{app}`"
    return "general (any app may use it)" + (f"; none personalized for `{app}`" if app else "")


def _for(scenario: str | None, app: str | None) -> str:
    parts = []
    if scenario:
        parts.append(f"scenario `{scenario}`")
    if app:
        parts.append(f"app `{app}`")
    return (" for " + " and ".join(parts)) if parts else ""


def _none_hint(channel: str, noun: str, scenario: str | None) -> str:
    model = channels.channel(channel)
    prefix = model.command()
    reviewed = any(kind.reviewed for kind in model.items if kind.noun == noun)
    verbs = "enable/authorize/sync" if reviewed else "enable/authorize"
    return (
        f"Add one (`{prefix} {noun} add ...`"
        + (f" with --scenario {scenario}" if scenario and noun != "signature" else "")
        + f"), or {verbs} one listed above."
    )


def resolve(
    config: Config,
    channel: str,
    *,
    scenario: str | None,
    app: str | None = None,
    account: str | None = None,
    template: str | None = None,
    signature: str | None = None,
    recipient: Any = None,
) -> Resolution:
    """`recipient`: the parsed phone number of an SMS send (its region selects the template)."""
    kind = TEMPLATE_KIND[channel]
    flag = "--rule" if kind == "rules" else "--template"
    check_scenario(scenario)  # a typo is a usage error (exit 2), not "no usable template"
    if scenario is None and template is None:
        from smsctl.core.errors import UsageError

        raise UsageError(
            f"Give --scenario (or {flag}) so smsctl knows which {kind[:-1]} to use.",
            code="no_scenario",
        )
    if app is not None and app not in config.apps():
        raise ConfigError(
            f"Unknown app `{app}`.",
            hint="Known apps: " + (", ".join(sorted(config.apps())) or "none yet") + ".",
            code="unknown_app",
        )
    chosen_account = resolve_account(config, channel, account)
    chosen_template = pick(
        config,
        channel,
        kind,
        account=chosen_account.name,
        app=app,
        scenario=scenario,
        explicit=template,
        flag=flag,
        recipient=recipient,
    )
    resolution = Resolution(
        channel,
        scenario or chosen_template.item.get("scenario"),
        app,
        chosen_account,
        chosen_template,
    )
    if channel == "sms":
        resolution.signature = pick(
            config,
            "sms",
            "signatures",
            account=chosen_account.name,
            app=app,
            explicit=signature,
            flag="--signature",
        )
        related = chosen_template.item.get("related_signature")
        if related and related != resolution.signature.name:
            resolution.notes.append(
                f"template {chosen_template.name} was approved together with signature "
                f"`{related}`; sending with `{resolution.signature.name}` may be refused "
                "(isv.SMS_SIGNATURE_SCENE_ILLEGAL) if their types do not match."
            )
    return resolution
