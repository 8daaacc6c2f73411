"""Every hint names a command that works in the state the user is in.

Two sweeps: every command the error catalogs name parses against the real command tree; and the
hints the commands give in sandbox flows (missing secret, account conflict, disabled account, a
provider refusal, a lost send) name things the config has, and following them works.
"""

from __future__ import annotations

import shlex
from importlib import import_module

import pytest

from smsctl.core.catalog import Explanation, words
from smsctl.core.config import ConfigStore
from smsctl.sandbox.state import RESERVED_NUMBERS
from tests.support.cli import invoke
from tests.support.hints import check_hint_commands, commands_in, parse_hint_command
from tests.support.sends import ready  # noqa: F401 - the fixture

OK_NUMBER = "+8613812345678"
# Each catalog, and the channels whose errors it words (`{cli}`, `{account}`: catalog.word).
CATALOGS = {
    "alibaba": ("sms", "voice"),
    "receipts": ("sms",),
    "smtp": ("email",),
    "wechat": ("wechat",),
}


def catalog_texts() -> list[tuple[str, str]]:
    found = []
    for provider, prefixes in CATALOGS.items():
        module = import_module(f"smsctl.core.catalog.{provider}")
        entries: list[tuple[str, Explanation]] = []
        for attribute, value in vars(module).items():
            if isinstance(value, Explanation):
                entries.append((attribute, value))
            elif isinstance(value, dict):
                entries += [(k, v) for k, v in value.items() if isinstance(v, Explanation)]
        for code, entry in entries:
            for channel in prefixes:
                values = words(
                    channel, "ACCOUNT", {"provider": provider.replace("receipts", "alibaba")}
                )
                for text in (entry.meaning, entry.cause, entry.next_step):
                    found.append((f"{provider}:{code}", text.format_map(values)))
    return found


def test_the_catalogs_name_commands() -> None:
    """The sweep below is not vacuous."""
    assert sum(len(commands_in(text)) for _, text in catalog_texts()) > 40


def test_the_catalogs_name_only_words_the_core_knows() -> None:
    """A `{field}` the wording does not fill would reach the operator verbatim."""
    import re

    left = {m for _, text in catalog_texts() for m in re.findall(r"(?<!\$)\{[a-z_]+\}", text)}
    assert not left


@pytest.mark.parametrize(("where", "text"), [t for t in catalog_texts() if commands_in(t[1])])
def test_every_command_in_the_catalogs_parses(where: str, text: str) -> None:
    for command in commands_in(text):
        parse_hint_command(command)  # raises with the reason when it would not run


def test_the_checker_rejects_what_would_not_run() -> None:
    for broken in (
        "smsctl acount list",
        "smsctl account edit",  # NAME missing
        "smsctl voice send-test --to",  # value missing
        "smsctl template add CODE --account ACC",  # --scenario missing
        "smsctl account edit prod --no-such-option",
    ):
        with pytest.raises(AssertionError):
            parse_hint_command(broken)
    parse_hint_command("smsctl email account add NAME --host H ...")


def test_the_checker_rejects_names_the_config_lacks(config_file) -> None:
    config_file.parent.mkdir(mode=0o700)
    config_file.write_text('[sms.accounts.prod]\naccess_key_id = "LTAI5tAAAA0001"\n')
    config_file.chmod(0o600)
    config = ConfigStore(config_file).load()
    check_hint_commands("`smsctl account edit prod --rotate-secret`", config)
    check_hint_commands("`smsctl account add newacct --access-key-id ID`", config)
    with pytest.raises(AssertionError, match="newacct"):
        check_hint_commands("`smsctl account edit newacct --rotate-secret`", config)
    with pytest.raises(AssertionError, match="nope"):
        check_hint_commands("`smsctl validate nope`", config)


# --- hints in flows --------------------------------------------------------------------------


def config(config_file):
    return ConfigStore(config_file).load()


