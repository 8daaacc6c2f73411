"""What the config file may contain, and the checks that find what it must not.

Validation works on the plain dict that stdlib tomllib produces; each problem carries the key
path so that `locate_line` can point at the line in the operator's file.
"""

from __future__ import annotations

import difflib
import re
import sys
from dataclasses import dataclass
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from smsctl.core.channels import CHANNELS as _MODEL
from smsctl.core.channels import NAMES as CHANNELS

SCENARIOS = ("register", "login", "reset-password", "notification", "alert", "test")
VERIFICATION_SCENARIOS = ("register", "login", "reset-password")
STATUSES = ("approved", "pending", "rejected", "cancelled", "unknown")
SECURITY_MODES = ("starttls", "ssl", "none")

# Keys whose presence means a secret was written where it must never be (docs/contract.md §4).
SECRET_KEY_PATTERN = re.compile(
    r"(secret|password|passwd|token|private_key|credential|api_key|apikey)", re.IGNORECASE
)
# Keys that contain those words but hold no secret: an account's `secret_command` is the program
# that prints its secret (an array of strings, checked as such), not the secret.
NOT_SECRET_KEYS = {
    "access_key_id",
    "secret_command",
    "credential",
    "credential_cache",
    "oidc_token_file",
}
# How an Alibaba Cloud account gets its credentials (smsctl.core.credentials).
CREDENTIAL_MODES = ("access-key", "sts", "ram-role-arn", "oidc-role-arn", "aliyun-cli-profile")


@dataclass(frozen=True)
class Field:
    kind: str  # "str" | "int" | "float" | "bool" | "str_list" | "str_map" | "command"
    choices: tuple[str, ...] | None = None
    default: Any = None
    minimum: float | None = None
    maximum: float | None = None


def _str(default: Any = None, choices: tuple[str, ...] | None = None) -> Field:
    return Field("str", choices=choices, default=default)


_COMMON_ITEM = {"enabled": Field("bool", default=True), "note": _str("")}
_AUTHORIZABLE = {"default": Field("bool", default=False), "apps": Field("str_list", default=[])}

ALIBABA_ACCOUNT = {
    "credential": _str("access-key", CREDENTIAL_MODES),
    "access_key_id": _str(),
    "endpoint": _str(),
    "region": _str(),
    "allow_insecure_endpoint": Field("bool", default=False),
    "role_arn": _str(),
    "role_session_name": _str(),
    "duration_seconds": Field("int", minimum=900, maximum=43200),
    "policy": _str(),
    "external_id": _str(),
    "oidc_provider_arn": _str(),
    "oidc_token_file": _str(),
    "sts_endpoint": _str(),
    "profile": _str(),
    "credential_cache": Field("bool", default=False),
    **_COMMON_ITEM,
}

COLLECTIONS: dict[tuple[str, str], dict[str, Field]] = {
    ("sms", "accounts"): ALIBABA_ACCOUNT,
    ("sms", "signatures"): {
        "account": _str(),
        "status": _str("unknown", STATUSES),
        "reason": _str(""),
        "checked_at": _str(),
        **_COMMON_ITEM,
        **_AUTHORIZABLE,
    },
    ("sms", "templates"): {
        "account": _str(),
        "scenario": _str(None, SCENARIOS),
        "name": _str(""),
        "content": _str(""),
        "variables": Field("str_list", default=[]),
        "type": _str("notification"),
        "status": _str("unknown", STATUSES),
        "reason": _str(""),
        "related_signature": _str(""),
        "checked_at": _str(),
        **_COMMON_ITEM,
        **_AUTHORIZABLE,
    },
    ("voice", "accounts"): {**ALIBABA_ACCOUNT, "called_show_number": _str()},
    ("voice", "templates"): {
        "account": _str(),
        "scenario": _str(None, SCENARIOS),
        "name": _str(""),
        "kind": _str("tts", ("tts", "voice-file")),
        "content": _str(""),
        "variables": Field("str_list", default=[]),
        # Voice files only: the provider reviews them (a TTS template cannot be looked up).
        "status": _str(None, STATUSES),
        "reason": _str(""),
        "checked_at": _str(),
        **_COMMON_ITEM,
        **_AUTHORIZABLE,
    },
    ("email", "accounts"): {
        "host": _str(),
        "port": Field("int", minimum=1, maximum=65535),
        "security": _str("starttls", SECURITY_MODES),
        "username": _str(),
        "from_address": _str(),
        "from_name": _str(""),
        "ca_file": _str(),
        "timeout": Field("float", minimum=0.1, maximum=600),
        "allow_insecure_endpoint": Field("bool", default=False),
        **_COMMON_ITEM,
    },
    ("email", "templates"): {
        "account": _str(),
        "scenario": _str(None, SCENARIOS),
        "label": _str(""),
        "subject": _str(""),
        "html": _str(""),
        "text": _str(),
        "variables": Field("str_list", default=[]),
        **_COMMON_ITEM,
        **_AUTHORIZABLE,
    },
    ("wechat", "accounts"): {
        "app_id": _str(),
        "endpoint": _str(),
        "allow_insecure_endpoint": Field("bool", default=False),
        **_COMMON_ITEM,
    },
    ("wechat", "rules"): {
        "account": _str(),
        # Set instead of `account` when that account was deleted: the rule is kept, shown as
        # invalid, and can never be used again (not even by a new account of the same name).
        "deleted_account": _str(),
        "template_id": _str(),
        "template_title": _str(""),
        "scenario": _str(None, SCENARIOS),
        "vars": Field("str_map", default={}),
        "variables": Field("str_list", default=[]),
        "url": _str(),
        "miniprogram_appid": _str(),
        "miniprogram_path": _str(),
        **_COMMON_ITEM,
        **_AUTHORIZABLE,
    },
}

