"""The Alibaba Cloud SDK, loaded in a second process while the command line is still parsed.

Importing the SDK takes most of a `send-test` (≈ 0.4 s: aiohttp, requests, the credential
chain, 300 model classes), and none of it depends on what smsctl does before the first provider
call: parse the command, read the config and the secret, resolve, validate the number. The
console script therefore forks at start-up when the command will call Alibaba Cloud: the
commands marked with `calls_alibaba` where they are defined, which scripts/gen_command_tree.py
writes into the command tree that `channels_of` reads. The child imports the SDK on the second
core while the parent does its own work, then performs the adapter calls the parent sends it,
one at a time, over a pipe. Only the SDK work moves: guard, audit log and output stay in the
parent.

Everything an adapter call needs travels with it (the account's access, the -v level), pickled
over an anonymous pipe between two processes of the same user, never through argv or the
environment. Ctrl-C reaches only the parent (the child ignores SIGINT and is killed when the
parent exits). A worker that is gone before a request was handed over changes nothing: the call
runs in-process. One that dies after it was handed over, or stays silent longer than the
exchange's own limits allow, may have sent: that is ResponseLost, an outcome smsctl already
reports as "maybe delivered". No worker is forked while other threads run (a lock one of them
holds would stay locked in the child forever). What the worker does instead of its usual path
is written to stderr under SMSCTL_DEBUG=1 (or -v).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from datetime import date, datetime

    from smsctl.providers.alibaba_common import AlibabaAccess
    from smsctl.providers.alibaba_sms import (
        DayCounts,
        Receipt,
        SendDetail,
        SendResult,
        SignatureInfo,
        Submitted,
        TemplateInfo,
    )
    from smsctl.providers.alibaba_voice import CallDetail, CallResult, VoiceFileInfo

_ADAPTERS = {
    "sms": ("smsctl.providers.alibaba_sms", "AlibabaSms"),
    "voice": ("smsctl.providers.alibaba_voice", "AlibabaVoice"),
}
MARK = "calls_alibaba"  # the key of a command's mark, on its function and in the command tree
TREE_FILE = os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "_command_tree.json"
)
_HELP = ("--help", "-h")
# What a worker may need besides one exchange's own limits before it says anything: importing
# the SDK (a request can arrive before that is done), building the client, DNS.
REPLY_MARGIN = 10.0

F = TypeVar("F", bound=Callable[..., Any])

_running: Worker | None = None


# --- which commands get a worker -------------------------------------------------------------


def calls_alibaba(
    *channels: str,
    unless: tuple[str, ...] = (),
    only_with: str | None = None,
    chosen_by: str | None = None,
) -> Callable[[F], F]:
    """Marks a command that calls Alibaba Cloud's `channels` ("sms", "voice"), so that the
    console script starts the provider worker for it. `unless`: flags with which it calls
    nothing (--dry-run); `only_with`: the flag without which it calls nothing; `chosen_by`: the
    option whose values (channel names) narrow `channels` when given. --help never calls."""

    mark: dict[str, Any] = {"channels": list(channels)}
    if unless:
        mark["unless"] = list(unless)
    if only_with:
        mark["only_with"] = only_with
    if chosen_by:
        mark["chosen_by"] = chosen_by

    def apply(function: F) -> F:
        setattr(function, MARK, mark)
        return function

    return apply


def channels_of(argv: list[str]) -> tuple[str, ...]:
    """The Alibaba products this command line will call, from its words and the command tree
    alone. A wrong guess only starts a worker that is never used (or misses one that would have
    helped)."""
    if any(word in _HELP for word in argv):
        return ()
    try:
        import json

        with open(TREE_FILE, encoding="utf-8") as handle:
            tree = json.load(handle)
        node, rest = _command_node(tree, argv)
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        _note(f"not started: the command tree is unreadable ({type(exc).__name__}: {exc})")
        return ()
    mark = node.get(MARK)
    if not mark:
        return ()
    if any(word in mark.get("unless", ()) for word in rest):
        return ()
    if "only_with" in mark and mark["only_with"] not in rest:
        return ()
    channels = tuple(mark["channels"])
    asked = _option_values(rest, mark["chosen_by"]) if "chosen_by" in mark else []
    return tuple(c for c in channels if c in asked) if asked else channels


def _command_node(tree: dict[str, Any], argv: list[str]) -> tuple[dict[str, Any], list[str]]:
    """The tree's node of the command argv names (global options, which may come anywhere, and
    their values skipped), and the words after its name."""
    with_value = {
        flag for option in tree["globals"] if not option.get("flag") for flag in option["opts"]
    }
    node = tree["root"]
    after = 0
    skip = False
    for index, word in enumerate(argv):
        if skip:
            skip = False
        elif word == "--":
            break
        elif word.startswith("-"):
            skip = word in with_value
        elif word in node.get("commands", {}):
            node, after = node["commands"][word], index + 1
        else:
            break
    return node, argv[after:]


def _option_values(words: list[str], option: str) -> list[str]:
    values = []
    for index, word in enumerate(words):
        if word == option and index + 1 < len(words):
            values.append(words[index + 1])
        elif word.startswith(option + "="):
            values.append(word.split("=", 1)[1])
    return values


# --- the parent's side -------------------------------------------------------------------------


def start(channels: tuple[str, ...]) -> None:
    """Fork the worker, which imports the SDKs of `channels` (sms, voice) first. Without fork,
    with SMSCTL_PROVIDER_WORKER=0, or while other threads run, nothing happens and adapters run
    in-process."""
    global _running
    if _running is not None or not hasattr(os, "fork"):
        return
    if os.environ.get("SMSCTL_PROVIDER_WORKER", "").strip().lower() in ("0", "false", "no", "off"):
        return
    others = other_threads()
    if others:
        _note(
            f"not started: {others} other thread(s) running, and a lock one of them holds would "
            "stay locked in a forked worker; the provider calls run in this process"
        )
        return
    to_child_r, to_child_w = os.pipe()
    from_child_r, from_child_w = os.pipe()
    parent = os.getpid()
    try:
        pid = os.fork()
    except OSError as exc:
        for fd in (to_child_r, to_child_w, from_child_r, from_child_w):
            os.close(fd)
        _note(f"not started: fork failed ({exc}); the provider calls run in this process")
        return
    if pid == 0:  # pragma: no cover - runs in the child, tested through the console script
        os.close(to_child_w)
        os.close(from_child_r)
        code = 0
        try:
            _die_with(parent)
            _serve(channels, to_child_r, from_child_w)
        except BaseException as exc:
            _note(f"stopped by {type(exc).__name__}: {exc}")
            code = 1
        os._exit(code)
    os.close(to_child_r)
    os.close(from_child_w)
    _running = Worker(pid, os.fdopen(to_child_w, "wb"), os.fdopen(from_child_r, "rb"))
    import atexit

    atexit.register(stop)


def other_threads() -> int:
    """How many threads this process runs besides the calling one: every thread the kernel
    knows of where /proc says (threads started by C code too), else those of `threading`."""
    try:
        return len(os.listdir("/proc/self/task")) - 1
    except OSError:
        threading = sys.modules.get("threading")
        return threading.active_count() - 1 if threading is not None else 0


def adapter(channel: str, access: AlibabaAccess) -> RemoteSms | RemoteVoice | None:
    """A stand-in for the channel's adapter whose calls run in the worker; None without one."""
    if _running is None or _running.channel_failed:
        return None
    return _REMOTES[channel](_running, access)


