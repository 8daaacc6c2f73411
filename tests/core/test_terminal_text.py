"""The terminal-safety layer: what counts as a control or format character, how it is shown, and
that the one Output object applies it to everything (tables, fields, lines, errors, JSON, the
spinner) without Rich ever reading markup in it."""

from __future__ import annotations

import io
import json
import re
import sys
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smsctl.core.errors import ProviderRefused
from smsctl.core.output import Output, json_text
from smsctl.core.terminal_text import is_clean, json_safe, visible

UNSAFE_CATEGORIES = {"Cc", "Cf", "Zl", "Zp", "Cs"}
ATTACK = "\x1b[2J\x1b]52;c;cm0gLXJmIH4=\x07\rX\x9b1m\u202eevil\u200b\u2028\U000e0041"


def unsafe(char: str) -> bool:
    return unicodedata.category(char) in UNSAFE_CATEGORIES


EVERY_CODE_POINT = "".join(map(chr, range(sys.maxunicode + 1)))
# Text that mixes every kind of character, the dangerous ones often.
TEXT = st.text(
    alphabet=st.one_of(
        st.characters(),
        st.sampled_from(list("\x1b\x07\x00\x7f\x9b\r\n\t\u202e\u2066\u200b\ufeff\xad\u2028")),
        st.characters(categories=["Cc", "Cf", "Zl", "Zp"]),
    )
)


# --- the character class -------------------------------------------------------------------------


def test_every_control_and_format_character_of_this_python_is_escaped() -> None:
    missed = [hex(ord(c)) for c in EVERY_CODE_POINT if unsafe(c) and visible(c) == c]
    assert missed == []


def test_nothing_else_is_escaped_but_unassigned_code_points() -> None:
    escaped = {c for c in EVERY_CODE_POINT if visible(c) != c}
    wrong = [hex(ord(c)) for c in escaped if not unsafe(c) and unicodedata.category(c) != "Cn"]
    assert wrong == []


def test_printable_text_of_any_script_is_untouched() -> None:
    text = "【阿里云】您的验证码是 1234，5分钟内有效。 Ünïcödé — naïve café 🚀\u00a0\u3000"
    assert visible(text) == text
    assert visible(text, multiline=True) == text
    assert is_clean(text)


def test_escapes_are_visible_and_name_the_character() -> None:
    assert visible("a\x1bb") == "a\\x1bb"
    assert visible("\u202e") == "\\u202e"
    assert visible("\U000e0041") == "\\U000e0041"
    assert visible("a\nb\tc\rd") == "a\\nb\\tc\\rd"
    assert visible("\x9b") == "\\x9b"


def test_multiline_text_keeps_its_lines_but_no_lone_carriage_return() -> None:
    assert visible("one\ntwo\tcol\r\nthree", multiline=True) == "one\ntwo\tcol\r\nthree"
    assert visible("shown\rhidden", multiline=True) == "shown\\rhidden"
    assert visible("end\r", multiline=True) == "end\\r"
    assert visible("\x1b[2J\nx", multiline=True) == "\\x1b[2J\nx"


@settings(max_examples=500, deadline=None)
@given(TEXT)
def test_property_no_unsafe_character_survives(text: str) -> None:
    assert not any(unsafe(c) for c in visible(text))
    kept = visible(text, multiline=True)
    assert all(c in "\n\t\r" for c in kept if unsafe(c))
    assert re.search("\r(?!\n)", kept) is None
    assert is_clean(visible(text))


@settings(max_examples=500, deadline=None)
@given(TEXT)
def test_property_safe_text_is_left_exactly_as_it_is(text: str) -> None:
    clean = "".join(c for c in text if not unsafe(c))
    assert visible(clean) == clean
    assert is_clean(clean)
    assert is_clean(text) == (clean == text)


@settings(max_examples=300, deadline=None)
@given(
    st.recursive(
        TEXT | st.integers() | st.none(),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
        max_leaves=8,
    )
)
def test_property_json_carries_everything_escaped_and_decodes_back(data) -> None:
    for indent in (None, 2):
        document = json_text(data, indent=indent)
        assert json.loads(document) == data
        assert not any(unsafe(c) for c in document.replace("\n", ""))
        if indent is None:
            assert "\n" not in document


def test_json_escapes_astral_format_characters_as_surrogate_pairs() -> None:
    assert json_safe(json.dumps("\U000e0041", ensure_ascii=False)) == '"\\udb40\\udc41"'
    assert json_safe('"\u202e"') == '"\\u202e"'


# --- the Output object ---------------------------------------------------------------------------


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def outputs(**kwargs) -> tuple[Output, io.StringIO, io.StringIO]:
    stdout, stderr = kwargs.pop("stdout", io.StringIO()), kwargs.pop("stderr", io.StringIO())
    return Output(stdout=stdout, stderr=stderr, **kwargs), stdout, stderr


def no_raw(text: str) -> None:
    assert not [c for c in text.replace("\n", "") if unsafe(c)], repr(text)