def follow(command: str, *, input: str | None = None):
    """Run a hint's command as the user would (global options included)."""
    return invoke(*shlex.split(command)[1:], input=input)


def hint_of(result) -> str:
    assert result.exit_code not in (0, 1, 2), result.all_output
    return result.error()["hint"]


@pytest.fixture
def sms(fresh_sandbox_state) -> dict:
    return fresh_sandbox_state.info()["sms"]


def add_sms(info: dict, name: str = "prod", channel: tuple[str, ...] = ()) -> None:
    done = invoke(
        *channel, "account", "add", name, "--access-key-id", info["access_key_id"],
        "--endpoint", info["endpoint"], "--secret-stdin", input=info["access_key_secret"] + "\n",
    )  # fmt: skip
    assert done.exit_code == 0, done.all_output


@pytest.mark.parametrize("channel", [(), ("voice",)], ids=["sms", "voice"])
def test_adding_without_a_secret_hints_the_same_command_with_secret_stdin(
    sms, channel, config_file
) -> None:
    failed = invoke(
        "--json", "--no-input", *channel, "account", "add", "newacct",
        "--access-key-id", sms["access_key_id"], "--endpoint", sms["endpoint"],
        "--note", "two words",
    )  # fmt: skip
    assert failed.exit_code == 4, failed.all_output
    assert not config_file.exists()
    hint = hint_of(failed)
    assert "account edit" not in hint  # the account does not exist yet
    assert f"SMSCTL_SECRET_{(channel or ('sms',))[0].upper()}_NEWACCT" in hint
    (command,) = commands_in(hint)
    assert command.endswith("--secret-stdin")
    done = follow(command, input=sms["access_key_secret"] + "\n")
    assert done.exit_code == 0, done.all_output
    item = config(config_file).get((channel or ("sms",))[0], "accounts", "newacct")
    assert item["note"] == "two words"


def test_rotating_without_a_terminal_hints_secret_stdin(sms, config_file) -> None:
    add_sms(sms)
    failed = invoke("--json", "account", "edit", "prod", "--rotate-secret")
    assert failed.exit_code == 4, failed.all_output
    (command,) = check_hint_commands(hint_of(failed), config(config_file))
    done = follow(command.text, input=sms["access_key_secret"] + "\n")
    assert done.exit_code == 0, done.all_output


@pytest.mark.parametrize(
    "argv",
    [
        ("validate", "prod"),
        ("send-test", "--to", OK_NUMBER, "--scenario", "login", "--param", "code=1", "--yes"),
        ("doctor", "--channel", "sms"),
    ],
    ids=["validate", "send-test", "doctor"],
)
def test_a_missing_secret_hint_stores_it_for_the_account(
    sms, argv, config_file, keyring_entries
) -> None:
    add_sms(sms)
    for step in (
        ("signature", "add", "Acme", "--account", "prod"),
        ("template", "add", "SMS_100000001", "--account", "prod", "--scenario", "login"),
        ("validate", "prod"),
    ):
        assert invoke(*step).exit_code == 0
    keyring_entries.clear()
    failed = invoke("--json", *argv)
    assert failed.exit_code == 4, failed.all_output
    if argv[0] == "doctor":  # doctor reports each check, with its fix
        text = " ".join(c["fix"] for c in failed.json()["checks"] if c["fix"])
    else:
        text = failed.error()["hint"]
    commands = check_hint_commands(text, config(config_file))
    assert "SMSCTL_SECRET_SMS_PROD" in text
    stdin_variant = next(c for c in commands if c.text.endswith("--secret-stdin"))
    assert follow(stdin_variant.text, input=sms["access_key_secret"] + "\n").exit_code == 0
    assert invoke(*argv).exit_code == 0


