"""`${var}` templates shared by every channel (email, SMS, voice, WeChat rule values).

The syntax is exactly string.Template's: `${name}` or `$name`, `$$` for a literal dollar,
identifiers are ASCII letters, digits and underscores not starting with a digit. Anything else
after a `$` is malformed and is reported with its position instead of being sent as is.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from string import Template

from smsctl.core.errors import UsageError

_PATTERN: re.Pattern[str] = Template.pattern
_SNIPPET_LENGTH = 12


def variables(text: str) -> list[str]:
    """Variable names in order of first appearance (malformed placeholders are ignored)."""
    seen: dict[str, None] = {}
    for match in _PATTERN.finditer(text):
        name = match.group("named") or match.group("braced")
        if name:
            seen.setdefault(name, None)
    return list(seen)


def find_malformed(text: str) -> list[tuple[int, int, str]]:
    """(line, column, snippet) of every `$` that starts no valid placeholder; 1-based positions."""
    problems = []
    for match in _PATTERN.finditer(text):
        if match.group("invalid") is None:
            continue
        offset = match.start()
        line = text.count("\n", 0, offset) + 1
        column = offset - (text.rfind("\n", 0, offset) + 1) + 1
        snippet = text[offset : offset + _SNIPPET_LENGTH].split("\n", 1)[0]
        problems.append((line, column, snippet))
    return problems


def check_syntax(text: str, *, what: str = "template") -> None:
    """Raise UsageError listing every malformed placeholder of text."""
    problems = find_malformed(text)
    if not problems:
        return
    listed = "; ".join(f"line {line}, column {col}: {snippet!r}" for line, col, snippet in problems)
    raise UsageError(
        f"Malformed placeholder in the {what}: {listed}",
        hint="Write variables as ${name} (letters, digits, underscores; not starting with a "
        "digit) and a literal dollar sign as $$.",
    )


def render(
    text: str,
    values: Mapping[str, object],
    *,
    escape_html: bool = False,
    allow_extra: bool = False,
) -> str:
    """Substitute every variable; missing or unknown variables are a UsageError naming them.

    With escape_html, values are HTML-escaped (the template text itself is left alone).
    With allow_extra, values this text does not use are ignored: for rendering one part (e.g. the
    subject) of a template whose parts together were checked with `variables`.
    """
    if escape_html:
        from html import escape
    check_syntax(text)
    expected = variables(text)
    check_values(
        expected, {k: v for k, v in values.items() if k in expected} if allow_extra else values
    )

    def substitute(match: re.Match[str]) -> str:
        name = match.group("named") or match.group("braced")
        if name is None:  # the escaped `$$`
            return "$"
        value = str(values[name])
        return escape(value, quote=True) if escape_html else value

    return _PATTERN.sub(substitute, text)


def check_values(
    expected: list[str],
    values: Mapping[str, object],
    *,
    what: str = "Template",
    flag: str = "--param",
    code: str = "template_variables",
) -> None:
    """Every expected variable has a value and no value is unknown; else a UsageError naming
    them (before anything is sent)."""
    missing = [name for name in expected if name not in values]
    unknown = [str(name) for name in values if name not in expected]
    if not missing and not unknown:
        return
    parts = []
    if missing:
        parts.append("missing value for " + ", ".join(missing))
    if unknown:
        parts.append("unknown variable " + ", ".join(unknown))
    takes = ", ".join(f"{flag} {name}=..." for name in expected) or f"no {flag}"
    raise UsageError(
        f"{what} variables do not match: " + "; ".join(parts) + ".",
        hint=f"It takes: {takes}.",
        code=code,
        details={"missing": missing, "unknown": unknown, "expected": list(expected)},
    )
