"""How an Alibaba Cloud account (SMS, voice) gets its credentials: the `credential` key of its
table (docs/contract.md §4).

- `access-key` (the default): the AccessKey ID in the table, its secret from
  SMSCTL_SECRET_<CHANNEL>_<ACCOUNT> or the keyring.
- `sts`: the same, plus a security token from SMSCTL_SECURITY_TOKEN_<CHANNEL>_<ACCOUNT> or the
  keyring entry `<channel>/<account>/security-token`.
- `ram-role-arn`: that AccessKey assumes `role_arn` (STS AssumeRole) for each run.
- `oidc-role-arn`: the CI system's OIDC token file is exchanged for a role session
  (AssumeRoleWithOIDC); `role_arn`, `oidc_provider_arn`, `oidc_token_file` come from the table
  or from ALIBABA_CLOUD_ROLE_ARN, ALIBABA_CLOUD_OIDC_PROVIDER_ARN, ALIBABA_CLOUD_OIDC_TOKEN_FILE.
- `aliyun-cli-profile`: the named profile of aliyun-cli's ~/.aliyun/config.json.

Nothing here talks to a provider: smsctl.providers.alibaba_credentials turns a `Plan` into
credentials. Temporary credentials live in memory for one run, or with `credential_cache = true`
in a 0600 file in the state directory until they expire.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from smsctl.core.errors import ConfigError, UsageError
from smsctl.core.schema import CREDENTIAL_MODES

DEFAULT_MODE = "access-key"
# The modes whose credentials are a role session smsctl obtains (and may cache).
ROLE_MODES = ("ram-role-arn", "oidc-role-arn")
# The modes that need the account's AccessKey secret (SMSCTL_SECRET_... or the keyring).
SECRET_MODES = ("access-key", "sts", "ram-role-arn")
ENV_ROLE_ARN = "ALIBABA_CLOUD_ROLE_ARN"
ENV_OIDC_PROVIDER_ARN = "ALIBABA_CLOUD_OIDC_PROVIDER_ARN"
ENV_OIDC_TOKEN_FILE = "ALIBABA_CLOUD_OIDC_TOKEN_FILE"
ENV_ROLE_SESSION_NAME = "ALIBABA_CLOUD_ROLE_SESSION_NAME"
ENV_PROFILE = "ALIBABA_CLOUD_PROFILE"
DEFAULT_SESSION = "smsctl"
DEFAULT_DURATION = 3600
# A cached session this close to its end is not used again: a send must not meet its expiry.
MIN_REMAINING_SECONDS = 300
# The keys each mode may set, over the ones every Alibaba Cloud account has.
MODE_KEYS: dict[str, tuple[str, ...]] = {
    "access-key": ("access_key_id",),
    "sts": ("access_key_id",),
    "ram-role-arn": (
        "access_key_id", "role_arn", "role_session_name", "duration_seconds", "policy",
        "external_id", "sts_endpoint", "credential_cache",
    ),
    "oidc-role-arn": (
        "role_arn", "oidc_provider_arn", "oidc_token_file", "role_session_name",
        "duration_seconds", "policy", "sts_endpoint", "credential_cache",
    ),
    "aliyun-cli-profile": ("profile",),
}  # fmt: skip
ALL_MODE_KEYS = sorted({key for keys in MODE_KEYS.values() for key in keys})


def mode_of(values: Any) -> str:
    return str(values.get("credential") or DEFAULT_MODE)


def needs_secret(values: Any) -> bool:
    return mode_of(values) in SECRET_MODES


def token_env_var(channel: str, account: str) -> str:
    return "SMSCTL_SECURITY_TOKEN_" + re.sub(r"[^A-Z0-9]", "_", f"{channel}_{account}".upper())


def token_entry(channel: str, account: str) -> str:
    return f"{channel}/{account}/security-token"


def profile_file() -> Path:
    return Path(os.path.expanduser("~")) / ".aliyun" / "config.json"


@dataclass(frozen=True)
class Plan:
    """What one account's credentials are made from: no secret in it but the ones read on
    purpose (`secret`, `security_token`), hidden from repr."""

    channel: str
    account: str
    mode: str
    access_key_id: str | None = None
    secret: str | None = field(default=None, repr=False)
    security_token: str | None = field(default=None, repr=False)
    role_arn: str | None = None
    role_session_name: str = DEFAULT_SESSION
    duration_seconds: int = DEFAULT_DURATION
    policy: str | None = None
    external_id: str | None = None
    oidc_provider_arn: str | None = None
    oidc_token_file: str | None = None
    sts_endpoint: str | None = None
    profile: str | None = None
    profile_file: str | None = None
    cache_file: str | None = None  # with credential_cache = true
    connect_timeout: float = 5.0
    read_timeout: float = 10.0
    deadline: float = 30.0

    def cache_key(self) -> str:
        import hashlib

        parts = [
            self.channel, self.account, self.mode, self.access_key_id or "", self.role_arn or "",
            self.role_session_name, str(self.duration_seconds), self.policy or "",
            self.external_id or "", self.oidc_provider_arn or "", self.sts_endpoint or "",
        ]  # fmt: skip
        return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:32]


def plan(
    channel: str,
    account: str,
    values: Any,
    secret: Any,
    token: Any,
    *,
    state_dir: Path | None = None,
    timeouts: tuple[float, float, float] = (5.0, 10.0, 30.0),
) -> Plan:
    """The account's Plan. `secret()` and `token()` read the AccessKey secret and the security
    token (only for the modes that need them)."""
    mode = mode_of(values)
    text = _texts(values)
    connect_timeout, read_timeout, deadline = timeouts
    common: dict[str, Any] = {
        "channel": channel,
        "account": account,
        "mode": mode,
        "connect_timeout": connect_timeout,
        "read_timeout": read_timeout,
        "deadline": deadline,
    }
    if mode in ("access-key", "sts", "ram-role-arn"):
        common["access_key_id"] = text.get("access_key_id")
        common["secret"] = secret()
    if mode == "sts":
        common["security_token"] = token()
    if mode in ROLE_MODES:
        role_arn = text.get("role_arn") or os.environ.get(ENV_ROLE_ARN)
        common.update(
            role_arn=role_arn,
            role_session_name=text.get("role_session_name")
            or os.environ.get(ENV_ROLE_SESSION_NAME)
            or DEFAULT_SESSION,
            duration_seconds=int(values.get("duration_seconds") or DEFAULT_DURATION),
            policy=text.get("policy"),
            sts_endpoint=text.get("sts_endpoint"),
        )
        if values.get("credential_cache") and state_dir is not None:
            common["cache_file"] = str(state_dir / "credentials-cache.json")
        if not role_arn:
            raise _missing(channel, account, mode, "role_arn", ENV_ROLE_ARN)
    if mode == "ram-role-arn":
        common["external_id"] = text.get("external_id")
    if mode == "oidc-role-arn":
        provider = text.get("oidc_provider_arn") or os.environ.get(ENV_OIDC_PROVIDER_ARN)
        token_file = text.get("oidc_token_file") or os.environ.get(ENV_OIDC_TOKEN_FILE)
        if not provider:
            raise _missing(channel, account, mode, "oidc_provider_arn", ENV_OIDC_PROVIDER_ARN)
        if not token_file:
            raise _missing(channel, account, mode, "oidc_token_file", ENV_OIDC_TOKEN_FILE)
        common.update(oidc_provider_arn=provider, oidc_token_file=token_file)
    if mode == "aliyun-cli-profile":
        common.update(
            profile=text.get("profile") or os.environ.get(ENV_PROFILE),
            profile_file=str(profile_file()),
        )
    return Plan(**common)


def _texts(values: Any) -> dict[str, str]:
    return {k: str(v) for k, v in values.items() if isinstance(v, str) and v != ""}


def _missing(channel: str, account: str, mode: str, key: str, variable: str) -> ConfigError:
    return ConfigError(
        f"{channel} account `{account}` uses credential mode {mode} but has no `{key}`: "
        f"neither its table sets it nor {variable} is set.",
        hint=f'Set {variable} in the job\'s environment, or `{key} = "..."` in '
        f"[{channel}.accounts.{account}].",
        code="credential_incomplete",
    )


def failure_hint(plan: Plan, code: str | None) -> str:
    """What to do when the account's mode could not produce credentials (STS `code`)."""
    from smsctl.core import channels

    edit = channels.channel(plan.channel).command("account", "edit", plan.account)
    if code == "STSTLSError":
        return (
            "A TLS-intercepting proxy, or a private STS endpoint, needs its CA: set SSL_CERT_FILE "
            "to the CA file (the sandbox prints its `sts.ca_file`)."
        )
    if code == "STSUnreachable":
        return "Check the network and the account's `sts_endpoint`, then retry."
    if code and code.startswith("EntityNotExist.Role"):
        return (
            f"Check the role ARN (RAM console > Roles), then fix it with `{edit} --role-arn ARN`."
        )
    if code and ("OIDC" in code or "Token" in code):
        return (
            "The CI job's OIDC token was refused: check that it is fresh (tokens expire within "
            "minutes), that the OIDC provider ARN is right and that the role trusts it."
        )
    if code and code.startswith(("NoPermission", "Forbidden")):
        return "The source AccessKey may not assume this role: grant it sts:AssumeRole."
    if code and code.startswith(("InvalidAccessKeyId", "SignatureDoesNotMatch")):
        return f"The source AccessKey was refused: rotate it with `{edit} --rotate-secret`."
    if plan.mode == "aliyun-cli-profile":
        return (
            "Check the profile with `aliyun configure list`, or name another with "
            f"`{edit} --profile NAME`; smsctl honours the modes AK, StsToken, RamRoleArn, "
            "EcsRamRole, OIDC, ChainableRamRoleArn of aliyun-cli."
        )
    return f"Check the account's credential settings (`{edit} --help`), then retry."


