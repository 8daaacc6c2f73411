"""Secrets: the OS keyring by default, an environment variable when a pipeline sets one
(docs/contract.md §4).

Resolution order for reading: `SMSCTL_SECRET_<CHANNEL>_<ACCOUNT>` (the keyring is then not
touched at all), then the keyring entry `<channel>/<account>` of service `smsctl`. The keyring
has one time budget per store, that is per command (SMSCTL_KEYRING_TIMEOUT, 5 s): every call
runs with what is left of it, and once a call has hung no other is tried, so a hung D-Bus cannot
hang smsctl, however many accounts a command reads. Backends that would store nothing or store in
plain text are used only when the user names one explicitly.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from smsctl.core import channels
from smsctl.core.debug import debug
from smsctl.core.errors import CredentialError, UsageError
from smsctl.core.redaction import register_secret

SERVICE = "smsctl"
DEFAULT_TIMEOUT = float(os.environ.get("SMSCTL_KEYRING_TIMEOUT", "5"))

# Backends that do not keep a secret safe: refused unless chosen explicitly.
UNSAFE_BACKEND_MARKERS = ("fail.", "null.", "plaintext", "keyrings.alt.file", "unencrypted")

T = TypeVar("T")


# How messages that do not know the account name its variable; `for_account` fills it in.
ENV_VAR_PATTERN = "SMSCTL_SECRET_<CHANNEL>_<ACCOUNT>"


def env_var_name(channel: str, account: str) -> str:
    return channels.channel(channel).secret_env_var(account)


def entry_name(channel: str, account: str) -> str:
    return f"{channel}/{account}"


@dataclass(frozen=True)
class SecretLookup:
    value: str | None
    source: str | None  # "env SMSCTL_SECRET_...", "keyring", or None when missing

    def __repr__(self) -> str:  # never show the value
        return f"SecretLookup(source={self.source!r}, present={self.value is not None})"


@dataclass(frozen=True)
class SecretSource:
    """Where an account's secret comes from, as `--json` reports it on every channel:
    `{"source": "env", "name": "SMSCTL_SECRET_SMS_CI", "reason": null}`."""

    source: str  # "env", "keyring", "missing", or "unknown" (the keyring could not be asked)
    name: str  # the environment variable, or the keyring entry (`smsctl: sms/prod`)
    reason: str | None = None  # why the keyring could not be asked

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "name": self.name, "reason": self.reason}

    def describe(self) -> str:
        if self.source == "env":
            return f"set (env {self.name})"
        if self.source == "keyring":
            return "set (keyring)"
        if self.source == "missing":
            return "missing"
        return f"unknown ({self.reason})"


@dataclass(frozen=True)
class KeyringRemoval:
    """What deleting an account did to its keyring entry."""

    entry: str
    state: str  # "deleted", "absent", or "unchecked" (the keyring could not be asked)
    reason: str | None = None  # why it was not checked
    previous: str | None = field(default=None, repr=False)  # to put it back if the config fails

    def to_dict(self) -> dict[str, Any]:
        return {"entry": self.entry, "state": self.state, "reason": self.reason}

    def describe(self) -> str:
        if self.state == "deleted":
            return f"Keyring entry `{self.entry}` deleted."
        if self.state == "absent":
            return f"Keyring entry `{self.entry}`: there was none."
        return (
            f"Keyring not checked ({self.reason}): an entry `{self.entry}` stored there "
            "earlier, if any, is still there."
        )


class SecretStore:
    def __init__(
        self,
        configured_backend: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.configured_backend = configured_backend
        self.timeout = timeout  # seconds for all keyring calls of this store together
        self._backend: Any = None
        self._clock = clock
        self._spent = 0.0
        self._hung = False

    # --- reading -------------------------------------------------------------------------

    def from_env(self, channel: str, account: str) -> SecretLookup | None:
        name = env_var_name(channel, account)
        value = os.environ.get(name)
        if value:
            register_secret(value)
            return SecretLookup(value, f"env {name}")
        return None

    def lookup(self, channel: str, account: str) -> SecretLookup:
        env = self.from_env(channel, account)
        if env:
            debug(f"secret of {channel}/{account} from {env.source}")
            return env
        with for_account(channel, account):
            value = self._call(
                lambda backend: backend.get_password(SERVICE, entry_name(channel, account))
            )
        if value:
            register_secret(value)
            debug(f"secret of {channel}/{account} from the keyring ({self.backend_name()})")
            return SecretLookup(value, "keyring")
        debug(f"no secret of {channel}/{account} in the keyring ({self.backend_name()})")
        return SecretLookup(None, None)

    def require(self, channel: str, account: str) -> str:
        found = self.lookup(channel, account)
        if found.value is None:
            raise missing_secret_error(channel, account)
        return found.value

    def security_token(self, channel: str, account: str) -> SecretLookup:
        """The STS security token of an account whose credential mode is `sts`: the variable
        SMSCTL_SECURITY_TOKEN_<CHANNEL>_<ACCOUNT>, else the keyring entry
        `<channel>/<account>/security-token` (smsctl.core.credentials)."""
        from smsctl.core.credentials import token_entry, token_env_var

        name = token_env_var(channel, account)
        value = os.environ.get(name)
        if value:
            register_secret(value)
            return SecretLookup(value, f"env {name}")
        try:
            value = self._call(
                lambda backend: backend.get_password(SERVICE, token_entry(channel, account))
            )
        except CredentialError as err:  # reported as the missing token it then is
            debug(f"security token of {channel}/{account}: keyring not asked ({err.message})")
            value = None
        if value:
            register_secret(value)
            return SecretLookup(value, "keyring")
        return SecretLookup(None, None)

    def store_security_token(self, channel: str, account: str, value: str) -> None:
        from smsctl.core.credentials import token_entry

        register_secret(value)
        with for_account(channel, account):
            self._call(
                lambda backend: backend.set_password(SERVICE, token_entry(channel, account), value)
            )

    def in_keyring(self, channel: str, account: str) -> bool:
        """Whether the keyring holds the entry, whatever the environment says."""
        return (
            self._call(lambda backend: backend.get_password(SERVICE, entry_name(channel, account)))
            is not None
        )

    def source(self, channel: str, account: str) -> SecretSource:
        """Where the account's secret comes from, as data; asking never fails."""
        variable = env_var_name(channel, account)
        if self.from_env(channel, account):
            return SecretSource("env", variable)
        entry = f"{SERVICE}: {entry_name(channel, account)}"
        try:
            found = self.lookup(channel, account)
        except CredentialError as exc:
            return SecretSource("unknown", entry, reason=exc.message)
        return SecretSource("keyring" if found.value is not None else "missing", entry)

    def status(self, channel: str, account: str) -> str:
        """`set (env ...)`, `set (keyring)`, `missing`, or why the keyring could not be asked."""
        return self.source(channel, account).describe()

    # --- writing -------------------------------------------------------------------------

    def check_can_store(self, channel: str, account: str) -> None:
        """Raise the keyring's problem (none usable, locked, hung) before anyone is asked for
        a secret that could not be stored."""
        with for_account(channel, account):
            self._call(lambda backend: backend.get_password(SERVICE, entry_name(channel, account)))

    def store(self, channel: str, account: str, value: str) -> None:
        register_secret(value)
        with for_account(channel, account):
            self._call(
                lambda backend: backend.set_password(SERVICE, entry_name(channel, account), value)
            )

    def delete(self, channel: str, account: str) -> bool:
        """Remove the keyring entry; False when there was none."""

        def remove(backend: Any) -> bool:
            import keyring.errors

            if backend.get_password(SERVICE, entry_name(channel, account)) is None:
                return False
            try:
                backend.delete_password(SERVICE, entry_name(channel, account))
            except keyring.errors.PasswordDeleteError:
                return False
            return True

        return self._call(remove)

    def remove_entry(self, channel: str, account: str) -> KeyringRemoval:
        """Delete the account's keyring entry for `account delete`. A keyring that cannot be
        asked (none usable, locked, hung) is reported, not an error; one that holds the entry
        and refuses to delete it is (CredentialError)."""
        entry = entry_name(channel, account)
        try:
            with for_account(channel, account):
                value = self._call(lambda backend: backend.get_password(SERVICE, entry))
        except CredentialError as err:
            return KeyringRemoval(entry, "unchecked", reason=err.message.rstrip("."))
        if value is None:
            return KeyringRemoval(entry, "absent")
        register_secret(value)
        try:
            with for_account(channel, account):
                self._call(lambda backend: backend.delete_password(SERVICE, entry))
        except CredentialError as err:
            refusal = err.message.rstrip(".")
            raise CredentialError(
                f"The keyring holds `{entry}` but refused to delete it ({refusal}); "
                "nothing was changed.",
                hint="Check that the keyring is unlocked and lets smsctl change it, then run "
                "the same delete again.",
                code="keyring_delete_refused",
            ) from None
        return KeyringRemoval(entry, "deleted", previous=value)

    def backend_name(self) -> str:
        backend = self._get_backend()
        return f"{type(backend).__module__}.{type(backend).__name__}"

    # --- the backend ---------------------------------------------------------------------

    def _get_backend(self) -> Any:
        if self._backend is None:
            self._backend = self._within_budget(self._choose_backend, "choosing a backend")
        return self._backend

    def _choose_backend(self) -> Any:
        import keyring
        import keyring.core

        explicit = os.environ.get("PYTHON_KEYRING_BACKEND") or self.configured_backend
        if explicit:
            try:
                return keyring.core.load_keyring(explicit)
            except Exception as exc:  # an import path that does not load
                raise CredentialError(
                    f"Cannot load the keyring backend `{explicit}`: {type(exc).__name__}.",
                    hint="Check PYTHON_KEYRING_BACKEND or [secrets] backend in the config.",
                    code="keyring_backend",
                ) from None
        backend = keyring.get_keyring()
        unsafe = _unsafe_backends(backend)
        if unsafe:
            raise CredentialError(
                f"No usable keyring: the only backend found is {', '.join(unsafe)}, which "
                "would not keep secrets safe, so smsctl will not use it unless you name it.",
                hint=HEADLESS_HINT,
                code="no_keyring",
            )
        return backend

    def _call(self, operation: Callable[[Any], T]) -> T:
        backend = self._get_backend()
        return self._within_budget(lambda: operation(backend), "answering")

    def _within_budget(self, operation: Callable[[], T], doing: str) -> T:
        """Run a keyring operation with what is left of the store's time budget. After one
        call has hung, the backend is not asked again: the next call would queue behind it."""
        left = self.timeout - self._spent
        if self._hung or left <= 0:
            raise _timeout_error(self.timeout, doing, earlier=True)
        started = self._clock()
        try:
            return _bounded(operation, left, doing, budget=self.timeout)
        except CredentialError as exc:
            if exc.code == "keyring_timeout":
                self._hung = True
            raise
        finally:
            self._spent += max(0.0, self._clock() - started)


