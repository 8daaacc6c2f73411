"""An account's secret_command: real programs in a tmp dir, run the way smsctl runs them."""

from __future__ import annotations

from pathlib import Path

import pytest

from smsctl.core import schema
from smsctl.core.errors import ConfigError, CredentialError, UsageError
from smsctl.core.redaction import redact
from smsctl.core.secrets import SecretStore, parse_command, run_secret_command
from tests.conftest import CANARY
from tests.support.memory_keyring import MemoryKeyring
from tests.support.programs import failing, hanging, printing, program, runs

FAILING_KEYRING = "keyring.backends.fail.Keyring"


def store_with(commands: dict, **kwargs) -> SecretStore:
    return SecretStore(commands=lambda channel, account: commands.get((channel, account)), **kwargs)


def failure(argv: list[str], timeout: float = 5.0) -> CredentialError:
    with pytest.raises(CredentialError) as caught:
        run_secret_command(argv, timeout, "sms account `prod`")
    return caught.value


def test_its_one_line_is_the_secret_without_the_end_of_line(tmp_path: Path) -> None:
    get = printing(tmp_path, CANARY)
    assert run_secret_command([str(get)], 5.0, "sms account `prod`") == CANARY
    crlf = program(tmp_path, "crlf", f"printf '%s\\r\\n' {CANARY}")
    assert run_secret_command([str(crlf)], 5.0, "x") == CANARY
    bare = program(tmp_path, "bare", f"printf '%s' {CANARY}")
    assert run_secret_command([str(bare)], 5.0, "x") == CANARY
    assert redact(f"leaked {CANARY}") == "leaked ****"


def test_the_program_is_found_on_path_and_given_its_arguments_verbatim(
    tmp_path: Path, monkeypatch
) -> None:
    program(tmp_path / "bin", "echo-args", 'printf "%s|" "$@"; echo')
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}:/usr/bin:/bin")
    assert run_secret_command(["echo-args", "a b", "$HOME", "~/x"], 5.0, "x") == "a b|$HOME|~/x|"


def test_tilde_is_expanded_in_the_program_only(tmp_path: Path) -> None:
    home = Path.home()
    program(home / "bin", "home-secret", f"echo {CANARY}")
    assert run_secret_command(["~/bin/home-secret"], 5.0, "x") == CANARY


def test_a_failing_command_is_exit_4_with_its_status_and_stderr_tail_not_its_stdout(
    tmp_path: Path,
) -> None:
    noise = "\n".join(f"noise line {n}" for n in range(30))
    err = failure(
        [str(failing(tmp_path, stdout=CANARY, stderr=noise + "\nvault: permission denied"))]
    )
    assert err.exit_code == 4 and err.code == "secret_command_failed"
    assert "exit status 2" in err.message
    assert "vault: permission denied" in err.message
    assert "noise line 0\n" not in err.message  # only the tail
    assert err.details["exit_status"] == 2
    assert CANARY not in err.message + str(err.details) + (err.hint or "")


def test_what_a_failing_command_printed_is_masked_in_its_stderr_tail(tmp_path: Path) -> None:
    echoing = failing(tmp_path, stdout=CANARY, stderr=f"could not use {CANARY}")
    err = failure([str(echoing)])
    assert "could not use ****" in err.message
    assert CANARY not in err.message + str(err.details)


def test_its_stderr_goes_through_to_ours_as_it_comes(tmp_path: Path, capsys) -> None:
    get = printing(tmp_path, CANARY, stderr="Enter the passphrase for vault (shown to you)")
    assert run_secret_command([str(get)], 5.0, "x") == CANARY
    captured = capsys.readouterr()
    assert "Enter the passphrase for vault" in captured.err
    assert CANARY not in captured.out + captured.err


def test_a_hanging_command_is_stopped_at_the_timeout(tmp_path: Path, capsys) -> None:
    err = failure([str(hanging(tmp_path))], timeout=0.3)
    assert err.code == "secret_command_timeout"
    assert "did not finish within 0.3 s" in err.message
    assert "waiting for login" in err.message  # its stderr so far
    assert "SMSCTL_SECRET_COMMAND_TIMEOUT" in (err.hint or "")


def test_a_command_whose_child_keeps_its_output_open_is_stopped_with_it(tmp_path: Path) -> None:
    forks = program(tmp_path, "forks", f"echo {CANARY}\nsleep 600 &\nexit 0")
    err = failure([str(forks)], timeout=0.3)
    assert err.code == "secret_command_timeout"


@pytest.mark.parametrize(
    ("body", "code", "words"),
    [
        ("exit 0", "secret_command_empty_output", "printed nothing"),
        ("echo", "secret_command_empty_output", "printed nothing"),
        ("printf 'a\\nb\\n'", "secret_command_bad_output", "more than one line"),
        ("printf '\\377\\376x\\n'", "secret_command_bad_output", "not valid UTF-8"),
        ("kill -9 $$", "secret_command_failed", "killed by signal 9"),
    ],
)
def test_output_that_is_no_secret_is_exit_4(tmp_path: Path, body: str, code: str, words: str):
    err = failure([str(program(tmp_path, "bad", body))])
    assert (err.exit_code, err.code) == (4, code)
    assert words in err.message


def test_a_program_that_is_missing_or_not_executable_is_exit_4(tmp_path: Path) -> None:
    missing = failure(["smsctl-no-such-program-here"])
    assert missing.code == "secret_command_not_found"
    assert "`smsctl-no-such-program-here` was not found" in missing.message
    plain = tmp_path / "not-executable"
    plain.write_text("#!/bin/sh\necho x\n")
    plain.chmod(0o644)
    assert failure([str(plain)]).code == "secret_command_not_executable"


