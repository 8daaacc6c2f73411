"""The sandbox: provider emulators on loopback, composed as components.

A component is anything with `start() -> component`, `stop()` and `info() -> dict` whose entries
are keyed by channel (`{"sms": {...}, "voice": {...}}`), as every `emulator.Emulator` is; the SMTP
and WeChat emulators can be added with `Sandbox.add(...)` before `start()`.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from smsctl.sandbox.alibaba import AlibabaEmulator
from smsctl.sandbox.emulator import Emulator
from smsctl.sandbox.seed import load_seed
from smsctl.sandbox.state import Seed
from smsctl.sandbox.sts import StsEmulator


class Component(Protocol):
    def start(self) -> Any: ...

    def stop(self) -> None: ...

    def info(self) -> dict[str, dict[str, Any]]: ...


class Sandbox(Emulator):
    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        seed: Seed | str | Path | None = None,
    ) -> None:
        if isinstance(seed, str | Path):
            seed = load_seed(seed)
        self.host = host
        self.alibaba = AlibabaEmulator(host=host, port=port, seed=seed)
        self.sts = StsEmulator(self.alibaba.state, host=host)
        self.components: list[Component] = [self.alibaba, self.sts]
        self._started: list[Component] = []

    def add(self, component: Component) -> Component:
        """Add an emulator (e.g. SMTP, WeChat); started and stopped with the others."""
        self.components.append(component)
        return component

    def start(self) -> Sandbox:
        try:
            for component in self.components:
                component.start()
                self._started.append(component)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop what started, newest first; then the others too, so that whatever they set up
        when they were made (the SMTP emulator's temporary CA directory) is released."""
        while self._started:
            self._started.pop().stop()
        for component in self.components:
            component.stop()

    def info(self) -> dict[str, dict[str, Any]]:
        merged: dict[str, dict[str, Any]] = {}
        for component in self.components:
            merged.update(component.info())
        return merged

    def reset(self) -> None:
        """Back to the seed state (only the Alibaba emulator keeps state here)."""
        self.alibaba.state.reset()


def serve_forever(sandbox: Sandbox, ready: Callable[[dict[str, Any]], None]) -> None:
    """Start, report the endpoints through `ready`, serve until SIGINT or SIGTERM, stop.

    Must run in the main thread (signal handlers). SIGINT returns normally, like SIGTERM: the
    caller decides the exit status.
    """
    done = threading.Event()

    def on_signal(signum: int, frame: object) -> None:
        done.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        sandbox.start()
        try:
            ready(sandbox.info())
            while not done.wait(0.5):
                pass
        finally:
            sandbox.stop()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