def test_a_missing_voice_secret_hint_stores_it(sms, config_file, keyring_entries) -> None:
    add_sms(sms, channel=("voice",))
    keyring_entries.clear()
    failed = invoke("--json", "voice", "validate", "prod")
    assert failed.exit_code == 4, failed.all_output
    assert "SMSCTL_SECRET_VOICE_PROD" in hint_of(failed)
    commands = check_hint_commands(hint_of(failed), config(config_file))
    stdin_variant = next(c for c in commands if c.text.endswith("--secret-stdin"))
    assert stdin_variant.path == ("voice", "account", "edit")
    assert follow(stdin_variant.text, input=sms["access_key_secret"] + "\n").exit_code == 0
    assert invoke("voice", "validate", "prod").exit_code == 0


def test_an_account_that_exists_with_other_values_hints_the_edit_that_sets_them(
    sms, config_file
) -> None:
    add_sms(sms)
    failed = invoke(
        "--json", "account", "add", "prod", "--access-key-id", sms["access_key_id"],
        "--endpoint", sms["endpoint"], "--note", "the main one", "--region", "cn-shanghai",
        "--secret-stdin", input="x\n",
    )  # fmt: skip
    assert failed.exit_code == 3
    (command,) = check_hint_commands(hint_of(failed), config(config_file))
    assert follow(command.text).exit_code == 0
    item = config(config_file).get("sms", "accounts", "prod")
    assert (item["note"], item["region"]) == ("the main one", "cn-shanghai")


def test_a_disabled_account_hint_enables_it(sms, config_file) -> None:
    add_sms(sms)
    assert invoke("validate", "prod").exit_code == 0
    assert invoke("account", "disable", "prod").exit_code == 0
    send = ("send-test", "--to", OK_NUMBER, "--template", "SMS_100000001", "--param", "code=1",
            "--dry-run")  # fmt: skip
    for step in (
        ("signature", "add", "Acme", "--account", "prod"),
        ("template", "add", "SMS_100000001", "--account", "prod", "--scenario", "login"),
    ):
        assert invoke(*step).exit_code == 0
    failed = invoke("--json", *send)
    commands = check_hint_commands(hint_of(failed), config(config_file))
    assert ("account", "enable") in [c.path for c in commands]
    assert follow(next(c for c in commands if c.path == ("account", "enable")).text).exit_code == 0
    assert invoke(*send).exit_code == 0


def test_several_fitting_signatures_hint_the_edit_that_marks_one_default(sms, config_file) -> None:
    add_sms(sms)
    assert invoke("validate", "prod").exit_code == 0
    for step in (
        ("signature", "add", "Acme", "--account", "prod"),
        ("signature", "add", "Acme登录", "--account", "prod"),
        ("template", "add", "SMS_100000001", "--account", "prod", "--scenario", "login"),
    ):
        assert invoke(*step).exit_code == 0
    send = ("send-test", "--to", OK_NUMBER, "--scenario", "login", "--param", "code=1",
            "--dry-run")  # fmt: skip
    failed = invoke("--json", *send)
    assert failed.error()["code"] == "ambiguous"
    (edit,) = [c for c in check_hint_commands(hint_of(failed), config(config_file))]
    assert edit.path == ("signature", "edit")
    assert follow(edit.text).exit_code == 0
    assert invoke(*send).exit_code == 0
    marked = invoke("--json", "signature", "edit", "Acme登录", "--default").json()
    assert marked["cleared_default"] == ["Acme"]
    assert invoke("--json", "signature", "show", "Acme").json()["default"] is False


def test_no_accounts_yet_hints_a_complete_add(config_file) -> None:
    failed = invoke("--json", "account", "show", "prod")
    (command,) = check_hint_commands(hint_of(failed))
    assert command.path == ("account", "add")


