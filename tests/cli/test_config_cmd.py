from __future__ import annotations

from pathlib import Path

from tests.conftest import CANARY
from tests.support.cli import invoke


def add_account(name: str = "prod") -> None:
    result = invoke(
        "account",
        "add",
        name,
        "--access-key-id",
        "LTAI5tTEST0001",
        "--region",
        "cn-hangzhou",
        "--secret-stdin",
        input=CANARY + "\n",
    )
    assert result.exit_code == 0, result.all_output


def test_config_path_and_its_source(config_file: Path, tmp_path: Path) -> None:
    result = invoke("--json", "config", "path")
    assert result.json() == {
        "path": str(config_file),
        "source": "env SMSCTL_CONFIG",
        "exists": False,
    }
    flagged = invoke("config", "path", "--config", str(tmp_path / "other.toml"))
    assert flagged.stdout.strip() == str(tmp_path / "other.toml")
    assert (
        invoke("--json", "--config", "x.toml", "config", "path").json()["source"] == "flag --config"
    )


def test_config_show_sources_and_never_a_secret(config_file: Path, monkeypatch) -> None:
    add_account("prod")
    add_account("ci")
    monkeypatch.setenv("SMSCTL_SECRET_SMS_CI", "env-" + CANARY)
    result = invoke("--json", "config", "show")
    assert result.exit_code == 0, result.all_output
    settings = {s["key"]: s for s in result.json()["settings"]}
    assert settings["defaults.timeout"] == {
        "key": "defaults.timeout",
        "value": 10.0,
        "source": "default",
    }
    assert settings["sms.accounts.prod.region"]["source"].startswith(f"file {config_file}:")
    assert settings["sms.accounts.prod.access_key_id"]["value"] == "LTAI****0001"
    assert settings["sms.accounts.prod.secret"] == {
        "key": "sms.accounts.prod.secret",
        "value": {"source": "keyring", "name": "smsctl: sms/prod", "reason": None},
        "source": "keyring",
    }
    assert settings["sms.accounts.ci.secret"]["value"] == {
        "source": "env",
        "name": "SMSCTL_SECRET_SMS_CI",
        "reason": None,
    }
    assert settings["sms.accounts.ci.secret"]["source"] == "env SMSCTL_SECRET_SMS_CI"
    assert settings["guard.sms.per_day"]["value"] == 10
    human = invoke("config", "show")
    assert "set (keyring)" in human.stdout and "set (env SMSCTL_SECRET_SMS_CI)" in human.stdout
    assert CANARY not in result.all_output + human.all_output


def test_config_check_ok_missing_and_broken_references(config_file: Path) -> None:
    assert "No config file yet" in invoke("config", "check").stdout
    add_account()
    assert invoke("config", "check").exit_code == 0
    config_file.write_text(
        config_file.read_text() + '\n[sms.templates.T1]\naccount = "ghost"\n'
        'scenario = "login"\napps = ["ios"]\n'
    )
    result = invoke("--json", "config", "check")
    assert result.exit_code == 3
    problems = result.error()["details"]["problems"]
    assert any("ghost" in p and "line" in p for p in problems)
    assert any("`ios`" in p for p in problems)


def test_an_edit_is_refused_on_a_file_with_a_secret_and_nothing_changes(config_file) -> None:
    add_account()
    text = (
        config_file.read_text().replace("note", 'password = "x"\nnote', 1)
        if "note" in config_file.read_text()
        else config_file.read_text()
        + '\n[sms.accounts.other]\naccess_key_id = "a"\npassword = "hunter2"\n'
    )
    config_file.write_text(text)
    result = invoke(
        "account", "add", "more", "--access-key-id", "LTAI1", "--secret-stdin", input="x\n"
    )
    assert result.exit_code == 3
    assert "secret" in result.stderr
    assert "hunter2" not in result.stderr
    assert config_file.read_text() == text


CONFIG_WITH_LINES = """\
# line 1
[defaults]
connect_timeout = 3.0

[sms]
active_account = "prod"

[sms.accounts.prod]
access_key_id = "LTAI5tTEST0001"

region = "cn-hangzhou"
[guard.sms]
per_hour = 4
"""


def test_config_show_names_the_line_of_each_key_and_default_for_the_rest(config_file) -> None:
    config_file.parent.mkdir(mode=0o700)
    config_file.write_text(CONFIG_WITH_LINES)
    config_file.chmod(0o600)
    result = invoke("--json", "config", "show", "--no-secrets")
    assert result.exit_code == 0, result.all_output
    sources = {s["key"]: s["source"] for s in result.json()["settings"]}
    at = f"file {config_file}:"
    assert sources["defaults.connect_timeout"] == at + "3"
    assert sources["defaults.timeout"] == "default"
    assert sources["sms.active_account"] == at + "6"
    assert sources["sms.accounts.prod.access_key_id"] == at + "9"
    assert sources["sms.accounts.prod.region"] == at + "11"
    assert sources["sms.accounts.prod.enabled"] == "default"  # not the table header, line 8
    assert sources["guard.sms.per_hour"] == at + "13"
    assert sources["guard.sms.per_minute"] == "default"


def test_config_show_no_secrets_reports_no_secret_source_and_asks_no_keyring(
    config_file, monkeypatch
) -> None:
    add_account("prod")
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "tests.support.memory_keyring.BrokenKeyring")
    result = invoke("--json", "config", "show", "--no-secrets")
    assert result.exit_code == 0, result.all_output
    settings = {s["key"]: s for s in result.json()["settings"]}
    assert settings["sms.accounts.prod.secret"] == {
        "key": "sms.accounts.prod.secret",
        "value": None,
        "source": "-",
    }
    human = invoke("config", "show", "--no-secrets")
    assert "not checked" in human.stdout
