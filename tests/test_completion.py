"""Shell completion through the real protocol: the installed console script in a subprocess with
the variables bash, zsh and fish set, the real shells where they can run unattended, and a real
interactive bash session driven through tmux."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from smsctl import completion
from smsctl.core.schema import CHANNELS, SCENARIOS

ROOT = Path(__file__).resolve().parents[1]
SMSCTL = Path(sys.executable).with_name("smsctl")
SCRIPTS = ROOT / "completions"

CONFIG = """\
[apps.ios]
[apps."my app"]

[sms]
active_account = "prod"

[sms.accounts.prod]
access_key_id = "LTAI5tProd"

[sms.accounts."ops team"]
access_key_id = "LTAI5tOps"

[sms.accounts.staging]
access_key_id = "LTAI5tStg"
enabled = false

[sms.signatures."阿里云 短信"]
account = "prod"

[sms.signatures.Acme]
account = "prod"

[sms.templates.SMS_100001]
account = "prod"
scenario = "login"

[sms.templates.SMS_100002]
account = "prod"
scenario = "alert"

[sms.templates."it's quoted"]
account = "prod"
scenario = "test"

[voice.accounts.callcenter]
access_key_id = "LTAI5tVoice"

[voice.templates.TTS_1]
account = "callcenter"
scenario = "alert"

[email.templates.welcome]
scenario = "register"
subject = "Hi"
html = "w.html"

