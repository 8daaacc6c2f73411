"""What each provider code means, why it happens, what to do, and which exit class it belongs to.

One catalog per provider (``alibaba``, ``wechat``, ``smtp``) as a plain dict of
``code -> Explanation``; ``explain`` looks a code up and ``to_error`` turns it into the
SmsctlError a command raises. Unknown codes are kept verbatim with the provider's message.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module

from smsctl.core.errors import SmsctlError, error_for_exit


@dataclass(frozen=True)
class Explanation:
    meaning: str
    cause: str
    next_step: str
    exit_code: int


def _table(provider: str) -> dict[str, Explanation]:
    return import_module(f"smsctl.core.catalog.{provider}").CODES


def explain(provider: str, code: str | None) -> Explanation | None:
    if not code:
        return None
    table = _table(provider)
    if code in table:
        return table[code]
    # Families such as "isv.*" or "Throttling.*" may have a catch-all entry under "prefix.*".
    for key, entry in table.items():
        if key.endswith(".*") and code.startswith(key[:-1]):
            return entry
    return None


def to_error(
    provider: str,
    code: str | None,
    provider_message: str | None,
    *,
    request_id: str | None = None,
    default_exit: int = 5,
    details: dict | None = None,
) -> SmsctlError:
    """The error a provider adapter raises for a provider code: its exit class and meaning.
    The hint is worded later, where the channel and the account are known (`word`)."""
    entry = explain(provider, code)
    facts = {"provider": provider, "provider_message": provider_message}
    if entry is None:
        message = f"{provider} answered {code or 'an error'}: {provider_message or 'no message'}"
        return error_for_exit(default_exit)(
            message, code=code, request_id=request_id, details={**facts, **(details or {})}
        )
    message = f"{entry.meaning} ({code})"
    if provider_message:
        message += f": {provider_message}"
    return error_for_exit(entry.exit_code)(
        message,
        code=code,
        request_id=request_id,
        details={**facts, "meaning": entry.meaning, **(details or {})},
    )


# What a send that may have gone out always says first.
MAYBE_SENT = "Check before sending again: `smsctl log --sends` shows the OutId of this attempt."
UNKNOWN_CODE = (
    "This code is not in smsctl's catalog; search the provider's error-code documentation for "
    "it and quote the request id to the provider's support."
)
# A word a catalog text names but the error does not know.
_FALLBACK_WORDS = {"account": "ACCOUNT", "ip": "this machine's IP"}


class _Words(dict):
    """The values a catalog text's `{field}`s take; a field that is not a word (the `${var}`
    of an Alibaba Cloud template) stays as it is."""

    def __missing__(self, key: str) -> str:
        return _FALLBACK_WORDS.get(key, "{" + key + "}")


def words(
    channel: str, account: str | None, details: dict | None = None, secret_from: str = "keyring"
) -> dict[str, str]:
    """What the catalog's texts name, for this channel and account: `{cli}` (the channel's
    command prefix), `{account}`, `{secret_env_var}`, how to put the right secret where this
    account's secret comes from (`{store_secret}`, `{new_key}`; `secret_from` is env, command or
    keyring), the provider's own words (`{host}`) and the error's facts (`{ip}`)."""
    from smsctl.core import channels

    model = channels.channel(channel)
    found: dict[str, str] = _Words(cli=model.command())
    if account:
        found.update(account=account, secret_env_var=model.secret_env_var(account))
    else:
        found["secret_env_var"] = model.secret_env_var("ACCOUNT")
    found.update({key: text.format_map(found) for key, text in _secret_words(secret_from).items()})
    provider = (details or {}).get("provider")
    if provider:
        found.update(getattr(import_module(f"smsctl.core.catalog.{provider}"), "WORDS", {}).get(
            channel, {}
        ))  # fmt: skip
    for key, value in (details or {}).items():
        if isinstance(value, str | int) and not isinstance(value, bool):
            found.setdefault(key, str(value))
    return found


def _secret_words(secret_from: str) -> dict[str, str]:
    if secret_from == "env":  # the keyring is not read: storing a secret there changes nothing
        return dict(
            store_secret="the {secret_env_var} variable (this run read the secret from it)",
            new_key="`{cli} account edit {account} --access-key-id ID` and the new secret in "
            "{secret_env_var}",
        )
    if secret_from == "command":  # rotation happens in the store the command reads
        return dict(
            store_secret="the store the account's secret_command reads (`{cli} account show "
            "{account}` names the command)",
            new_key="`{cli} account edit {account} --access-key-id ID` and the new secret in the "
            "store its secret_command reads",
        )
    return dict(
        store_secret="`{cli} account edit {account} --rotate-secret` (or the {secret_env_var} "
        "variable)",
        new_key="`{cli} account edit {account} --access-key-id ID --rotate-secret`",
    )


def word(
    error: SmsctlError, channel: str, account: str | None, secret_from: str = "keyring"
) -> SmsctlError:
    """Word the hint of an error a provider adapter raised, for the operator of this channel's
    account: what to check before a resend (`maybe_sent`), the adapter's own sentence, where to
    see the endpoint (`check: endpoint`), then the catalog's cause and next step for its code,
    naming this channel's commands and this account. The error's structured data is not
    changed, except that `cause` and `next_step` are added for a catalog code."""
    details = error.details
    provider = details.get("provider")
    found = words(channel, account, details, secret_from)
    sentences = [MAYBE_SENT] if details.get("maybe_sent") else []
    if error.hint:
        sentences.append(error.hint)
    if details.get("check") == "endpoint":
        sentences.append(
            "`{cli} account show {account}` shows the account's endpoint.".format_map(found)
        )
    entry = explain(provider, error.code) if provider else None
    if entry is not None:
        cause, next_step = entry.cause.format_map(found), entry.next_step.format_map(found)
        details.update(cause=cause, next_step=next_step)
        sentences.append(f"{cause} Next: {next_step}")
    elif provider:
        sentences.append(UNKNOWN_CODE)
    error.hint = " ".join(sentences) or None
    return error