def test_a_wrong_secret_hints_commands_for_this_account(sms, config_file) -> None:
    done = invoke(
        "account", "add", "prod", "--access-key-id", sms["access_key_id"],
        "--endpoint", sms["endpoint"], "--secret-stdin", input="wrong-secret\n",
    )  # fmt: skip
    assert done.exit_code == 0
    failed = invoke("--json", "validate", "prod")
    assert failed.exit_code == 4, failed.all_output
    assert failed.error()["code"] == "SignatureDoesNotMatch"
    commands = check_hint_commands(hint_of(failed), config(config_file))
    assert {c.path for c in commands} == {("account", "edit"), ("validate",)}
    rotate = next(c for c in commands if c.path == ("account", "edit"))
    rotated = follow(rotate.text + " --secret-stdin", input=sms["access_key_secret"] + "\n")
    assert rotated.exit_code == 0
    assert invoke("validate", "prod").exit_code == 0


def test_a_wrong_secret_from_the_environment_hints_the_variable_not_the_keyring(
    sms, config_file, monkeypatch
) -> None:
    monkeypatch.setenv("SMSCTL_SECRET_SMS_PROD", "wrong-secret")
    done = invoke(
        "account", "add", "prod", "--access-key-id", sms["access_key_id"],
        "--endpoint", sms["endpoint"],
    )  # fmt: skip
    assert done.exit_code == 0, done.all_output
    failed = invoke("--json", "validate", "prod")
    assert failed.error()["code"] == "SignatureDoesNotMatch"
    hint = hint_of(failed)
    assert "--rotate-secret" not in hint
    assert "store the right secret with the SMSCTL_SECRET_SMS_PROD variable" in hint
    monkeypatch.setenv("SMSCTL_SECRET_SMS_PROD", sms["access_key_secret"])  # following it works
    assert invoke("validate", "prod").exit_code == 0


def test_a_wrong_secret_from_a_command_hints_its_store_not_the_keyring(
    sms, config_file, tmp_path
) -> None:
    script = tmp_path / "print-secret"
    script.write_text("#!/bin/sh\necho wrong-secret\n")
    script.chmod(0o700)
    done = invoke(
        "account", "add", "prod", "--access-key-id", sms["access_key_id"],
        "--endpoint", sms["endpoint"], "--secret-command", str(script),
    )  # fmt: skip
    assert done.exit_code == 0, done.all_output
    failed = invoke("--json", "validate", "prod")
    assert failed.error()["code"] == "SignatureDoesNotMatch"
    hint = hint_of(failed)
    assert "--rotate-secret" not in hint
    assert "the store the account's secret_command reads" in hint
    (show, validate) = check_hint_commands(hint, config(config_file))
    assert show.path == ("account", "show") and follow(show.text).exit_code == 0


def test_a_lost_send_hints_the_receipt_lookup_that_finds_it(
    fresh_sandbox_state, sms, config_file
) -> None:
    add_sms(sms)
    for step in (
        ("signature", "add", "Acme", "--account", "prod"),
        ("template", "add", "SMS_100000001", "--account", "prod", "--scenario", "login"),
        ("validate", "prod"),
    ):
        assert invoke(*step).exit_code == 0
    lost = invoke(
        "--json", "send-test", "--to", "+8613900000011", "--scenario", "login",
        "--param", "code=1", "--yes", "--timeout", "1",
    )  # fmt: skip
    assert lost.exit_code == 7
    commands = check_hint_commands(hint_of(lost), config(config_file))
    receipt = next(c for c in commands if c.path == ("receipt",))
    fresh_sandbox_state.alibaba.state.receipt_delay = 0
    assert follow(receipt.text).exit_code == 0


# --- email and wechat --------------------------------------------------------------------------


