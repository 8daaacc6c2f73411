"""The Alibaba Cloud credential modes through the installed console script against the sandbox
(its STS over HTTPS with the sandbox CA): each mode sends a test SMS; what cannot produce
credentials is exit 4 with nothing sent; no secret or token reaches any output."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.conftest import CANARY
from tests.e2e.conftest import smsctl

NUMBER = "13812345678"
PARAMS = '{"code": "1234", "minutes": "5"}'


@pytest.fixture
def box(fresh_sandbox_state):
    return fresh_sandbox_state


@pytest.fixture
def base_env(box) -> dict[str, str]:
    return {"SSL_CERT_FILE": box.info()["sts"]["ca_file"], "SMSCTL_NO_INPUT": "1"}


def sms_sends(box) -> int:
    return len(box.alibaba.state.sms)


def setup_account(box, add: list[str], env: dict[str, str], channel: str = "sms") -> None:
    prefix = [] if channel == "sms" else ["voice"]
    endpoint = box.info()[channel]["endpoint"]
    steps = [
        [*prefix, "account", "add", "ci", "--endpoint", endpoint, *add],
        [*prefix, "validate", "ci"],
    ]
    if channel == "sms":
        steps += [
            ["signature", "add", "Acme", "--account", "ci"],
            ["template", "add", "SMS_100000002", "--account", "ci", "--scenario", "register"],
        ]
    for step in steps:
        done = smsctl("--json", *step, env=env)
        assert done.exit_code == 0, (step, done.stdout, done.stderr)


def send(env: dict[str, str], *extra: str, to: str = NUMBER):
    return smsctl(
        "--json", *extra, "send-test", "--to", to, "--scenario", "register",
        "--params-json", PARAMS, "--yes", env=env,
    )  # fmt: skip


def sts_add(box) -> list[str]:
    info = box.info()
    return [
        "--credential", "ram-role-arn", "--access-key-id", info["sms"]["access_key_id"],
        "--role-arn", info["sts"]["role_arn"], "--sts-endpoint", info["sts"]["endpoint"],
        "--role-session-name", "ci-job",
    ]  # fmt: skip


def test_ram_role_arn_sends_with_the_role_session(box, base_env, config_file: Path) -> None:
    env = {**base_env, "SMSCTL_SECRET_SMS_CI": box.info()["sms"]["access_key_secret"]}
    setup_account(box, sts_add(box), env)
    before = sms_sends(box)
    sent = send(env, "-v")
    assert sent.exit_code == 0, sent.stderr
    assert sms_sends(box) == before + 1
    assert "credential ram-role-arn" in sent.stderr
    assert "expires" in sent.stderr
    sessions = list(box.alibaba.state.sts_sessions.values())
    assert sessions and all(s.role_arn == box.info()["sts"]["role_arn"] for s in sessions)
    for session in sessions:  # the role session's secret and token leak nowhere
        for text in (sent.stdout, sent.stderr, config_file.read_text()):
            assert session.access_key_secret not in text
            assert session.security_token not in text
    shown = smsctl("--json", "account", "show", "ci", env=env)
    assert shown.json()["credential"] == {"mode": "ram-role-arn", "expires_at": None}


def test_wrong_role_arn_is_exit_4_and_nothing_sent(box, base_env) -> None:
    env = {**base_env, "SMSCTL_SECRET_SMS_CI": box.info()["sms"]["access_key_secret"]}
    setup_account(box, sts_add(box), env)
    edited = smsctl("account", "edit", "ci", "--role-arn", "acs:ram::1:role/missing", env=env)
    assert edited.exit_code == 0, edited.stderr
    before = sms_sends(box)
    sent = send(env)
    assert sent.exit_code == 4, sent.stderr
    assert "EntityNotExist.Role" in sent.stderr and "nothing was sent" in sent.stderr
    # stderr is smsctl's error alone: the library's own log (which quotes STS answers) is off
    assert json.loads(sent.stderr)["error"]["code"] == "EntityNotExist.Role"
    assert sms_sends(box) == before


def oidc_env(box, base_env, token_file: Path) -> dict[str, str]:
    info = box.info()["sts"]
    return {
        **base_env,
        "ALIBABA_CLOUD_ROLE_ARN": info["role_arn"],
        "ALIBABA_CLOUD_OIDC_PROVIDER_ARN": info["oidc_provider_arn"],
        "ALIBABA_CLOUD_OIDC_TOKEN_FILE": str(token_file),
    }


OIDC_TOKEN = f"eyJhbGciOiJSUzI1NiJ9.{CANARY}.c2lnbmF0dXJl"


def test_oidc_role_arn_needs_no_long_lived_secret(box, base_env, tmp_path, config_file) -> None:
    token_file = tmp_path / "oidc-token"
    token_file.write_text(OIDC_TOKEN)
    env = oidc_env(box, base_env, token_file)
    add = ["--credential", "oidc-role-arn", "--sts-endpoint", box.info()["sts"]["endpoint"]]
    setup_account(box, add, env)
    before = sms_sends(box)
    sent = send(env, "-v")
    assert sent.exit_code == 0, sent.stderr
    assert sms_sends(box) == before + 1
    for text in (sent.stdout, sent.stderr, config_file.read_text()):
        assert CANARY not in text
    doctor = smsctl("--json", "doctor", "--channel", "sms", env=env)
    assert CANARY not in doctor.stdout + doctor.stderr
    checks = {c["check"]: c for c in doctor.json()["checks"]}
    assert "expires" in checks["account ci: credentials"]["detail"], checks


def test_oidc_voice_call(box, base_env, tmp_path) -> None:
    token_file = tmp_path / "oidc-token"
    token_file.write_text(OIDC_TOKEN)
    env = oidc_env(box, base_env, token_file)
    add = ["--credential", "oidc-role-arn", "--sts-endpoint", box.info()["sts"]["endpoint"]]
    setup_account(box, add, env, channel="voice")
    added = smsctl(
        "voice", "template", "add", "TTS_100000001", "--account", "ci", "--scenario", "login",
        "--content", "您的验证码是${code}，请在5分钟内输入。", env=env,
    )  # fmt: skip
    assert added.exit_code == 0, added.stderr
    called = smsctl(
        "--json", "voice", "send-test", "--to", NUMBER, "--scenario", "login",
        "--param", "code=4711", "--yes", env=env,
    )  # fmt: skip
    assert called.exit_code == 0, called.stderr
    assert len(box.alibaba.state.calls) == 1


def test_unreadable_oidc_token_file_is_exit_4(box, base_env, tmp_path) -> None:
    token_file = tmp_path / "oidc-token"
    token_file.write_text(OIDC_TOKEN)
    env = oidc_env(box, base_env, token_file)
    add = ["--credential", "oidc-role-arn", "--sts-endpoint", box.info()["sts"]["endpoint"]]
    setup_account(box, add, env)
    before = sms_sends(box)
    sent = send({**env, "ALIBABA_CLOUD_OIDC_TOKEN_FILE": str(tmp_path / "absent")})
    assert sent.exit_code == 4, sent.stderr
    error = json.loads(sent.stderr)["error"]
    assert error["code"] == "oidc_token_unreadable"
    assert "nothing was sent" in error["message"]
    assert sms_sends(box) == before


def test_sts_mode_and_its_expired_token(box, base_env, config_file) -> None:
    state = box.alibaba.state
    session = state.issue_session(box.info()["sts"]["role_arn"], "given", 900)
    env = {
        **base_env,
        "SMSCTL_SECRET_SMS_CI": session.access_key_secret,
        "SMSCTL_SECURITY_TOKEN_SMS_CI": session.security_token,
    }
    setup_account(box, ["--credential", "sts", "--access-key-id", session.access_key_id], env)
    before = sms_sends(box)
    sent = send(env)
    assert sent.exit_code == 0, sent.stderr
    assert session.security_token not in sent.stdout + sent.stderr + config_file.read_text()
    state.advance_clock(901)
    expired = send(env, to="13812345679")  # another number: the test-send guard allows it
    assert expired.exit_code == 4, expired.stderr
    assert "InvalidSecurityToken.Expired" in expired.stderr
    assert sms_sends(box) == before + 1
    missing = send({**env, "SMSCTL_SECURITY_TOKEN_SMS_CI": ""}, to="13812345670")
    assert missing.exit_code == 4
    assert json.loads(missing.stderr)["error"]["code"] == "security_token_missing"


def write_profile(home: Path, profiles: list[dict], current: str) -> None:
    folder = home / ".aliyun"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(
        json.dumps({"current": current, "profiles": profiles, "meta_path": ""}, indent=2)
    )


def test_aliyun_cli_profile_ak_and_sts_token(box, base_env, config_file) -> None:
    info = box.info()["sms"]
    session = box.alibaba.state.issue_session(box.info()["sts"]["role_arn"], "cli", 3600)
    write_profile(
        Path(os.environ["HOME"]),
        [
            {"name": "default", "mode": "AK", "access_key_id": info["access_key_id"],
             "access_key_secret": info["access_key_secret"], "region_id": "cn-hangzhou"},
            {"name": "ops", "mode": "StsToken", "access_key_id": session.access_key_id,
             "access_key_secret": session.access_key_secret, "sts_token": session.security_token,
             "region_id": "cn-hangzhou"},
        ],
        current="default",
    )  # fmt: skip
    setup_account(box, ["--credential", "aliyun-cli-profile"], base_env)
    first = send(base_env)
    assert first.exit_code == 0, first.stderr
    edited = smsctl("account", "edit", "ci", "--profile", "ops", env=base_env)
    assert edited.exit_code == 0, edited.stderr
    second = send(base_env, to="13812345679")
    assert second.exit_code == 0, second.stderr
    texts = first.stdout + first.stderr + second.stdout + second.stderr + config_file.read_text()
    assert info["access_key_secret"] not in texts
    assert session.security_token not in texts


def test_aliyun_cli_profile_missing_is_exit_4(box, base_env) -> None:
    setup = smsctl(
        "account", "add", "ci", "--endpoint", box.info()["sms"]["endpoint"],
        "--credential", "aliyun-cli-profile", "--profile", "nope", env=base_env,
    )  # fmt: skip
    assert setup.exit_code == 0, setup.stderr
    checked = smsctl("validate", "ci", env=base_env)
    assert checked.exit_code == 4, checked.stderr
    assert "aliyun" in checked.stderr


def test_mode_options_are_checked(box, base_env) -> None:
    wrong = smsctl(
        "account", "add", "ci", "--access-key-id", "LTAI5tAAAA", "--role-arn", "acs:ram::1:role/x",
        env=base_env,
    )  # fmt: skip
    assert wrong.exit_code == 2
    assert "--role-arn" in wrong.stderr
    missing = smsctl(
        "account", "add", "ci", "--credential", "ram-role-arn", "--access-key-id", "LTAI5tAAAA",
        env=base_env,
    )  # fmt: skip
    assert missing.exit_code == 2
    assert "--role-arn" in missing.stderr


def all_text(state_dir: Path, config_file: Path, *runs) -> str:
    files = [config_file, *sorted(state_dir.rglob("*.jsonl"))]
    return "".join(r.stdout + r.stderr for r in runs) + "".join(f.read_text() for f in files)


def test_role_session_canaries_leak_nowhere(box, base_env, config_file, state_dir) -> None:
    """The temporary AccessKey secret and token STS issues, through every command that uses or
    shows the account, -v, the audit log and SMSCTL_DEBUG tracebacks."""
    env = {**base_env, "SMSCTL_SECRET_SMS_CI": box.info()["sms"]["access_key_secret"]}
    setup_account(box, sts_add(box), env)
    box.alibaba.state.next_session = {"secret": CANARY + "-sk", "token": CANARY + "-tok"}
    runs = [
        send({**env, "SMSCTL_DEBUG": "1"}, "-v"),
        smsctl("-v", "account", "show", "ci", env=env),
        smsctl("-v", "config", "show", env=env),
        smsctl("-v", "doctor", "--channel", "sms", env=env),
    ]
    box.alibaba.state.advance_clock(7200)  # a later run on a later clock: a new session
    runs.append(send({**env, "SMSCTL_DEBUG": "1"}, "-v", to="13812345679"))
    assert runs[0].exit_code == 0, runs[0].stderr
    assert any(s.security_token == CANARY + "-tok" for s in box.alibaba.state.sts_sessions.values())
    assert CANARY not in all_text(state_dir, config_file, *runs)


def test_sts_token_canary_leaks_nowhere(box, base_env, config_file, state_dir) -> None:
    session = box.alibaba.state.issue_session(
        box.info()["sts"]["role_arn"], "given", 900, secret=CANARY + "-sk", token=CANARY + "-tok"
    )
    env = {
        **base_env,
        "SMSCTL_SECRET_SMS_CI": session.access_key_secret,
        "SMSCTL_SECURITY_TOKEN_SMS_CI": session.security_token,
    }
    setup_account(box, ["--credential", "sts", "--access-key-id", session.access_key_id], env)
    runs = [send({**env, "SMSCTL_DEBUG": "1"}, "-v"), smsctl("-v", "config", "show", env=env)]
    assert runs[0].exit_code == 0, runs[0].stderr
    wrong = send({**env, "SMSCTL_SECURITY_TOKEN_SMS_CI": CANARY + "-other"}, to="13812345679")
    assert wrong.exit_code == 4
    assert "InvalidSecurityToken.Malformed" in wrong.stderr
    assert CANARY not in all_text(state_dir, config_file, *runs, wrong)


def assume_role_calls(box) -> int:
    return sum(1 for action, _ in box.alibaba.state.requests if action == "AssumeRole")


def test_the_file_cache_is_opt_in_0600_and_respects_expiry(box, base_env, state_dir) -> None:
    env = {**base_env, "SMSCTL_SECRET_SMS_CI": box.info()["sms"]["access_key_secret"]}
    setup_account(box, sts_add(box), env)
    cache = state_dir / "credentials-cache.json"
    assert not cache.exists()  # without the opt-in nothing is kept between runs
    calls = assume_role_calls(box)
    assert send(env).exit_code == 0
    assert assume_role_calls(box) == calls + 1 and not cache.exists()
    assert smsctl("account", "edit", "ci", "--credential-cache", env=env).exit_code == 0
    first = send(env, to="13812345679")
    assert first.exit_code == 0, first.stderr
    assert oct(cache.stat().st_mode & 0o777) == "0o600"
    calls = assume_role_calls(box)
    again = send(env, to="13812345670")
    assert again.exit_code == 0, again.stderr
    assert assume_role_calls(box) == calls  # the cached session signed it
    shown = smsctl("--json", "account", "show", "ci", env={**env, "TZ": "UTC"}).json()
    expires = shown["credential"]["expires_at"]
    assert shown["credential"]["mode"] == "ram-role-arn" and "+00:00" in expires
    human = smsctl("account", "show", "ci", env={**env, "TZ": "UTC"})
    assert "cached session expires" in human.stdout
    later = {**env, "SMSCTL_FAKE_NOW": "2099-01-01T00:00:00+00:00"}
    assert smsctl("--json", "account", "show", "ci", env=later).json()["credential"] == {
        "mode": "ram-role-arn",
        "expires_at": None,
    }


def test_a_revoked_cached_session_is_exit_4_then_dropped(box, base_env, state_dir) -> None:
    env = {**base_env, "SMSCTL_SECRET_SMS_CI": box.info()["sms"]["access_key_secret"]}
    setup_account(box, [*sts_add(box), "--credential-cache"], env)
    state = box.alibaba.state
    for session in list(state.sts_sessions.values()):  # revoked at the provider
        session.expires_at = int(state.now())
    before = sms_sends(box)
    refused = send(env)
    assert refused.exit_code == 4, refused.stderr
    error = json.loads(refused.stderr)["error"]
    assert error["code"] == "InvalidSecurityToken.Expired"
    assert "run again" in error["hint"]
    assert sms_sends(box) == before
    calls = assume_role_calls(box)
    again = send(env, to="13812345679")
    assert again.exit_code == 0, again.stderr
    assert assume_role_calls(box) == calls + 1  # a new session, not the refused one


def test_config_show_names_the_mode_token_source_and_cached_expiry(box, base_env) -> None:
    env = {**base_env, "SMSCTL_SECRET_SMS_CI": box.info()["sms"]["access_key_secret"]}
    setup_account(box, [*sts_add(box), "--credential-cache"], env)
    shown = smsctl("--json", "config", "show", env={**env, "TZ": "UTC"})
    settings = {s["key"]: s for s in shown.json()["settings"]}
    assert settings["sms.accounts.ci.credential"]["value"] == "ram-role-arn"
    expires = settings["sms.accounts.ci.credential_expires_at"]
    assert expires["source"] == "cache" and "+00:00" in expires["value"]
    session = box.alibaba.state.issue_session(box.info()["sts"]["role_arn"], "s", 900)
    token_env = {**env, "SMSCTL_SECURITY_TOKEN_SMS_TMP": session.security_token}
    added = smsctl(
        "account", "add", "tmp", "--credential", "sts", "--access-key-id", session.access_key_id,
        env={**token_env, "SMSCTL_SECRET_SMS_TMP": session.access_key_secret},
    )  # fmt: skip
    assert added.exit_code == 0, added.stderr
    shown = smsctl("--json", "config", "show", env=token_env)
    token = {s["key"]: s for s in shown.json()["settings"]}["sms.accounts.tmp.security_token"]
    assert token["value"] == {"source": "env", "name": "SMSCTL_SECURITY_TOKEN_SMS_TMP",
                              "reason": None}  # fmt: skip
    assert session.security_token not in shown.stdout + shown.stderr


def test_an_untrusted_sts_certificate_is_exit_4_naming_ssl_cert_file(box, base_env) -> None:
    env = {**base_env, "SMSCTL_SECRET_SMS_CI": box.info()["sms"]["access_key_secret"]}
    setup_account(box, sts_add(box), env)
    before = sms_sends(box)
    untrusted = {k: v for k, v in env.items() if k != "SSL_CERT_FILE"}
    checked = send(untrusted)
    assert checked.exit_code == 4, checked.stdout + checked.stderr
    error = json.loads(checked.stderr)["error"]
    assert error["code"] == "STSTLSError" and "SSL_CERT_FILE" in error["hint"]
    assert sms_sends(box) == before
