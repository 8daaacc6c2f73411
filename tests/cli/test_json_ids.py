"""Ids are strings in --json, on every channel: a provider's numeric id (WeChat's msgid is above
2**53) would be rounded by jq and JavaScript."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.cli import invoke
from tests.support.sends import SENDS, ready  # noqa: F401 - the fixture


def id_values(value: Any, key: str = "") -> list[tuple[str, Any]]:
    if isinstance(value, dict):
        return [pair for k, v in value.items() for pair in id_values(v, k)]
    if isinstance(value, list):
        return [pair for v in value for pair in id_values(v, key)]
    is_id = key in ("msgid", "rid") or key.endswith("_id") or key.endswith("id") and key != "valid"
    return [(key, value)] if is_id and value is not None else []


@pytest.mark.parametrize("ready", list(SENDS), indirect=True)
def test_every_id_in_a_send_report_is_a_string(ready) -> None:  # noqa: F811
    argv, _ = SENDS[ready]
    result = invoke("--json", *argv, "--yes")
    assert result.exit_code == 0, result.all_output
    ids = id_values(result.json())
    assert ids, result.stdout
    assert [(k, v) for k, v in ids if not isinstance(v, str)] == []