def stop() -> None:
    global _running
    if _running is not None:
        _running.stop()
        _running = None


def reply_budget(access: AlibabaAccess) -> float:
    """The longest the worker may stay silent during a call, in seconds. It reports each HTTP
    exchange as it begins, so between two reports come at most one exchange (its connect, then
    its deadline), the longest wait before a retry, and the margin."""
    from smsctl.providers.alibaba_common import RetryPolicy

    limits = access.limits()
    return (
        limits.connect_timeout + limits.effective_deadline + RetryPolicy().max_wait + REPLY_MARGIN
    )


class WorkerSilent(Exception):
    """The worker said nothing within the reply budget."""


def _readable(fd: int, seconds: float) -> bool:
    import select

    return bool(select.select([fd], [], [], seconds)[0])


class Worker:
    def __init__(
        self,
        pid: int,
        requests: Any,
        replies: Any,
        *,
        clock: Callable[[], float] | None = None,
        wait: Callable[[int, float], bool] = _readable,
    ) -> None:
        import time

        self.pid = pid
        self.requests = requests
        self.replies = replies  # read with os.read on its descriptor, never through its buffer
        self.channel_failed = False
        self._clock = clock or time.monotonic
        self._wait = wait
        self._stopped = False
        self._local: dict[tuple[str, Any], Any] = {}

    def call(
        self,
        channel: str,
        access: AlibabaAccess,
        method: str,
        args: tuple,
        kwargs: dict,
        *,
        send: bool = False,
    ) -> Any:
        """`method` of the channel's adapter for `access`, performed by the worker. `send`: it
        may place a message or a call, so a reply lost after the hand-over MAY mean it went out."""
        import pickle

        from smsctl.core import debug

        if self.channel_failed:
            return self._call_here(channel, access, method, args, kwargs)
        request = (channel, access, method, args, kwargs, debug.enabled())
        try:
            pickle.dump(request, self.requests, protocol=pickle.HIGHEST_PROTOCOL)
            self.requests.flush()
        except (OSError, ValueError) as exc:  # a broken pipe, or streams closed by stop()
            self.channel_failed = True  # nothing was handed over: run it here instead
            self.stop()
            _note(f"gone before {method} was handed over ({exc}); it runs in this process")
            return self._call_here(channel, access, method, args, kwargs)
        budget = reply_budget(access)
        try:
            while True:
                status, value = self._read_frame(budget)
                if status != "progress":
                    break
        except KeyboardInterrupt:
            self.channel_failed = True
            self.stop()
            raise
        except WorkerSilent:
            self.channel_failed = True
            self.stop()
            _note(f"no answer to {method} within {budget:g} s: stopped it")
            raise self._lost(
                method,
                send,
                f"gave no answer to {method} within {budget:g} s (the exchange's timeouts and "
                "deadline, a retry's wait and a margin) and was stopped",
            ) from None
        except Exception as exc:
            self.channel_failed = True
            self.stop()
            _note(f"ended during {method} ({type(exc).__name__}: {exc})")
            raise self._lost(
                method, send, f"ended during {method} before the provider's answer arrived"
            ) from None
        if status == "error":
            raise value
        return value

    def _read_frame(self, budget: float) -> tuple[str, Any]:
        """One message of the worker (a length, then a pickle), within `budget` seconds."""
        import pickle

        until = self._clock() + budget
        size = int.from_bytes(self._read_exactly(8, until), "big")
        return pickle.loads(self._read_exactly(size, until))

    def _read_exactly(self, count: int, until: float) -> bytes:
        fd = self.replies.fileno()
        chunks = []
        while count:
            remaining = until - self._clock()
            if remaining <= 0 or not self._wait(fd, remaining):
                raise WorkerSilent
            chunk = os.read(fd, count)
            if not chunk:
                raise EOFError("the provider worker closed its end")
            chunks.append(chunk)
            count -= len(chunk)
        return b"".join(chunks)

    @staticmethod
    def _lost(method: str, send: bool, what: str) -> Exception:
        from smsctl.core.errors import ProviderUnavailable
        from smsctl.providers.alibaba_common import RESPONSE_LOST

        if send:
            return ProviderUnavailable(
                f"smsctl's provider process {what}: the request may have reached the provider "
                "(a send MAY have been delivered). smsctl did not retry it, to avoid a duplicate.",
                hint="Look the OutId up in the provider console's records, or wait for its "
                "receipt.",
                code=RESPONSE_LOST,
                details={"action": method, "maybe_sent": True},
            )
        return ProviderUnavailable(
            f"smsctl's provider process {what}.",
            hint="Retry; SMSCTL_DEBUG=1 tells what happened to the process, and "
            "SMSCTL_PROVIDER_WORKER=0 makes the calls in smsctl's own process.",
            code=RESPONSE_LOST,
            details={"action": method},
        )

    def _call_here(
        self, channel: str, access: AlibabaAccess, method: str, args: tuple, kwargs: dict
    ) -> Any:
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


