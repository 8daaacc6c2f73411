"""The one object that decides how results reach the user (docs/contract.md §5).

- `--json`: stdout holds exactly one JSON document; errors go to stderr as {"error": {...}}.
- Human mode on a terminal: Rich tables and ✓/✗ lines, colour unless NO_COLOR/--no-color.
- Human mode in a pipe: the same content as plain aligned text, without importing Rich.
Warnings, hints and progress always go to stderr so stdout stays parseable.

Whatever a command passes in (provider answers, config values, notes) is written through
smsctl.core.terminal_text: in human output every control or format character becomes a visible
escape, in JSON a \\u escape, and Rich never interprets it as markup. A command needs no care of
its own to be terminal-safe.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TextIO

from smsctl.core.errors import SmsctlError
from smsctl.core.terminal_text import json_safe, visible


class Output:
    def __init__(
        self,
        *,
        json_mode: bool = False,
        quiet: bool = False,
        verbose: bool = False,
        no_color: bool = False,
        stdout: TextIO | None = None,
        stderr: TextIO | None = None,
    ) -> None:
        self.json_mode = json_mode
        self.quiet = quiet
        self.verbose = verbose
        self._stdout = stdout
        self._stderr = stderr
        self.color = not no_color and "NO_COLOR" not in os.environ
        self._emitted = False

    @property
    def stdout(self) -> TextIO:
        return self._stdout or sys.stdout

    @property
    def stderr(self) -> TextIO:
        return self._stderr or sys.stderr

    @property
    def is_tty(self) -> bool:
        return _isatty(self.stdout)

    @property
    def stderr_is_tty(self) -> bool:
        return _isatty(self.stderr)

    # --- results -------------------------------------------------------------------------

    def emit(self, data: Any, render: Callable[[Output], None] | None = None) -> None:
        """The command's result: `data` as JSON, or `render(self)` for people."""
        self._emitted = True
        if self.json_mode:
            self.stdout.write(json_text(_local_times(data), indent=2) + "\n")
            self.stdout.flush()
            return
        if render is not None:
            render(self)
        elif isinstance(data, dict):
            self.fields(data)
        elif isinstance(data, list):
            for item in data:
                self.line(str(item))

    def line(self, text: str = "") -> None:
        if not self.json_mode:
            self.stdout.write(visible(text, multiline=True) + "\n")

    def success(self, text: str) -> None:
        if not self.json_mode and not self.quiet:
            self._styled_line("✓", text, "green")

    def result(self, text: str) -> None:
        """A ✓ line that is the command's result (a send's ids): shown also with --quiet."""
        if not self.json_mode:
            self._styled_line("✓", text, "green")

    def failure(self, text: str) -> None:
        if not self.json_mode:
            self._styled_line("✗", text, "red")

    def check(self, ok: bool, text: str) -> None:
        (self.success if ok else self.failure)(text)

    def table(
        self, columns: Sequence[str], rows: Sequence[Sequence[Any]], *, title: str | None = None
    ) -> None:
        if self.json_mode:
            return
        cells = [["" if value is None else visible(str(value)) for value in row] for row in rows]
        columns = [visible(str(column)) for column in columns]
        title = visible(title) if title else title
        if self.is_tty:
            self._rich_table(columns, cells, title)
            return
        if title:
            self.stdout.write(title + "\n")
        widths = [display_width(c) for c in columns]
        for row in cells:
            widths = [max(w, display_width(v)) for w, v in zip(widths, row, strict=False)]
        for row in [list(columns), *cells]:
            padded = [v + " " * (w - display_width(v)) for v, w in zip(row, widths, strict=False)]
            self.stdout.write("  ".join(padded).rstrip() + "\n")

    def bar_table(
        self,
        columns: Sequence[str],
        rows: Sequence[Sequence[Any]],
        bars: Sequence[Sequence[tuple[int, str]]],
        *,
        width: int = 24,
    ) -> None:
        """A table with a bar per row after its columns: `bars[i]` is row i's segments as
        (count, kind), kind `good`, `bad` or `waiting`, scaled so that the largest row total
        fills `width`. Coloured blocks on a terminal; `#`, `x` and `.` in a pipe."""
        if self.json_mode:
            return
        largest = max((sum(count for count, _ in segments) for segments in bars), default=0)

        def cells(segments: Sequence[tuple[int, str]]) -> list[tuple[int, str]]:
            if not largest:
                return []
            sized = [(round(count * width / largest), kind) for count, kind in segments]
            # a kind that happened at all shows, however small next to the others
            return [(max(size, 1) if count else 0, kind) for (size, kind), (count, _) in
                    zip(sized, segments, strict=True)]  # fmt: skip

        if not self.is_tty:
            marks = {"good": "#", "bad": "x", "waiting": "."}
            drawn = ["".join(marks[kind] * size for size, kind in cells(s)) for s in bars]
            self.table([*columns, ""], [[*row, bar] for row, bar in zip(rows, drawn, strict=True)])
            return
        from rich.console import Console
        from rich.table import Table
        from rich.text import Text

        styles = {"good": "green", "bad": "red", "waiting": "yellow"}
        blocks = {"good": "█", "bad": "█", "waiting": "░"}
        table = Table(show_edge=False, header_style="bold" if self.color else "")
        for column in [*columns, ""]:
            table.add_column(Text(visible(str(column))))
        for row, segments in zip(rows, bars, strict=True):
            bar = Text()
            for size, kind in cells(segments):
                bar.append(blocks[kind] * size, style=styles[kind] if self.color else "")
            values = ["" if value is None else visible(str(value)) for value in row]
            table.add_row(*(Text(value) for value in values), bar)
        Console(file=self.stdout, no_color=not self.color, highlight=False).print(table)

    def fields(self, pairs: dict[str, Any], *, title: str | None = None) -> None:
        """A detail view: one `key: value` line per field; a value of several lines continues
        under its first."""
        if self.json_mode:
            return
        if title:
            self.stdout.write(visible(title) + "\n")
        keys = {key: visible(str(key)) for key in pairs}
        width = max((len(k) for k in keys.values()), default=0)
        for key, value in pairs.items():
            if isinstance(value, (list, tuple)):
                value = ", ".join(str(v) for v in value) or "-"
            elif isinstance(value, bool):
                value = "yes" if value else "no"
            elif value is None or value == "":
                value = "-"
            elif str(key).endswith("_at") and isinstance(value, str):
                value = _shown_time(value)
            lines = [visible(line) for line in str(value).replace("\r\n", "\n").split("\n")]
            indent = "\n" + " " * (width + 2)
            self.stdout.write(f"{keys[key].ljust(width)}  {indent.join(lines)}\n")

    # --- diagnostics (stderr) ------------------------------------------------------------

    def info(self, text: str) -> None:
        if not self.quiet:
            self.stderr.write(visible(text, multiline=True) + "\n")

    def warn(self, text: str) -> None:
        self.stderr.write(f"Warning: {visible(text, multiline=True)}\n")

    def hint(self, text: str) -> None:
        if not self.quiet and not self.json_mode:
            self.stderr.write(f"Hint: {visible(text, multiline=True)}\n")

    def debug(self, text: str) -> None:
        if self.verbose:
            from smsctl.core.redaction import redact

            self.stderr.write(f"debug: {visible(redact(text), multiline=True)}\n")
            self.stderr.flush()

    def error(self, err: SmsctlError) -> None:
        from smsctl.core.redaction import redact

        if self.json_mode:
            body = {"error": err.to_dict()}
            self.stderr.write(
                json_safe(redact(json.dumps(body, ensure_ascii=False, default=str))) + "\n"
            )
            return
        lines = [f"Error: {err.message}"]
        if err.code and err.code not in err.message:
            lines.append(f"  code: {err.code}")
        if err.request_id:
            lines.append(f"  request id: {err.request_id}")
        if err.hint:
            lines.append(f"Hint: {err.hint}")
        self.stderr.write(visible(redact("\n".join(lines)), multiline=True) + "\n")

    @contextmanager
    def progress(self, text: str) -> Iterator[Callable[[str], None]]:
        """A spinner on a terminal's stderr; silent otherwise. Yields a function to update it."""
        if self.json_mode or self.quiet or not self.stderr_is_tty:
            yield lambda _text: None
            return
        from rich.console import Console
        from rich.text import Text

        console = Console(file=self.stderr, no_color=not self.color)
        with console.status(Text(visible(text))) as status:
            yield lambda new_text: status.update(Text(visible(new_text)))

    # --- helpers -------------------------------------------------------------------------

    def _styled_line(self, mark: str, text: str, colour: str) -> None:
        text = visible(text, multiline=True)
        if self.is_tty and self.color:
            self.stdout.write(f"\x1b[{_ANSI[colour]}m{mark}\x1b[0m {text}\n")
        else:
            self.stdout.write(f"{mark} {text}\n")

    def _rich_table(
        self, columns: Sequence[str], cells: list[list[str]], title: str | None
    ) -> None:
        from rich.console import Console
        from rich.table import Table
        from rich.text import Text

        # Text, never str: Rich would read `[bold]` or `[link=...]` in a str as markup.
        table = Table(
            title=Text(title) if title else None,
            show_edge=False,
            header_style="bold" if self.color else "",
        )
        for column in columns:
            table.add_column(Text(column))
        for row in cells:
            table.add_row(*(Text(value) for value in row))
        Console(file=self.stdout, no_color=not self.color, highlight=False).print(table)


