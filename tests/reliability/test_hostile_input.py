"""Hostile input (docs/contract.md §7): whatever a user, a file or a script feeds smsctl, it either
accepts it or refuses it with a usage/config error — never another exception, never a TOML file
it cannot read back, never a value that changes meaning."""

from __future__ import annotations

import json
import math
import re
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from smsctl.core import schema
from smsctl.core.config import ConfigStore, parse_config
from smsctl.core.errors import ConfigError, UsageError
from smsctl.core.names import check_identifier, check_provider_name
from smsctl.core.params import parse_params
from smsctl.core.recipients import PhoneNumber, check_email, check_openid, parse_phone
from tests.support.cli import invoke

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

FAST = settings(max_examples=120, deadline=None)
CLI = settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
PATH = Path("fuzz.toml")

# Text that exercises what breaks TOML and shells: quotes, dots, brackets, newlines, unicode.
NASTY_CHARS = st.sampled_from(
    list(".[]\"'\\=#\n\r\t ${}-_") + ["é", "中", "\u200b", "\x00", "\ud7ff", "😀", "\u202e"]
)
NASTY_TEXT = st.lists(st.one_of(NASTY_CHARS, st.characters()), max_size=40).map("".join)
NAMES = st.one_of(
    st.text(max_size=80),
    NASTY_TEXT,
    st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,70}", fullmatch=True),
    st.sampled_from(["a.b", "a..b", "x]", '"q"', "'s'", "a b", "prod\n", "x" * 64, "x" * 65]),
)


# --- the config loader ------------------------------------------------------------------------


def _load_and_use(text: str) -> None:
    """parse_config and every accessor commands use: success, or ConfigError only."""
    try:
        config = parse_config(text, PATH)
    except ConfigError as err:
        assert err.exit_code == 3
        assert err.message
        return
    for channel in schema.CHANNELS:
        for kind in schema.CHANNEL_COLLECTIONS[channel]:
            for name in config.collection(channel, kind):
                config.line_of(channel, kind, name)
        config.active_account(channel)
        config.guard_limits(channel)
    config.apps()
    connect, read = config.timeouts()
    assert math.isfinite(connect) and math.isfinite(read)
    config.reference_problems()


@FAST
@given(st.text(max_size=300))
def test_random_text_loads_or_is_a_config_error(text: str) -> None:
    _load_and_use(text)


@FAST
@given(
    st.lists(
        st.one_of(
            st.sampled_from(
                [
                    "[sms.accounts.",
                    '"a.b"]\n',
                    "[defaults]\n",
                    "timeout = ",
                    "nan\n",
                    "inf\n",
                    "-0.0\n",
                    "1e308\n",
                    "[guard.sms]\nper_minute = ",
                    "[[sms.accounts]]\n",
                    'access_key_id = "x"\n',
                    "access_key_secret = 'x'\n",
                    "[email.accounts.m]\nport = ",
                    "[wechat.rules.r]\nvars = {",
                    '"k" = 1}\n',
                    "[apps.ios]\n",
                    "1979-05-27T07:32:00Z\n",
                    '"""\nmulti\n"""\n',
                    "# comment\n",
                ]
            ),
            st.text(max_size=12),
        ),
        max_size=12,
    ).map("".join)
)
def test_toml_shaped_fragments_load_or_are_a_config_error(text: str) -> None:
    _load_and_use(text)


SCALARS = st.one_of(
    st.text(max_size=10),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.datetimes(),
    st.lists(st.one_of(st.text(max_size=5), st.integers()), max_size=3),
)


def _item(fields: dict[str, schema.Field]) -> st.SearchStrategy[dict[str, Any]]:
    keys = st.one_of(st.sampled_from(sorted(fields)), st.text(max_size=8))
    return st.dictionaries(
        keys,
        st.one_of(SCALARS, st.dictionaries(st.text(max_size=5), SCALARS, max_size=2)),
        max_size=6,
    )