# --- checking what `account add/edit` is given ----------------------------------------------


def check_values(values: dict[str, Any], *, editing: bool = False) -> dict[str, Any]:
    """The credential keys of new account values, checked: a mode's keys only with that mode,
    and what the mode needs."""
    mode = values.get("credential") or (None if editing else DEFAULT_MODE)
    if mode is not None and mode not in CREDENTIAL_MODES:
        raise UsageError(
            f"Unknown credential mode {mode!r}.",
            hint=f"Choose one of {', '.join(CREDENTIAL_MODES)}.",
            code="invalid_credential_mode",
        )
    if editing:
        return values
    given = [k for k in ALL_MODE_KEYS if values.get(k) not in (None, "", False)]
    wrong = [k for k in given if k not in MODE_KEYS[mode]]
    if wrong:
        flags = ", ".join("--" + k.replace("_", "-") for k in wrong)
        raise UsageError(
            f"{flags} {'does' if len(wrong) == 1 else 'do'} not apply to credential mode {mode}.",
            hint=f"Drop {flags}, or choose the mode that uses it with --credential.",
            code="credential_option",
        )
    if mode in SECRET_MODES and not values.get("access_key_id"):
        raise UsageError(
            f"Credential mode {mode} needs --access-key-id.", code="credential_incomplete"
        )
    if mode == "ram-role-arn" and not values.get("role_arn"):
        raise UsageError(
            "Credential mode ram-role-arn needs --role-arn (e.g. acs:ram::123:role/sms-admin).",
            code="credential_incomplete",
        )
    for key in ("role_arn", "oidc_provider_arn"):
        arn = values.get(key)
        if arn and not str(arn).startswith("acs:ram::"):
            raise UsageError(
                f"--{key.replace('_', '-')} {arn!r} is not a RAM ARN (acs:ram::ACCOUNT:...).",
                code="invalid_arn",
            )
    if mode == DEFAULT_MODE:
        values.pop("credential", None)  # the default is not written
    return values


