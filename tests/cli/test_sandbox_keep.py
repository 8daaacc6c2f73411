"""`sandbox try --keep DIR` keeps the walkthrough's config, log and mail in a directory only the
user can enter, as smsctl's own config directory is."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from tests.support.cli import invoke


@pytest.fixture
def walkthrough_steps(monkeypatch) -> list:
    """The walkthrough's steps, recorded instead of run (they have their own e2e test)."""
    from smsctl.cli import sandbox

    recorded: list = []

    def run_tour(out, box, workdir, *, kept):
        for channel in sandbox.walkthrough(box, workdir, kept=kept):
            recorded.extend(channel.steps)
        return 0

    monkeypatch.setattr(sandbox, "run_tour", run_tour)
    return recorded


def exported(steps: list) -> dict[str, str]:
    """The variables the steps' `export` lines set."""
    return dict(
        assignment.split("=", 1)
        for step in steps
        if step.argv[0] == "export"
        for assignment in step.argv[1:]
    )


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def common_umask():
    """The umask of most machines (022), under which a plain mkdir gives 0755."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def test_keep_creates_the_directory_0700(tmp_path, walkthrough_steps, common_umask) -> None:
    keep = tmp_path / "new" / "walk"
    result = invoke("sandbox", "try", "--keep", str(keep))
    assert result.exit_code == 0, result.all_output
    assert mode(keep) == 0o700
    variables = exported(walkthrough_steps)
    assert variables["SMSCTL_CONFIG"] == str(keep / "config.toml")
    assert variables["SMSCTL_STATE_DIR"] == str(keep / "state")
    assert f"Kept in {keep}: config.toml" in result.stdout
    assert "Warning" not in result.stderr


def test_keep_with_an_existing_open_directory_warns(tmp_path, walkthrough_steps) -> None:
    keep = tmp_path / "shared"
    keep.mkdir()
    keep.chmod(0o755)
    result = invoke("sandbox", "try", "--keep", str(keep))
    assert result.exit_code == 0, result.all_output
    assert f"Warning: {keep} is open to others (mode 0755)" in result.stderr
    assert f"chmod 700 {keep}" in result.stderr


def test_keep_on_a_file_is_a_usage_error(tmp_path, walkthrough_steps) -> None:
    keep = tmp_path / "a-file"
    keep.write_text("x")
    result = invoke("sandbox", "try", "--keep", str(keep))
    assert result.exit_code == 2
    assert "not a directory" in result.stderr
    assert walkthrough_steps == []


def test_a_relative_keep_dir_is_named_absolutely(tmp_path, walkthrough_steps, monkeypatch):
    """The printed commands name the kept files so that they work from any directory."""
    monkeypatch.chdir(tmp_path)
    result = invoke("sandbox", "try", "--keep", "walk")
    assert result.exit_code == 0, result.all_output
    assert exported(walkthrough_steps)["SMSCTL_CONFIG"] == str(tmp_path / "walk" / "config.toml")
    assert f"smsctl --config {tmp_path / 'walk' / 'config.toml'} template list" in result.stdout


def test_keep_with_an_earlier_runs_config_is_refused_before_anything_runs(
    tmp_path, walkthrough_steps
) -> None:
    keep = tmp_path / "walk"
    keep.mkdir(mode=0o700)
    (keep / "config.toml").write_text("[sms]\n")
    result = invoke("sandbox", "try", "--keep", str(keep))
    assert result.exit_code == 2
    assert "already holds a config.toml" in result.stderr
    assert "Give a new directory" in result.stderr
    assert walkthrough_steps == []
    assert (keep / "config.toml").read_text() == "[sms]\n"
