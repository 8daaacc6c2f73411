"""Credential modes in the account verbs, in process with the memory keyring: the sts token kept
in the keyring, mode options checked, what each mode writes to the config."""

from __future__ import annotations

import pytest

from smsctl.sandbox.state import SANDBOX_ROLE_ARN
from tests.conftest import CANARY
from tests.support.cli import invoke

AK = "STS.NVTESTKEY0001"


@pytest.fixture
def sts_account(config_file) -> None:
    done = invoke(
        "account", "add", "tmp", "--credential", "sts", "--access-key-id", AK, "--secret-stdin",
        input="the-secret\n",
    )  # fmt: skip
    assert done.exit_code == 0, done.all_output


def test_the_security_token_goes_to_its_own_keyring_entry(
    sts_account, keyring_entries, config_file
) -> None:
    stored = invoke(
        "--json", "account", "edit", "tmp", "--rotate-security-token", "--secret-stdin",
        input=CANARY + "\n",
    )  # fmt: skip
    assert stored.exit_code == 0, stored.all_output
    assert stored.json()["secret"]["name"] == "smsctl: sms/tmp/security-token"
    assert CANARY in keyring_entries.values() or CANARY in str(keyring_entries)
    assert CANARY not in stored.all_output + config_file.read_text()
    shown = invoke("--json", "config", "show")
    token = {s["key"]: s for s in shown.json()["settings"]}["sms.accounts.tmp.security_token"]
    assert token["value"]["source"] == "keyring"
    assert CANARY not in shown.all_output


def test_rotate_security_token_is_for_sts_accounts_alone(sts_account) -> None:
    assert invoke("account", "edit", "tmp", "--note", "x", "--rotate-security-token").exit_code == 2
    added = invoke(
        "account", "add", "plain", "--access-key-id", "LTAI5tPLAIN0001", "--secret-stdin",
        input="s\n",
    )  # fmt: skip
    assert added.exit_code == 0
    refused = invoke("account", "edit", "plain", "--rotate-security-token", "--secret-stdin",
                     input="t\n")  # fmt: skip
    assert refused.exit_code == 2
    assert "--credential sts" in refused.stderr


def test_role_mode_writes_its_keys_and_no_secret_mode_asks_for_none(
    config_file, keyring_entries
) -> None:
    added = invoke(
        "account", "add", "admin", "--credential", "ram-role-arn", "--access-key-id",
        "LTAI5tSOURCE0001", "--role-arn", SANDBOX_ROLE_ARN, "--duration", "1800",
        "--external-id", "ext", "--secret-stdin", input="src\n",
    )  # fmt: skip
    assert added.exit_code == 0, added.all_output
    text = config_file.read_text()
    assert 'credential = "ram-role-arn"' in text and "duration_seconds = 1800" in text
    ci = invoke("account", "add", "ci", "--credential", "oidc-role-arn", "--no-input")
    assert ci.exit_code == 0, ci.all_output  # nothing to ask: the CI job gives the token
    assert "sms/ci" not in keyring_entries
    bad = invoke("account", "add", "x", "--credential", "oidc-role-arn", "--role-arn", "arn:x")
    assert bad.exit_code == 2
    unknown = invoke("account", "add", "y", "--credential", "ecs-ram-role", "--access-key-id",
                     "LTAI5tY0000001")  # fmt: skip
    assert unknown.exit_code == 2


def test_a_hand_written_mode_needs_its_keys(config_file) -> None:
    config_file.parent.mkdir(parents=True, exist_ok=True)
    config_file.write_text(
        '[sms.accounts.r]\ncredential = "ram-role-arn"\naccess_key_id = "LTAI5tR"\n'
    )
    checked = invoke("config", "check")
    assert checked.exit_code == 3
    assert "role_arn" in checked.all_output


def test_a_new_mode_drops_the_old_modes_keys_and_needs_its_own(config_file) -> None:
    added = invoke(
        "account", "add", "admin", "--credential", "ram-role-arn", "--access-key-id",
        "LTAI5tSOURCE0001", "--role-arn", SANDBOX_ROLE_ARN, "--secret-stdin", input="src\n",
    )  # fmt: skip
    assert added.exit_code == 0, added.all_output
    switched = invoke("account", "edit", "admin", "--credential", "oidc-role-arn")
    assert switched.exit_code == 0, switched.all_output
    text = config_file.read_text()
    assert 'credential = "oidc-role-arn"' in text
    assert "access_key_id" not in text  # oidc-role-arn takes no AccessKey
    assert f'role_arn = "{SANDBOX_ROLE_ARN}"' in text  # it does take a role
    shown = invoke("--json", "account", "show", "admin").json()
    assert shown["secret"] == {
        "source": "none", "name": "credential mode oidc-role-arn", "reason": None,
    }  # fmt: skip

    before = config_file.read_text()
    back = invoke("--json", "account", "edit", "admin", "--credential", "access-key")
    assert back.exit_code == 2 and back.error()["code"] == "credential_incomplete"
    wrong = invoke("--json", "account", "edit", "admin", "--profile", "default")
    assert wrong.exit_code == 2 and wrong.error()["code"] == "credential_option"
    assert "--profile does not apply to credential mode oidc-role-arn" in wrong.stderr
    assert config_file.read_text() == before