# --- the file cache (credential_cache = true) -------------------------------------------------


@dataclass(frozen=True)
class Session:
    """Temporary credentials (a role session, or what a profile gave)."""

    access_key_id: str
    access_key_secret: str = field(repr=False)
    security_token: str | None = field(default=None, repr=False)
    expires_at: datetime | None = None


def cached(path: str, key: str, now: datetime) -> Session | None:
    """The cached session of `key` still valid for MIN_REMAINING_SECONDS, or None."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        entry = data[key]
        expires = datetime.fromisoformat(entry["expires_at"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if (expires - now).total_seconds() < MIN_REMAINING_SECONDS:
        return None
    return Session(
        entry["access_key_id"], entry["access_key_secret"], entry["security_token"], expires
    )


def remember(path: str, key: str, session: Session, now: datetime) -> None:
    """Keep `session` under `key` in the 0600 cache file, dropping expired entries."""
    target = Path(path)
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        data = json.loads(target.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            data = {}
    except (OSError, ValueError):
        data = {}
    data = {k: v for k, v in data.items() if _valid_entry(v, now)}
    data[key] = {
        "access_key_id": session.access_key_id,
        "access_key_secret": session.access_key_secret,
        "security_token": session.security_token,
        "expires_at": (session.expires_at or now).astimezone(timezone.utc).isoformat(),
    }
    temporary = target.with_name(f".{target.name}.{os.getpid()}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(data, handle)
    os.chmod(temporary, 0o600)
    os.replace(temporary, target)


def forget(path: str, key: str) -> None:
    """Drop a cached session the provider refused (revoked, or expired early)."""
    target = Path(path)
    try:
        data = json.loads(target.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    if isinstance(data, dict) and data.pop(key, None) is not None:
        fd = os.open(target, os.O_WRONLY | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle)


def _valid_entry(entry: Any, now: datetime) -> bool:
    try:
        return datetime.fromisoformat(entry["expires_at"]) > now
    except (ValueError, KeyError, TypeError):
        return False


def describe(values: Any, expires_at: datetime | None = None) -> dict[str, Any]:
    """`{"mode": ..., "expires_at": ISO 8601 or None}` as --json shows it."""
    from smsctl.core import clock

    return {"mode": mode_of(values), "expires_at": clock.iso(expires_at)}


def cached_expiry(channel: str, account: str, values: Any, state_dir: Path) -> datetime | None:
    """When the cached session of an account (credential_cache = true) expires, if one is
    cached: read locally, no secret shown."""
    if mode_of(values) not in ROLE_MODES or not values.get("credential_cache"):
        return None
    try:
        found = plan(channel, account, values, lambda: None, lambda: None, state_dir=state_dir)
    except ConfigError:
        return None
    from smsctl.core import clock

    session = cached(found.cache_file or "", found.cache_key(), clock.now())
    return session.expires_at if session else None
