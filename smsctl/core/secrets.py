"""Secrets: the OS keyring by default, an environment variable when a pipeline sets one, or the
output of the account's `secret_command` (docs/contract.md §4).

Resolution order for reading: `SMSCTL_SECRET_<CHANNEL>_<ACCOUNT>`, then the account's
`secret_command` (a program run without a shell whose one line of stdout is the secret; run at
most once per store, that is per command), then the keyring entry `<channel>/<account>` of
service `smsctl`. When the variable or the command gives the secret, the keyring is not touched
at all. The keyring
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
COMMAND_TIMEOUT = 10.0  # seconds a secret_command may take, unless configured
COMMAND_TIMEOUT_ENV = "SMSCTL_SECRET_COMMAND_TIMEOUT"
# A secret is one line; a command that prints more than this is not printing a secret.
COMMAND_OUTPUT_LIMIT = 64 * 1024
STDERR_TAIL_LINES = 10
STDERR_TAIL_CHARS = 1000

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
    source: str | None  # "env SMSCTL_SECRET_...", "command PROGRAM", "keyring", or None

    def __repr__(self) -> str:  # never show the value
        return f"SecretLookup(source={self.source!r}, present={self.value is not None})"


@dataclass(frozen=True)
class SecretSource:
    """Where an account's secret comes from, as `--json` reports it on every channel:
    `{"source": "env", "name": "SMSCTL_SECRET_SMS_CI", "reason": null}`."""

    # "env", "command", "keyring", "missing", "none" (the account's credential mode needs no
    # secret), or "unknown" (the keyring could not be asked)
    source: str
    # the environment variable, the command line (never its output), or the keyring entry
    # (`smsctl: sms/prod`)
    name: str
    reason: str | None = None  # why the keyring could not be asked

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "name": self.name, "reason": self.reason}

    def describe(self) -> str:
        if self.source == "env":
            return f"set (env {self.name})"
        if self.source == "command":
            return f"from command `{self.name}`"
        if self.source == "keyring":
            return "set (keyring)"
        if self.source == "missing":
            return "missing"
        if self.source == "none":
            return f"not needed ({self.name})"
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
        *,
        commands: Callable[[str, str], list[str] | None] | None = None,
        command_timeout: float = COMMAND_TIMEOUT,
    ):
        self.configured_backend = configured_backend
        self.timeout = timeout  # seconds for all keyring calls of this store together
        self._backend: Any = None
        self._clock = clock
        self._spent = 0.0
        self._hung = False
        # The account's secret_command, if it has one (read from the config in use).
        self._commands = commands
        self.command_timeout = command_timeout
        # What each account's command gave (its secret, or its failure): run once per store.
        self._ran: dict[tuple[str, str], str | CredentialError] = {}

    # --- reading -------------------------------------------------------------------------

    def from_env(self, channel: str, account: str) -> SecretLookup | None:
        name = env_var_name(channel, account)
        value = os.environ.get(name)
        if value:
            if any("\ud800" <= ch <= "\udfff" for ch in value):  # bytes that are not UTF-8
                raise CredentialError(
                    f"{name} is not valid UTF-8 text, so it cannot be the secret of {channel} "
                    f"account `{account}`.",
                    hint=f"Set {name} to the secret as UTF-8 text (as the provider's console "
                    "shows it).",
                    code="secret_not_utf8",
                )
            register_secret(value)
            return SecretLookup(value, f"env {name}")
        return None

    def command_of(self, channel: str, account: str) -> list[str] | None:
        """The account's secret_command, or None when it has none."""
        found = self._commands(channel, account) if self._commands is not None else None
        return list(found) if found else None

    def from_command(self, channel: str, account: str, argv: list[str]) -> SecretLookup:
        """The secret printed by `argv` (CredentialError when it fails); the command runs at most
        once per store for an account, its failure is remembered too."""
        key = (channel, account)
        if key not in self._ran:
            try:
                self._ran[key] = run_secret_command(
                    argv, self.command_timeout, f"{channel} account `{account}`"
                )
            except CredentialError as err:
                err.hint = _command_hint(channel, account, argv, err.hint)
                self._ran[key] = err
        found = self._ran[key]
        if isinstance(found, CredentialError):
            raise found
        return SecretLookup(found, f"command {command_text(argv)}")

    def lookup(self, channel: str, account: str) -> SecretLookup:
        env = self.from_env(channel, account)
        if env:
            debug(f"secret of {channel}/{account} from {env.source}")
            return env
        argv = self.command_of(channel, account)
        if argv:
            return self.from_command(channel, account, argv)
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

    def keyring_value(self, channel: str, account: str) -> str | None:
        """The keyring entry, whatever the environment or a secret_command say."""
        with for_account(channel, account):
            value = self._call(
                lambda backend: backend.get_password(SERVICE, entry_name(channel, account))
            )
        if value:
            register_secret(value)
        return value

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
        argv = self.command_of(channel, account)
        if argv:  # where it comes from; running it is for the commands that need the secret
            return SecretSource("command", command_text(argv))
        entry = f"{SERVICE}: {entry_name(channel, account)}"
        try:
            found = self.lookup(channel, account)
        except CredentialError as exc:
            return SecretSource("unknown", entry, reason=exc.message)
        return SecretSource("keyring" if found.value is not None else "missing", entry)

    def status(self, channel: str, account: str) -> str:
        """`set (env ...)`, `set (command ...)` once the command gave the secret, `from command
        ...` before it ran, `set (keyring)`, `missing`, or why the keyring could not be asked."""
        found = self.source(channel, account)
        if found.source == "command" and isinstance(self._ran.get((channel, account)), str):
            return f"set (command `{found.name}`)"
        return found.describe()

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