# --- the adapters' stand-ins (their methods are those of providers.interfaces) -----------------


class _Remote:
    channel = ""

    def __init__(self, worker: Worker, access: AlibabaAccess) -> None:
        self._worker = worker
        self._access = access

    def _call(
        self, method: str, args: tuple, kwargs: dict | None = None, *, send: bool = False
    ) -> Any:
        return self._worker.call(self.channel, self._access, method, args, kwargs or {}, send=send)


class RemoteSms(_Remote):
    """An AlibabaSms whose calls the worker performs (interfaces.SmsAdapter)."""

    channel = "sms"

    def check_credentials(self) -> None:
        return self._call("check_credentials", ())

    def get_signature(self, name: str) -> SignatureInfo:
        return self._call("get_signature", (name,))

    def get_template(self, code: str) -> TemplateInfo:
        return self._call("get_template", (code,))

    def list_signatures(self, wanted: int | None = None) -> dict[str, SignatureInfo]:
        return self._call("list_signatures", (wanted,))

    def list_templates(self, wanted: int | None = None) -> dict[str, TemplateInfo]:
        return self._call("list_templates", (wanted,))

    def create_template(
        self, name: str, content: str, type_: str, signature: str | None, remark: str | None
    ) -> Submitted:
        return self._call("create_template", (name, content, type_, signature, remark))

    def update_template(
        self,
        code: str,
        name: str,
        content: str,
        type_: str,
        signature: str | None,
        remark: str | None,
    ) -> Submitted:
        return self._call("update_template", (code, name, content, type_, signature, remark))

    def create_signature(
        self,
        name: str,
        *,
        source: str,
        qualification_id: int,
        remark: str | None,
        trademark_id: int | None = None,
        app_icp_record_id: int | None = None,
    ) -> Submitted:
        options = {
            "source": source,
            "qualification_id": qualification_id,
            "remark": remark,
            "trademark_id": trademark_id,
            "app_icp_record_id": app_icp_record_id,
        }
        return self._call("create_signature", (name,), options)

    def send(
        self,
        phone: str,
        sign_name: str,
        template_code: str,
        params: dict[str, str],
        out_id: str,
    ) -> SendResult:
        return self._call("send", (phone, sign_name, template_code, params, out_id), send=True)

    def query_receipt(
        self, phone: str, biz_id: str | None, send_date: date, *, out_id: str | None = None
    ) -> Receipt:
        return self._call("query_receipt", (phone, biz_id, send_date), {"out_id": out_id})

    def send_details(self, phone: str, send_date: date) -> list[SendDetail]:
        return self._call("send_details", (phone, send_date))

    def send_statistics(
        self, start: date, end: date, *, international: bool, sign_name: str | None
    ) -> list[DayCounts]:
        return self._call(
            "send_statistics",
            (start, end),
            {"international": international, "sign_name": sign_name},
        )