HEADLESS_HINT = (
    "On a desktop, log in so the Secret Service (GNOME Keyring, KWallet) runs. On a headless "
    "machine either start one, typing its password at a hidden prompt so that it never shows "
    "in `ps` or the shell history (`dbus-run-session -- bash -c 'read -rsp \"Unlock the keyring: "
    '" pw; printf %s "$pw" | gnome-keyring-daemon --unlock --components=secrets '
    ">/dev/null; unset pw; smsctl ...'`), or give each secret as "
    f"{ENV_VAR_PATTERN} in the environment, read the same way (`read -rs "
    f"{ENV_VAR_PATTERN} && export {ENV_VAR_PATTERN}`; no keyring needed), or name a "
    "backend explicitly with PYTHON_KEYRING_BACKEND or `[secrets] backend` in the config."
)


def secret_from_stdin(stream: Any, label: str) -> str:
    """One line of standard input (its end of line removed) as a secret. The bytes must be
    UTF-8: Python would otherwise turn invalid ones into lone surrogates, a "secret" that is
    not the one given and that no provider can be sent."""
    buffer = getattr(stream, "buffer", None)
    raw = buffer.readline() if buffer is not None else stream.readline()
    if isinstance(raw, bytes):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise _not_utf8(label) from None
    else:
        line = raw
    value = line[:-1] if line.endswith("\n") else line
    value = value[:-1] if value.endswith("\r") else value
    check_secret_text(value, label)
    if not value:
        raise UsageError(
            f"--secret-stdin: standard input gave an empty {label}.", code="empty_secret"
        )
    return value