CHANNEL_COLLECTIONS = {name: model.collections for name, model in _MODEL.items()}

# Every account says which provider's adapter talks for it (smsctl.core.connect.ADAPTERS); one
# written before accounts said so is read with its channel's default provider. Any account may
# get its secret from a program instead of the keyring (smsctl.core.secrets).
for _name, _channel in _MODEL.items():
    COLLECTIONS[(_name, "accounts")] = {
        "provider": _str(_channel.provider, _channel.providers),
        **COLLECTIONS[(_name, "accounts")],
        "secret_command": Field("command"),
    }
del _name, _channel

# Fields each item must have to be usable.
REQUIRED: dict[tuple[str, str], tuple[str, ...]] = {
    ("sms", "accounts"): ("access_key_id",),
    ("voice", "accounts"): ("access_key_id",),
    ("email", "accounts"): ("host", "port", "security", "username", "from_address"),
    ("wechat", "accounts"): ("app_id",),
    ("sms", "signatures"): ("account",),
    ("sms", "templates"): ("account", "scenario"),
    ("voice", "templates"): ("account", "scenario"),
    ("email", "templates"): ("scenario", "subject", "html"),
    # `account`, or `deleted_account` once the account is gone (smsctl/core/wechat.py).
    ("wechat", "rules"): ("template_id",),
}

# What each Alibaba Cloud credential mode needs in the account's table, over REQUIRED.
MODE_REQUIRED: dict[str, tuple[str, ...]] = {
    "access-key": ("access_key_id",),
    "sts": ("access_key_id",),
    "ram-role-arn": ("access_key_id", "role_arn"),
    # Each may come from ALIBABA_CLOUD_ROLE_ARN, _OIDC_PROVIDER_ARN, _OIDC_TOKEN_FILE instead.
    "oidc-role-arn": (),
    "aliyun-cli-profile": (),
}


def required_keys(channel: str, kind: str, item: dict[str, Any]) -> tuple[str, ...]:
    if kind == "accounts" and "credential" in COLLECTIONS[(channel, kind)]:
        return MODE_REQUIRED.get(str(item.get("credential") or "access-key"), ())
    return REQUIRED.get((channel, kind), ())


SYSLOG_FACILITIES = (
    "user", "daemon", "auth", "local0", "local1", "local2", "local3", "local4", "local5",
    "local6", "local7",
)  # fmt: skip
DEFAULTS_TABLE = {
    "timeout": Field("float", default=10.0, minimum=0.1, maximum=600),
    "connect_timeout": Field("float", default=5.0, minimum=0.1, maximum=600),
    "deadline": Field("float", default=60.0, minimum=0.1, maximum=3600),
}
SECRETS_TABLE = {
    "backend": _str(),
    # seconds an account's secret_command may run (SMSCTL_SECRET_COMMAND_TIMEOUT wins)
    "command_timeout": Field("float", default=10.0, minimum=0.1, maximum=3600),
}
GUARD_TABLE = {
    "per_minute": Field("int", minimum=0, maximum=1_000_000),
    "per_hour": Field("int", minimum=0, maximum=1_000_000),
    "per_day": Field("int", minimum=0, maximum=1_000_000),
}
GUARD_DEFAULTS = {name: dict(model.guard_limits) for name, model in _MODEL.items()}
LOG_TABLE = {
    # audit.jsonl is rotated once it would pass this size; `keep` rotated files are kept.
    "rotate_mb": Field("float", default=10.0, minimum=0.001, maximum=100_000),
    "keep": Field("int", default=5, minimum=1, maximum=1000),
    # Also send every audit record to the system log: "" (off), "/dev/log" (syslog or the
    # systemd journal), "unix:PATH" or "udp:HOST:PORT".
    "syslog": _str(""),
    "syslog_facility": _str("user", SYSLOG_FACILITIES),
}
APP_TABLE = {"note": _str("")}
TOP_LEVEL = ("defaults", "secrets", "guard", "log", "apps", *CHANNELS)


