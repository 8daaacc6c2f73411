"""The two things that keep a config of thousands of items fast: the parsed-config cache (keyed by
the file's content, so never stale) and chunked edits (only the touched table is re-parsed, and
the result must hold exactly the data a whole-document edit gives)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import tomlkit
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smsctl.core import config as config_module
from smsctl.core import config_cache
from smsctl.core.config import ChunkedEditor, ConfigEditor, ConfigStore, tomllib
from smsctl.core.errors import ConfigError
from smsctl.core.toml_chunks import Unsplittable, split

BASE = """# smsctl config of the ops team

[defaults]
timeout = 7.5  # slow office network

[sms]
active_account = "prod"

[sms.accounts.prod]
access_key_id = "LTAI5tPROD0001"   # rotated 2026-10

[sms.accounts."eu west"]
access_key_id = "LTAI5tEUWEST01"
note = "dotted \\"quoted\\" name"

[sms.signatures.Acme]
account = "prod"
status = "approved"

# templates
[sms.templates.SMS_1]
account = "prod"
scenario = "login"
variables = [
    "code",
]

[apps.ios]
"""


def write(path: Path, text: str) -> ConfigStore:
    path.write_text(text)
    path.chmod(0o600)
    return ConfigStore(path, "test")


def test_chunks_concatenate_to_the_file_byte_for_byte():
    chunks = split(BASE)
    assert "".join(chunk.text for chunk in chunks) == BASE
    assert [c.path for c in chunks] == [
        None,
        ("defaults",),
        ("sms",),
        ("sms", "accounts", "prod"),
        ("sms", "accounts", "eu west"),
        ("sms", "signatures", "Acme"),
        ("sms", "templates", "SMS_1"),
        ("apps", "ios"),
    ]


@pytest.mark.parametrize(
    "text",
    ['[a]\nx = """\n[not.a.table]\n"""\n', "[[a]]\nx = 1\n", "[a]\nx = [\n  1,\n"],
    ids=["multi-line string", "array of tables", "unclosed array"],
)
def test_text_that_cannot_be_split_safely_is_refused(text):
    with pytest.raises(Unsplittable):
        split(text)


def test_a_nested_array_line_is_not_taken_for_a_header():
    text = '[a]\nx = [\n["b"]\n]\n[c]\ny = 1\n'
    assert [c.path for c in split(text)] == [None, ("a",), ("c",)]


def test_an_edit_rewrites_only_its_own_table(tmp_path):
    store = write(tmp_path / "config.toml", BASE)
    with store.edit() as editor:
        assert isinstance(editor, ChunkedEditor)
        editor.set_item("sms", "templates", "SMS_1", {"scenario": "register"})
    assert (tmp_path / "config.toml").read_text() == BASE.replace(
        'scenario = "login"', 'scenario = "register"'
    )


Op = st.one_of(
    st.tuples(
        st.just("set_item"),
        st.sampled_from(["sms", "voice"]),
        st.sampled_from(["accounts", "templates"]),
        st.sampled_from(["prod", "eu west", "SMS_1", "new", "a.b"]),
        st.dictionaries(
            st.sampled_from(["note", "account", "scenario"]),
            st.one_of(st.none(), st.text("xyz\"' ", max_size=4)),
            max_size=2,
        ),
    ),
    st.tuples(
        st.just("remove_item"),
        st.sampled_from(["sms", "voice"]),
        st.sampled_from(["accounts", "templates", "signatures"]),
        st.sampled_from(["prod", "eu west", "SMS_1", "Acme", "new"]),
    ),
    st.tuples(
        st.just("set_value"),
        st.sampled_from([("sms",), ("voice",), ("defaults",), ("guard", "sms")]),
        st.sampled_from(["active_account", "timeout", "per_minute"]),
        st.one_of(st.none(), st.sampled_from(["prod", "x"])),
    ),
    st.tuples(st.just("ensure_app"), st.sampled_from(["ios", "web", "a b"])),
)


def _apply(editor, ops):
    for name, *args in ops:
        if name == "remove_item" or name == "set_item" or name == "set_value":
            getattr(editor, name)(*args)
        else:
            editor.ensure_app(*args)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ops=st.lists(Op, max_size=6))
def test_chunked_edits_give_the_data_of_whole_document_edits(ops):
    data = tomllib.loads(BASE)
    whole = ConfigEditor(tomlkit.parse(BASE))
    _apply(whole, ops)
    chunked = ChunkedEditor(BASE, data)
    _apply(chunked, ops)
    expected = tomllib.loads(tomlkit.dumps(whole.document))
    assert chunked.plain() == expected
    assert chunked.changed == whole.changed
    assert chunked.consistent  # BASE defines every table by its header: no fallback needed
    assert tomllib.loads(chunked.render()) == expected


def test_a_table_made_by_dotted_keys_falls_back_to_the_whole_document(tmp_path):
    text = '[sms]\naccounts.prod.access_key_id = "LTAI5tPROD0001"\n'
    store = write(tmp_path / "config.toml", text)
    with store.edit() as editor:
        editor.set_item("sms", "accounts", "prod", {"note": "main"})
    assert store.load().accounts("sms")["prod"]["note"] == "main"


def test_the_cache_answers_for_exactly_the_same_bytes_only(tmp_path, monkeypatch):
    path = tmp_path / "config.toml"
    store = write(path, BASE)
    assert store.load().data["sms"]["accounts"]["prod"]["access_key_id"] == "LTAI5tPROD0001"
    info = os.stat(path)
    # Same size, same modification time, other content: what an mtime-keyed cache would miss.
    path.write_text(BASE.replace("LTAI5tPROD0001", "LTAI5tPROD0002"))
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))
    assert os.stat(path).st_size == info.st_size
    assert store.load().data["sms"]["accounts"]["prod"]["access_key_id"] == "LTAI5tPROD0002"


def test_a_cache_hit_skips_parsing_and_a_corrupt_cache_is_a_miss(tmp_path, monkeypatch):
    path = tmp_path / "config.toml"
    store = write(path, BASE)
    store.load()
    parses = []
    real = config_module._parse_and_validate
    monkeypatch.setattr(
        config_module, "_parse_and_validate", lambda *a: parses.append(1) or real(*a)
    )
    store.load()
    assert parses == []
    (cache_file,) = Path(config_cache.cache_dir()).glob("config-*.marshal")
    assert oct(cache_file.stat().st_mode & 0o777) == "0o600"
    cache_file.write_bytes(b"\x00torn")
    assert store.load().data["apps"] == {"ios": {}}
    assert parses == [1]


def test_an_invalid_config_is_never_cached(tmp_path):
    path = tmp_path / "config.toml"
    store = write(path, BASE + '\n[sms.accounts.bad]\naccess_key_secret = "x"\n')
    with pytest.raises(ConfigError):
        store.load()
    assert config_cache.load(str(path), path.read_bytes()) is None


COMMENTED = """[sms.accounts.sb]   # the sandbox
access_key_id = "LTAI5tSB"

