"""Concurrency (docs/contract.md §4, §7): 32 processes changing one config file at once lose
nothing and leave a valid file and no lock; concurrent test sends to one number respect the
guard exactly."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from smsctl.core.config import ConfigStore
from tests.reliability.helpers import child_env, spawn
from tests.support.cli import add_sandbox_sms_account
from tests.support.config_lock import released

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

WRITERS = 32
NUMBER = "+8613812345678"


def _wait_all(procs: list[subprocess.Popen]) -> list[tuple[int, str, str]]:
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        results.append((proc.returncode, out, err))
    return results


def _python(script: str, path: Path, name: str, env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", script, str(path), name],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _assert_no_leftovers(config_file: Path) -> None:
    directory = config_file.parent
    assert released(directory / (config_file.name + ".lock")), "lock left held"
    assert not list(directory.glob(f".{config_file.name}.tmp-*")), "temp file left behind"


def test_32_processes_changing_one_config_lose_nothing_over_several_rounds(
    config_file: Path,
) -> None:
    names = [f"acc{i:02d}" for i in range(WRITERS)]
    env = child_env(**{f"SMSCTL_SECRET_SMS_{n.upper()}": f"secret-{n}" for n in names})

    # Round 1: 32 `account add` through the installed console script, all at once.
    results = _wait_all(
        [
            spawn("--no-input", "account", "add", n, "--access-key-id", f"LTAI5t{n}", env=env)
            for n in names
        ]
    )
    assert [r[0] for r in results] == [0] * WRITERS, [r[2] for r in results if r[0]]
    config = ConfigStore(config_file).load()
    assert sorted(config.accounts("sms")) == names
    _assert_no_leftovers(config_file)

    # Round 2: every process edits a different account (two keys each) at once, through the
    # same core function `account edit` uses.
    edit = (
        "import sys\n"
        "from pathlib import Path\n"
        "from smsctl.core import accounts\n"
        "from smsctl.core.config import ConfigStore\n"
        "from smsctl.core.secrets import SecretStore\n"
        "path, n = Path(sys.argv[1]), sys.argv[2]\n"
        "accounts.edit(ConfigStore(path), SecretStore(), 'sms', n,"
        " {'note': 'round2-' + n, 'region': 'cn-shanghai'})\n"
    )
    results = _wait_all([_python(edit, config_file, n, env) for n in names])
    assert [r[0] for r in results] == [0] * WRITERS, [r[2] for r in results if r[0]]
    accounts = ConfigStore(config_file).load().accounts("sms")
    assert {n: (accounts[n]["note"], accounts[n]["region"]) for n in names} == {
        n: (f"round2-{n}", "cn-shanghai") for n in names
    }
    _assert_no_leftovers(config_file)

    # Round 3: templates, apps and WeChat rules through the core API (`python -c`), at once.
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from smsctl.core.config import ConfigStore\n"
        "path, n = Path(sys.argv[1]), sys.argv[2]\n"
        "with ConfigStore(path).edit() as e:\n"
        "    e.set_item('sms', 'templates', 'SMS_' + n, {'account': n, 'scenario': 'login',"
        " 'content': '${code}', 'variables': ['code']})\n"
        "with ConfigStore(path).edit() as e:\n"
        "    e.ensure_app('app-' + n)\n"
        "    e.set_item('wechat', 'rules', 'rule.' + n, {'template_id': 'T' + n,"
        " 'vars': {'k': n}})\n"
    )
    procs = [_python(script, config_file, n, env) for n in names]
    results = _wait_all(procs)
    assert [r[0] for r in results] == [0] * WRITERS, [r[2] for r in results if r[0]]
    data = tomllib.loads(config_file.read_text())
    assert sorted(data["sms"]["templates"]) == [f"SMS_{n}" for n in names]
    assert sorted(data["apps"]) == [f"app-{n}" for n in names]
    assert sorted(data["wechat"]["rules"]) == [f"rule.{n}" for n in names]  # dots stay in the key
    assert all(data["wechat"]["rules"][f"rule.{n}"]["vars"] == {"k": n} for n in names)
    assert sorted(data["sms"]["accounts"]) == names  # earlier rounds survived
    ConfigStore(config_file).load()  # the whole file is still valid for smsctl
    _assert_no_leftovers(config_file)


def test_concurrent_test_sends_to_one_number_respect_the_guard_exactly(
    fresh_sandbox_state, config_file: Path, state_dir: Path
) -> None:
    limit, senders = 3, 8
    info = fresh_sandbox_state.info()["sms"]
    fresh_sandbox_state.alibaba.state.flow_control_enabled = False  # only smsctl's guard counts
    add_sandbox_sms_account(info)
    config_file.write_text(
        config_file.read_text()
        + f"\n[guard.sms]\nper_minute = {limit}\nper_hour = 100\nper_day = 100\n"
    )
    env = child_env(SMSCTL_SECRET_SMS_PROD=info["access_key_secret"])
    args = ("--json", "send-test", "--to", NUMBER, "--scenario", "login", "--param", "code=1")
    results = _wait_all([spawn(*args, "--yes", env=env) for _ in range(senders)])
    codes = sorted(r[0] for r in results)
    assert codes == [0] * limit + [6] * (senders - limit), [r[2] for r in results]
    for code, _out, err in results:
        if code == 6:
            assert '"guard_limit"' in err
    sent = [p for a, p in fresh_sandbox_state.alibaba.state.requests if a == "SendSms"]
    assert len(sent) == limit
    ledger = (state_dir / "guard.jsonl").read_text().splitlines()
    assert len(ledger) == limit
