"""Secrets: the OS keyring by default, an environment variable when a pipeline sets one (SPEC §4).

Resolution order for reading: `SMSCTL_SECRET_<CHANNEL>_<ACCOUNT>` (the keyring is then not
touched at all), then the keyring entry `<channel>/<account>` of service `smsctl`. The keyring
has one time budget per store, that is per command (SMSCTL_KEYRING_TIMEOUT, 5 s): every call
runs with what is left of it, and once a call has hung no other is tried, so a hung D-Bus cannot
hang smsctl, however many accounts a command reads. Backends that would store nothing or store in
plain text are used only when the user names one explicitly.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from smsctl.core.debug import debug
from smsctl.core.errors import CredentialError, UsageError
from smsctl.core.redaction import register_secret

SERVICE = "smsctl"
DEFAULT_TIMEOUT = float(os.environ.get("SMSCTL_KEYRING_TIMEOUT", "5"))

# Backends that do not keep a secret safe: refused unless chosen explicitly.
UNSAFE_BACKEND_MARKERS = ("fail.", "null.", "plaintext", "keyrings.alt.file", "unencrypted")

T = TypeVar("T")


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

    def in_keyring(self, channel: str, account: str) -> bool:
        """Whether the keyring holds the entry, whatever the environment says."""
        return (
            self._call(lambda backend: backend.get_password(SERVICE, entry_name(channel, account)))
            is not None
        )

    def status(self, channel: str, account: str) -> str:
        """`set (env ...)`, `set (keyring)`, `missing`, or why the keyring could not be asked."""
        try:
            found = self.lookup(channel, account)
        except CredentialError as exc:
            return f"unknown ({exc.message})"
        return f"set ({found.source})" if found.value is not None else "missing"

    # --- writing -------------------------------------------------------------------------

    def store(self, channel: str, account: str, value: str) -> None:
        register_secret(value)
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
    "in `ps` or the shell history (`dbus-run-session -- bash -c 'read -rsp \"Keyring password: "
    '" pw; printf %s "$pw" | gnome-keyring-daemon --unlock --components=secrets '
    ">/dev/null; unset pw; smsctl ...'`), or give each secret as "
    "SMSCTL_SECRET_<CHANNEL>_<ACCOUNT> in the environment, read the same way (`read -rs "
    "SMSCTL_SECRET_SMS_PROD && export SMSCTL_SECRET_SMS_PROD`; no keyring needed), or name a "
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


def missing_secret_error(channel: str, account: str) -> CredentialError:
    prefix = "" if channel == "sms" else f"{channel} "
    return CredentialError(
        f"No secret for {channel} account `{account}`: neither {env_var_name(channel, account)} "
        f"is set nor the keyring has `{entry_name(channel, account)}`.",
        hint=f"Store it with `smsctl {prefix}account edit {account} --rotate-secret` "
        f"(add --secret-stdin to pipe it in), or set {env_var_name(channel, account)}.",
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
