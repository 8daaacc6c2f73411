"""Text from outside smsctl made harmless for a terminal.

Provider answers, SMTP replies, config values and operator notes can carry control and format
characters: ESC starts the sequences that clear the screen, set the window title or write the
clipboard (OSC 52); a lone CR overwrites what was printed; bidi overrides (U+202E) and
zero-width characters make the text read differently from what it is. Everything smsctl prints
goes through here (smsctl.core.output does it for every command), so none of them reaches the
terminal raw:

- `visible(text)` for people: each such character becomes a visible escape (`\\x1b`, `\\u202e`,
  `\\U000e0001`); with `multiline=True` newlines, tabs and CR LF line ends stay as they are.
- `json_safe(document)` for `--json`: the same characters as JSON `\\u` escapes, so the document
  still decodes to the exact text.

The characters are those of Unicode categories Cc (controls, C0 and C1), Cf (format: bidi
controls, zero-width space/joiners, soft hyphen, BOM, tags), Zl and Zp (line and paragraph
separators) and Cs (lone surrogates, from undecodable bytes). The class below lists them for
every Unicode version Python 3.10 to 3.13 ships; tests/core/test_terminal_text.py checks it
against the running interpreter's `unicodedata`. A precompiled class keeps this module cheap to
import and fast on large texts (an email body).
"""

from __future__ import annotations

import re

# Everything but C0 (json.dumps escapes C0 itself, and indentation needs its raw newlines).
_BEYOND_C0 = (
    "\x7f-\x9f\xad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f"
    "\u2028-\u202e\u2060-\u2064\u2066-\u206f\ud800-\udfff\ufeff\ufff9-\ufffb"
    "\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
    "\U000e0001\U000e0020-\U000e007f"
)
_SOURCES = {
    "any": f"[\x00-\x1f{_BEYOND_C0}]",
    # Multi-line text keeps LF, TAB and the CR of a CR LF line end; a CR anywhere else would let
    # what follows overwrite the line.
    "multiline": f"[\x00-\x08\x0b\x0c\x0e-\x1f{_BEYOND_C0}]|\r(?!\n)",
    "json": f"[{_BEYOND_C0}]",
}
_compiled: dict[str, re.Pattern[str]] = {}


def _pattern(kind: str) -> re.Pattern[str]:
    # Compiled on first need (a few ms): most text is printable and never gets this far.
    if kind not in _compiled:
        _compiled[kind] = re.compile(_SOURCES[kind])
    return _compiled[kind]


def visible(text: str, *, multiline: bool = False) -> str:
    """`text` with every control and format character written as a visible escape."""
    # str.isprintable() is False for each of those characters (and for a few harmless ones,
    # such as U+00A0, which the pattern then leaves alone).
    if text.isprintable():
        return text
    if multiline and text.replace("\n", "").replace("\t", "").isprintable():
        return text
    return _pattern("multiline" if multiline else "any").sub(_visible_escape, text)


def is_clean(text: str) -> bool:
    """True when `text` has no control or format character at all (newlines included)."""
    return text.isprintable() or _pattern("any").search(text) is None


def json_safe(document: str) -> str:
    """A JSON document (as json.dumps writes it) with those characters as `\\u` escapes."""
    if document.replace("\n", "").isprintable():
        return document
    return _pattern("json").sub(_json_escape, document)


_SHORT = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _visible_escape(match: re.Match[str]) -> str:
    char = match.group()
    if char in _SHORT:
        return _SHORT[char]
    point = ord(char)
    if point < 0x100:
        return f"\\x{point:02x}"
    if point < 0x10000:
        return f"\\u{point:04x}"
    return f"\\U{point:08x}"


def _json_escape(match: re.Match[str]) -> str:
    point = ord(match.group())
    if point < 0x10000:
        return f"\\u{point:04x}"
    point -= 0x10000
    return f"\\u{0xD800 + (point >> 10):04x}\\u{0xDC00 + (point & 0x3FF):04x}"
