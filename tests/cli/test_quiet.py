"""`-q/--quiet` is only results and errors: a send-test prints its result line (the ids) and no
plan, on every channel; warnings about the send and errors still show."""

from __future__ import annotations

import pytest

from tests.support.cli import invoke
from tests.support.sends import PHONE, SENDS, ready  # noqa: F401 - the fixture

PLAN_WORDS = ("account:", "template:", "rule:", "to:", "text:", "says:", "subject:", "---")


@pytest.mark.parametrize("ready", list(SENDS), indirect=True)
def test_quiet_send_test_prints_its_result_and_no_plan(ready) -> None:  # noqa: F811
    argv, result_words = SENDS[ready]
    loud = invoke(*argv, "--dry-run")
    assert loud.exit_code == 0, loud.all_output
    assert any(word in loud.stdout for word in PLAN_WORDS)  # the plan is there without -q
    quiet = invoke("-q", *argv, "--yes")
    assert quiet.exit_code == 0, quiet.all_output
    lines = quiet.stdout.splitlines()
    assert len(lines) == 1 and lines[0].startswith("✓ ") and result_words in lines[0], lines
    assert quiet.stderr == ""


@pytest.mark.parametrize("ready", list(SENDS), indirect=True)
def test_quiet_dry_run_prints_one_line(ready) -> None:  # noqa: F811
    argv, _ = SENDS[ready]
    quiet = invoke("--quiet", *argv, "--dry-run")
    assert quiet.exit_code == 0, quiet.all_output
    assert len(quiet.stdout.splitlines()) == 1
    assert quiet.stdout.startswith("✓ Dry run: ")
    assert not any(word in quiet.stdout for word in PLAN_WORDS)


@pytest.mark.parametrize("ready", ["sms"], indirect=True)
def test_quiet_keeps_the_warnings_and_the_wait_result(ready, fresh_sandbox_state) -> None:  # noqa: F811
    long_code = "x" * 40
    quiet = invoke("-q", "send-test", "--to", PHONE, "--scenario", "login",
                   "--param", f"code={long_code}", "--dry-run")  # fmt: skip
    assert quiet.exit_code == 0
    assert "Warning: `code` is 40 characters" in quiet.stderr
    fresh_sandbox_state.alibaba.state.receipt_delay = 0
    waited = invoke("-q", *SENDS["sms"][0], "--yes", "--wait", "10")
    assert waited.exit_code == 0, waited.all_output
    lines = waited.stdout.splitlines()
    assert [line.split(" ")[1] for line in lines] == ["Accepted", "Delivered"], lines


@pytest.mark.parametrize("ready", ["sms"], indirect=True)
def test_quiet_still_shows_errors(ready) -> None:  # noqa: F811
    failed = invoke("-q", "send-test", "--to", "+8613900000005", "--scenario", "login",
                    "--param", "code=1", "--yes")  # fmt: skip
    assert failed.exit_code == 5
    assert failed.stdout == ""
    assert "Error: " in failed.stderr