class RemoteVoice(_Remote):
    """An AlibabaVoice whose calls the worker performs (interfaces.VoiceAdapter)."""

    channel = "voice"

    def check_credentials(self) -> None:
        return self._call("check_credentials", ())

    def voice_files(self, codes: list[str]) -> dict[str, VoiceFileInfo]:
        return self._call("voice_files", (codes,))

    def call_tts(
        self,
        called_number: str,
        tts_code: str,
        params: dict[str, str],
        *,
        out_id: str,
        called_show_number: str | None = None,
        play_times: int | None = None,
        volume: int | None = None,
        speed: int | None = None,
    ) -> CallResult:
        options = _call_options(out_id, called_show_number, play_times, volume, speed)
        return self._call("call_tts", (called_number, tts_code, params), options, send=True)

    def call_voice_file(
        self,
        called_number: str,
        voice_code: str,
        *,
        out_id: str,
        called_show_number: str | None = None,
        play_times: int | None = None,
        volume: int | None = None,
        speed: int | None = None,
    ) -> CallResult:
        options = _call_options(out_id, called_show_number, play_times, volume, speed)
        return self._call("call_voice_file", (called_number, voice_code), options, send=True)

    def query_call(self, call_id: str, kind: str, query_date: datetime) -> CallDetail:
        return self._call("query_call", (call_id, kind, query_date))