@dataclass(frozen=True)
class Problem:
    path: tuple[str, ...]
    message: str
    line: int | None = None

    def describe(self) -> str:
        where = f"line {self.line}: " if self.line else ""
        return f"{where}{'.'.join(self.path) or '(file)'}: {self.message}"


def is_secret_key(key: str) -> bool:
    return key not in NOT_SECRET_KEYS and bool(SECRET_KEY_PATTERN.search(key))


def find_secret_keys(data: Any, path: tuple[str, ...] = ()) -> list[Problem]:
    problems: list[Problem] = []
    if isinstance(data, dict):
        for key, value in data.items():
            # Only value keys: a table key is a name the operator chose (an account may be
            # called "secret-rotation"), and unknown table keys are reported anyway.
            if not isinstance(value, dict) and is_secret_key(str(key)):
                problems.append(
                    Problem(
                        (*path, key),
                        "looks like a secret; secrets never go in the config file. Remove it and "
                        "store it with the keyring (the account's add/edit --rotate-secret) or the "
                        "SMSCTL_SECRET_<CHANNEL>_<ACCOUNT> environment variable.",
                    )
                )
            problems.extend(find_secret_keys(value, (*path, key)))
    elif isinstance(data, list):
        for item in data:
            problems.extend(find_secret_keys(item, path))
    return problems


def validate(data: dict[str, Any]) -> list[Problem]:
    """Structural problems: unknown keys, wrong types, bad choices, secret keys."""
    problems = find_secret_keys(data)
    for key, value in data.items():
        if key not in TOP_LEVEL:
            problems.append(_unknown((key,), key, TOP_LEVEL))
            continue
        if not isinstance(value, dict):
            problems.append(Problem((key,), "must be a table"))
            continue
        if key == "defaults":
            problems.extend(_check_fields((key,), value, DEFAULTS_TABLE))
        elif key == "secrets":
            problems.extend(_check_fields((key,), value, SECRETS_TABLE))
        elif key == "log":
            problems.extend(_check_fields((key,), value, LOG_TABLE))
        elif key == "guard":
            for channel, limits in value.items():
                if channel not in CHANNELS:
                    problems.append(_unknown((key, channel), channel, CHANNELS))
                elif not isinstance(limits, dict):
                    problems.append(Problem((key, channel), "must be a table"))
                else:
                    problems.extend(_check_fields((key, channel), limits, GUARD_TABLE))
        elif key == "apps":
            for app, fields in value.items():
                problems.extend(_check_item((key, app), fields, APP_TABLE))
        else:
            problems.extend(_check_channel(key, value))
    return [p for p in problems if p.message]


def _check_channel(channel: str, table: dict[str, Any]) -> list[Problem]:
    problems: list[Problem] = []
    allowed = ("active_account", *CHANNEL_COLLECTIONS[channel])
    for key, value in table.items():
        path = (channel, key)
        if key not in allowed:
            problems.append(_unknown(path, key, allowed))
        elif key == "active_account":
            if not isinstance(value, str):
                problems.append(Problem(path, "must be a string (an account name)"))
        elif not isinstance(value, dict):
            problems.append(Problem(path, "must be a table"))
        else:
            fields = COLLECTIONS[(channel, key)]
            for name, item in value.items():
                problems.extend(_check_item((*path, name), item, fields))
                if isinstance(item, dict):
                    for required in required_keys(channel, key, item):
                        if required not in item:
                            problems.append(Problem((*path, name), f"missing `{required}`"))
    return problems


def _check_item(path: tuple[str, ...], item: Any, fields: dict[str, Field]) -> list[Problem]:
    if not isinstance(item, dict):
        return [Problem(path, "must be a table")]
    return _check_fields(path, item, fields)


def _check_fields(path: tuple[str, ...], table: dict[str, Any], fields: dict[str, Field]):
    problems: list[Problem] = []
    for key, value in table.items():
        if not isinstance(value, dict) and is_secret_key(key):
            continue  # already reported as a secret
        if key not in fields:
            problems.append(_unknown((*path, key), key, tuple(fields)))
            continue
        message = _type_problem(fields[key], value)
        if message:
            problems.append(Problem((*path, key), message))
    return problems


