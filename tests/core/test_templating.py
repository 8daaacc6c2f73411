from __future__ import annotations

from string import Template

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smsctl.core.errors import UsageError
from smsctl.core.html_text import html_to_text
from smsctl.core.templating import find_malformed, render, variables

NAMES = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True)


def test_variables_in_order_of_first_appearance_both_forms() -> None:
    text = "Hi ${name}, your code is $code. Again ${name}; price $$5 and ${ code} broken"
    assert variables(text) == ["name", "code"]


def test_variables_agree_with_string_template() -> None:
    text = "${a} $b ${c_1} $$d $a"
    assert variables(text) == ["a", "b", "c_1"]


def test_render_substitutes_and_keeps_dollar_literal() -> None:
    assert render("Code ${code} costs $$1 ($code)", {"code": "42"}) == "Code 42 costs $1 (42)"


def test_render_escapes_values_only_when_asked() -> None:
    html = '<p title="x">${v}</p>'
    value = '<b>&"x"</b>'
    assert render(html, {"v": value}, escape_html=True) == (
        '<p title="x">&lt;b&gt;&amp;&quot;x&quot;&lt;/b&gt;</p>'
    )
    assert render("${v}", {"v": value}) == value


def test_render_names_missing_and_unknown_variables() -> None:
    with pytest.raises(UsageError) as caught:
        render("${code} for ${app}", {"code": "1", "aap": "ios"})
    assert "missing value for app" in caught.value.message
    assert "unknown variable aap" in caught.value.message
    assert caught.value.exit_code == 2
    assert render("${code}", {"code": "1", "app": "ios"}, allow_extra=True) == "1"
    with pytest.raises(UsageError, match="missing value for code"):
        render("${code}", {"app": "ios"}, allow_extra=True)
    assert caught.value.details == {
        "missing": ["app"],
        "unknown": ["aap"],
        "expected": ["code", "app"],
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hello ${code", [(1, 7, "${code")]),
        ("line one\n  ${1x} here", [(2, 3, "${1x} here")]),
        ("cost $ 5", [(1, 6, "$ 5")]),
        ("a $5 b", [(1, 3, "$5 b")]),
        ("ok ${code} $$ and $name", []),
    ],
)
def test_find_malformed_reports_line_column_snippet(text: str, expected: list) -> None:
    assert find_malformed(text) == expected


def test_render_refuses_malformed_placeholders_with_position() -> None:
    with pytest.raises(UsageError) as caught:
        render("first\nsecond ${code", {"code": "1"})
    assert "line 2, column 8" in caught.value.message


def test_html_to_text_keeps_paragraphs_breaks_and_links() -> None:
    html = (
        "<html><head><title>T</title><style>p {color: red}</style></head><body>"
        "<h1>Welcome</h1><p>Your code is <b>123456</b>.<br>It expires soon.</p>"
        '<p>Open <a href="https://acme.test/verify?a=1&amp;b=2">this link</a> or '
        '<a href="https://acme.test">https://acme.test</a>.</p>'
        "<ul><li>one</li><li>two</li></ul><p>Tom &amp; Jerry &lt;team&gt;</p></body></html>"
    )
    assert html_to_text(html) == (
        "Welcome\n\nYour code is 123456.\nIt expires soon.\n\n"
        "Open this link (https://acme.test/verify?a=1&b=2) or https://acme.test.\n\n"
        "- one\n- two\n\nTom & Jerry <team>\n"
    )


@settings(max_examples=300, deadline=None)
@given(st.text(), st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=4))
def test_render_never_raises_anything_but_usage_error(text: str, values: dict) -> None:
    try:
        render(text, values, escape_html=True)
    except UsageError:
        pass


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(NAMES, st.text(max_size=10), min_size=1, max_size=4), st.text(max_size=10))
def test_render_matches_string_template_on_valid_templates(values: dict, literal: str) -> None:
    literal = literal.replace("$", "$$")
    text = literal + " ".join("${" + name + "}" for name in values) + " $$"
    assert render(text, values) == Template(text).substitute(values)
    assert render(text, values).endswith("$")
    assert variables(text) == list(values)


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_doubled_dollars_are_always_literal(text: str) -> None:
    escaped = text.replace("$", "$$")
    assert variables(escaped) == []
    assert find_malformed(escaped) == []
    assert render(escaped, {}) == text
