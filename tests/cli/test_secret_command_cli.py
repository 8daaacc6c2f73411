"""The account verbs, config show, doctor and -v with an account whose secret comes from its
secret_command: real programs in a tmp dir, in-process against the sandbox."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from smsctl.sandbox import wechat as sbx
from tests.conftest import CANARY
from tests.support.cli import invoke
from tests.support.programs import failing, printing, runs

AK = "LTAI5tTEST0001"
FAILING_KEYRING = "keyring.backends.fail.Keyring"


@pytest.fixture
def no_keyring(monkeypatch) -> None:
    """Any keyring access fails loudly: an account with a command never needs one."""
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", FAILING_KEYRING)


def add(name: str, command: Path | str, *extra: str):
    return invoke("--json", "account", "add", name, "--access-key-id", AK,
                  "--secret-command", str(command), *extra)  # fmt: skip


def everything(*results, files: tuple[Path, ...] = ()) -> str:
    text = "".join(r.stdout + r.stderr for r in results)
    return text + "".join(f.read_text() for f in files if f.exists())


def test_add_writes_the_command_stores_nothing_and_says_where_the_secret_comes_from(
    tmp_path: Path, config_file: Path, state_dir: Path, keyring_entries: dict
) -> None:
    get = printing(tmp_path, CANARY)
    added = add("prod", f"{get} --field 'my secret'")
    assert added.exit_code == 0, added.all_output
    assert added.json()["secret"] == {
        "source": "command",
        "name": f"{get} --field 'my secret'",
        "reason": None,
    }
    assert f'secret_command = ["{get}", "--field", "my secret"]' in config_file.read_text()
    assert keyring_entries == {}
    assert runs(get) == 0  # Alibaba accounts are not checked when added: `validate` does
    [record] = [json.loads(line) for line in (state_dir / "audit.jsonl").read_text().splitlines()]
    assert record["secret"] == "read by its secret_command, not stored"

    shown = invoke("--json", "account", "show", "prod").json()
    assert shown["secret_command"] == [str(get), "--field", "my secret"]
    assert shown["secret"]["source"] == "command"
    human = invoke("account", "show", "prod")
    assert f"secret_command           {get} --field 'my secret'" in human.stdout
    assert f"from command `{get} --field 'my secret'`" in human.stdout
    assert runs(get) == 0  # showing where it comes from does not run it


def test_add_again_is_idempotent_and_another_command_points_to_edit(tmp_path: Path) -> None:
    get = printing(tmp_path, CANARY)
    assert add("prod", str(get)).exit_code == 0
    again = add("prod", str(get))
    assert again.exit_code == 0 and again.json()["changed"] is False
    other = add("prod", f"{get} other")
    assert other.exit_code == 3
    assert f"--secret-command '{get} other'" in other.error()["hint"]


@pytest.mark.parametrize(
    ("command", "extra", "code"),
    [
        ("vault 'unclosed", (), "invalid_secret_command"),
        ("", (), "invalid_secret_command"),
        ("vault kv get kv/x", ("--secret-stdin",), "conflicting_options"),
    ],
)
def test_bad_secret_command_is_exit_2_and_nothing_is_written(
    command: str, extra: tuple, code: str, config_file: Path, keyring_entries: dict
) -> None:
    result = add("prod", command, *extra)
    assert result.exit_code == 2
    assert result.error()["code"] == code
    assert not config_file.exists() and keyring_entries == {}


def test_a_hand_written_string_is_a_config_error_naming_the_line(config_file: Path) -> None:
    config_file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    config_file.write_text(
        f'[sms.accounts.prod]\naccess_key_id = "{AK}"\nsecret_command = "{CANARY}"\n'
    )
    config_file.chmod(0o600)
    checked = invoke("config", "check")
    assert checked.exit_code == 3
    assert "line 3" in checked.stderr and "non-empty array of strings" in checked.stderr
    assert CANARY not in checked.all_output


def test_edit_sets_and_removes_the_command(
    tmp_path: Path, config_file: Path, keyring_entries: dict
) -> None:
    stored = invoke("account", "add", "prod", "--access-key-id", AK, "--secret-stdin",
                    input="old-keyring-secret\n")  # fmt: skip
    assert stored.exit_code == 0
    get = printing(tmp_path, CANARY)
    edited = invoke("--json", "account", "edit", "prod", "--secret-command", str(get))
    assert edited.exit_code == 0, edited.all_output
    assert edited.json()["secret"] == {"source": "command", "name": str(get), "reason": None}
    assert "is no longer read" in edited.stderr
    assert keyring_entries[("smsctl", "sms/prod")] == "old-keyring-secret"  # left alone
    assert invoke("--json", "account", "show", "prod").json()["secret"]["source"] == "command"

    back = invoke("account", "edit", "prod", "--no-secret-command")
    assert back.exit_code == 0, back.all_output
    assert "read from the keyring (`sms/prod`) again" in back.stderr
    assert "secret_command" not in config_file.read_text()
    assert invoke("--json", "account", "show", "prod").json()["secret"]["source"] == "keyring"
    both = invoke("account", "edit", "prod", "--secret-command", str(get), "--no-secret-command")
    assert both.exit_code == 2


def test_rotating_a_secret_a_command_reads_says_where_to_rotate_it(
    tmp_path: Path, config_file: Path, keyring_entries: dict
) -> None:
    get = printing(tmp_path, CANARY)
    assert add("prod", str(get)).exit_code == 0
    before = config_file.read_text()
    rotated = invoke("--json", "account", "edit", "prod", "--rotate-secret", "--secret-stdin",
                     input="new\n")  # fmt: skip
    assert rotated.exit_code == 2
    error = rotated.error()
    assert error["code"] == "secret_rotated_elsewhere"
    assert "rotate it in the store that command reads" in error["message"]
    assert "smsctl account edit prod --no-secret-command --rotate-secret" in error["hint"]
    assert config_file.read_text() == before and keyring_entries == {}
    assert runs(get) == 0

    moved = invoke("account", "edit", "prod", "--no-secret-command", "--rotate-secret",
                   "--secret-stdin", input="into-the-keyring\n")  # fmt: skip
    assert moved.exit_code == 0, moved.all_output
    assert keyring_entries[("smsctl", "sms/prod")] == "into-the-keyring"
    assert "secret_command" not in config_file.read_text()


def test_config_show_gives_the_command_and_the_source_without_running_it(
    tmp_path: Path, no_keyring, monkeypatch
) -> None:
    get = printing(tmp_path, CANARY)
    assert add("prod", str(get)).exit_code == 0
    monkeypatch.setenv("SMSCTL_SECRET_COMMAND_TIMEOUT", "2.5")
    settings = {s["key"]: s for s in invoke("--json", "config", "show").json()["settings"]}
    assert settings["sms.accounts.prod.secret_command"]["value"] == [str(get)]
    assert settings["sms.accounts.prod.secret"] == {
        "key": "sms.accounts.prod.secret",
        "value": {"source": "command", "name": str(get), "reason": None},
        "source": "command",
    }
    assert settings["secrets.command_timeout"] == {
        "key": "secrets.command_timeout",
        "value": 2.5,
        "source": "env SMSCTL_SECRET_COMMAND_TIMEOUT",
    }
    human = invoke("config", "show").stdout
    assert f"from command `{get}`" in human
    assert runs(get) == 0


@pytest.fixture
def sms_ready(fresh_sandbox_state, tmp_path: Path, no_keyring):
    """The active SMS account `prod`, its secret printed by a program."""
    info = fresh_sandbox_state.info()["sms"]
    get = printing(tmp_path / "bin", info["access_key_secret"])
    steps = [
        ("account", "add", "prod", "--access-key-id", info["access_key_id"],
         "--endpoint", info["endpoint"], "--secret-command", str(get)),
        ("signature", "add", "Acme", "--account", "prod"),
        ("template", "add", "SMS_100000001", "--account", "prod", "--scenario", "login"),
        ("validate", "prod"),
    ]  # fmt: skip
    for step in steps:
        result = invoke(*step)
        assert result.exit_code == 0, result.all_output
    assert runs(get) == 3  # once per command that needed the secret
    return fresh_sandbox_state, get, info


def sends(box) -> list:
    return [p for action, p in box.alibaba.state.requests if action == "SendSms"]


def test_send_test_doctor_and_verbose_with_the_command(
    sms_ready, config_file: Path, state_dir: Path
) -> None:
    box, get, info = sms_ready
    sent = invoke("-v", "--json", "send-test", "--to", "+8613812345678", "--scenario", "login",
                  "--param", "code=4711", "--yes")  # fmt: skip
    assert sent.exit_code == 0, sent.all_output
    assert len(sends(box)) == 1
    assert runs(get) == 4  # once for the whole send-test
    assert f"debug: secret command `{get.name}` for sms account `prod` ran in " in sent.stderr
    doctor = invoke("-v", "doctor", "--channel", "sms")
    assert doctor.exit_code == 0, doctor.all_output
    assert f"account prod: secret: set (command `{get}`)" in doctor.stdout
    secret = info["access_key_secret"]
    assert secret not in everything(sent, doctor, files=(config_file, state_dir / "audit.jsonl"))


def test_a_failing_command_is_exit_4_with_its_stderr_tail_and_nothing_is_sent(
    sms_ready, tmp_path: Path, monkeypatch
) -> None:
    box, _, _ = sms_ready
    bad = failing(tmp_path, stdout=CANARY, stderr="Error: permission denied (token expired)")
    edited = invoke("account", "edit", "prod", "--secret-command", f"{bad} kv/smsctl/prod")
    assert edited.exit_code == 0, edited.all_output
    monkeypatch.setenv("SMSCTL_DEBUG", "1")
    sent = invoke("-v", "--json", "send-test", "--to", "+8613812345678", "--scenario", "login",
                  "--param", "code=4711", "--yes")  # fmt: skip
    assert sent.exit_code == 4
    assert sent.stdout == ""
    error = sent.error()
    assert error["code"] == "secret_command_failed"
    assert "exit status 2" in error["message"]
    assert "Error: permission denied (token expired)" in error["message"]
    assert error["details"]["exit_status"] == 2
    assert CANARY not in sent.all_output and "Traceback" not in sent.stderr
    assert sends(box) == []
    doctor = invoke("--json", "doctor", "--channel", "sms", "--offline")
    assert doctor.exit_code == 4
    [check] = [c for c in doctor.json()["checks"] if c["check"] == "account prod: secret"]
    assert check["ok"] is False and "exit status 2" in check["detail"]
    assert CANARY not in doctor.all_output


def test_the_variable_wins_over_the_command(sms_ready, tmp_path: Path, monkeypatch) -> None:
    box, _, info = sms_ready
    bad = failing(tmp_path, stdout="", stderr="never run")
    assert invoke("account", "edit", "prod", "--secret-command", str(bad)).exit_code == 0
    monkeypatch.setenv("SMSCTL_SECRET_SMS_PROD", info["access_key_secret"])
    shown = invoke("--json", "account", "show", "prod").json()
    assert shown["secret"]["source"] == "env"
    sent = invoke("send-test", "--to", "+8613812345678", "--scenario", "login",
                  "--param", "code=4711", "--yes")  # fmt: skip
    assert sent.exit_code == 0, sent.all_output
    assert "never run" not in sent.stderr and len(sends(box)) == 1


def wechat_add(server, command: Path | str):
    return invoke("--json", "wechat", "account", "add", "oa", "--app-id", sbx.APP_ID,
                  "--endpoint", server.endpoint, "--secret-command", str(command))  # fmt: skip


def test_wechat_add_runs_the_command_once_to_verify_it(
    wechat_server, tmp_path: Path, config_file: Path, no_keyring
) -> None:
    wrong = printing(tmp_path / "wrong", "not-the-app-secret")
    refused = wechat_add(wechat_server, wrong)
    assert refused.exit_code == 4
    assert not config_file.exists()
    right = printing(tmp_path / "right", wechat_server.seed.app_secret)
    added = wechat_add(wechat_server, right)
    assert added.exit_code == 0, added.all_output
    assert (runs(wrong), runs(right)) == (1, 1)
    assert added.json()["secret"]["source"] == "command"
    assert wechat_server.seed.app_secret not in everything(refused, added, files=(config_file,))


def test_wechat_edit_changes_only_where_the_app_secret_is_read(
    wechat_server, tmp_path: Path, config_file: Path, keyring_entries: dict
) -> None:
    added = invoke("wechat", "account", "add", "oa", "--app-id", sbx.APP_ID, "--endpoint",
                   wechat_server.endpoint, "--secret-stdin",
                   input=wechat_server.seed.app_secret + "\n")  # fmt: skip
    assert added.exit_code == 0, added.all_output
    wrong = printing(tmp_path / "wrong", "not-the-app-secret")
    refused = invoke("wechat", "account", "edit", "oa", "--secret-command", str(wrong))
    assert refused.exit_code == 4 and "secret_command" not in config_file.read_text()
    right = printing(tmp_path / "right", wechat_server.seed.app_secret)
    edited = invoke("--json", "wechat", "account", "edit", "oa", "--secret-command", str(right))
    assert edited.exit_code == 0, edited.all_output
    assert f"secret_command = [{json.dumps(str(right))}]" in config_file.read_text()
    other = invoke("wechat", "account", "edit", "oa", "--app-id", "wx0000")
    assert other.exit_code == 2
    assert (
        json.loads(
            invoke("--json", "wechat", "account", "edit", "oa").stderr.strip().splitlines()[-1]
        )["error"]["code"]
        == "not_editable"
    )
    removed = invoke("wechat", "account", "edit", "oa", "--no-secret-command")
    assert removed.exit_code == 0 and "secret_command" not in config_file.read_text()
