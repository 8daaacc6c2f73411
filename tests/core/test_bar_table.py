"""The bar per row that `stats` draws: scaled to the largest row, Rich blocks on a terminal,
ASCII marks in a pipe (where Rich is not needed)."""

from __future__ import annotations

import io

from smsctl.core.output import Output

ROWS = [["2030-03-30", "4"], ["2030-03-31", "8"], ["all days", "12"]]
BARS = [[(4, "good"), (0, "bad"), (0, "waiting")], [(4, "good"), (2, "bad"), (2, "waiting")], []]


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_in_a_pipe_the_bars_are_ascii_scaled_to_the_largest_row() -> None:
    out = io.StringIO()
    Output(stdout=out).bar_table(["DATE", "TOTAL"], ROWS, BARS, width=16)
    lines = out.getvalue().splitlines()
    assert lines[0].split() == ["DATE", "TOTAL"]
    assert lines[1].split() == ["2030-03-30", "4", "#" * 8]
    assert lines[2].split() == ["2030-03-31", "8", "#" * 8 + "x" * 4 + "." * 4]
    assert lines[3].split() == ["all", "days", "12"]


def test_on_a_terminal_the_bars_are_coloured_blocks() -> None:
    out = Terminal()
    Output(stdout=out).bar_table(["DATE", "TOTAL"], ROWS, BARS, width=16)
    text = out.getvalue()
    assert "█" * 8 in text and "░" * 4 in text
    assert "\x1b[32m" in text and "\x1b[31m" in text and "\x1b[33m" in text  # green, red, yellow


def test_no_colour_on_a_terminal_keeps_the_blocks() -> None:
    out = Terminal()
    Output(stdout=out, no_color=True).bar_table(["DATE", "TOTAL"], ROWS, BARS, width=16)
    text = out.getvalue()
    assert "█" * 12 in text and "\x1b[3" not in text


def test_a_small_share_still_shows() -> None:
    out = io.StringIO()
    bars = [[(100, "good"), (1, "bad"), (0, "waiting")]]
    Output(stdout=out).bar_table(["DATE"], [["2030-03-31"]], bars, width=10)
    assert out.getvalue().splitlines()[1].split()[1] == "#" * 10 + "x"
