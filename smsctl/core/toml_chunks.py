"""A TOML file as a list of table chunks, so that one change parses only the tables it touches.

tomlkit keeps comments and formatting but parses about half a megabyte a second; a config of
2,000 templates would make every `edit` wait a second. Here the text is split at its table
headers (`[sms.templates.SMS_1]`) into chunks whose concatenation is the file, byte for byte; a
change parses, edits and re-renders only its own chunk with tomlkit. Splitting refuses text it
cannot split safely (multi-line strings, arrays of tables): the caller then edits the whole
document instead. Whatever was done, the caller re-parses the result and compares it with the
data it expected (see smsctl.core.config), so a chunk edit can never write something a whole-
document edit would not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_BARE_HEADER = re.compile(
    r"^[ \t]*\[[ \t]*([A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*)[ \t]*\][ \t]*\r?\n?$"
)


class Unsplittable(Exception):
    """The text has a construct that line-based splitting could misread."""


@dataclass
class Chunk:
    path: tuple[str, ...] | None  # None: what stands before the first header
    text: str


def header_path(line: str) -> tuple[str, ...]:
    """The table path a header line opens (`[sms.templates."a b"]  # note`)."""
    bare = _BARE_HEADER.match(line)
    if bare:
        return tuple(bare.group(1).split("."))
    from smsctl.core.config import tomllib

    try:
        node: Any = tomllib.loads(line)
    except ValueError:
        raise Unsplittable(f"unreadable header {line.strip()!r}") from None
    path: list[str] = []
    while isinstance(node, dict) and len(node) == 1:
        key = next(iter(node))
        path.append(key)
        node = node[key]
    return tuple(path)


def _comments_above(chunk: Chunk) -> str:
    """Take from the end of `chunk` the comment lines that stand right above the next header (no
    blank line between): they are about that table, so they stay and go with it."""
    lines = chunk.text.splitlines(keepends=True)
    start = len(lines)
    while start > 0 and lines[start - 1].lstrip(" \t").startswith("#"):
        start -= 1
    if start == 0 and chunk.path is None:
        return ""  # a file that starts with comments: they are the file's, not the table's
    chunk.text = "".join(lines[:start])
    return "".join(lines[start:])


def _header_end(line: str) -> int:
    """Where the `[...]` of a header line ends (quoted keys may hold `]` or `#`)."""
    quote = ""
    for index, char in enumerate(line):
        if quote:
            if char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
        elif char == "]":
            return index + 1
    return len(line.rstrip("\r\n"))


def _bracket_depth(line: str) -> int:
    """How many `[`/`{` a key/value line leaves open (strings and comments skipped)."""
    depth, index, quote = 0, 0, ""
    while index < len(line):
        char = line[index]
        if quote:
            if char == "\\" and quote == '"':
                index += 1
            elif char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
        elif char == "#":
            break
        elif char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
        index += 1
    return depth


def split(text: str) -> list[Chunk]:
    if '"""' in text or "'''" in text or re.search(r"^[ \t]*\[\[", text, re.MULTILINE):
        raise Unsplittable("multi-line strings or arrays of tables")
    chunks = [Chunk(None, "")]
    open_brackets = 0
    for line in text.splitlines(keepends=True):
        # Outside a multi-line value, a line can start with `[` only as a table header.
        if open_brackets == 0 and line.lstrip(" \t").startswith("["):
            lead_in = _comments_above(chunks[-1])
            chunks.append(Chunk(header_path(line), lead_in + line))
            continue
        open_brackets += _bracket_depth(line)
        chunks[-1].text += line
    if open_brackets:
        raise Unsplittable("an unclosed array")
    return chunks


def render_table(path: tuple[str, ...], values: dict[str, Any]) -> str:
    """A new `[path]` table with `values`, as tomlkit writes it."""
    import tomlkit

    from smsctl.core.config import _toml_value

    document = tomlkit.document()
    node: Any = document
    for key in path[:-1]:
        node[key] = tomlkit.table(is_super_table=True)
        node = node[key]
    table = tomlkit.table()
    for key, value in values.items():
        table[key] = _toml_value(value)
    node[path[-1]] = table
    return tomlkit.dumps(document)


class ChunkedText:
    def __init__(self, text: str) -> None:
        self.chunks = split(text)

    def render(self) -> str:
        return "".join(chunk.text for chunk in self.chunks)

    def index(self, path: tuple[str, ...] | None) -> int | None:
        for number, chunk in enumerate(self.chunks):
            if chunk.path == path:
                return number
        return None

    def has_prefix(self, prefix: tuple[str, ...]) -> bool:
        return any(c.path and c.path[: len(prefix)] == prefix for c in self.chunks)

    def edit(self, path: tuple[str, ...] | None, change: Any) -> bool:
        """Apply `change(table)` to the tomlkit table of the chunk at `path`; False if absent."""
        number = self.index(path)
        if number is None:
            return False
        import tomlkit

        document = tomlkit.parse(self.chunks[number].text)
        table: Any = document
        for key in path or ():
            table = table[key]
        change(table)
        self.chunks[number].text = tomlkit.dumps(document)
        return True

    def insert_table(self, path: tuple[str, ...], text: str, *, before: bool = False) -> None:
        """Place a new table with its kin: after the last chunk of the same collection (or the
        same channel), or, with `before`, ahead of its first sub-table; else at the end."""
        number = None
        for depth in (len(path),) if before else (max(len(path) - 1, 1), 1):
            kin = [
                i for i, c in enumerate(self.chunks) if c.path and c.path[:depth] == path[:depth]
            ]
            if kin:
                number = kin[0] if before else kin[-1] + 1
                break
        if number is None:
            number = len(self.chunks)
        previous = self.chunks[number - 1].text if number > 0 else ""
        if previous and not previous.endswith("\n"):
            self.chunks[number - 1].text += "\n"
            previous += "\n"
        if previous.strip() and not previous.endswith("\n\n"):
            text = "\n" + text
        if before and not text.endswith("\n\n"):
            text += "\n"
        self.chunks.insert(number, Chunk(path, text))

    def remove_tree(self, prefix: tuple[str, ...]) -> int:
        """Remove the table at `prefix` and its sub-tables; how many chunks went."""
        kept = [c for c in self.chunks if not (c.path and c.path[: len(prefix)] == prefix)]
        removed = len(self.chunks) - len(kept)
        self.chunks = kept
        return removed

    def rename_tree(self, old: tuple[str, ...], new: tuple[str, ...]) -> int:
        """Rewrite the headers of `old` and its sub-tables to `new`, keeping their comments and
        bodies."""
        renamed = 0
        for chunk in self.chunks:
            if chunk.path and chunk.path[: len(old)] == old:
                path = new + chunk.path[len(old) :]
                header = render_table(path, {}).strip("\n")
                lines = chunk.text.splitlines(keepends=True)
                at = next(i for i, line in enumerate(lines) if line.lstrip(" \t").startswith("["))
                line = lines[at]
                lines[at] = header + line[_header_end(line) :]
                chunk.text, chunk.path = "".join(lines), path
                renamed += 1
        return renamed