def _channel(channel: str) -> st.SearchStrategy[dict[str, Any]]:
    collections = {
        kind: st.dictionaries(NAMES, _item(schema.COLLECTIONS[(channel, kind)]), max_size=3)
        for kind in schema.CHANNEL_COLLECTIONS[channel]
    }
    return st.fixed_dictionaries(
        {}, optional={**collections, "active_account": st.one_of(NAMES, st.integers())}
    )


DOCUMENTS = st.fixed_dictionaries(
    {},
    optional={
        "defaults": _item(schema.DEFAULTS_TABLE),
        "secrets": _item(schema.SECRETS_TABLE),
        "guard": st.dictionaries(
            st.one_of(st.sampled_from(schema.CHANNELS), st.text(max_size=5)),
            _item(schema.GUARD_TABLE),
            max_size=3,
        ),
        "apps": st.dictionaries(NAMES, _item(schema.APP_TABLE), max_size=3),
        **{channel: _channel(channel) for channel in schema.CHANNELS},
    },
)


@settings(max_examples=80, deadline=None)
@given(DOCUMENTS)
def test_random_documents_dumped_with_tomlkit_load_or_are_a_config_error(doc) -> None:
    import tomlkit

    try:
        text = tomlkit.dumps(doc)
        tomllib.loads(text)
    except Exception:  # noqa: BLE001 - a document TOML cannot express is not our input
        assume(False)
    _load_and_use(text)


# --- names ------------------------------------------------------------------------------------


@FAST
@given(NAMES)
def test_any_provider_name_round_trips_through_the_config_file(tmp_path_factory, name) -> None:
    """Signature names and template codes may be any script: one key, read back unchanged."""
    try:
        check_provider_name(name, "signature name")
    except UsageError as err:
        assert err.exit_code == 2
        return
    path = tmp_path_factory.mktemp("names") / "config.toml"
    store = ConfigStore(path, "test")
    with store.edit() as editor:
        editor.set_item("sms", "accounts", "prod", {"access_key_id": "LTAI1"})
        editor.set_item("sms", "signatures", name, {"account": "prod", "status": "approved"})
    data = tomllib.loads(path.read_text())
    assert list(data["sms"]["signatures"]) == [name]
    assert data["sms"]["signatures"][name]["account"] == "prod"
    assert list(store.load().collection("sms", "signatures")) == [name]


@FAST
@given(NAMES)
def test_identifiers_accepted_are_plain_single_line_ascii(name: str) -> None:
    try:
        accepted = check_identifier(name, "account")
    except UsageError as err:
        assert err.exit_code == 2
        return
    assert accepted == name
    assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", name), repr(name)


@CLI
@given(NAMES)
def test_account_add_with_any_name_is_accepted_or_refused_cleanly(config_file, name) -> None:
    if config_file.exists():
        config_file.unlink()
    result = invoke(
        "--json", "account", "add", name, "--access-key-id", "LTAI5tFuzz", "--secret-stdin",
        input="fuzz-secret-1\n",
    )  # fmt: skip
    assert result.exit_code in (0, 2, 3), result.all_output
    assert "Traceback" not in result.all_output
    if result.exit_code != 0:
        assert not config_file.exists() or name not in tomllib.loads(config_file.read_text()).get(
            "sms", {}
        ).get("accounts", {})
        return
    data = tomllib.loads(config_file.read_text())
    assert list(data["sms"]["accounts"]) == [name]
    listed = invoke("--json", "account", "list")
    assert [a["name"] for a in listed.json()] == [name]


@CLI
@given(NAMES)
def test_authorize_create_app_with_any_name(config_file, name) -> None:
    store = ConfigStore(config_file, "test")
    if config_file.exists():
        config_file.unlink()
    with store.edit() as editor:
        editor.set_item("sms", "accounts", "prod", {"access_key_id": "LTAI1"})
        editor.set_item(
            "sms",
            "templates",
            "SMS_1",
            {"account": "prod", "scenario": "login", "content": "${code}", "variables": ["code"]},
        )
    result = invoke("--json", "authorize", "template", "SMS_1", "--app", name, "--create-app")
    assert result.exit_code in (0, 2, 3), result.all_output
    assert "Traceback" not in result.all_output
    data = tomllib.loads(config_file.read_text())
    if result.exit_code == 0:
        assert list(data["apps"]) == [name]
        assert data["sms"]["templates"]["SMS_1"]["apps"] == [name]
    else:
        assert "apps" not in data


