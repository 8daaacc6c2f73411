"""Template variable values from `--param k=v` and `--params-json` (SPEC §7)."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

from smsctl.core.errors import UsageError

_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def parse_params(pairs: Sequence[str] | None, params_json: str | None = None) -> dict[str, str]:
    values: dict[str, str] = {}
    if params_json is not None:
        try:
            loaded = json.loads(params_json)
        except ValueError as exc:
            raise UsageError(
                f"--params-json is not valid JSON: {exc.msg} at character {exc.pos}.",
                code="invalid_json",
            ) from None
        if not isinstance(loaded, dict):
            raise UsageError(
                '--params-json must be a JSON object such as {"code": "1234"}.', code="invalid_json"
            )
        for key, value in loaded.items():
            if isinstance(value, bool) or not isinstance(value, (str, int, float)):
                raise UsageError(
                    f"--params-json: the value of `{key}` must be a string (or a "
                    "number), not " + type(value).__name__ + ".",
                    code="invalid_json",
                )
            values[_check_key(key)] = value if isinstance(value, str) else json.dumps(value)
    for pair in pairs or ():
        key, sep, value = pair.partition("=")
        if not sep:
            raise UsageError(f"--param {pair!r}: expected NAME=VALUE.", code="invalid_param")
        key = _check_key(key.strip())
        if key in values and values[key] != value:
            raise UsageError(f"`{key}` is given twice with different values.", code="invalid_param")
        values[key] = value
    return values


def _check_key(key: str) -> str:
    if not _KEY.match(key):
        raise UsageError(
            f"Invalid variable name {key!r}: letters, digits and `_`, not starting with a digit.",
            code="invalid_param",
        )
    return key
