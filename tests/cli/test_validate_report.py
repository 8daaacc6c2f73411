"""`validate --json` says the same thing on every channel: `active` is whether the account is the
channel's active one now, `activated` whether this run made it so, `previous_active` the active
account before the run (also with --check-only, which changes nothing)."""

from __future__ import annotations

from tests.support.cli import add_sandbox_sms_account, invoke


def test_check_only_on_the_active_account_says_it_is_active_and_nothing_changed(
    fresh_sandbox_state, config_file
):
    add_sandbox_sms_account(fresh_sandbox_state.info()["sms"])  # validates: prod is active
    before = config_file.read_text()
    report = invoke("--json", "validate", "prod", "--check-only").json()
    assert (report["active"], report["activated"], report["previous_active"]) == (
        True,
        False,
        "prod",
    )
    assert config_file.read_text() == before


def test_validate_that_activates_says_so(fresh_sandbox_state, config_file):
    info = fresh_sandbox_state.info()["sms"]
    add_sandbox_sms_account(info)
    added = invoke(
        "account", "add", "second", "--access-key-id", info["access_key_id"],
        "--endpoint", info["endpoint"], "--secret-stdin", input=info["access_key_secret"] + "\n",
    )  # fmt: skip
    assert added.exit_code == 0, added.all_output
    checked = invoke("--json", "validate", "second", "--check-only").json()
    assert (checked["active"], checked["activated"], checked["previous_active"]) == (
        False,
        False,
        "prod",
    )
    made = invoke("--json", "validate", "second").json()
    assert (made["active"], made["activated"], made["previous_active"]) == (True, True, "prod")