[sms.templates.SMS_1]
account = "sb"
scenario = "login"
# about the apps below
[apps.ios]
"""


def test_a_comment_right_above_a_header_stays_with_that_table():
    editor = ChunkedEditor(COMMENTED, tomllib.loads(COMMENTED))
    editor.set_item("sms", "templates", "SMS_1", {"default": True})
    assert editor.render().endswith("default = true\n# about the apps below\n[apps.ios]\n")
    editor.remove_item("sms", "templates", "SMS_1")
    assert editor.render().endswith('"LTAI5tSB"\n\n# about the apps below\n[apps.ios]\n')


def test_a_rename_keeps_the_header_comment():
    editor = ChunkedEditor(COMMENTED, tomllib.loads(COMMENTED))
    editor.rename_item("sms", "accounts", "sb", "sb2")
    assert editor.render().startswith("[sms.accounts.sb2]   # the sandbox\naccess_key_id =")


def test_comments_at_the_top_of_the_file_stay_when_its_first_table_goes():
    text = "# my notes\n[apps.ios]\n\n[apps.web]\n"
    editor = ChunkedEditor(text, tomllib.loads(text))
    editor.remove_item("apps", "ios", "x")  # not an item: nothing happens
    assert editor.render() == text
    chunks = split(text)
    assert chunks[0].text == "# my notes\n" and chunks[1].text == "[apps.ios]\n\n"


def test_cache_entries_unused_for_a_month_are_removed(tmp_path):
    import os as _os
    import time as _time

    old = Path(config_cache.cache_dir()) / "config-0123456789abcdef01234567.marshal"
    old.parent.mkdir(parents=True, exist_ok=True)
    old.write_bytes(b"stale")
    month_ago = _time.time() - (config_cache.UNUSED_DAYS + 1) * 86400
    _os.utime(old, (month_ago, month_ago))
    store = write(tmp_path / "config.toml", BASE)
    store.load()
    assert not old.exists()
    assert len(list(Path(config_cache.cache_dir()).glob("config-*.marshal"))) == 1


def test_a_config_saved_with_a_byte_order_mark_is_read(tmp_path):
    path = tmp_path / "config.toml"
    path.write_bytes(b"\xef\xbb\xbf" + BASE.encode())
    path.chmod(0o600)
    store = ConfigStore(path, "test")
    assert store.load().data["apps"] == {"ios": {}}
    with store.edit() as editor:
        editor.ensure_app("web")
    assert store.load().data["apps"] == {"ios": {}, "web": {}}
