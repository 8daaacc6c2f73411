"""The account verbs are one set, built once: every verb answers in the same shape on sms, voice,
email and wechat, each channel's accounts added against its sandbox (the Alibaba emulator, the
TLS SMTP emulator, the WeChat API emulator)."""

from __future__ import annotations

import dataclasses

import pytest
import typer
from typer.testing import CliRunner

from smsctl.core import channels
from smsctl.sandbox import wechat as wechat_sbx
from tests.cli import test_email as email_t
from tests.cli import test_wechat as wechat_t
from tests.support.cli import invoke

CHANNELS = ("sms", "voice", "email", "wechat")
COMMON_SUMMARY_KEYS = {"name", "channel", "active", "enabled", "note"}


@pytest.fixture
def added(fresh_sandbox_state, smtp_server, wechat_server, keyring_entries) -> dict:
    """Account `main` on every channel, added against its emulator; the `add --json` output."""
    info = fresh_sandbox_state.info()
    results = {}
    for channel, prefix in (("sms", ()), ("voice", ("voice",))):
        alibaba = info[channel]
        results[channel] = invoke(
            "--json", *prefix, "account", "add", "main",
            "--access-key-id", alibaba["access_key_id"], "--endpoint", alibaba["endpoint"],
            "--secret-stdin", input=alibaba["access_key_secret"] + "\n",
        )  # fmt: skip
    results["email"] = email_t.add_account(smtp_server, "main", "--json")
    results["wechat"] = wechat_t.add_account(
        wechat_server, "main", wechat_sbx.APP_ID, None, "--json"
    )
    for channel, result in results.items():
        assert result.exit_code == 0, (channel, result.all_output)
    return {channel: result.json() for channel, result in results.items()}


def words(channel: str, *verb: str) -> list[str]:
    return [*channels.channel(channel).prefix.split(), "account", *verb]


def json_of(channel: str, *verb: str) -> dict | list:
    result = invoke("--json", *words(channel, *verb))
    assert result.exit_code == 0, (channel, result.all_output)
    return result.json()


def test_add_answers_alike_on_every_channel(added) -> None:
    assert {frozenset(data) for data in added.values()} == {
        frozenset({"name", "channel", "changed", "secret"})
    }
    for channel, data in added.items():
        assert (data["name"], data["channel"], data["changed"]) == ("main", channel, True)
        assert data["secret"] == {
            "source": "keyring",
            "name": f"smsctl: {channel}/main",
            "reason": None,
        }


def test_list_and_show_answer_alike_on_every_channel(added) -> None:
    for channel in CHANNELS:
        [row] = json_of(channel, "list")
        model = channels.channel(channel)
        assert COMMON_SUMMARY_KEYS | set(model.account_fields) <= set(row), channel
        shown = json_of(channel, "show", "main")
        assert set(shown) == set(row) | {"secret", "depends_on_it"}, channel
        assert shown["secret"]["source"] == "keyring"
        assert shown["depends_on_it"] == []
        human = invoke(*words(channel, "show", "main"))
        assert "set (keyring)" in human.stdout


def test_enable_disable_delete_answer_alike_on_every_channel(added, keyring_entries) -> None:
    for verb in ("disable", "enable"):
        keys = {frozenset(json_of(channel, verb, "main")) for channel in CHANNELS}
        assert keys == {frozenset({"name", "channel", "enabled", "changed"})}, verb
    deleted = {channel: json_of(channel, "delete", "main", "--yes") for channel in CHANNELS}
    assert {frozenset(data) for data in deleted.values()} == {
        frozenset({
            "name", "channel", "deleted", "removed", "invalidated", "keyring_entry_deleted",
            "keyring", "was_active", "leftover_keyring_entry",
        })
    }  # fmt: skip
    for data in deleted.values():
        assert data["removed"] == [] and data["invalidated"] == []
        assert data["keyring_entry_deleted"] is True
    assert keyring_entries == {}


def test_edit_answers_alike_where_accounts_can_be_edited(added) -> None:
    edited = {
        channel: json_of(channel, "edit", "main", "--note", "edited")
        for channel in CHANNELS
        if channels.channel(channel).account_editable
    }
    assert set(edited) == {"sms", "voice", "email"}
    assert {frozenset(data) for data in edited.values()} == {
        frozenset({"name", "channel", "changed", "secret"})
    }
    assert all(data["secret"] is None and data["changed"] for data in edited.values())
    rotated = invoke(
        "--json", "email", "account", "edit", "main", "--rotate-secret", "--secret-stdin",
        input="new-password\n",
    )  # fmt: skip
    assert rotated.exit_code == 0, rotated.all_output
    assert rotated.json()["secret"] == {
        "source": "keyring",
        "name": "smsctl: email/main",
        "reason": None,
    }
    refused = invoke("--json", "wechat", "account", "edit", "main", "--note", "x")
    assert refused.exit_code == 2
    assert refused.error()["code"] == "not_editable"


def test_show_names_what_depends_on_the_account_as_data(added, wechat_server) -> None:
    assert wechat_t.add_rule("login", account="main").exit_code == 0
    shown = json_of("wechat", "show", "main")
    assert shown["depends_on_it"] == [{"kind": "rule", "name": "login"}]
    assert "rule login" in invoke("wechat", "account", "show", "main").stdout


def test_the_refusing_edit_comes_from_the_account_editable_property(monkeypatch) -> None:
    from smsctl.cli.account import make_account_app
    from smsctl.core.errors import UsageError

    email = channels.channel("email")
    monkeypatch.setitem(
        channels.CHANNELS, "email", dataclasses.replace(email, account_editable=False)
    )
    root = typer.Typer()
    root.add_typer(make_account_app("email"), name="account")
    result = CliRunner().invoke(root, ["account", "edit", "main", "--host", "x"])
    assert isinstance(result.exception, UsageError)
    assert (result.exception.exit_code, result.exception.code) == (2, "not_editable")
    assert "smsctl email account delete main --yes" in (result.exception.hint or "")


def test_sms_accounts_have_no_caller_number_option(config_file) -> None:
    result = invoke(
        "account", "add", "prod", "--access-key-id", "LTAI5tTEST0001",
        "--called-show-number", "0571000000", "--secret-stdin", input="x\n",
    )  # fmt: skip
    assert result.exit_code == 2
    assert "No such option" in result.stderr
    assert not config_file.exists()


def test_a_new_account_hints_at_validate_on_every_channel(
    fresh_sandbox_state, smtp_server, wechat_server
) -> None:
    sms = fresh_sandbox_state.info()["sms"]
    hints = {
        "smsctl validate prod": invoke(
            "account", "add", "prod", "--access-key-id", sms["access_key_id"],
            "--endpoint", sms["endpoint"], "--secret-stdin", input=sms["access_key_secret"] + "\n",
        ),
        "smsctl email validate mail": email_t.add_account(smtp_server),
    }  # fmt: skip
    for command, result in hints.items():
        assert result.exit_code == 0, result.all_output
        assert f"Hint: Check it live and make it active: {command}" in result.stderr
    verified = wechat_t.add_account(wechat_server)
    assert verified.exit_code == 0, verified.all_output
    assert "Hint: Make it active: smsctl wechat validate oa" in verified.stderr
