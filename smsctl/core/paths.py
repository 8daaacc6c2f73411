"""Where smsctl keeps its files (docs/contract.md §4)."""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "smsctl"


def config_path(flag_value: str | None = None) -> tuple[Path, str]:
    """The config file and where that choice came from: flag, env, or default."""
    if flag_value:
        return Path(flag_value).expanduser(), "flag --config"
    env_value = os.environ.get("SMSCTL_CONFIG")
    if env_value:
        return Path(env_value).expanduser(), "env SMSCTL_CONFIG"
    return _user_config_dir() / "config.toml", "default"


def state_dir() -> Path:
    env_value = os.environ.get("SMSCTL_STATE_DIR")
    if env_value:
        return Path(env_value).expanduser()
    from platformdirs import user_state_dir

    return Path(user_state_dir(APP_NAME, appauthor=False))


def _user_config_dir() -> Path:
    from platformdirs import user_config_dir

    return Path(user_config_dir(APP_NAME, appauthor=False))
