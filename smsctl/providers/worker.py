"""The Alibaba Cloud SDK, loaded in a second process while the command line is still parsed.

Importing the SDK takes most of a `send-test` (≈ 0.4 s: aiohttp, requests, the credential
chain, 300 model classes), and none of it depends on what smsctl does before the first provider
call: parse the command, read the config and the secret, resolve, validate the number. The
console script therefore forks at start-up when the command will call Alibaba Cloud (SMS or
voice send-test, receipt, call-result, validate, add/sync of reviewed items, doctor): the
child imports the SDK on the second core while the parent does its own work, then performs the
adapter calls the parent sends it, one at a time, over a pipe. Only the SDK work moves:
guard, audit log and output stay in the parent.

Everything an adapter call needs travels with it (the account's access, the -v level), pickled
over an anonymous pipe between two processes of the same user, never through argv or the
environment. Ctrl-C reaches only the parent (the child ignores SIGINT and is killed when the
parent exits). A worker that is gone before a request was handed over changes nothing: the call
runs in-process. One that dies after it was handed over may have sent: that is ResponseLost,
an outcome smsctl already reports as "maybe delivered".
"""

from __future__ import annotations

import os
import sys
from typing import Any

_ADAPTERS = {
    "sms": ("smsctl.providers.alibaba_sms", "AlibabaSms"),
    "voice": ("smsctl.providers.alibaba_voice", "AlibabaVoice"),
}
# The commands that call Alibaba Cloud, by their leading words, and the products they call.
_CALLERS: dict[tuple[str, ...], tuple[str, ...]] = {
    ("send-test",): ("sms",),
    ("receipt",): ("sms",),
    ("validate",): ("sms",),
    ("signature", "add"): ("sms",),
    ("signature", "sync"): ("sms",),
    ("template", "add"): ("sms",),
    ("template", "sync"): ("sms",),
    ("voice", "send-test"): ("voice",),
    ("voice", "call-result"): ("voice",),
    ("voice", "validate"): ("voice",),
    ("voice", "template", "add"): ("voice",),  # a voice file's review; TTS adds call nothing
    ("voice", "template", "sync"): ("voice",),
    ("doctor",): ("sms", "voice"),
}
_NOT_CALLING = ("--dry-run", "--help", "-h", "--offline")
_GLOBAL_WITH_VALUE = ("--config",)

_running: Worker | None = None


def channels_of(argv: list[str]) -> tuple[str, ...]:
    """The Alibaba products this command line will call, from its words alone. A wrong guess
    only starts a worker that is never used (or misses one that would have helped)."""
    if any(word in _NOT_CALLING for word in argv):
        return ()
    words = _command_words(argv)
    for length in (3, 2, 1):
        channels = _CALLERS.get(tuple(words[:length]))
        if channels is None:
            continue
        if words[:3] == ["voice", "template", "add"] and "--voice-file" not in argv:
            return ()
        if words[0] == "doctor":
            asked = _option_values(argv, "--channel")
            return tuple(c for c in channels if c in asked) if asked else channels
        return channels
    return ()


def _command_words(argv: list[str]) -> list[str]:
    """The leading words that name the command, global options (and --config's value) skipped."""
    words: list[str] = []
    skip = False
    for word in argv:
        if skip:
            skip = False
        elif word in _GLOBAL_WITH_VALUE:
            skip = True
        elif not word.startswith("-"):
            words.append(word)
            if len(words) == 3:
                break
    return words


def _option_values(argv: list[str], option: str) -> list[str]:
    values = []
    for index, word in enumerate(argv):
        if word == option and index + 1 < len(argv):
            values.append(argv[index + 1])
        elif word.startswith(option + "="):
            values.append(word.split("=", 1)[1])
    return values


def start(channels: tuple[str, ...]) -> None:
    """Fork the worker, which imports the SDKs of `channels` (sms, voice) first. Without fork,
    or with SMSCTL_PROVIDER_WORKER=0, nothing happens and adapters run in-process."""
    global _running
    if _running is not None or not hasattr(os, "fork"):
        return
    if os.environ.get("SMSCTL_PROVIDER_WORKER", "").strip().lower() in ("0", "false", "no", "off"):
        return
    to_child_r, to_child_w = os.pipe()
    from_child_r, from_child_w = os.pipe()
    parent = os.getpid()
    try:
        pid = os.fork()
    except OSError:
        for fd in (to_child_r, to_child_w, from_child_r, from_child_w):
            os.close(fd)
        return
    if pid == 0:  # pragma: no cover - runs in the child, tested through the console script
        os.close(to_child_w)
        os.close(from_child_r)
        code = 0
        try:
            _die_with(parent)
            _serve(channels, to_child_r, from_child_w)
        except BaseException:
            code = 1
        os._exit(code)
    os.close(to_child_r)
    os.close(from_child_w)
    _running = Worker(pid, os.fdopen(to_child_w, "wb"), os.fdopen(from_child_r, "rb"))
    import atexit

    atexit.register(stop)