def _call_options(
    out_id: str,
    called_show_number: str | None,
    play_times: int | None,
    volume: int | None,
    speed: int | None,
) -> dict[str, Any]:
    """The keyword options both call kinds take, as the worker hands them on."""
    return {
        "out_id": out_id,
        "called_show_number": called_show_number,
        "play_times": play_times,
        "volume": volume,
        "speed": speed,
    }


_REMOTES: dict[str, type[RemoteSms] | type[RemoteVoice]] = {"sms": RemoteSms, "voice": RemoteVoice}


def local_adapter(channel: str, access: AlibabaAccess) -> Any:
    return _adapter_class(channel)(access)


def _adapter_class(channel: str) -> Any:
    import importlib

    module, name = _ADAPTERS[channel]
    return getattr(importlib.import_module(module), name)


# --- debug notes ---------------------------------------------------------------------------------


def _note(message: str) -> None:
    """One line on stderr under SMSCTL_DEBUG=1 (or -v, once parsed), redacted: what the worker
    did instead of its usual path, which otherwise only shows as a slower command."""
    from smsctl.core import debug

    flag = os.environ.get("SMSCTL_DEBUG", "").strip().lower() in ("1", "true", "yes", "on")
    if not (flag or debug.enabled()):
        return
    from smsctl.core.redaction import redact
    from smsctl.core.terminal_text import visible

    try:
        sys.stderr.write(f"debug: provider worker: {visible(redact(message))}\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


# --- the worker's side ---------------------------------------------------------------------------


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
        except Exception as exc:  # the first call meets the same problem and reports it
            _note(f"could not load the {channel} SDK ahead of its first call ({exc!r})")
    requests = os.fdopen(requests_fd, "rb")
    replies = os.fdopen(replies_fd, "wb")
    adapters: dict[tuple[str, Any], Any] = {}
    from smsctl.core import debug
    from smsctl.core.redaction import register_secret
    from smsctl.providers import transport

    def tell(reply: tuple[str, Any]) -> None:
        data = pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL)
        replies.write(len(data).to_bytes(8, "big") + data)
        replies.flush()

    transport.on_exchange = lambda: tell(("progress", None))
    while True:
        try:
            channel_name, access, method, args, kwargs, level = pickle.load(requests)
        except EOFError:
            return
        debug.enable(level)
        register_secret(access.access_key_secret)  # as the parent did when it read it
        register_secret(access.security_token)
        try:
            key = (channel_name, access)
            if key not in adapters:
                adapters[key] = local_adapter(channel_name, access)
            reply: tuple[str, Any] = ("ok", getattr(adapters[key], method)(*args, **kwargs))
        except Exception as exc:
            reply = ("error", exc)
        try:
            pickle.loads(pickle.dumps(reply))  # what the parent cannot rebuild must not reach it
        except Exception as exc:
            from smsctl.core.errors import UnexpectedError

            what = type(reply[1]).__name__
            reply = (
                "error",
                UnexpectedError(
                    f"The provider worker could not hand back {method}'s {what} "
                    f"({type(exc).__name__})"
                ),
            )
        tell(reply)