def check_secret_text(value: str, label: str) -> str:
    """A secret read as text (stdin, a prompt) that carries undecodable bytes is refused."""
    if any("\ud800" <= ch <= "\udfff" for ch in value):
        raise _not_utf8(label)
    return value


def _not_utf8(label: str) -> UsageError:
    return UsageError(
        f"The {label} given is not valid UTF-8 text; nothing was stored.",
        hint="Give the secret as UTF-8 text, e.g. `printf '%s\\n' \"$SECRET\" | smsctl ... "
        "--secret-stdin` from a UTF-8 terminal or file.",
        code="secret_not_utf8",
    )


@contextmanager
def for_account(channel: str, account: str) -> Iterator[None]:
    """Keyring errors raised inside name this account's variable, not the pattern."""
    try:
        yield
    except CredentialError as err:
        variable = env_var_name(channel, account)
        err.message = err.message.replace(ENV_VAR_PATTERN, variable)
        if err.hint:
            err.hint = err.hint.replace(ENV_VAR_PATTERN, variable)
        raise


def missing_secret_error(channel: str, account: str) -> CredentialError:
    model = channels.channel(channel)
    variable = env_var_name(channel, account)
    if not model.account_editable:  # its secret was verified with it, when it was added
        hint = (
            f"Set {variable} to the AppSecret, or delete the account and add it again "
            f"(`smsctl wechat account delete {account} --yes`, then "
            f"`smsctl wechat account add {account} --app-id ID`), which invalidates its push "
            "rules."
        )
    else:
        edit = model.command("account", "edit", account)
        hint = (
            f"Store it with `{edit} --rotate-secret` (asks, hidden) or "
            f"`{edit} --rotate-secret --secret-stdin` (reads it from standard input), "
            f"or set {variable}."
        )
    return CredentialError(
        f"No secret for {channel} account `{account}`: neither {variable} "
        f"is set nor the keyring has `{entry_name(channel, account)}`.",
        hint=hint,
        code="secret_missing",
    )