def adapter(channel: str, access: Any) -> Any | None:
    """A stand-in for the channel's adapter whose calls run in the worker; None without one."""
    if _running is None or _running.channel_failed:
        return None
    return RemoteAdapter(_running, channel, access)


def stop() -> None:
    global _running
    if _running is not None:
        _running.stop()
        _running = None


class Worker:
    def __init__(self, pid: int, requests: Any, replies: Any) -> None:
        self.pid = pid
        self.requests = requests
        self.replies = replies
        self.channel_failed = False
        self._stopped = False
        self._local: dict[tuple[str, Any], Any] = {}

    def call(self, channel: str, access: Any, method: str, args: tuple, kwargs: dict) -> Any:
        import pickle

        from smsctl.core import debug

        if self.channel_failed:
            return self._call_here(channel, access, method, args, kwargs)
        request = (channel, access, method, args, kwargs, debug.enabled())
        try:
            pickle.dump(request, self.requests, protocol=pickle.HIGHEST_PROTOCOL)
            self.requests.flush()
        except (OSError, ValueError):  # a broken pipe, or streams closed by stop()
            self.channel_failed = True  # nothing was handed over: run it here instead
            self.stop()
            return self._call_here(channel, access, method, args, kwargs)
        try:
            status, value = pickle.load(self.replies)
        except KeyboardInterrupt:
            self.channel_failed = True
            self.stop()
            raise
        except Exception:
            self.channel_failed = True
            self.stop()
            from smsctl.core.errors import ProviderUnavailable
            from smsctl.providers.alibaba_common import RESPONSE_LOST

            raise ProviderUnavailable(
                f"smsctl's provider process ended during {method} before the provider's answer "
                "arrived: the request may have reached the provider (a send MAY have been "
                "delivered). smsctl did not retry it, to avoid a duplicate.",
                hint="Check before sending again: `smsctl log --sends` shows the OutId of this "
                "attempt; look it up in the provider console's records, or wait for its receipt.",
                code=RESPONSE_LOST,
            ) from None
        if status == "error":
            raise value
        return value

    def _call_here(self, channel: str, access: Any, method: str, args: tuple, kwargs: dict) -> Any:
        """In this process, with one adapter per account as in the worker (later receipt polls
        after a worker died keep working)."""
        key = (channel, access)
        if key not in self._local:
            self._local[key] = local_adapter(channel, access)
        return getattr(self._local[key], method)(*args, **kwargs)

    def stop(self) -> None:
        """Kill and reap the worker, once: after the reap its pid may belong to someone else."""
        import signal

        if self._stopped:
            return
        self._stopped = True
        for stream in (self.requests, self.replies):
            try:
                stream.close()
            except OSError:
                pass
        try:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass


class RemoteAdapter:
    """Looks like the adapter: each method call is performed by the worker."""

    def __init__(self, worker: Worker, channel: str, access: Any) -> None:
        self._worker = worker
        self._channel = channel
        self._access = access

    def __getattr__(self, method: str) -> Any:
        if method.startswith("_"):
            raise AttributeError(method)

        def call(*args: Any, **kwargs: Any) -> Any:
            return self._worker.call(self._channel, self._access, method, args, kwargs)

        return call


def local_adapter(channel: str, access: Any) -> Any:
    return _adapter_class(channel)(access)


def _adapter_class(channel: str) -> Any:
    import importlib

    module, name = _ADAPTERS[channel]
    return getattr(importlib.import_module(module), name)


def _die_with(parent: int) -> None:  # pragma: no cover - runs in the child
    """On Linux the kernel kills the worker when smsctl dies, so that no send outlives it and
    goes unrecorded in the audit log."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes
    import signal

    try:
        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # smsctl died before the request above took effect
        os._exit(0)


def _serve(
    channels: tuple[str, ...], requests_fd: int, replies_fd: int
) -> None:  # pragma: no cover
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)
    import pickle

    for channel in channels:
        try:
            _adapter_class(channel).preload()
        except Exception:  # noqa: S110 - the first call will meet the same problem, reported
            pass
    requests = os.fdopen(requests_fd, "rb")
    replies = os.fdopen(replies_fd, "wb")
    adapters: dict[tuple[str, Any], Any] = {}
    from smsctl.core import debug
    from smsctl.core.redaction import register_secret

    while True:
        try:
            channel_name, access, method, args, kwargs, level = pickle.load(requests)
        except EOFError:
            return
        debug.enable(level)
        register_secret(access.access_key_secret)  # as the parent did when it read it
        try:
            key = (channel_name, access)
            if key not in adapters:
                adapters[key] = local_adapter(channel_name, access)
            reply: tuple[str, Any] = ("ok", getattr(adapters[key], method)(*args, **kwargs))
        except Exception as exc:
            reply = ("error", exc)
        try:
            data = pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL)
            pickle.loads(data)  # what the parent cannot rebuild must not reach it
        except Exception as exc:
            from smsctl.core.errors import UnexpectedError

            what = type(reply[1]).__name__
            failure = UnexpectedError(
                f"The provider worker could not hand back {method}'s {what} ({type(exc).__name__})"
            )
            data = pickle.dumps(("error", failure))
        replies.write(data)
        replies.flush()
