"""`sandbox try` in-process: how it tells the reader to run its commands, where it stops when a
step fails, and that its summary only claims what the sandbox recorded. The whole tour through
the installed console script is in tests/e2e/test_sandbox_e2e.py."""

from __future__ import annotations

import io
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from smsctl.cli import sandbox
from smsctl.core.output import Output
from tests.support.cli import invoke


def fake_smsctl(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    script = directory / "smsctl"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    return script


def path_after_export(line: str) -> str:
    """The PATH a shell has after running the printed `export PATH=...` line."""
    done = subprocess.run(
        ["bash", "-c", f'{line.strip()}\nprintf %s "$PATH"'],
        env={"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def export_path_line(lines: list[str]) -> str:
    [line] = [line for line in lines if line.strip().startswith("export PATH=")]
    return line


def test_the_path_line_names_the_directory_of_the_running_smsctl(tmp_path, monkeypatch):
    script = fake_smsctl(tmp_path / "venv" / "bin")
    monkeypatch.setattr(sys, "argv", [str(script), "sandbox", "try"])
    lines = sandbox.intro(tmp_path / "work", kept=False)
    assert path_after_export(export_path_line(lines)) == f"{script.parent}:/usr/bin:/bin"


def test_a_symlinked_smsctl_is_named_where_it_is_on_path_not_resolved(tmp_path, monkeypatch):
    target = fake_smsctl(tmp_path / "venv" / "bin")
    on_path = tmp_path / "local" / "bin"
    on_path.mkdir(parents=True)
    (on_path / "smsctl").symlink_to(target)
    monkeypatch.setattr(sys, "argv", [str(on_path / "smsctl")])
    assert sandbox.command_directory() == on_path


def test_python_m_smsctl_names_the_smsctl_beside_its_python(tmp_path, monkeypatch):
    script = fake_smsctl(tmp_path / "venv" / "bin")
    monkeypatch.setattr(sys, "argv", [str(tmp_path / "smsctl" / "__main__.py")])
    monkeypatch.setattr(sys, "executable", str(script.parent / "python"))
    assert sandbox.command_directory() == script.parent


def test_a_directory_with_shell_characters_is_quoted(tmp_path, monkeypatch):
    script = fake_smsctl(tmp_path / 'my "tools" $HOME `x` \\' / "bin")
    monkeypatch.setattr(sys, "argv", [str(script)])
    lines = sandbox.intro(tmp_path / "work", kept=False)
    assert path_after_export(export_path_line(lines)) == f"{script.parent}:/usr/bin:/bin"


def test_without_an_smsctl_command_it_says_how_to_run_them_with_python(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "argv", [str(tmp_path / "smsctl" / "__main__.py")])
    monkeypatch.setattr(sys, "executable", str(tmp_path / "bin" / "python3"))
    monkeypatch.setattr(sandbox.shutil, "which", lambda name: None)
    text = "\n".join(sandbox.intro(tmp_path / "work", kept=False))
    assert "export PATH" not in text
    assert f"run them yourself as `{tmp_path / 'bin' / 'python3'} -m smsctl ...`" in text


def test_the_intro_names_keep_and_the_config_it_keeps(tmp_path, monkeypatch):
    fresh = "\n".join(sandbox.intro(tmp_path / "work", kept=False))
    assert "`smsctl sandbox try --keep DIR`" in fresh
    assert "`smsctl --config DIR/config.toml ...`" in fresh
    kept = "\n".join(sandbox.intro(tmp_path / "kept", kept=True))
    assert f"smsctl --config {tmp_path / 'kept' / 'config.toml'} ..." in kept


@pytest.fixture
def undelivered_receipts(monkeypatch):
    """The sandbox of the tour, with the sample number's receipts saying UNDELIV."""
    build = sandbox.build_sandbox

    def build_with_fault(*args, **kwargs):
        box = build(*args, **kwargs)
        box.alibaba.state.receipt_delay = 0
        box.alibaba.state.set_fault(sandbox.SAMPLE_NUMBER.removeprefix("+86"), "receipt_undeliv")
        return box

    monkeypatch.setattr(sandbox, "build_sandbox", build_with_fault)


def test_a_failing_step_stops_the_tour_with_its_exit_code_and_output(undelivered_receipts):
    result = invoke("sandbox", "try")
    assert result.exit_code == 8, result.all_output
    tail = result.stdout.split("$ smsctl send-test ", 1)[1]
    assert "UNDELIV" in tail  # the step's own output is shown
    assert "✗ step failed with exit code 8" in tail
    assert "== Voice" not in result.stdout  # nothing after the failing step ran
    assert "What this proved" not in result.stdout


def test_the_summary_claims_nothing_the_sandbox_did_not_record(monkeypatch):
    monkeypatch.setattr(sandbox, "run_steps", lambda out, steps, env: 0)
    result = invoke("sandbox", "try")
    assert result.exit_code == 1
    assert "the sandbox has no record of a delivered SMS (a bug)" in result.stdout
    assert "What this proved" not in result.stdout


def test_an_interrupt_while_a_step_starts_is_held_then_kills_and_reaps_the_step(
    monkeypatch,
) -> None:
    """The tour removes its directory when Ctrl-C or SIGTERM stops it. An interrupt raised while
    subprocess.Popen starts a step would leave that step running, writing into the directory
    being removed; it is held until the step can be killed, and the step is reaped before the
    interrupt goes on."""
    started: list[subprocess.Popen] = []
    real_init = subprocess.Popen.__init__

    def signal_arrives_meanwhile(self, *args, **kwargs) -> None:
        real_init(self, *args, **kwargs)
        started.append(self)
        sandbox.INTERRUPTS.handle(signal.SIGTERM, None)

    monkeypatch.setattr(subprocess.Popen, "__init__", signal_arrives_meanwhile)
    try:
        with pytest.raises(KeyboardInterrupt):
            sandbox.run_steps(
                Output(stdout=io.StringIO(), stderr=io.StringIO()),
                [sandbox.Step("why", ["sandbox", "serve", "--port", "0"])],
                {"PATH": "/usr/bin:/bin"},
            )
        assert len(started) == 1
        assert started[0].returncode is not None  # killed and reaped, not left running
        assert not sandbox.INTERRUPTS.pending
    finally:
        for child in started:
            if child.poll() is None:
                child.kill()
                child.wait()
