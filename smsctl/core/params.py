"""Template variable values from `--param k=v` and `--params-json` (docs/contract.md §7)."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence

from smsctl.core.errors import UsageError

_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def parse_params(pairs: Sequence[str] | None, params_json: str | None = None) -> dict[str, str]:
    values: dict[str, str] = {}
    if params_json is not None:
        try:
            # NaN/Infinity are not JSON (RFC 8259) and would reach the template as "NaN".
            loaded = json.loads(params_json, parse_constant=_refuse_constant)
        except ValueError as exc:
            where = f"{exc.msg} at character {exc.pos}" if hasattr(exc, "pos") else str(exc)
            raise UsageError(
                f"--params-json is not valid JSON: {where}.", code="invalid_json"
            ) from None
        except RecursionError:  # "[[[[..." nested deeper than the parser's stack
            raise UsageError(
                "--params-json is nested too deeply; give a flat JSON object.",
                code="invalid_json",
            ) from None
        if not isinstance(loaded, dict):
            raise UsageError(
                '--params-json must be a JSON object such as {"code": "1234"}.', code="invalid_json"
            )
        for key, value in loaded.items():
            if isinstance(value, float) and not math.isfinite(value):  # 1e999 -> inf
                raise UsageError(
                    f"--params-json: the value of `{key}` is out of range; quote it.",
                    code="invalid_json",
                )
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


def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not a JSON value")