_ANSI = {"green": "32", "red": "31", "yellow": "33"}


def json_text(data: Any, *, indent: int | None = None) -> str:
    """`data` as JSON that is safe on a terminal (see smsctl.core.terminal_text)."""
    return json_safe(json.dumps(data, ensure_ascii=False, indent=indent, default=str))


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _shown_time(value: str) -> str:
    """A stored time (`2026-12-01T22:50:22Z`) as people read every time: local, with the offset."""
    from smsctl.core import clock

    moment = clock.parse_iso(value)
    return clock.show(moment) if moment else value


def _local_times(data: Any) -> Any:
    """Every `..._at` time in a --json document in the one convention: ISO 8601 in local time
    with the offset (the config and the logs keep UTC)."""
    if isinstance(data, dict):
        from smsctl.core import clock

        converted = {}
        for key, value in data.items():
            if isinstance(key, str) and key.endswith("_at") and isinstance(value, str):
                moment = clock.parse_iso(value)
                converted[key] = clock.iso(moment) if moment else value
            else:
                converted[key] = _local_times(value)
        return converted
    if isinstance(data, list):
        return [_local_times(item) for item in data]
    return data


def display_width(text: str) -> int:
    """The columns `text` takes on a terminal: a CJK character (a sign name, a template's
    content) takes two, a combining mark none."""
    import unicodedata

    return sum(
        0 if unicodedata.combining(ch) else 2 if unicodedata.east_asian_width(ch) in "WF" else 1
        for ch in text
    )