@pytest.mark.parametrize("stream", [io.StringIO, Terminal], ids=["pipe", "terminal"])
def test_tables_escape_cells_columns_and_title_and_never_read_markup(stream) -> None:
    out, stdout, _ = outputs(stdout=stream(), no_color=True)
    markup = "[bold]x[/bold] [link=http://evil.example/]y[/link]"
    out.table([f"NAME{ATTACK}", markup], [[ATTACK, markup]], title=f"{markup} {ATTACK}")
    shown = stdout.getvalue()
    no_raw(shown)
    assert "\\x1b]52;c;" in shown
    assert shown.count("[link=http://evil.example/]y[/link]") == 3
    assert shown.count("[bold]x[/bold]") == 3


def test_fields_escape_keys_and_values_and_continue_a_second_line_under_the_first() -> None:
    out, stdout, _ = outputs()
    out.fields({"content": "line one\r\nline two " + ATTACK, "n\x1bote": "x\ty"})
    assert stdout.getvalue().splitlines() == [
        "content   line one",
        "          line two \\x1b[2J\\x1b]52;c;cm0gLXJmIH4=\\x07\\rX\\x9b1m\\u202eevil\\u200b"
        "\\u2028\\U000e0041",
        "n\\x1bote  x\\ty",
    ]


def test_lines_marks_and_diagnostics_are_escaped() -> None:
    out, stdout, stderr = outputs(stdout=Terminal())
    out.line(ATTACK)
    out.success(ATTACK)
    out.failure(ATTACK)
    out.info(ATTACK)
    out.warn(ATTACK)
    out.hint(ATTACK)
    shown = stdout.getvalue()
    # the marks' own colours are the only escape sequences
    assert set(re.findall("\x1b\\[[0-9;]*m", shown)) == {"\x1b[32m", "\x1b[31m", "\x1b[0m"}
    no_raw(re.sub("\x1b\\[[0-9;]*m", "", shown))
    no_raw(stderr.getvalue())
    assert stderr.getvalue().count("\\x1b]52;c;") == 3


def test_errors_are_escaped_for_people_and_json_escaped_for_scripts() -> None:
    error = ProviderRefused(
        "Refused: " + ATTACK, code="Bad\x1b]0;t\x07", request_id="r\x1b[2J", hint="h\u202e"
    )
    out, _, stderr = outputs()
    out.error(error)
    no_raw(stderr.getvalue())
    assert "Error: Refused: \\x1b[2J" in stderr.getvalue()
    assert "request id: r\\x1b[2J" in stderr.getvalue()
    out, _, stderr = outputs(json_mode=True)
    out.error(error)
    no_raw(stderr.getvalue())
    decoded = json.loads(stderr.getvalue())["error"]
    assert (decoded["message"], decoded["code"], decoded["hint"]) == (
        "Refused: " + ATTACK,
        "Bad\x1b]0;t\x07",
        "h\u202e",
    )


def test_json_results_carry_the_text_only_escaped() -> None:
    out, stdout, _ = outputs(json_mode=True)
    out.emit({"content": ATTACK, "names": [ATTACK]})
    no_raw(stdout.getvalue())
    assert json.loads(stdout.getvalue()) == {"content": ATTACK, "names": [ATTACK]}


def test_the_spinner_shows_its_text_escaped_and_never_as_markup() -> None:
    terminal = Terminal()
    out, _, _ = outputs(stderr=terminal, no_color=True)
    with out.progress("[link=http://evil.example/]wait[/link] " + ATTACK) as update:
        update("[bold]later[/bold] " + ATTACK)
    shown = terminal.getvalue()
    assert "\x1b]" not in shown and "\x1b[2J" not in shown and "\u202e" not in shown
    # the last text, rendered as the spinner stops
    assert "[bold]later[/bold]" in shown and "\\x1b[2J" in shown


# --- what is written outside the Output object ---------------------------------------------------


def test_debug_lines_are_escaped(capsys) -> None:
    from smsctl.core import debug

    debug.enable(True)
    try:
        debug.debug("provider said " + ATTACK)
    finally:
        debug.enable(False)
    shown = capsys.readouterr().err
    no_raw(shown)
    assert "provider said \\x1b[2J" in shown


def test_a_confirmation_question_is_escaped(monkeypatch) -> None:
    import typer

    from smsctl.cli.context import AppContext

    asked: list[str] = []
    monkeypatch.setattr(AppContext, "can_prompt", lambda self: True)
    monkeypatch.setattr(typer, "confirm", lambda text, **kwargs: asked.append(text) or True)
    AppContext().confirm(f"Delete `{ATTACK}`?", yes=False, what="Deleting")
    no_raw(asked[0])
    assert asked[0].startswith("Delete `\\x1b[2J")


def test_a_usage_error_echoing_argv_is_escaped() -> None:
    from tests.e2e.conftest import smsctl

    done = smsctl("template", "list", "--x" + ATTACK)
    assert done.exit_code == 2
    no_raw(done.stderr)
    assert "--x\\x1b]52;c;" in done.stderr
