"""What each parameter completes to, keyed by command path + parameter.

Read only by `scripts/gen_command_tree.py`, which bakes the answer for every parameter of the real
Typer app into `smsctl/_command_tree.json`; the completion fast path (`smsctl.completion`) never
imports this module.

Keys: (command path..., parameter). A path element `*` matches any one command name; the
parameter is an argument's name in upper case (`NAME`, `CODE`, `ACCOUNT`, `NOUN`) or an option's
long flag (`--account`). The most specific key wins (fewest `*`), a parameter without a key
completes nothing (free text) unless its click type has choices.

Specs (plain data, copied into the tree):
- ``names(channel, kind)``: live names from the config, e.g. ("sms", "templates").
  `channel` may be CHANNEL: the command's channel (voice/email/wechat when the path starts with
  one, else sms), or ``"--channel"``: the value of that option on the command line, else
  its default (`sms`). ``names(None, "apps")`` is the `[apps]` table.
- ``choices(...)``: fixed values, taken from the same constants the command validates with.
- ``FILES``: let the shell complete file names. ``NOTHING``: free text, no completion.
- ``by_argument(ARG, {value: spec})``: the spec depends on an earlier argument's value.
"""

from __future__ import annotations

from typing import Any

from smsctl.core.channels import with_items
from smsctl.core.remote import SIGN_SOURCES, TEMPLATE_TYPES
from smsctl.core.schema import CHANNELS, SCENARIOS, SECURITY_MODES

CHANNEL = "@channel"
FILES: dict[str, Any] = {"files": True}
NOTHING: dict[str, Any] = {}


def names(channel: str | None, kind: str) -> dict[str, Any]:
    return {"names": [channel, kind]}


def choices(*values: str) -> dict[str, Any]:
    return {"choices": list(values)}


def by_argument(argument: str, cases: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {"by_argument": argument, "cases": cases}


ACCOUNTS = names(CHANNEL, "accounts")
APPS = names(None, "apps")
ITEM_CHANNELS = {noun: with_items(noun + "s") for noun in ("signature", "template", "rule")}

COMPLETES: dict[tuple[str, ...], dict[str, Any]] = {
    ("completion", "SHELL"): choices("bash", "zsh", "fish"),
    # `add` takes a new name: offering existing ones would only invite a no-op
    ("account", "add", "NAME"): NOTHING,
    ("*", "account", "add", "NAME"): NOTHING,
    ("signature", "add", "NAME"): NOTHING,
    ("template", "add", "CODE"): NOTHING,
    # provider-side names smsctl does not have yet (`import`), or new ones (`submit`)
    ("signature", "import", "NAMES"): NOTHING,
    ("signature", "submit", "NAME"): NOTHING,
    ("template", "import", "CODES"): NOTHING,
    ("template", "submit", "NAME"): NOTHING,
    ("template", "submit", "--type"): choices(*TEMPLATE_TYPES),
    ("signature", "submit", "--source"): choices(*SIGN_SOURCES),
    ("*", "template", "add", "CODE"): NOTHING,
    ("*", "template", "add", "NAME"): NOTHING,
    ("*", "rule", "add", "NAME"): NOTHING,
    # accounts, on every channel
    ("account", "*", "NAME"): ACCOUNTS,
    ("*", "account", "*", "NAME"): ACCOUNTS,
    ("validate", "ACCOUNT"): names("sms", "accounts"),
    ("*", "validate", "ACCOUNT"): ACCOUNTS,
    ("*", "--account"): ACCOUNTS,
    ("*", "*", "--account"): ACCOUNTS,
    ("*", "*", "*", "--account"): ACCOUNTS,
    ("*", "template", "list", "ACCOUNT"): ACCOUNTS,  # `wechat template list ACCOUNT`
    ("authorize", "resolve", "--account"): names("--channel", "accounts"),
    # signatures and templates (SMS at the top level; voice/email under their channel)
    ("signature", "*", "NAME"): names("sms", "signatures"),
    ("*", "--signature"): names("sms", "signatures"),
    ("*", "*", "--signature"): names("sms", "signatures"),
    ("template", "*", "CODE"): names("sms", "templates"),
    ("template", "*", "NAME"): names("sms", "templates"),
    ("*", "template", "*", "CODE"): names(CHANNEL, "templates"),
    ("*", "template", "*", "NAME"): names(CHANNEL, "templates"),
    ("*", "--template"): names(CHANNEL, "templates"),
    ("*", "*", "--template"): names(CHANNEL, "templates"),
    # WeChat push rules
    ("wechat", "rule", "*", "NAME"): names("wechat", "rules"),
    ("wechat", "*", "--rule"): names("wechat", "rules"),
    # authorization
    ("authorize", "signature", "NAME"): names("sms", "signatures"),
    ("authorize", "template", "CODE"): names("--channel", "templates"),
    ("authorize", "template", "NAME"): names("--channel", "templates"),
    ("authorize", "rule", "NAME"): names("wechat", "rules"),
    ("authorize", "revoke", "NOUN"): choices(*ITEM_CHANNELS),
    ("authorize", "revoke", "NAME"): by_argument(
        "NOUN",
        {
            "signature": names("sms", "signatures"),
            "template": names("--channel", "templates"),
            "rule": names("wechat", "rules"),
        },
    ),
    ("authorize", "revoke", "--channel"): by_argument(
        "NOUN", {noun: choices(*channels) for noun, channels in ITEM_CHANNELS.items()}
    ),
    ("authorize", "template", "--channel"): choices(*ITEM_CHANNELS["template"]),
    ("authorize", "*", "--channel"): choices(*CHANNELS),
    # apps
    ("*", "--app"): APPS,
    ("*", "*", "--app"): APPS,
    ("*", "*", "*", "--app"): APPS,
    # fixed values
    ("*", "--scenario"): choices(*SCENARIOS),
    ("*", "*", "--scenario"): choices(*SCENARIOS),
    ("*", "*", "*", "--scenario"): choices(*SCENARIOS),
    ("*", "--channel"): choices(*CHANNELS),
    ("*", "*", "--security"): choices(*SECURITY_MODES),
    ("*", "*", "*", "--security"): choices(*SECURITY_MODES),
    # files
    ("--config",): FILES,
    ("*", "*", "--ca-file"): FILES,
    ("*", "*", "*", "--ca-file"): FILES,
    ("*", "*", "*", "--html"): FILES,
    ("*", "*", "*", "--text"): FILES,
    ("sandbox", "*", "--seed"): FILES,
    ("sandbox", "*", "--mailbox"): FILES,
    ("sandbox", "*", "--keep"): FILES,
}


def lookup(path: tuple[str, ...], parameter: str) -> dict[str, Any] | None:
    """The spec for `parameter` of the command at `path`, most specific key first."""
    best: tuple[int, dict[str, Any]] | None = None
    for key, spec in COMPLETES.items():
        *pattern, name = key
        if name != parameter or len(pattern) != len(path):
            continue
        if all(p in ("*", actual) for p, actual in zip(pattern, path, strict=True)):
            score = sum(p != "*" for p in pattern)
            if best is None or score > best[0]:
                best = (score, spec)
    return best[1] if best else None
