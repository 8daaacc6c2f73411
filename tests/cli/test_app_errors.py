"""How failures reach the user: exit codes, no tracebacks, redaction even in debug mode."""

from __future__ import annotations

import pytest

from tests.conftest import CANARY
from tests.support.cli import invoke


def boom(*_args, **_kwargs):
    raise RuntimeError(f"internal failure with secret={CANARY!r}")


def test_unexpected_error_exit_1_one_line_and_how_to_get_the_traceback(monkeypatch) -> None:
    from smsctl.core.redaction import register_secret

    register_secret(CANARY)
    monkeypatch.setattr("smsctl.cli.config.schema.DEFAULTS_TABLE", None)
    result = invoke("config", "show")
    assert result.exit_code == 1
    assert "Traceback" not in result.stderr
    assert "SMSCTL_DEBUG=1" in result.stderr


def test_debug_traceback_is_redacted(monkeypatch) -> None:
    from smsctl.core import redaction

    redaction.register_secret(CANARY)
    monkeypatch.setattr("smsctl.core.accounts.summary", boom)
    monkeypatch.setenv("SMSCTL_DEBUG", "1")
    invoke("account", "add", "prod", "--access-key-id", "LTAI1", "--secret-stdin", input="x1234\n")
    result = invoke("account", "list")
    assert result.exit_code == 1
    assert "Traceback" in result.stderr
    assert CANARY not in result.stderr


def test_keyboard_interrupt_is_130(monkeypatch) -> None:
    def interrupt(*_a, **_k):
        raise KeyboardInterrupt

    monkeypatch.setattr("smsctl.core.accounts.summary", interrupt)
    invoke("account", "add", "prod", "--access-key-id", "LTAI1", "--secret-stdin", input="x1234\n")
    assert invoke("account", "list").exit_code == 130


@pytest.mark.parametrize(
    "args", [("nosuchcommand",), ("account", "add"), ("account", "list", "--bogus")]
)
def test_usage_errors_exit_2(args) -> None:
    result = invoke(*args)
    assert result.exit_code == 2
    assert "Traceback" not in result.stderr


def test_help_and_version_exit_0() -> None:
    from smsctl import __version__

    assert invoke("--help").exit_code == 0
    assert invoke("--version").stdout == f"smsctl {__version__}\n"
    assert "Exit codes" in invoke("--help").stdout


def test_verbose_says_where_things_come_from_and_never_the_secret(monkeypatch) -> None:
    from smsctl.core import debug

    monkeypatch.setattr(debug, "_enabled", False)
    monkeypatch.setenv("SMSCTL_SECRET_SMS_CI", CANARY)
    invoke(
        "account",
        "add",
        "ci",
        "--access-key-id",
        "LTAI5tVERBOSE01",
        "--endpoint",
        "http://127.0.0.1:9",
    )
    result = invoke("-v", "validate", "ci", "--check-only")
    assert result.exit_code == 7
    assert "debug: config file" in result.stderr
    assert "debug: secret of sms/ci from env SMSCTL_SECRET_SMS_CI" in result.stderr
    assert "AccessKey ID LTAI****SE01" in result.stderr
    assert "debug: Alibaba Cloud QuerySmsSignList: attempt 1" in result.stderr
    assert CANARY not in result.stderr
    quiet = invoke("validate", "ci", "--check-only")
    assert "debug:" not in quiet.stderr
