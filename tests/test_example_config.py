"""smsctl.example.toml documents every key the schema knows, and is itself a valid config."""

from __future__ import annotations

from pathlib import Path

from smsctl.core import schema
from smsctl.core.config import parse_config, tomllib

EXAMPLE = Path(__file__).resolve().parent.parent / "smsctl.example.toml"


def test_example_is_valid_and_consistent() -> None:
    config = parse_config(EXAMPLE.read_text(), EXAMPLE)
    assert config.reference_problems() == []


def test_example_documents_every_key() -> None:
    data = tomllib.loads(EXAMPLE.read_text())
    assert set(data["defaults"]) == set(schema.DEFAULTS_TABLE)
    assert set(data["log"]) == set(schema.LOG_TABLE)
    assert set(data["secrets"]) <= set(schema.SECRETS_TABLE)
    assert "backend" in EXAMPLE.read_text()
    for channel in schema.CHANNELS:
        assert set(data["guard"][channel]) == set(schema.GUARD_TABLE)
    missing = []
    for (channel, kind), fields in schema.COLLECTIONS.items():
        documented = set()
        for item in data[channel][kind].values():
            documented |= set(item)
        missing += [f"{channel}.{kind}.{key}" for key in fields if key not in documented]
    assert missing == []
