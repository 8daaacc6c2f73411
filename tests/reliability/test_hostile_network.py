"""A hostile network through the installed console script (issue 16): no secret leaves over plain
http to a host that is not loopback, whatever the route (a hand-edited config, a redirect, a
proxy); a trickling server cannot hang a command; a compression bomb cannot exhaust memory.
Also the keyring budget of a whole command, and secrets on stdin that are not UTF-8."""

from __future__ import annotations

import fcntl
import json
import os
import re
import socket
import struct
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.reliability.file_keyring import read_entries
from tests.reliability.helpers import SMSCTL, assert_error_with_hint, child_env, smsctl
from tests.support import hostile_http as hostile
from tests.support.cli import add_sandbox_sms_account

CANARY = "CANARY-s3cr3t-7f1e9a"
APP_ID = "wx0123456789abcdef"
SEND = ("--json", "send-test", "--to", "+8613812345678", "--scenario", "login",
        "--param", "code=1", "--yes")  # fmt: skip
TOKEN_OK = b'{"access_token": "tok-123456", "expires_in": 7200}'


@pytest.fixture
def serve() -> Iterator[Callable[..., hostile.HostileServer]]:
    servers: list[hostile.HostileServer] = []

    def start(behaviour: hostile.Behaviour, host: str = "127.0.0.1") -> hostile.HostileServer:
        servers.append(hostile.HostileServer(behaviour, host=host).start())
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def proxy() -> Iterator[hostile.RecordingProxy]:
    listener = hostile.RecordingProxy().start()
    yield listener
    listener.stop()


def write_config(config_file: Path, text: str) -> None:
    config_file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    config_file.write_text(text)
    config_file.chmod(0o600)


def point_account_at(config_file: Path, endpoint: str) -> None:
    text = config_file.read_text()
    start = text.index('endpoint = "') + len('endpoint = "')
    config_file.write_text(text[:start] + endpoint + text[text.index('"', start) :])


def non_loopback_endpoint(listener: hostile.HostileServer) -> str:
    """http:// to the listener at an address of this machine that is not loopback, so that a
    request that should never be made would be seen. Without such an interface: an address
    nobody answers (a request made would then end as exit 7 after the connect timeout)."""
    for _index, name in socket.if_nameindex():
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            try:
                packed = fcntl.ioctl(
                    probe.fileno(), 0x8915, struct.pack("256s", name.encode()[:15])
                )
            except OSError:  # no IPv4 address on this interface
                continue
        address = socket.inet_ntoa(packed[20:24])
        if not address.startswith("127."):
            return f"http://{address}:{listener.port}"
    return "http://10.255.255.1:9"


def wechat_env(**extra: str | None) -> dict[str, str]:
    return child_env(SMSCTL_SECRET_WECHAT_OA=CANARY, **extra)


@pytest.fixture
def sms_ready(fresh_sandbox_state, config_file: Path) -> dict:
    info = fresh_sandbox_state.info()["sms"]
    add_sandbox_sms_account(info)
    return info


def sms_sends(sandbox) -> list:
    return [p for action, p in sandbox.alibaba.state.requests if action == "SendSms"]


# --- 1. the endpoint policy on every use -----------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ("--json", "wechat", "validate", "oa"),
        ("--json", "wechat", "template", "list", "oa"),
    ],
)
def test_a_hand_edited_plain_http_wechat_endpoint_is_never_called(serve, config_file, argv):
    listener = serve(hostile.json_answer(TOKEN_OK), host="0.0.0.0")
    endpoint = non_loopback_endpoint(listener)
    write_config(
        config_file, f'[wechat.accounts.oa]\napp_id = "{APP_ID}"\nendpoint = "{endpoint}"\n'
    )
    error = assert_error_with_hint(smsctl(*argv, env=wechat_env()), 3, "insecure_endpoint")
    assert "plain http://" in error["message"]
    assert listener.requests == []


