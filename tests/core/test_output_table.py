"""The plain table of a pipe lines its columns up by the columns a terminal shows, so that a
Chinese sign name or template text does not push the rest of its row out of line."""

from __future__ import annotations

import io

from smsctl.core.output import Output, display_width


def test_display_width_counts_wide_characters_twice_and_combining_marks_not_at_all() -> None:
    assert display_width("Acme") == 4
    assert display_width("Acme登录") == 8
    assert display_width("【告警】") == 8
    assert display_width("e\u0301") == 1


def test_columns_line_up_after_chinese_names() -> None:
    out = io.StringIO()
    Output(stdout=out).table(
        ["NAME", "STATUS"],
        [["Acme", "approved"], ["Acme登录", "approved"], ["阿里云短信测试", "x"]],
    )
    lines = out.getvalue().splitlines()
    second = ["STATUS", "approved", "approved", "x"]
    columns = {
        display_width(line[: line.index(word)]) for line, word in zip(lines, second, strict=True)
    }
    assert columns == {display_width("阿里云短信测试  ")}
