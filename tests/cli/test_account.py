from __future__ import annotations

import stat
from pathlib import Path

import pytest

from tests.conftest import CANARY
from tests.support.cli import invoke

AK = "LTAI5tTEST0001"


def add(name: str = "prod", *extra: str, secret: str = CANARY):
    return invoke(
        "account", "add", name, "--access-key-id", AK, "--secret-stdin", *extra, input=secret + "\n"
    )


def test_add_stores_secret_in_keyring_and_nothing_secret_in_the_file(
    config_file: Path, keyring_entries: dict, state_dir: Path
) -> None:
    result = add("prod", "--region", "cn-hangzhou", "--note", "main account")
    assert result.exit_code == 0, result.all_output
    assert "Added sms account `prod`" in result.stdout
    assert keyring_entries[("smsctl", "sms/prod")] == CANARY
    text = config_file.read_text()
    assert CANARY not in text
    assert 'access_key_id = "LTAI5tTEST0001"' in text
    assert stat.S_IMODE(config_file.stat().st_mode) == 0o600
    audit = (state_dir / "audit.jsonl").read_text()
    assert '"account.add"' in audit
    assert CANARY not in audit
    assert CANARY not in result.all_output


def test_trailing_newline_stripped_from_secret_stdin(keyring_entries: dict) -> None:
    assert add(secret="abc\r").exit_code == 0
    assert keyring_entries[("smsctl", "sms/prod")] == "abc"


def test_re_adding_same_values_is_success_without_change(config_file: Path) -> None:
    assert add().exit_code == 0
    before = config_file.read_text()
    again = add()
    assert again.exit_code == 0
    assert "nothing changed" in again.stdout
    assert config_file.read_text() == before
    assert (
        invoke(
            "--json", "account", "add", "prod", "--access-key-id", AK, "--secret-stdin", input="x\n"
        ).json()["changed"]
        is False
    )


def test_adding_with_other_values_fails_and_points_to_edit(config_file: Path) -> None:
    add()
    before = config_file.read_text()
    result = invoke(
        "account", "add", "prod", "--access-key-id", "LTAIother1", "--secret-stdin", input="x\n"
    )
    assert result.exit_code == 3
    assert "account edit prod" in result.stderr
    assert config_file.read_text() == before


def test_no_secret_and_no_tty_is_exit_4_and_nothing_written(
    config_file: Path, keyring_entries: dict
) -> None:
    result = invoke("account", "add", "prod", "--access-key-id", AK)
    assert result.exit_code == 4
    assert "SMSCTL_SECRET_SMS_PROD" in result.stderr
    assert not config_file.exists()
    assert keyring_entries == {}


def test_env_secret_means_no_keyring_needed(monkeypatch, config_file: Path) -> None:
    monkeypatch.setenv("SMSCTL_SECRET_SMS_CI", CANARY)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "tests.support.memory_keyring.BrokenKeyring")
    result = invoke("--no-input", "account", "add", "ci", "--access-key-id", AK)
    assert result.exit_code == 0, result.all_output
    assert "env SMSCTL_SECRET_SMS_CI" in result.stdout
    shown = invoke("--json", "account", "show", "ci").json()
    assert shown["secret"] == {"source": "env", "name": "SMSCTL_SECRET_SMS_CI", "reason": None}


def test_keyring_failure_writes_no_account(monkeypatch, config_file: Path) -> None:
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "tests.support.memory_keyring.LockedKeyring")
    result = add()
    assert result.exit_code == 4
    assert "locked" in result.stderr
    assert not config_file.exists() or "prod" not in config_file.read_text()