def test_doctor_reports_a_plain_http_wechat_endpoint_and_never_calls_it(serve, config_file):
    listener = serve(hostile.json_answer(TOKEN_OK), host="0.0.0.0")
    endpoint = non_loopback_endpoint(listener)
    write_config(
        config_file,
        f'[wechat]\nactive_account = "oa"\n[wechat.accounts.oa]\napp_id = "{APP_ID}"\n'
        f'endpoint = "{endpoint}"\n',
    )
    result = smsctl("--json", "doctor", "--channel", "wechat", env=wechat_env())
    assert result.exit_code == 3, result.all_output
    assert "Traceback" not in result.all_output
    assert "plain http://" in result.stdout
    assert listener.requests == []


@pytest.mark.parametrize("channel", ["sms", "voice"])
def test_a_hand_edited_plain_http_alibaba_endpoint_is_never_called(serve, config_file, channel):
    listener = serve(hostile.json_answer(), host="0.0.0.0")
    endpoint = non_loopback_endpoint(listener)
    write_config(
        config_file,
        f'[{channel}.accounts.prod]\naccess_key_id = "LTAI5tX"\nendpoint = "{endpoint}"\n',
    )
    argv = ("validate", "prod") if channel == "sms" else ("voice", "validate", "prod")
    env = child_env(**{f"SMSCTL_SECRET_{channel.upper()}_PROD": CANARY})
    assert_error_with_hint(smsctl("--json", *argv, env=env), 3, "insecure_endpoint")
    assert listener.requests == []


# --- 2. no redirects -------------------------------------------------------------------------


@pytest.mark.parametrize("status", [302, 307, 308])
def test_wechat_account_add_never_resends_the_app_secret(serve, config_file, status) -> None:
    elsewhere = serve(hostile.json_answer(TOKEN_OK))
    endpoint = serve(hostile.redirect(status, f"{elsewhere.url}/cgi-bin/stable_token"))
    result = smsctl(
        "--json", "wechat", "account", "add", "oa", "--app-id", APP_ID, "--endpoint", endpoint.url,
        env=wechat_env(),
    )  # fmt: skip
    error = assert_error_with_hint(result, 7, "REDIRECT")
    assert f"127.0.0.1:{elsewhere.port}/cgi-bin/stable_token" in error["message"]
    assert elsewhere.requests == []
    assert not config_file.exists() or "oa" not in config_file.read_text()


@pytest.mark.parametrize("status", [302, 307, 308])
def test_send_test_never_follows_a_redirect(serve, sms_ready, fresh_sandbox_state, config_file,
                                            status) -> None:  # fmt: skip
    """The redirect points at the real (emulated) provider: following it would send the SMS."""
    endpoint = serve(hostile.redirect(status, sms_ready["endpoint"] + "/"))
    point_account_at(config_file, endpoint.url)
    result = smsctl(*SEND, env=child_env(SMSCTL_SECRET_SMS_PROD=sms_ready["access_key_secret"]))
    error = assert_error_with_hint(result, 7, "Redirected")
    assert f"HTTP {status} redirect to {sms_ready['endpoint']}/" in error["message"]
    assert len(endpoint.requests) == 1
    assert sms_sends(fresh_sandbox_state) == []


# --- 3. proxies ------------------------------------------------------------------------------


def proxy_env(proxy: hostile.RecordingProxy, **extra: str | None) -> dict[str, str]:
    names = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")
    return child_env(NO_PROXY=None, no_proxy=None, **{n: proxy.url for n in names}, **extra)


def test_loopback_endpoints_never_use_the_proxy(
    proxy, sms_ready, fresh_sandbox_state, wechat_server, config_file
) -> None:
    send = smsctl(
        *SEND, env=proxy_env(proxy, SMSCTL_SECRET_SMS_PROD=sms_ready["access_key_secret"])
    )
    assert send.exit_code == 0, send.all_output
    assert len(sms_sends(fresh_sandbox_state)) == 1
    info = wechat_server.info()["wechat"]
    added = smsctl(
        "--json", "wechat", "account", "add", "oa", "--app-id", info["app_id"],
        "--endpoint", info["endpoint"],
        env=proxy_env(proxy, SMSCTL_SECRET_WECHAT_OA=info["app_secret"]),
    )  # fmt: skip
    assert added.exit_code == 0, added.all_output
    assert proxy.seen == []