def _type_problem(field: Field, value: Any) -> str | None:
    kind = field.kind
    if kind == "str" and not isinstance(value, str):
        return "must be a string"
    if kind == "bool" and not isinstance(value, bool):
        return "must be true or false"
    if kind == "int" and (isinstance(value, bool) or not isinstance(value, int)):
        return "must be a whole number"
    if kind == "float" and (isinstance(value, bool) or not isinstance(value, (int, float))):
        return "must be a number"
    if kind == "float" and value != value:  # nan passes every < and > check below
        return "must be a number (not nan)"
    if kind == "str_list" and not (
        isinstance(value, list) and all(isinstance(v, str) for v in value)
    ):
        return "must be a list of strings"
    if kind == "command":
        from smsctl.core.secrets import command_problem

        return command_problem(value)
    if kind == "str_map" and not (
        isinstance(value, dict) and all(isinstance(v, str) for v in value.values())
    ):
        return "must be a table of strings"
    if field.choices and value not in field.choices:
        return f"must be one of {', '.join(field.choices)} (got {value!r})"
    if kind in ("int", "float"):
        if field.minimum is not None and value < field.minimum:
            return f"must be at least {field.minimum:g}"
        if field.maximum is not None and value > field.maximum:
            return f"must be at most {field.maximum:g}"
    return None


def _unknown(path: tuple[str, ...], key: str, allowed: tuple[str, ...]) -> Problem:
    close = difflib.get_close_matches(key, allowed, n=1)
    suggestion = f"; did you mean `{close[0]}`?" if close else f" (known: {', '.join(allowed)})"
    return Problem(path, f"unknown key `{key}`{suggestion}")


def locate_line(text: str, path: tuple[str, ...]) -> int | None:
    """The 1-based line where `path` is defined in `text`, found by a light scan of the TOML."""
    index = key_lines(text)
    for length in range(len(path), 0, -1):
        if path[:length] in index:
            return index[path[:length]]
    return None


_HEADER = re.compile(r"^\s*\[\[?\s*(.+?)\s*\]\]?\s*(#.*)?$")
_ASSIGN = re.compile(
    r"^\s*((?:[A-Za-z0-9_-]+|\"(?:[^\"\\]|\\.)*\"|'[^']*')"
    r"(?:\s*\.\s*(?:[A-Za-z0-9_-]+|\"(?:[^\"\\]|\\.)*\"|'[^']*'))*)\s*="
)
_KEY_PART = re.compile(r"\s*([A-Za-z0-9_-]+|\"(?:[^\"\\]|\\.)*\"|'[^']*')\s*(?:\.|$)")


def _split_key(dotted: str) -> tuple[str, ...]:
    parts = []
    for match in _KEY_PART.finditer(dotted):
        token = match.group(1)
        if token.startswith('"'):
            # A basic string: let the TOML parser undo its escapes (unicode_escape would turn
            # non-ASCII names into mojibake, and fail on some).
            try:
                token = tomllib.loads(f"k = {token}")["k"]
            except (tomllib.TOMLDecodeError, ValueError):
                token = token[1:-1]
        elif token.startswith("'"):
            token = token[1:-1]
        parts.append(token)
    return tuple(parts)


def key_lines(text: str) -> dict[tuple[str, ...], int]:
    lines: dict[tuple[str, ...], int] = {}
    table: tuple[str, ...] = ()
    in_multiline: str | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        if in_multiline:
            if line.count(in_multiline) % 2 == 1:
                in_multiline = None
            continue
        header = _HEADER.match(line)
        if header and "=" not in header.group(1).split("#")[0].split("]")[0]:
            table = _split_key(header.group(1))
            lines.setdefault(table, number)
            continue
        assign = _ASSIGN.match(line)
        if assign:
            lines.setdefault((*table, *_split_key(assign.group(1))), number)
            rest = line[assign.end() :]
            for quote in ('"""', "'''"):
                if rest.count(quote) % 2 == 1:
                    in_multiline = quote
    return lines


def check_scenario(value: str | None) -> str | None:
    """A scenario name given on the command line (None passes: the option was not given)."""
    if value is not None and value not in SCENARIOS:
        from smsctl.core.errors import UsageError

        raise UsageError(
            f"Unknown scenario {value!r}.",
            hint="Use one of: " + ", ".join(SCENARIOS) + ".",
            code="invalid_scenario",
        )
    return value