# --- secret_command ---------------------------------------------------------------------------


def command_text(argv: list[str]) -> str:
    """The command as a person would type it (it is config, never a secret)."""
    import shlex

    return shlex.join(argv)


def parse_command(text: str, option: str = "--secret-command") -> list[str]:
    """A command line given as one string (`vault kv get -field=secret kv/x`), split like a
    shell splits words (quotes group, nothing is expanded)."""
    import shlex

    try:
        argv = shlex.split(text)
    except ValueError as exc:
        raise UsageError(
            f"{option}: cannot split the command into words ({exc}).",
            hint="Quote as in a shell: "
            "--secret-command 'vault kv get -field=secret kv/smsctl/prod'.",
            code="invalid_secret_command",
        ) from None
    problem = command_problem(argv)
    if problem:
        raise UsageError(f"{option}: the command {problem}.", code="invalid_secret_command")
    return argv


def command_problem(argv: Any) -> str | None:
    """Why `argv` cannot be a secret_command, or None."""
    if not isinstance(argv, list) or not argv or not all(isinstance(a, str) for a in argv):
        return "must be a non-empty array of strings (the program, then its arguments)"
    if not argv[0].strip():
        return "must start with the program to run, not an empty string"
    if any("\0" in a for a in argv):
        return "must not contain a NUL character"
    return None


def command_timeout(configured: Any) -> float:
    """Seconds a secret_command may run: SMSCTL_SECRET_COMMAND_TIMEOUT, else `[secrets]
    command_timeout`, else 10."""
    from smsctl.core.errors import ConfigError

    raw = os.environ.get(COMMAND_TIMEOUT_ENV)
    if raw is None or not raw.strip():
        return float(configured) if configured is not None else COMMAND_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not 0.1 <= value <= 3600:  # nan fails too
        raise ConfigError(
            f"{COMMAND_TIMEOUT_ENV}={raw!r} is not a number of seconds from 0.1 to 3600.",
            hint=f"Set {COMMAND_TIMEOUT_ENV} to seconds (e.g. 10), or unset it.",
            code="invalid_secret_command_timeout",
        )
    return value