def test_https_endpoints_go_through_the_proxy(proxy, config_file) -> None:
    write_config(config_file, '[sms.accounts.prod]\naccess_key_id = "LTAI5tX"\n')
    result = smsctl(
        "--json", "validate", "prod", "--check-only",
        env=child_env(NO_PROXY=None, HTTPS_PROXY=proxy.url, SMSCTL_SECRET_SMS_PROD=CANARY),
    )  # fmt: skip
    error = assert_error_with_hint(result, 7, "ConnectionFailed")
    assert "proxy" in error["message"]
    assert proxy.seen and set(proxy.seen) == {"CONNECT dysmsapi.aliyuncs.com:443 HTTP/1.0"}


# --- 5. deadlines ----------------------------------------------------------------------------

SHORT = "[defaults]\ntimeout = 0.5\ndeadline = 0.5\n"


@pytest.mark.parametrize("trickle", [hostile.slow_headers, hostile.slow_body])
def test_a_trickling_server_cannot_hang_sms(serve, config_file, trickle) -> None:
    server = serve(trickle(pause=0.05))
    write_config(
        config_file,
        f'{SHORT}[sms.accounts.prod]\naccess_key_id = "LTAI5tX"\nendpoint = "{server.url}"\n',
    )
    result = smsctl(
        "--json", "validate", "prod", "--check-only", env=child_env(SMSCTL_SECRET_SMS_PROD=CANARY)
    )
    error = assert_error_with_hint(result, 7, "ResponseLost")
    assert "0.5 s deadline" in error["message"]


@pytest.mark.parametrize("trickle", [hostile.slow_headers, hostile.slow_body])
def test_a_trickling_server_cannot_hang_wechat(serve, config_file, trickle) -> None:
    server = serve(trickle(pause=0.05))
    write_config(
        config_file,
        f'{SHORT}[wechat.accounts.oa]\napp_id = "{APP_ID}"\nendpoint = "{server.url}"\n',
    )
    error = assert_error_with_hint(
        smsctl("--json", "wechat", "validate", "oa", env=wechat_env()), 7, "TIMEOUT"
    )
    assert "0.5 s deadline" in error["message"]


# --- 6. bounded answers: memory measured -----------------------------------------------------

MEASURE = """
import json, resource, subprocess, sys
done = subprocess.run(sys.argv[1:], capture_output=True, text=True, stdin=subprocess.DEVNULL)
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"code": done.returncode, "stderr": done.stderr, "max_rss_kib": peak}))
"""


def peak_memory(argv: list[str], env: dict[str, str]) -> dict:
    """Run the console script alone under a small Python parent; its peak RSS."""
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, str(SMSCTL), *argv],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.parametrize("channel", ["sms", "wechat"])
def test_a_1_gib_compression_bomb_keeps_memory_bounded(serve, config_file, channel):
    answer = TOKEN_OK if channel == "wechat" else b'{"Code": "OK", "RequestId": "r"}'
    server = serve(hostile.send_bomb(hostile.gzip_bomb(1024, answer)))
    if channel == "wechat":
        write_config(config_file, f'[wechat.accounts.oa]\napp_id = "{APP_ID}"\n'
                     f'endpoint = "{server.url}"\n')  # fmt: skip
        argv, env = ["--json", "wechat", "validate", "oa"], wechat_env()
    else:
        write_config(config_file, '[sms.accounts.prod]\naccess_key_id = "LTAI5tX"\n'
                     f'endpoint = "{server.url}"\n')  # fmt: skip
        argv = ["--json", "validate", "prod", "--check-only"]
        # In-process, so that the exchange is measured in the process the parent waits for.
        env = child_env(SMSCTL_SECRET_SMS_PROD=CANARY, SMSCTL_PROVIDER_WORKER="0")
    run = peak_memory(argv, env)
    assert run["max_rss_kib"] < 128 * 1024, run  # inflated, it would be over 1 GiB
    assert run["code"] == 7, run["stderr"]
    assert "larger than 4 MiB" in run["stderr"]


# --- 5 (keyring) and 9: the keyring budget, secrets on stdin, the headless hint -----------------

BACKENDS = "tests.reliability.file_keyring."