HOSTILE_SIGNATURES = [
    "eu.prod",
    "a..b",
    'Quote"Inside',
    "it's",
    "[bracket]",
    "x]\n[y",
    "Acme.登录",
    "#not-a-comment",
    "=eq=",
    "${code}",
    "s" * 128,
    "s" * 129,
    " padded",
    "tab\tinside",
    "zero\u200bwidth",
]


@pytest.mark.parametrize("name", HOSTILE_SIGNATURES)
def test_signature_add_with_hostile_names_round_trips(fresh_sandbox_state, config_file, name):
    from smsctl.sandbox.state import Signature

    info = fresh_sandbox_state.info()["sms"]
    fresh_sandbox_state.alibaba.state.add_signature(Signature(name, "approved"))
    added = invoke(
        "account", "add", "prod", "--access-key-id", info["access_key_id"],
        "--endpoint", info["endpoint"], "--secret-stdin", input=info["access_key_secret"] + "\n",
    )  # fmt: skip
    assert added.exit_code == 0, added.all_output
    result = invoke("--json", "signature", "add", name, "--account", "prod")
    assert result.exit_code in (0, 2, 5), result.all_output
    assert "Traceback" not in result.all_output
    data = tomllib.loads(config_file.read_text())
    signatures = data["sms"].get("signatures", {})
    if result.exit_code == 0:
        assert list(signatures) == [name]
        shown = invoke("--json", "signature", "show", name)
        assert shown.exit_code == 0, shown.all_output
        assert shown.json()["name"] == name
    else:
        assert signatures == {}


# --- recipients -------------------------------------------------------------------------------

PHONES = st.one_of(
    st.text(max_size=30),
    st.from_regex(r"\+?[0-9 ()-]{0,25}", fullmatch=True),
    st.from_regex(r"(\+86|0086|86)?1[3-9][0-9]{9}", fullmatch=True),
    st.text(alphabet="0123456789٠١٢٣٤٥٦٧٨٩０１２３+ -\n", max_size=20),
)


@FAST
@given(PHONES)
def test_phone_numbers_parse_or_are_a_usage_error(value: str) -> None:
    try:
        phone = parse_phone(value)
    except UsageError as err:
        assert err.exit_code == 2
        return
    assert isinstance(phone, PhoneNumber)
    assert re.fullmatch(r"\+[1-9][0-9]{6,15}", phone.e164), phone
    assert parse_phone(phone.e164) == phone  # canonical form is stable
    assert phone.for_alibaba.isdigit()


@FAST
@given(st.one_of(st.emails(), st.text(max_size=60), NASTY_TEXT.map(lambda t: f"a{t}@x.com")))
def test_email_addresses_are_accepted_or_a_usage_error(value: str) -> None:
    try:
        address = check_email(value)
    except UsageError as err:
        assert err.exit_code == 2
        return
    assert not any(ch in address for ch in "\r\n\t \x00<>,;"), repr(address)


@FAST
@given(st.one_of(st.text(max_size=70), st.from_regex(r"[A-Za-z0-9_-]{6,64}\n?", fullmatch=True)))
def test_openids_are_accepted_or_a_usage_error(value: str) -> None:
    try:
        openid = check_openid(value)
    except UsageError as err:
        assert err.exit_code == 2
        return
    assert re.fullmatch(r"[A-Za-z0-9_-]{6,64}", openid), repr(openid)


# --- templates and parameters -----------------------------------------------------------------