def run_secret_command(argv: list[str], timeout: float, whose: str) -> str:
    """Run `argv` without a shell and return its one line of stdout (the end of line removed).

    The program is looked up on PATH (`~` is expanded in the program only). Its stderr goes
    through to ours as it comes (a login prompt or error from vault or op shows), and its tail
    is kept for the error; its stdin is our terminal when we have one, else nothing (a pipe on
    our stdin is smsctl's own input). Its stdout is never shown, logged or put in an error.
    A command that fails, hangs past `timeout`, cannot be run, or prints no line or an invalid
    one is a CredentialError (exit 4)."""
    import subprocess
    import sys

    program = os.path.expanduser(argv[0])
    shown = command_text(argv)
    started = time.monotonic()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("SMSCTL_SECRET_")}
    # At a terminal the command stays in our process group, so that it can prompt there; else
    # it gets a session of its own, so that stopping it stops what it started too.
    interactive = _isatty(sys.stdin)
    try:
        child = subprocess.Popen(
            [program, *argv[1:]],
            stdin=None if interactive else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=environment,
            close_fds=True,
            start_new_session=not interactive,
        )
    except FileNotFoundError:
        raise _command_error(
            whose, shown, f"the program `{argv[0]}` was not found", "not_found"
        ) from None
    except PermissionError:
        raise _command_error(
            whose, shown, f"the program `{argv[0]}` is not executable", "not_executable"
        ) from None
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise _command_error(
            whose, shown, f"the program `{argv[0]}` cannot be run ({reason})", "not_runnable"
        ) from None
    output = _Collector(child.stdout, limit=COMMAND_OUTPUT_LIMIT)
    errors = _Collector(child.stderr, limit=STDERR_TAIL_CHARS * 4, keep="tail", echo=sys.stderr)
    try:
        status = child.wait(timeout)
        left = max(0.0, timeout - (time.monotonic() - started))
        if not (output.join(left) and errors.join(left)):
            raise subprocess.TimeoutExpired(argv, timeout)  # a child of it holds its output
    except subprocess.TimeoutExpired:
        _stop(child, group=not interactive)
        errors.join(0.5)
        name = os.path.basename(argv[0])
        debug(f"secret command `{name}` for {whose} stopped after {timeout:g} s")
        raise _command_error(
            whose,
            shown,
            f"it did not finish within {timeout:g} s and was stopped",
            "timeout",
            tail=errors.tail(),
            hint_more=f"[secrets] command_timeout or {COMMAND_TIMEOUT_ENV} changes the limit.",
        ) from None
    except BaseException:  # Ctrl-C: the child goes with us
        _stop(child, group=not interactive)
        raise
    duration = time.monotonic() - started
    raw = output.data()
    debug(f"secret command `{os.path.basename(argv[0])}` for {whose} ran in {duration:.2f} s")
    if status != 0:
        how = f"killed by signal {-status}" if status < 0 else f"exit status {status}"
        # What it printed is no secret smsctl will use, but may be one: kept out of the tail.
        printed = raw.decode("utf-8", errors="replace").splitlines()
        tail = errors.tail()
        for line in sorted(printed, key=len, reverse=True):
            if len(line.strip()) >= 4:
                tail = tail.replace(line.strip(), "****")
        raise _command_error(whose, shown, f"it failed ({how})", "failed", tail=tail, status=status)
    if output.overflow:
        raise _command_error(
            whose, shown, f"it printed more than {COMMAND_OUTPUT_LIMIT // 1024} KiB", "bad_output"
        )
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _command_error(whose, shown, "its output is not valid UTF-8", "bad_output") from None
    line = line[:-1] if line.endswith("\n") else line
    line = line[:-1] if line.endswith("\r") else line
    if not line:
        raise _command_error(whose, shown, "it printed nothing", "empty_output")
    if "\n" in line or "\r" in line:
        raise _command_error(
            whose,
            shown,
            "it printed more than one line (the secret is its only line)",
            "bad_output",
        )
    register_secret(line)
    return line