@pytest.mark.parametrize("argv", [("--json", "doctor", "--offline"), ("--json", "config", "show")])
def test_a_hung_keyring_costs_one_time_limit_per_command_not_one_per_account(
    config_file, tmp_path, argv
) -> None:
    write_config(
        config_file,
        "".join(f'[sms.accounts.a{n}]\naccess_key_id = "LTAI5tX{n:02d}"\n' for n in range(12)),
    )
    calls = tmp_path / "calls"
    env = child_env(
        PYTHON_KEYRING_BACKEND=BACKENDS + "CountingHangingKeyring",
        SMSCTL_TEST_KEYRING_CALLS=str(calls),
        SMSCTL_KEYRING_TIMEOUT="1",
    )
    result = smsctl(*argv, env=env)
    assert "Traceback" not in result.all_output
    assert result.all_output.count("keyring") >= 12, result.all_output  # each account says why
    assert calls.read_text().splitlines() == ["sms/a0"]  # asked once, then not again


def test_invalid_utf8_on_secret_stdin_is_refused_and_nothing_stored(config_file, tmp_path):
    keyring_file = tmp_path / "keyring.json"
    env = child_env(
        PYTHON_KEYRING_BACKEND=BACKENDS + "FileKeyring",
        SMSCTL_TEST_KEYRING_FILE=str(keyring_file),
        LC_ALL="C",  # Python then decodes stdin with surrogateescape
    )
    done = subprocess.run(
        [str(SMSCTL), "--json", "account", "add", "prod", "--access-key-id", "LTAI5tUTF8",
         "--secret-stdin"],
        input=b"\xff\xfe-not-utf8\n", capture_output=True, env=env, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert json.loads(done.stderr.decode().splitlines()[-1])["error"]["code"] == "secret_not_utf8"
    assert read_entries(keyring_file) == {}
    assert not config_file.exists() or "prod" not in config_file.read_text()


CHECK_HINT = """
import os
from keyring.backends import SecretService

password = os.environ["HINT_TEST_PASSWORD"]
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            assert password.encode() not in cmdline.read(), f"process {pid} shows the password"
    except OSError:
        pass
backend = SecretService.Keyring()
backend.set_password("smsctl-hint-test", "user", "value")
assert backend.get_password("smsctl-hint-test", "user") == "value"
print("keyring usable, password in no command line")
"""


@pytest.fixture
def keyring_home(tmp_path: Path) -> Iterator[Path]:
    home = tmp_path / "hint-home"
    (home / "runtime").mkdir(parents=True, mode=0o700)
    yield home
    for pid in filter(str.isdigit, os.listdir("/proc")):  # the daemon this test started, only
        try:
            environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
            name = Path(f"/proc/{pid}/comm").read_text().strip()
        except OSError:
            continue
        if name.startswith("gnome-keyring") and f"HOME={home}".encode() in environ:
            os.kill(int(pid), 15)


def test_the_headless_hint_starts_a_keyring_without_showing_its_password(keyring_home, tmp_path):
    # The hint as a user sees it: printed by a real command, through smsctl's redaction.
    shown = smsctl(
        "--no-input", "account", "add", "newacct", "--access-key-id", "LTAI5tSandboxKey0000001",
        env={**child_env(), "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"},
    )  # fmt: skip
    assert shown.exit_code == 4 and "Hint:" in shown.stderr, shown.stderr
    command = re.search(r"`(dbus-run-session -- .*?)`", shown.stderr).group(1)
    assert "****" not in command
    check = tmp_path / "check_hint.py"
    check.write_text(CHECK_HINT)
    password = "hint-keyring-pw-5c1e"
    # The hint's own command, with smsctl replaced by a check run inside the same session (an
    # older hint had the password typed into the command: PASSWORD).
    command = command.replace("PASSWORD", password).replace(
        "smsctl ...", f"{sys.executable} {check}"
    )
    env = {
        "HINT_TEST_PASSWORD": password,
        "PATH": os.environ["PATH"],
        "HOME": str(keyring_home),
        "XDG_RUNTIME_DIR": str(keyring_home / "runtime"),
        "LANG": "C.UTF-8",
    }
    done = subprocess.run(
        ["bash", "-c", command], input=password + "\n", capture_output=True, text=True, env=env,
        timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "password in no command line" in done.stdout