def test_stdin_is_not_handed_to_the_command_without_a_terminal(tmp_path: Path) -> None:
    reader = program(tmp_path, "reader", "cat")
    assert failure([str(reader)]).code == "secret_command_empty_output"


def test_the_command_does_not_see_smsctls_secret_variables(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("SMSCTL_SECRET_SMS_OTHER", CANARY)
    monkeypatch.setenv("VAULT_ADDR", "http://127.0.0.1:8200")
    show = program(tmp_path, "show", 'echo "[${SMSCTL_SECRET_SMS_OTHER:-}|$VAULT_ADDR]"')
    assert run_secret_command([str(show)], 5.0, "x") == "[|http://127.0.0.1:8200]"


def test_precedence_env_then_command_then_keyring(tmp_path: Path, monkeypatch) -> None:
    get = printing(tmp_path, "from-command")
    MemoryKeyring.entries[("smsctl", "sms/prod")] = "from-keyring"
    MemoryKeyring.entries[("smsctl", "sms/other")] = "other-from-keyring"
    store = store_with({("sms", "prod"): [str(get)]})
    assert store.lookup("sms", "other").source == "keyring"
    found = store.lookup("sms", "prod")
    assert (found.value, found.source) == ("from-command", f"command {get}")
    monkeypatch.setenv("SMSCTL_SECRET_SMS_PROD", "from-env")
    assert store.require("sms", "prod") == "from-env"
    assert runs(get) == 1


def test_with_a_command_the_keyring_is_not_touched(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", FAILING_KEYRING)
    get = printing(tmp_path, CANARY)
    store = store_with({("email", "mail"): [str(get)]})
    assert store.require("email", "mail") == CANARY
    assert store.source("email", "mail").to_dict() == {
        "source": "command",
        "name": str(get),
        "reason": None,
    }
    assert store.status("email", "mail") == f"set (command `{get}`)"
    with pytest.raises(CredentialError):  # the keyring would have been a failure
        store.require("email", "other")


def test_the_command_runs_once_per_store_and_its_failure_is_remembered(tmp_path: Path) -> None:
    get = printing(tmp_path, CANARY)
    store = store_with({("sms", "prod"): [str(get)], ("voice", "prod"): [str(get)]})
    for _ in range(3):
        assert store.require("sms", "prod") == CANARY
    assert runs(get) == 1
    store.require("voice", "prod")
    assert runs(get) == 2  # another account: its own run
    assert store_with({("sms", "prod"): [str(get)]}).require("sms", "prod") == CANARY
    assert runs(get) == 3  # another run of smsctl
    bad = failing(tmp_path, stdout="", stderr="denied")
    failing_store = store_with({("sms", "prod"): [str(bad), "x"]})
    first = pytest.raises(CredentialError, failing_store.require, "sms", "prod").value
    second = pytest.raises(CredentialError, failing_store.require, "sms", "prod").value
    assert first is second
    assert "smsctl account edit prod --secret-command" in (first.hint or "")
    assert "SMSCTL_SECRET_SMS_PROD" in (first.hint or "")


def test_source_does_not_run_the_command(tmp_path: Path) -> None:
    get = printing(tmp_path, CANARY)
    store = store_with({("wechat", "oa"): [str(get), "--field", "app secret"]})
    source = store.source("wechat", "oa")
    assert source.name == f"{get} --field 'app secret'"
    assert source.describe() == f"from command `{get} --field 'app secret'`"
    assert runs(get) == 0


def test_the_timeout_comes_from_the_environment_then_the_config(monkeypatch) -> None:
    from smsctl.core.secrets import command_timeout

    assert command_timeout(None) == 10.0
    assert command_timeout(2.5) == 2.5
    monkeypatch.setenv("SMSCTL_SECRET_COMMAND_TIMEOUT", "0.5")
    assert command_timeout(2.5) == 0.5
    for bad in ("soon", "0", "nan", "-1"):
        monkeypatch.setenv("SMSCTL_SECRET_COMMAND_TIMEOUT", bad)
        with pytest.raises(ConfigError):
            command_timeout(None)


def test_command_text_is_split_like_shell_words() -> None:
    assert parse_command("vault kv get -field=secret 'kv/smsctl/my prod'") == [
        "vault", "kv", "get", "-field=secret", "kv/smsctl/my prod",
    ]  # fmt: skip
    for bad in ("", "   ", "vault 'unclosed"):
        with pytest.raises(UsageError) as caught:
            parse_command(bad)
        assert caught.value.code == "invalid_secret_command"


def test_the_schema_allows_secret_command_and_still_refuses_secrets() -> None:
    def problems(account: dict) -> list[str]:
        found = schema.validate(
            {"sms": {"accounts": {"prod": {"access_key_id": "LTAI5t", **account}}}}
        )
        return [p.describe() for p in found]

    assert problems({"secret_command": ["vault", "kv", "get", "kv/x"]}) == []
    for bad in ("vault kv get", [], [""], ["vault", 3], ["a\0b"]):
        [problem] = problems({"secret_command": bad})
        assert "secret_command" in problem
    for secret_key in ("secret", "access_key_secret", "secret_commands", "password"):
        [problem] = problems({secret_key: CANARY})
        assert "looks like a secret" in problem and CANARY not in problem
    [elsewhere] = [
        p.describe()
        for p in schema.validate({"sms": {"signatures": {"Acme": {"secret_command": ["x"]}}}})
        if "secret_command" in p.describe()
    ]
    assert "unknown key" in elsewhere
    assert schema.validate({"secrets": {"command_timeout": 2.0}}) == []
