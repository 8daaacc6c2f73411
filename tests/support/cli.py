"""Run smsctl in-process the way the console script does (argv -> exit code), capturing output."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from typing import Any

from typer.testing import CliRunner

from smsctl.cli.app import run


@dataclass
class Outcome:
    exit_code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)

    def error(self) -> dict[str, Any]:
        return json.loads(self.stderr.strip().splitlines()[-1])["error"]

    @property
    def all_output(self) -> str:
        return self.stdout + self.stderr


def invoke(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> Outcome:
    runner = CliRunner()
    with runner.isolation(input=input, env=env) as (out, err, _mixed):
        code = run(list(args))
        sys.stdout.flush()
        sys.stderr.flush()
        return Outcome(code, out.getvalue().decode(), err.getvalue().decode())


def add_sandbox_sms_account(info: dict[str, str], name: str = "prod") -> None:
    """What an operator does first against the sandbox: the account (secret on stdin), the Acme
    signature, the login template SMS_100000001, and `validate` to make it active."""
    for step in (
        ("account", "add", name, "--access-key-id", info["access_key_id"],
         "--endpoint", info["endpoint"], "--secret-stdin"),
        ("signature", "add", "Acme", "--account", name),
        ("template", "add", "SMS_100000001", "--account", name, "--scenario", "login"),
        ("validate", name),
    ):  # fmt: skip
        done = invoke(*step, input=info["access_key_secret"] + "\n")
        assert done.exit_code == 0, done.all_output