def test_config_write_failure_removes_the_stored_secret(monkeypatch, keyring_entries) -> None:
    import smsctl.core.config as config_module

    def fail(*_a, **_k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(config_module.ConfigStore, "_write_atomically", fail)
    result = add()
    assert result.exit_code == 3
    assert "No space left on device" in result.stderr
    assert keyring_entries == {}


@pytest.mark.parametrize("name", ["bad name", "-x", "a/b", "x" * 65, "ünï", ""])
def test_invalid_names_are_usage_errors(name: str, config_file: Path) -> None:
    result = add(name)
    assert result.exit_code == 2
    assert not config_file.exists()


def test_plain_http_endpoint_only_for_loopback(config_file: Path) -> None:
    assert add("a", "--endpoint", "http://127.0.0.1:8080").exit_code == 0
    refused = add("b", "--endpoint", "http://sms.example.com")
    assert refused.exit_code == 2
    assert "--allow-insecure-endpoint" in refused.stderr
    assert (
        add("b", "--endpoint", "http://sms.example.com", "--allow-insecure-endpoint").exit_code == 0
    )
    assert add("c", "--endpoint", "ftp://x").exit_code == 2


def test_list_and_show_mask_the_access_key_id() -> None:
    add("prod", "--note", "main")
    listed = invoke("--json", "account", "list").json()
    assert listed == [
        {
            "name": "prod",
            "channel": "sms",
            "provider": "alibaba",
            "credential": {"mode": "access-key", "expires_at": None},
            "access_key_id": "LTAI****0001",
            "endpoint": None,
            "region": None,
            "allow_insecure_endpoint": False,
            "enabled": True,
            "note": "main",
            "secret_command": None,
            "active": False,
        }
    ]
    human = invoke("account", "list")
    assert "LTAI****0001" in human.stdout
    assert AK not in human.stdout
    shown = invoke("--json", "account", "show", "prod").json()
    assert shown["secret"] == {"source": "keyring", "name": "smsctl: sms/prod", "reason": None}
    assert "set (keyring)" in invoke("account", "show", "prod").stdout


def test_empty_list_is_an_empty_json_array() -> None:
    result = invoke("account", "list", "--json")
    assert result.exit_code == 0
    assert result.json() == []


def test_edit_rename_moves_the_keyring_entry(keyring_entries: dict, config_file: Path) -> None:
    add()
    result = invoke("account", "edit", "prod", "--rename", "main", "--region", "cn-shanghai")
    assert result.exit_code == 0, result.all_output
    assert ("smsctl", "sms/main") in keyring_entries
    assert ("smsctl", "sms/prod") not in keyring_entries
    assert invoke("--json", "account", "show", "main").json()["region"] == "cn-shanghai"


def test_edit_rotate_secret(keyring_entries: dict) -> None:
    add()
    result = invoke(
        "account", "edit", "prod", "--rotate-secret", "--secret-stdin", input="new-secret-1\n"
    )
    assert result.exit_code == 0, result.all_output
    assert keyring_entries[("smsctl", "sms/prod")] == "new-secret-1"


def test_edit_nothing_or_unknown_account() -> None:
    add()
    assert invoke("account", "edit", "prod").exit_code == 2
    unknown = invoke("account", "edit", "prd", "--note", "x")
    assert unknown.exit_code == 3
    assert "Did you mean `prod`" in unknown.stderr


def test_enable_disable() -> None:
    add()
    assert invoke("account", "disable", "prod").exit_code == 0
    assert invoke("--json", "account", "show", "prod").json()["enabled"] is False
    assert invoke("account", "enable", "prod").exit_code == 0
    assert invoke("--json", "account", "show", "prod").json()["enabled"] is True


def test_delete_needs_yes_without_a_tty_then_removes_entry(
    keyring_entries: dict, config_file: Path
) -> None:
    add()
    refused = invoke("account", "delete", "prod")
    assert refused.exit_code == 3
    assert "--yes" in refused.stderr
    assert "prod" in config_file.read_text()
    done = invoke("--json", "account", "delete", "prod", "--yes")
    assert done.exit_code == 0
    assert done.json()["keyring_entry_deleted"] is True
    assert keyring_entries == {}
    assert "prod" not in config_file.read_text()


def test_declined_prompt_is_exit_1_aborted(monkeypatch) -> None:
    from smsctl.cli.context import AppContext

    add()
    monkeypatch.setattr(AppContext, "can_prompt", lambda self: True)
    result = invoke("account", "delete", "prod", input="n\n")
    assert result.exit_code == 1
    assert "Aborted" in result.stderr


def test_json_errors_go_to_stderr_and_stdout_stays_empty() -> None:
    result = invoke("--json", "account", "show", "nope")
    assert result.exit_code == 3
    assert result.stdout == ""
    error = result.error()
    assert error["type"] == "config"
    assert error["message"] == "Unknown account `nope`."


def test_usage_errors_are_exit_2_also_in_json() -> None:
    assert invoke("account", "add", "x").exit_code == 2
    result = invoke("--json", "account", "add")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.error()["type"] == "usage"


def test_global_flags_work_after_the_subcommand() -> None:
    add()
    assert invoke("account", "list", "--json").json()[0]["name"] == "prod"


def test_an_edit_that_changes_nothing_says_so_in_its_own_words(keyring_entries: dict) -> None:
    add()
    first = invoke("account", "edit", "prod", "--note", "hello")
    assert first.exit_code == 0, first.all_output
    again = invoke("account", "edit", "prod", "--note", "hello")
    assert again.exit_code == 0, again.all_output
    assert "already has these values; nothing changed" in again.all_output
    assert "already exists" not in again.all_output


def test_renaming_an_account_whose_secret_is_in_the_environment_names_the_new_variable(
    monkeypatch, keyring_entries: dict
) -> None:
    add()
    monkeypatch.setenv("SMSCTL_SECRET_SMS_PROD", CANARY)
    result = invoke("account", "edit", "prod", "--rename", "main")
    assert result.exit_code == 0, result.all_output
    assert "SMSCTL_SECRET_SMS_PROD" in result.stderr and "SMSCTL_SECRET_SMS_MAIN" in result.stderr
    assert CANARY not in result.all_output
