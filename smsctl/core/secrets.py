"""Secrets: the OS keyring by default, an environment variable when a pipeline sets one (SPEC §4).

Resolution order for reading: `SMSCTL_SECRET_<CHANNEL>_<ACCOUNT>` (the keyring is then not
touched at all), then the keyring entry `<channel>/<account>` of service `smsctl`. Every keyring
call runs with a time limit, so a hung D-Bus cannot hang smsctl. Backends that would store
nothing or store in plain text are used only when the user names one explicitly.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from smsctl.core.debug import debug
from smsctl.core.errors import CredentialError
from smsctl.core.redaction import register_secret

SERVICE = "smsctl"
DEFAULT_TIMEOUT = float(os.environ.get("SMSCTL_KEYRING_TIMEOUT", "5"))

# Backends that do not keep a secret safe: refused unless chosen explicitly.
UNSAFE_BACKEND_MARKERS = ("fail.", "null.", "plaintext", "keyrings.alt.file", "unencrypted")

T = TypeVar("T")


# How messages that do not know the account name its variable; `for_account` fills it in.
ENV_VAR_PATTERN = "SMSCTL_SECRET_<CHANNEL>_<ACCOUNT>"


def env_var_name(channel: str, account: str) -> str:
    return "SMSCTL_SECRET_" + re.sub(r"[^A-Z0-9]", "_", f"{channel}_{account}".upper())


def entry_name(channel: str, account: str) -> str:
    return f"{channel}/{account}"


@dataclass(frozen=True)
class SecretLookup:
    value: str | None
    source: str | None  # "env SMSCTL_SECRET_...", "keyring", or None when missing

    def __repr__(self) -> str:  # never show the value
        return f"SecretLookup(source={self.source!r}, present={self.value is not None})"


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
    def __init__(self, configured_backend: str | None = None, timeout: float = DEFAULT_TIMEOUT):
        self.configured_backend = configured_backend
        self.timeout = timeout
        self._backend: Any = None

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

    def status(self, channel: str, account: str) -> str:
        """`set (env ...)`, `set (keyring)`, `missing`, or why the keyring could not be asked."""
        try:
            found = self.lookup(channel, account)
        except CredentialError as exc:
            return f"unknown ({exc.message})"
        return f"set ({found.source})" if found.value is not None else "missing"

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
            self._backend = _bounded(self._choose_backend, self.timeout, "choosing a backend")
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
        return _bounded(lambda: operation(backend), self.timeout, "answering")


HEADLESS_HINT = (
    "On a desktop, log in so the Secret Service (GNOME Keyring, KWallet) runs. On a headless "
    "machine either start one (`dbus-run-session -- sh -c 'echo PASSWORD | "
    "gnome-keyring-daemon --unlock --components=secrets; smsctl ...'`), or set "
    f"{ENV_VAR_PATTERN} to the secret (no keyring needed), or name a "
    "backend explicitly with PYTHON_KEYRING_BACKEND or `[secrets] backend` in the config."
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
    variable = env_var_name(channel, account)
    if channel == "wechat":  # an official account is never edited: its secret is set when added
        hint = (
            f"Set {variable} to the AppSecret, or delete the account and add it again "
            f"(`smsctl wechat account delete {account} --yes`, then "
            f"`smsctl wechat account add {account} --app-id ID`), which invalidates its push "
            "rules."
        )
    else:
        edit = f"smsctl {'' if channel == 'sms' else channel + ' '}account edit {account}"
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


def _bounded(operation: Callable[[], T], timeout: float, doing: str) -> T:
    """Run a keyring operation in a daemon thread; give up after `timeout` seconds."""
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
        raise CredentialError(
            f"The keyring did not answer within {timeout:g} s while {doing} (a hung D-Bus, or a "
            "keyring waiting for an unlock prompt nobody can see).",
            hint="Unlock the keyring, or set SMSCTL_SECRET_<CHANNEL>_<ACCOUNT> instead; "
            "SMSCTL_KEYRING_TIMEOUT changes the limit.",
            code="keyring_timeout",
        )
    if "error" in outcome:
        raise _keyring_error(outcome["error"])
    return outcome["value"]


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