def test_email_hints_work(smtp_server, config_file, keyring_entries) -> None:
    smtp = smtp_server.info()["smtp"]
    base = ("email", "account", "add", "mail", "--host", "127.0.0.1", "--port",
            str(smtp["starttls_port"]), "--security", "starttls", "--username", smtp["username"],
            "--from", "noreply@acme.test", "--ca-file", smtp["ca_file"])  # fmt: skip
    failed = invoke("--json", "--no-input", *base)
    assert failed.exit_code == 4 and not config_file.exists()
    (command,) = commands_in(hint_of(failed))
    assert follow(command, input=smtp["password"] + "\n").exit_code == 0
    keyring_entries.clear()
    missing = invoke("--json", "email", "validate", "mail")
    assert missing.exit_code == 4
    assert "SMSCTL_SECRET_EMAIL_MAIL" in hint_of(missing)
    commands = check_hint_commands(hint_of(missing), config(config_file))
    stdin_variant = next(c for c in commands if c.text.endswith("--secret-stdin"))
    assert follow(stdin_variant.text, input=smtp["password"] + "\n").exit_code == 0
    assert invoke("email", "validate", "mail").exit_code == 0


def test_wechat_hints_work(wechat_server, config_file, keyring_entries, monkeypatch) -> None:
    secret = wechat_server.seed.app_secret
    base = ("wechat", "account", "add", "oa", "--app-id", wechat_server.seed.app_id,
            "--endpoint", wechat_server.endpoint)  # fmt: skip
    failed = invoke("--json", "--no-input", *base)
    assert failed.exit_code == 4 and not config_file.exists()
    (command,) = commands_in(hint_of(failed))
    assert follow(command, input=secret + "\n").exit_code == 0
    keyring_entries.clear()
    missing = invoke("--json", "wechat", "validate", "oa")
    assert missing.exit_code == 4
    hint = hint_of(missing)
    check_hint_commands(hint, config(config_file))
    # an official account cannot be edited: only where its AppSecret is read from can change
    assert "--rotate-secret" not in hint
    assert "smsctl wechat account edit oa --secret-command '...'" in hint
    assert "SMSCTL_SECRET_WECHAT_OA" in hint
    monkeypatch.setenv("SMSCTL_SECRET_WECHAT_OA", secret)
    assert invoke("wechat", "validate", "oa").exit_code == 0


# --- every fault the sandbox can play -----------------------------------------------------------

SMS_FAULTS = [n for n, fault in RESERVED_NUMBERS.items() if not fault.startswith("call_")]
CALL_FAULTS = [n for n, fault in RESERVED_NUMBERS.items() if fault.startswith("call_")]


def hint_texts(result) -> str:
    if result.exit_code == 0:
        return ""
    error = result.error()
    return " ".join(str(t) for t in (error["hint"], error.get("details", {}).get("next_step")))


@pytest.mark.parametrize("ready", ["sms"], indirect=True)
@pytest.mark.parametrize("number", SMS_FAULTS, ids=lambda n: RESERVED_NUMBERS[n])
def test_every_sms_fault_hints_commands_that_fit_the_config(
    ready,  # noqa: F811
    number,
    fresh_sandbox_state,
    config_file,
) -> None:
    fresh_sandbox_state.alibaba.state.receipt_delay = 0
    result = invoke(
        "--json", "send-test", "--to", f"+86{number}", "--scenario", "login",
        "--param", "code=1", "--yes", "--timeout", "1", "--wait", "3",
    )  # fmt: skip
    assert result.exit_code in (0, 5, 6, 7, 8), result.all_output
    check_hint_commands(hint_texts(result), config(config_file))


@pytest.mark.parametrize("ready", ["voice"], indirect=True)
@pytest.mark.parametrize("number", CALL_FAULTS, ids=lambda n: RESERVED_NUMBERS[n])
def test_every_call_fault_hints_commands_that_fit_the_config(
    ready,  # noqa: F811
    number,
    fresh_sandbox_state,
    config_file,
) -> None:
    fresh_sandbox_state.alibaba.state.call_result_delay = 0
    result = invoke(
        "--json", "voice", "send-test", "--to", f"+86{number}", "--scenario", "login",
        "--param", "code=1", "--yes", "--wait", "5",
    )  # fmt: skip
    assert result.exit_code in (0, 8), result.all_output
    check_hint_commands(hint_texts(result), config(config_file))