TEMPLATE_TEXT = st.lists(
    st.one_of(
        st.sampled_from(["${code}", "$code", "$$", "${", "}", "$", "${ code }", "${1x}", "$1"]),
        st.text(max_size=6),
    ),
    max_size=10,
).map("".join)
VALUES = st.dictionaries(
    st.one_of(st.sampled_from(["code", "name", "x"]), st.text(max_size=5)),
    st.text(max_size=10),
    max_size=4,
)


@FAST
@given(TEMPLATE_TEXT, VALUES, st.booleans())
def test_templating_render_returns_text_or_a_usage_error(text, values, escape) -> None:
    from smsctl.core import templating

    try:
        out = templating.render(text, values, escape_html=escape)
    except UsageError as err:
        assert err.exit_code == 2
        return
    assert isinstance(out, str)
    assert set(values) == set(templating.variables(text))


@FAST
@given(TEMPLATE_TEXT, VALUES)
def test_sms_render_returns_text_or_a_usage_error(text, values) -> None:
    from smsctl.core import sms

    try:
        out = sms.render(text, values)
    except UsageError as err:
        assert err.exit_code == 2
        return
    assert isinstance(out, str)


JSON_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=8)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)


@FAST
@given(
    st.lists(st.one_of(st.text(max_size=15), st.from_regex(r"[a-z_]{1,5}=.{0,5}")), max_size=4),
    st.one_of(
        st.none(),
        st.text(max_size=30),
        JSON_VALUES.map(json.dumps),
        st.sampled_from(['{"a": NaN}', '{"a": 1e999}', "[" * 5000, '{"a": {"b": 1}}']),
    ),
)
def test_params_are_a_dict_of_strings_or_a_usage_error(pairs, params_json) -> None:
    try:
        values = parse_params(pairs, params_json)
    except UsageError as err:
        assert err.exit_code == 2
        return
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in values.items())
    for value in values.values():
        assert value not in ("NaN", "Infinity", "-Infinity"), values


def test_deeply_nested_params_json_is_a_usage_error_through_the_cli() -> None:
    result = invoke(
        "send-test", "--to", "+8613812345678", "--scenario", "login",
        "--params-json", "[" * 100_000, "--dry-run",
    )  # fmt: skip
    assert result.exit_code == 2, result.all_output
    assert "Traceback" not in result.all_output


# --- sandbox seed files -----------------------------------------------------------------------

SEED_DOCS = st.dictionaries(
    st.sampled_from(
        [
            "receipt_delay",
            "call_result_delay",
            "slow_seconds",
            "retry_after_ms",
            "access_keys",
            "signatures",
            "templates",
            "voice_templates",
            "faults",
            "flow_control",
            "bogus",
        ]
    ),  # fmt: skip
    st.one_of(
        SCALARS,
        st.lists(
            st.dictionaries(
                st.sampled_from(
                    [
                        "id",
                        "secret",
                        "enabled",
                        "name",
                        "status",
                        "code",
                        "content",
                        "kind",
                        "type",
                        "reason",
                        "usage",
                        "then_status",
                        "after_queries",
                        "after_seconds",
                        "related_sign_name",
                        "x",
                    ]
                ),  # fmt: skip
                SCALARS,
                max_size=6,
            ),
            max_size=3,
        ),
        st.dictionaries(
            st.one_of(st.sampled_from(["+8613811112222", "sms", "voice"]), st.text(max_size=6)),
            st.one_of(
                st.sampled_from(["throttling", "slow"]),
                SCALARS,
                st.dictionaries(st.sampled_from(["per_minute", "per_day", "x"]), SCALARS),
            ),
            max_size=3,
        ),
    ),
    max_size=5,
)


@settings(max_examples=200, deadline=None)
@given(SEED_DOCS)
def test_seed_documents_give_a_seed_or_a_config_error(raw) -> None:
    from smsctl.sandbox.seed import Seed, seed_from_dict

    try:
        seed = seed_from_dict(raw)
    except ConfigError as err:
        assert err.exit_code == 3
        return
    assert isinstance(seed, Seed)