def _unsafe_backends(backend: Any) -> list[str]:
    backends = getattr(backend, "backends", None)
    candidates = list(backends) if backends is not None else [backend]
    names = [f"{type(b).__module__}.{type(b).__name__}" for b in candidates]
    if not names:
        return ["no backend at all"]
    safe = [n for n in names if not any(m in n.lower() for m in UNSAFE_BACKEND_MARKERS)]
    return [] if safe else names


def _bounded(
    operation: Callable[[], T], timeout: float, doing: str, *, budget: float | None = None
) -> T:
    """Run a keyring operation in a daemon thread; give up after `timeout` seconds (what is
    left of a `budget`, when one is given)."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = operation()
        except BaseException as exc:  # noqa: BLE001 - re-raised below in the caller's thread
            outcome["error"] = exc

    worker = threading.Thread(target=run, name="smsctl-keyring", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise _timeout_error(budget if budget is not None else timeout, doing)
    if "error" in outcome:
        raise _keyring_error(outcome["error"])
    return outcome["value"]


def _timeout_error(limit: float, doing: str, *, earlier: bool = False) -> CredentialError:
    if earlier:
        message = (
            f"The keyring is not asked again while {doing}: it used up the {limit:g} s this "
            "command allows it (a hung D-Bus, or a keyring waiting for an unlock prompt nobody "
            "can see)."
        )
    else:
        message = (
            f"The keyring did not answer within {limit:g} s while {doing} (a hung D-Bus, or a "
            "keyring waiting for an unlock prompt nobody can see)."
        )
    return CredentialError(
        message,
        hint="Unlock the keyring, or set SMSCTL_SECRET_<CHANNEL>_<ACCOUNT> instead; "
        "SMSCTL_KEYRING_TIMEOUT changes the limit (seconds for all keyring calls of a command).",
        code="keyring_timeout",
    )


def _keyring_error(exc: BaseException) -> BaseException:
    if isinstance(exc, CredentialError):
        return exc
    name = type(exc).__name__
    if name == "KeyringLocked":
        return CredentialError(
            "The keyring is locked.",
            hint="Unlock it (log in to the desktop session, or `gnome-keyring-daemon --unlock`), "
            "or set SMSCTL_SECRET_<CHANNEL>_<ACCOUNT> instead.",
            code="keyring_locked",
        )
    if name in ("NoKeyringError", "InitError"):
        return CredentialError(
            "No usable keyring backend is available.", hint=HEADLESS_HINT, code="no_keyring"
        )
    if isinstance(exc, Exception):
        return CredentialError(
            f"The keyring failed: {name}.",
            hint="Check that the Secret Service is running and unlocked, or set "
            "SMSCTL_SECRET_<CHANNEL>_<ACCOUNT> instead.",
            code="keyring_error",
        )
    return exc