class _Collector:
    """Reads one pipe of the child in a thread: keeps its first `limit` bytes (or its last,
    `keep="tail"`), and writes what it reads to `echo` as it comes."""

    def __init__(self, pipe: Any, *, limit: int, keep: str = "head", echo: Any = None) -> None:
        self._pipe = pipe
        self._limit = limit
        self._keep = keep
        self._echo = echo
        self._chunks = bytearray()
        self.overflow = False
        self._thread = threading.Thread(target=self._read, name="smsctl-secret-command")
        self._thread.daemon = True
        self._thread.start()

    def _read(self) -> None:
        import codecs

        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        try:
            while True:
                chunk = os.read(self._pipe.fileno(), 4096)
                if not chunk:
                    break
                if self._echo is not None:
                    self._write(decoder.decode(chunk))
                self._chunks += chunk
                if len(self._chunks) > self._limit:
                    if self._keep == "tail":
                        del self._chunks[: len(self._chunks) - self._limit]
                    else:
                        self.overflow = True
                        del self._chunks[self._limit :]
        except (OSError, ValueError):
            pass
        finally:
            if self._echo is not None:
                self._write(decoder.decode(b"", final=True))
            self._pipe.close()

    def _write(self, text: str) -> None:
        from smsctl.core.redaction import redact

        if text:
            try:
                self._echo.write(redact(text))
                self._echo.flush()
            except (OSError, ValueError):
                pass

    def join(self, timeout: float) -> bool:
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def data(self) -> bytes:
        return bytes(self._chunks)

    def tail(self) -> str:
        text = self.data().decode("utf-8", errors="replace").replace("\r\n", "\n")
        lines = [line for line in text.split("\n") if line.strip()]
        return "\n".join(lines[-STDERR_TAIL_LINES:])[-STDERR_TAIL_CHARS:]


def _stop(child: Any, *, group: bool) -> None:
    import contextlib
    import signal

    with contextlib.suppress(OSError):
        if group:
            os.killpg(child.pid, signal.SIGKILL)
        else:
            child.kill()
    with contextlib.suppress(Exception):
        child.wait(2)


def _command_error(
    whose: str,
    shown: str,
    what: str,
    kind: str,
    *,
    tail: str = "",
    status: int | None = None,
    hint_more: str = "",
) -> CredentialError:
    from smsctl.core.redaction import redact

    message = f"The secret command of {whose} (`{shown}`) gave no secret: {what}."
    if tail:
        message += "\nIts last lines on stderr:\n" + "\n".join(
            "  " + line for line in redact(tail).split("\n")
        )
    hint = hint_more or None
    return CredentialError(
        message,
        hint=hint,
        code=f"secret_command_{kind}",
        details={"command": shown, "exit_status": status, "stderr_tail": redact(tail) or None},
    )


def _command_hint(channel: str, account: str, argv: list[str], more: str | None) -> str:
    edit = channels.channel(channel).command("account", "edit", account)
    hint = (
        f"Run `{command_text(argv)}` yourself to see what it needs (a login, a network, a "
        f"path); change it with `{edit} --secret-command '...'`, or set "
        f"{env_var_name(channel, account)}, which wins over the command."
    )
    return f"{hint} {more}" if more else hint


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


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
            f"Set {variable} to the AppSecret, read it from your secret store with "
            f"`{model.command('account', 'edit', account)} --secret-command '...'`, or delete "
            "the account and add it again "
            f"(`smsctl wechat account delete {account} --yes`, then "
            f"`smsctl wechat account add {account} --app-id ID`), which invalidates its push "
            "rules."
        )
    else:
        edit = model.command("account", "edit", account)
        hint = (
            f"Store it with `{edit} --rotate-secret` (asks, hidden) or "
            f"`{edit} --rotate-secret --secret-stdin` (reads it from standard input), "
            f"read it from your secret store with `{edit} --secret-command '...'`, "
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