[wechat.rules.order-shipped]
account = "mp"
template_id = "T1"
"""


def _load_generator():
    spec = importlib.util.spec_from_file_location("gen_tree", ROOT / "scripts/gen_command_tree.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def config(config_file: Path) -> Path:
    config_file.parent.mkdir(parents=True, exist_ok=True)
    config_file.write_text(CONFIG, encoding="utf-8")
    return config_file


def _run(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, **env}
    return subprocess.run(
        [str(SMSCTL)], env=full, capture_output=True, text=True, timeout=30, encoding="utf-8"
    )


def bash(*words: str) -> tuple[int, list[str]]:
    """COMP_WORDS as bash builds them (newline-joined, quotes as typed), cursor on the last."""
    done = _run(
        {
            "_SMSCTL_COMPLETE": "complete_bash",
            "COMP_WORDS": "\n".join(["smsctl", *words]),
            "COMP_CWORD": str(len(words)),
        }
    )
    assert done.stderr == ""
    return done.returncode, done.stdout.splitlines()


def line(shell: str, text: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return _run({"_SMSCTL_COMPLETE": f"complete_{shell}", "_TYPER_COMPLETE_ARGS": text, **extra})


def fish(text: str) -> list[str]:
    done = line("fish", text, _TYPER_COMPLETE_FISH_ACTION="get-args")
    assert done.returncode == 0, done.stderr
    return [row.split("\t")[0] for row in done.stdout.splitlines()]


# --- bash protocol ---------------------------------------------------------------------------


def test_bash_top_level_commands_are_the_real_ones(config: Path) -> None:
    tree = _load_generator().build_tree()
    expected = [n for n, node in tree["root"]["commands"].items() if not node.get("hidden")]
    code, out = bash("")
    assert code == 0
    assert out == expected
    assert {"account", "template", "send-test", "config"} <= set(out)
    assert bash("te") == (0, ["template"])


def test_bash_subcommands_options_and_values(config: Path) -> None:
    assert bash("config", "") == (0, ["path", "show", "check"])
    code, out = bash("send-test", "--sc")
    assert (code, out) == (0, ["--scenario"])
    assert bash("send-test", "--scenario", "") == (0, list(SCENARIOS))
    assert bash("template", "list", "--scenario", "re") == (0, ["register", "reset-password"])
    assert bash("log", "--channel", "") == (0, list(CHANNELS))
    # an option already given is not offered again; a global option is offered anywhere
    _code, out = bash("template", "edit", "SMS_100001", "--default", "--")
    assert "--default" not in out and "--no-default" not in out
    assert "--scenario" in out and "--json" in out and "--config" in out
    # --version is a root option only (the CLI rejects it elsewhere)
    assert "--version" in bash("--")[1]
    assert "--version" not in bash("account", "list", "--")[1]


def test_bash_live_names_from_the_config(config: Path) -> None:
    assert bash("account", "show", "") == (0, ["ops\\ team", "prod", "staging"])
    assert bash("account", "enable", "st") == (0, ["staging"])
    assert bash("template", "show", "SMS") == (0, ["SMS_100001", "SMS_100002"])
    assert bash("voice", "template", "show", "") == (0, ["TTS_1"])
    assert bash("voice", "account", "show", "") == (0, ["callcenter"])
    assert bash("send-test", "--account", "p") == (0, ["prod"])
    assert bash("send-test", "--app", "") == (0, ["ios", "my\\ app"])
    assert bash("lookup", "13800138000", "--account", "p") == (0, ["prod"])
    assert bash("stats", "--account", "st") == (0, ["staging"])
    assert bash("stats", "--signature", "阿") == (0, ["阿里云\\ 短信"])
    assert bash("lookup", "") == (0, [])  # a phone number: nothing to offer
    assert bash("authorize", "revoke", "rule", "") == (0, ["order-shipped"])
    assert bash("authorize", "revoke", "") == (0, ["signature", "template", "rule"])
    assert bash("authorize", "template", "--channel", "voice", "") == (0, ["TTS_1"])
    # `add` takes a new name: existing ones are not offered
    assert bash("account", "add", "") == (0, [])


def test_bash_quoting_of_spaces_unicode_and_quotes(config: Path) -> None:
    assert bash("signature", "show", "阿") == (0, ["阿里云\\ 短信"])
    # the user opened a quote: the reply continues it (bash replaces the whole word)
    assert bash("signature", "show", "'阿") == (0, ["'阿里云 短信'"])
    assert bash("signature", "show", '"阿') == (0, ['"阿里云 短信"'])
    assert bash("account", "show", "ops\\ t") == (0, ["ops\\ team"])
    assert bash("template", "show", "it") == (0, ["it\\'s\\ quoted"])
    assert bash("template", "show", "'it") == (0, ["'it'\\''s quoted'"])


def test_bash_config_flag_in_the_words_wins(config: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.toml"
    other.write_text('[sms.accounts."from-flag"]\naccess_key_id = "X"\n', encoding="utf-8")
    assert bash("--config", str(other), "account", "show", "") == (0, ["from-flag"])
    assert bash("account", "show", "--config", str(other), "") == (0, ["from-flag"])
    # bash splits `--config=PATH` at `=` (COMP_WORDBREAKS)
    assert bash("--config", "=", str(other), "account", "show", "") == (0, ["from-flag"])
    assert bash("send-test", "--scenario", "=", "lo") == (0, ["login"])


def test_bash_file_names_left_to_the_shell_and_nothing_for_the_rejected(config: Path) -> None:
    assert bash("--config", "") == (1, [])  # exit 1, no output: the script completes files
    assert bash("nosuchcommand", "") == (0, [])
    assert bash("account", "show", "prod", "") == (0, [])  # one NAME only
    assert bash("send-test", "--to", "") == (0, [])  # free text


def test_missing_or_broken_config_gives_no_names_and_no_traceback(config_file: Path) -> None:
    assert bash("account", "show", "") == (0, [])
    config_file.parent.mkdir(parents=True, exist_ok=True)
    config_file.write_text("[sms.accounts\n", encoding="utf-8")
    assert bash("account", "show", "") == (0, [])


@pytest.mark.parametrize("kind", ["fifo", "directory", "character device"])
def test_a_config_that_is_not_a_regular_file_never_blocks_a_tab(
    config_file: Path, kind: str
) -> None:
    """A FIFO with no writer blocked every TAB forever; /dev/zero would never end."""
    config_file.parent.mkdir(parents=True, exist_ok=True)
    if kind == "fifo":
        os.mkfifo(config_file, 0o600)
        env = {}
    elif kind == "directory":
        config_file.mkdir()
        env = {}
    else:
        env = {"SMSCTL_CONFIG": "/dev/zero"}
    done = subprocess.run(
        [str(SMSCTL)],
        env={
            **os.environ,
            "_SMSCTL_COMPLETE": "complete_bash",
            "COMP_WORDS": "smsctl\naccount\nshow\n",
            "COMP_CWORD": "3",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=10,
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")


def test_names_with_control_or_format_characters_are_never_offered(config: Path) -> None:
    """The shell prints the candidates raw: a name holding ESC would drive the terminal."""
    text = config.read_text(encoding="utf-8")
    text += '[sms.templates."SMS_\\u001b]0;owned\\u0007"]\naccount = "prod"\nscenario = "test"\n'
    text += '[sms.templates."SMS_\\u202eevil"]\naccount = "prod"\nscenario = "test"\n'
    text += '[sms.templates."SMS_two\\nlines"]\naccount = "prod"\nscenario = "test"\n'
    config.write_text(text, encoding="utf-8")
    code, offered = bash("template", "show", "SMS_")
    assert code == 0
    assert offered == ["SMS_100001", "SMS_100002"]


# --- zsh ----------------------------------------------------------------------------------------


def test_zsh_protocol_and_quoting_through_real_zsh(config: Path) -> None:
    zsh = _shell("zsh")
    done = line("zsh", "smsctl signature show ")
    assert done.returncode == 0
    assert done.stdout.startswith("local -a _smsctl_c; ")
    # evaluate the reply in zsh, with _describe replaced by a printer of what it receives
    script = '_describe() { print -rl -- "${(@P)4}" }\n' + done.stdout
    shown = subprocess.run(
        [zsh, "-f", "-c", f"f() {{ {script} }}; f"], capture_output=True, text=True
    ).stdout
    assert shown.splitlines() == ["Acme", "阿里云 短信"]

    done = line("zsh", "smsctl template show 'it")
    script = '_describe() { print -rl -- "${(@P)4}" }\n' + done.stdout
    shown = subprocess.run(
        [zsh, "-f", "-c", f"f() {{ {script} }}; f"], capture_output=True, text=True
    ).stdout
    assert shown.splitlines() == ["it's quoted"]

    done = line("zsh", "smsctl template ")
    descriptions = _zsh_items(zsh, done.stdout)
    assert "show:Show one template, its content and variables." in descriptions
    assert line("zsh", "smsctl --config ").returncode == 1  # the script calls _files
    assert line("zsh", "smsctl account show zzz").stdout == "return 1\n"


def _zsh_items(zsh: str, code: str) -> list[str]:
    script = '_describe() { print -rl -- "${(@P)4}" }\n' + code
    return subprocess.run(
        [zsh, "-f", "-c", f"f() {{ {script} }}; f"], capture_output=True, text=True
    ).stdout.splitlines()


# --- fish ---------------------------------------------------------------------------------------


def test_fish_protocol(config: Path) -> None:
    assert fish("smsctl account show ") == ["ops team", "prod", "staging"]
    assert fish("smsctl signature show 阿") == ["阿里云 短信"]
    assert fish("smsctl signature show '阿") == ["阿里云 短信"]
    assert fish("smsctl email template show ") == ["welcome"]
    assert fish("smsctl send-test --scenario=lo") == ["--scenario=login"]
    assert (
        line("fish", "smsctl account show ", _TYPER_COMPLETE_FISH_ACTION="is-args").returncode == 0
    )
    assert line("fish", "smsctl send-test --to ", _TYPER_COMPLETE_FISH_ACTION="is-args").returncode
    assert line("fish", "smsctl --config ", _TYPER_COMPLETE_FISH_ACTION="get-args").returncode == 1


def test_real_fish_with_the_shipped_script(config: Path) -> None:
    fish_bin = _shell("fish")
    env = {**os.environ, "PATH": f"{SMSCTL.parent}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(
        [
            fish_bin,
            "--no-config",
            "-c",
            f"source {SCRIPTS / 'smsctl.fish'}; complete -C 'smsctl signature show '; "
            "complete -C 'smsctl template list --scenario re'",
            # fish's own `complete -C` runs the completion exactly as a TAB does
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    values = [row.split("\t")[0] for row in done.stdout.splitlines()]
    assert values == ["Acme", "阿里云 短信", "register", "reset-password"]


# --- the sources ------------------------------------------------------------------------------


def test_source_instructions_print_the_shipped_scripts() -> None:
    for shell, name in (("bash", "smsctl.bash"), ("zsh", "_smsctl"), ("fish", "smsctl.fish")):
        done = _run({"_SMSCTL_COMPLETE": f"source_{shell}"})
        assert done.returncode == 0
        assert done.stdout == (SCRIPTS / name).read_text(encoding="utf-8")


def test_bash_script_is_valid_bash() -> None:
    assert subprocess.run([_shell("bash"), "-n", str(SCRIPTS / "smsctl.bash")]).returncode == 0
    assert subprocess.run([_shell("zsh"), "-n", str(SCRIPTS / "_smsctl")]).returncode == 0
    assert subprocess.run([_shell("fish"), "-n", str(SCRIPTS / "smsctl.fish")]).returncode == 0


# --- never drifts from the real CLI -------------------------------------------------------------


def test_commands_and_options_match_clicks_own_completion() -> None:
    """For every command: the fast path offers what Click's completion of the real app offers,
    plus only the global options (which smsctl accepts anywhere)."""
    import typer.main
    from typer._click.shell_completion import ShellComplete

    from smsctl.cli.app import app

    class Probe(ShellComplete):
        name = "probe"
        source_template = ""

        def source_vars(self) -> dict:
            return {}

        def get_completion_args(self) -> tuple[list[str], str]:
            return [], ""

        def format_completion(self, item) -> str:
            return item.value

    probe = Probe(typer.main.get_command(app), {}, "smsctl", "_SMSCTL_COMPLETE")
    tree = _load_generator().build_tree()
    global_flags = {flag for option in tree["globals"] for flag in option["opts"]}

    def walk(node: dict, path: list[str]) -> int:
        checked = 0
        for incomplete in ("", "-", "--"):
            ours = {value for value, _ in completion.complete(tree, path, incomplete)}
            theirs = {item.value for item in probe.get_completions(path, incomplete)}
            if incomplete == "" and node.get("arguments"):
                continue  # argument values: live names, checked elsewhere
            assert theirs <= ours, (path, incomplete)
            assert ours - theirs <= (global_flags if path else set()), (path, incomplete)
            checked += 1
        for name, child in node.get("commands", {}).items():
            checked += walk(child, [*path, name])
        return checked

    assert walk(tree["root"], []) > 50


def test_offered_names_are_accepted_by_the_real_commands(config: Path) -> None:
    from tests.support.cli import invoke

    for words, command in (
        (("template", "show", ""), ("template", "show")),
        (("signature", "show", ""), ("signature", "show")),
        (("account", "show", ""), ("account", "show")),
    ):
        _code, offered = bash(*words)
        assert offered
        for value in offered:
            name = completion.unquote(value)
            result = invoke("--json", *command, name, env={"SMSCTL_SECRET_SMS_PROD": "x"})
            assert result.exit_code == 0, (command, name, result.stderr)


def test_config_path_matches_the_cli(
    isolated: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from smsctl.core.paths import config_path

    monkeypatch.delenv("SMSCTL_CONFIG")
    assert completion.config_path(None) == str(config_path(None)[0])
    monkeypatch.delenv("XDG_CONFIG_HOME")
    assert completion.config_path(None) == str(config_path(None)[0])
    monkeypatch.setenv("SMSCTL_CONFIG", "~/x.toml")
    assert completion.config_path(None) == str(config_path(None)[0])
    assert completion.config_path("~/y.toml") == str(config_path("~/y.toml")[0])


# --- a real interactive bash -------------------------------------------------------------------


def test_real_bash_session_through_tmux(config: Path, tmp_path: Path) -> None:
    tmux = shutil.which("tmux")
    if tmux is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI must have tmux (scripts/test installs it) for the real-shell test")
        pytest.skip("tmux is not installed")
    socket = f"smsctl-test-{uuid.uuid4().hex[:8]}"
    env = {
        "HOME": str(tmp_path),
        "PATH": f"{SMSCTL.parent}{os.pathsep}/usr/bin:/bin",
        "TERM": "xterm",
        "LANG": "C.UTF-8",
        "SMSCTL_CONFIG": str(config),
    }
    shell = " ".join(
        ["env", "-i", *(f"{k}={v}" for k, v in env.items()), _shell("bash"), "--norc", "-i"]
    )

    def tm(*args: str) -> str:
        return subprocess.run(
            [tmux, "-L", socket, *args], capture_output=True, text=True, check=True, timeout=20
        ).stdout

    tm("new-session", "-d", "-s", "t", "-x", "160", "-y", "40", shell)
    try:
        tm("send-keys", "-t", "t", f"PS1='$ '; source {SCRIPTS / 'smsctl.bash'}", "Enter")
        _wait(tm, lambda screen: "smsctl.bash" in screen)
        tm("send-keys", "-t", "t", "clear", "Enter")
        tm("send-keys", "-t", "t", "smsctl account show ", "Tab", "Tab")
        screen = _wait(tm, lambda s: "staging" in s)
        assert "ops\\ team" in screen and "prod" in screen and "staging" in screen
        tm("send-keys", "-t", "t", "C-u", "clear", "Enter")
        tm("send-keys", "-t", "t", "smsctl signature show 阿", "Tab")
        screen = _wait(tm, lambda s: "短信" in s)
        assert "smsctl signature show 阿里云\\ 短信" in screen
    finally:
        subprocess.run([tmux, "-L", socket, "kill-server"], capture_output=True)


def _wait(tm, ready, timeout: float = 10.0) -> str:
    deadline = time.monotonic() + timeout
    screen = ""
    while time.monotonic() < deadline:
        screen = tm("capture-pane", "-p", "-t", "t")
        if ready(screen):
            return screen
        time.sleep(0.1)
    raise AssertionError(f"timed out; the screen shows:\n{screen}")


def _shell(name: str) -> str:
    path = shutil.which(name)
    assert path, f"{name} must be installed (scripts/test installs it)"
    return path
