"""`smsctl voice ...` in-process: templates, validate, send-test and call results against the
sandbox through the real dyvmsapi SDK, doctor."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.support.cli import invoke

OK_NUMBER = "+8613812345678"
TTS = "TTS_100000001"
TTS_CONTENT = "您的验证码是${code}，请在5分钟内输入。"
ALERT = "TTS_100000002"
ALERT_CONTENT = "告警：${service}出现故障，请尽快处理。"
VOICE_FILE = "4c3a1b2e-0d6f-4e35-9d4a-2f1e0c8b7a65.wav"


def add_account(info: dict, name: str = "prod", secret: str | None = None, **extra: str):
    args = ["voice", "account", "add", name, "--access-key-id", info["access_key_id"]]
    args += ["--endpoint", extra.get("endpoint", info["endpoint"]), "--secret-stdin"]
    return invoke(*args, input=(secret or info["access_key_secret"]) + "\n")


@pytest.fixture
def voice_info(fresh_sandbox_state) -> dict:
    return fresh_sandbox_state.info()["voice"]


CONFIG = """\
[voice]
active_account = "prod"

[voice.accounts.prod]
provider = "alibaba"
access_key_id = "{key}"
endpoint = "{endpoint}"

[voice.templates.{tts}]
account = "prod"
scenario = "login"
kind = "tts"
content = "{content}"
variables = ["code"]

[voice.templates."{voice_file}"]
account = "prod"
scenario = "alert"
kind = "voice-file"
status = "approved"
"""


@pytest.fixture
def ready(fresh_sandbox_state, voice_info, config_file):
    """An active voice account with a general TTS login template and a voice-file alert, as
    `voice account add`, `voice template add` and `voice validate` leave them (written directly:
    those commands have their own tests; this keeps each test fast)."""
    from tests.support.memory_keyring import MemoryKeyring

    config_file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    config_file.write_text(
        CONFIG.format(
            key=voice_info["access_key_id"],
            endpoint=voice_info["endpoint"],
            tts=TTS,
            content=TTS_CONTENT,
            voice_file=VOICE_FILE,
        )
    )
    config_file.chmod(0o600)
    MemoryKeyring.entries[("smsctl", "voice/prod")] = voice_info["access_key_secret"]
    return fresh_sandbox_state


def test_commands_build_the_same_setup(fresh_sandbox_state, voice_info, config_file) -> None:
    steps = [
        ("voice", "template", "add", TTS, "--account", "prod", "--scenario", "login",
         "--content", TTS_CONTENT),
        ("voice", "template", "add", VOICE_FILE, "--account", "prod", "--scenario", "alert",
         "--voice-file"),
        ("voice", "validate", "prod"),
    ]  # fmt: skip
    result = add_account(voice_info)
    assert result.exit_code == 0, result.all_output
    for step in steps:
        result = invoke(*step)
        assert result.exit_code == 0, (step, result.all_output)
    from smsctl.core.config import tomllib

    built = tomllib.loads(config_file.read_text())
    expected = tomllib.loads(
        CONFIG.format(
            key=voice_info["access_key_id"],
            endpoint=voice_info["endpoint"],
            tts=TTS,
            content=TTS_CONTENT,
            voice_file=VOICE_FILE,
        )
    )
    expected["voice"]["templates"][VOICE_FILE].update(content="", variables=[], reason="")
    checked_at = built["voice"]["templates"][VOICE_FILE].pop("checked_at")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", checked_at)
    assert built == expected


def calls(sandbox) -> list[tuple[str, dict]]:
    return [
        (action, params)
        for action, params in sandbox.alibaba.state.requests
        if action in ("SingleCallByTts", "SingleCallByVoice")
    ]


def call(*extra: str, to: str = OK_NUMBER, scenario: str = "login"):
    params = ("--param", "code=4711") if scenario == "login" else ()
    return invoke(
        "voice", "send-test", "--to", to, "--scenario", scenario, *params, "--yes", *extra
    )


def audit_entries(state_dir: Path) -> list[dict]:
    path = state_dir / "audit.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


# --- templates -----------------------------------------------------------------------------------


def test_tts_template_keeps_the_operator_content_and_its_variables(ready, config_file) -> None:
    shown = invoke("--json", "voice", "template", "show", TTS)
    assert shown.exit_code == 0, shown.all_output
    item = shown.json()
    assert (item["kind"], item["content"], item["variables"]) == ("tts", TTS_CONTENT, ["code"])
    voice_file = invoke("--json", "voice", "template", "show", VOICE_FILE).json()
    assert (voice_file["kind"], voice_file["content"], voice_file["variables"]) == (
        "voice-file",
        "",
        [],
    )
    assert "[voice.templates.TTS_100000001]" in config_file.read_text()


def test_template_add_is_idempotent_and_refuses_other_content(ready) -> None:
    again = invoke(
        "--json", "voice", "template", "add", TTS, "--account", "prod", "--scenario", "login",
        "--content", TTS_CONTENT,
    )  # fmt: skip
    assert again.exit_code == 0, again.all_output
    assert again.json()["changed"] is False
    other = invoke(
        "voice", "template", "add", TTS, "--account", "prod", "--scenario", "login",
        "--content", "Your code is ${code}",
    )  # fmt: skip
    assert other.exit_code == 3
    assert "content" in other.stderr and "voice template edit" in other.stderr


@pytest.mark.parametrize(
    ("args", "code", "expected"),
    [
        ((), 2, "--content TEXT"),
        (("--content", "x ${a}", "--voice-file"), 2, "no --content"),
        (("--content", "price $5 for ${a}"), 2, "Malformed placeholder"),
        (("--content", "   "), 2, "needs its content"),
        (("--content", "x", "--scenario", "lunch"), 2, "Unknown scenario"),
    ],
)
def test_template_add_refuses_bad_input(ready, config_file, args, code, expected) -> None:
    before = config_file.read_text()
    extra = () if "--scenario" in args else ("--scenario", "test")
    result = invoke("voice", "template", "add", "TTS_9", "--account", "prod", *extra, *args)
    assert result.exit_code == code, result.all_output
    assert expected in result.stderr
    assert config_file.read_text() == before


def test_template_add_needs_an_existing_account(ready) -> None:
    result = invoke(
        "voice", "template", "add", "TTS_9", "--account", "nope", "--scenario", "test",
        "--content", "hi",
    )  # fmt: skip
    assert result.exit_code == 3
    assert "nope" in result.stderr


def test_list_filters_and_json(ready) -> None:
    listed = invoke("--json", "voice", "template", "list", "--scenario", "alert")
    assert listed.exit_code == 0
    assert [row["code"] for row in listed.json()] == [VOICE_FILE]
    human = invoke("voice", "template", "list")
    assert TTS in human.stdout and "voice-file" in human.stdout
    assert invoke("--json", "voice", "template", "list", "--account", "prod").json()
    assert invoke("voice", "template", "list", "--account", "other").exit_code == 3


def test_render_exact_text_and_variable_errors(ready) -> None:
    rendered = invoke("voice", "template", "render", TTS, "--param", "code=1234")
    assert rendered.exit_code == 0, rendered.all_output
    assert rendered.stdout.strip() == "您的验证码是1234，请在5分钟内输入。"
    missing = invoke("--json", "voice", "template", "render", TTS)
    assert missing.exit_code == 2
    assert missing.error()["details"]["missing"] == ["code"]
    unknown = invoke("voice", "template", "render", TTS, "--param", "code=1", "--param", "x=2")
    assert unknown.exit_code == 2
    assert "unknown variable x" in unknown.stderr
    audio = invoke("--json", "voice", "template", "render", VOICE_FILE)
    assert audio.exit_code == 0
    assert audio.json() == {
        "name": VOICE_FILE, "text": None, "variables": [], "warnings": [], "code": VOICE_FILE,
        "kind": "voice-file",
    }  # fmt: skip
    assert invoke("voice", "template", "render", VOICE_FILE, "--param", "a=1").exit_code == 2


def test_edit_content_recomputes_variables(ready) -> None:
    edited = invoke(
        "voice", "template", "edit", TTS, "--content", "Code ${code}, valid ${minutes} min",
        "--name", "Login call",
    )  # fmt: skip
    assert edited.exit_code == 0, edited.all_output
    item = invoke("--json", "voice", "template", "show", TTS).json()
    assert item["variables"] == ["code", "minutes"]
    assert (item["name"], item["label"]) == (TTS, "Login call")
    assert invoke("voice", "template", "edit", VOICE_FILE, "--content", "x").exit_code == 2
    assert invoke("voice", "template", "edit", TTS, "--content", "bad $").exit_code == 2
    assert invoke("voice", "template", "edit", TTS).exit_code == 2


def test_default_mark_moves_between_templates_of_a_scenario(ready) -> None:
    invoke(
        "voice", "template", "add", "TTS_LOGIN2", "--account", "prod", "--scenario", "login",
        "--content", "Again ${code}", "--default",
    )  # fmt: skip
    result = invoke("voice", "template", "edit", TTS, "--default")
    assert result.exit_code == 0
    assert "TTS_LOGIN2" in result.stderr
    assert invoke("--json", "voice", "template", "show", "TTS_LOGIN2").json()["default"] is False


def test_disable_enable_delete(ready, config_file) -> None:
    assert invoke("voice", "template", "disable", TTS).exit_code == 0
    refused = call("--dry-run")
    assert refused.exit_code == 3
    assert "disabled" in refused.stderr
    assert invoke("voice", "template", "enable", TTS).exit_code == 0
    assert call("--dry-run").exit_code == 0
    no_tty = invoke("voice", "template", "delete", TTS)
    assert no_tty.exit_code == 3 and "--yes" in no_tty.stderr
    deleted = invoke("voice", "template", "delete", TTS, "--yes")
    assert deleted.exit_code == 0, deleted.all_output
    assert TTS not in config_file.read_text()


def test_authorized_template_wins_for_its_app(ready) -> None:
    invoke(
        "voice", "template", "add", ALERT, "--account", "prod", "--scenario", "login",
        "--content", ALERT_CONTENT,
    )  # fmt: skip
    granted = invoke(
        "authorize", "template", ALERT, "--channel", "voice", "--app", "ios", "--create-app"
    )
    assert granted.exit_code == 0, granted.all_output
    result = invoke(
        "--json", "voice", "send-test", "--to", OK_NUMBER, "--scenario", "login", "--app", "ios",
        "--param", "service=db", "--yes",
    )  # fmt: skip
    assert result.exit_code == 0, result.all_output
    report = result.json()
    assert report["resolved"]["template"]["name"] == ALERT
    assert report["resolved"]["template"]["reason"] == "personalized for app `ios`"
    assert report["text"] == "告警：db出现故障，请尽快处理。"
    assert calls(ready)[0][1]["TtsCode"] == ALERT
    general = call("--dry-run", "--json", to="+8613812340000")
    assert general.exit_code == 0  # without --app, the personalized one is skipped
    assert general.json()["resolved"]["template"]["name"] == TTS


# --- validate ------------------------------------------------------------------------------------


def test_validate_activates_and_check_only_does_not(fresh_sandbox_state, voice_info) -> None:
    assert add_account(voice_info, "one").exit_code == 0
    assert add_account(voice_info, "two").exit_code == 0
    first = invoke("--json", "voice", "validate", "one")
    assert first.exit_code == 0, first.all_output
    assert first.json()["active"] is True
    checked = invoke("--json", "voice", "validate", "two", "--check-only")
    assert checked.exit_code == 0
    assert checked.json()["active"] is False
    assert invoke("--json", "config", "show").exit_code == 0
    second = invoke("voice", "validate", "two")
    assert "now the active voice account (was `one`" in second.stdout
    again = invoke("--json", "voice", "validate")
    assert again.json()["account"] == "two"


@pytest.mark.parametrize(
    ("setup", "code", "provider_code"),
    [
        ({"secret": "not-the-secret"}, 4, "SignatureDoesNotMatch"),
        ({"key": "LTAI5tNoSuchKey00000001"}, 4, "InvalidAccessKeyId.NotFound"),
        ({"key": "LTAI5tSandboxDisabled01"}, 4, "InvalidAccessKeyId.Inactive"),
        ({"endpoint": "http://127.0.0.1:1"}, 7, "ConnectionFailed"),
    ],
)
def test_validate_failures_leave_the_config_unchanged(
    fresh_sandbox_state, voice_info, config_file, setup, code, provider_code
) -> None:
    info = dict(voice_info, access_key_id=setup.get("key", voice_info["access_key_id"]))
    extra = {"endpoint": setup["endpoint"]} if "endpoint" in setup else {}
    assert add_account(info, secret=setup.get("secret"), **extra).exit_code == 0
    before = config_file.read_text()
    result = invoke("--json", "voice", "validate", "prod")
    assert result.exit_code == code, result.all_output
    error = result.error()
    assert error["code"] == provider_code
    assert "not-the-secret" not in result.all_output
    assert config_file.read_text() == before
    if code == 4:
        assert "smsctl voice " in error["hint"]


def test_validate_without_accounts_is_a_usage_error(isolated) -> None:
    result = invoke("voice", "validate")
    assert result.exit_code == 2
    assert "voice account add" in result.stderr


# --- voice files: only what the provider approved is used ----------------------------------------

REJECTED_FILE = "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b.wav"
PENDING_FILE = "pending-review.wav"


def add_voice_file(code: str, *extra: str):
    return invoke(
        "--json", "voice", "template", "add", code, "--account", "prod", "--scenario", "alert",
        "--voice-file", *extra,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("code", "error_code", "words"),
    [
        (REJECTED_FILE, "voice_file_rejected", "语音文件内容含有背景噪音"),
        ("no-such-file.wav", "voice_file_not_found", "knows no voice file"),
        (PENDING_FILE, "voice_file_pending", "still under review"),
    ],
)
def test_a_voice_file_is_added_only_once_approved(
    ready, config_file, code, error_code, words
) -> None:
    from smsctl.sandbox.state import VoiceTemplate

    ready.alibaba.state.add_voice_template(VoiceTemplate(PENDING_FILE, "voice-file", "", "pending"))
    before = config_file.read_text()
    result = add_voice_file(code)
    assert result.exit_code == 5, result.all_output
    error = result.error()
    assert (error["code"], words in error["message"]) == (error_code, True)
    assert config_file.read_text() == before


def test_a_pending_voice_file_waits_for_sync_before_it_is_called(ready, config_file) -> None:
    from smsctl.sandbox.state import VoiceTemplate

    state = ready.alibaba.state
    state.add_voice_template(VoiceTemplate(PENDING_FILE, "voice-file", "", "pending"))
    invoke("voice", "template", "delete", VOICE_FILE, "--yes")
    added = add_voice_file(PENDING_FILE, "--allow-pending")
    assert added.exit_code == 0, added.all_output
    assert added.json()["status"] == "pending"

    refused = call("--json", scenario="alert")
    assert refused.exit_code == 3, refused.all_output
    assert "not approved at the provider (status pending)" in refused.error()["message"]
    assert calls(ready) == []

    state.add_voice_template(VoiceTemplate(PENDING_FILE, "voice-file", "", "approved"))
    synced = invoke("voice", "template", "sync")
    assert synced.exit_code == 0, synced.all_output
    assert f"voice file `{PENDING_FILE}`: pending -> approved" in synced.stdout
    assert 'status = "approved"' in config_file.read_text()
    placed = call(scenario="alert")
    assert placed.exit_code == 0, placed.all_output
    assert [action for action, _ in calls(ready)] == ["SingleCallByVoice"]


def test_adding_a_voice_file_again_refreshes_only_its_review_state(ready, config_file) -> None:
    from smsctl.sandbox.state import VoiceTemplate

    state = ready.alibaba.state
    state.add_voice_template(VoiceTemplate(PENDING_FILE, "voice-file", "", "pending"))
    first = invoke("voice", "template", "add", PENDING_FILE, "--account", "prod",
                   "--scenario", "alert", "--voice-file", "--allow-pending")  # fmt: skip
    assert first.exit_code == 0, first.all_output
    assert "will not be used for calls until `smsctl voice template sync`" in first.stderr
    text = config_file.read_text()
    config_file.write_text(
        re.sub(r'checked_at = "[^"]+"', 'checked_at = "2020-01-01T00:00:00Z"', text)
    )
    state.add_voice_template(VoiceTemplate(PENDING_FILE, "voice-file", "", "approved"))
    again = add_voice_file(PENDING_FILE)
    assert again.exit_code == 0, again.all_output
    stored = invoke("--json", "voice", "template", "show", PENDING_FILE).json()
    assert stored["status"] == "approved" and stored["checked_at"] != "2020-01-01T00:00:00Z"
    other_scenario = invoke("voice", "template", "add", PENDING_FILE, "--account", "prod",
                            "--scenario", "login", "--voice-file")  # fmt: skip
    assert other_scenario.exit_code == 3  # the operator's own fields still conflict
    assert "scenario" in other_scenario.stderr


def test_a_voice_file_never_checked_is_not_called_until_synced(ready, config_file) -> None:
    """A config written before voice files were reviewed has no status: sync fills it in."""
    config_file.write_text(config_file.read_text().replace('status = "approved"\n', ""))
    refused = call("--json", scenario="alert")
    assert refused.exit_code == 3
    assert "never checked" in refused.error()["message"]
    synced = invoke("--json", "voice", "template", "sync", VOICE_FILE)
    assert synced.exit_code == 0, synced.all_output
    assert [(r["name"], r["previous"], r["status"]) for r in synced.json()] == [
        (VOICE_FILE, None, "approved")
    ]
    assert call(scenario="alert").exit_code == 0


def test_sync_of_a_tts_template_is_a_usage_error(ready, config_file) -> None:
    before = config_file.read_text()
    result = invoke("voice", "template", "sync", TTS)
    assert result.exit_code == 2
    assert "nothing to sync" in result.stderr
    assert config_file.read_text() == before


def test_validate_reports_voice_files_the_provider_no_longer_approves(ready, config_file) -> None:
    from smsctl.sandbox.state import VoiceTemplate

    ready.alibaba.state.add_voice_template(
        VoiceTemplate(VOICE_FILE, "voice-file", "", "rejected", "录音不清晰")
    )
    result = invoke("--json", "voice", "validate", "prod")
    assert result.exit_code == 0, result.all_output
    assert result.json()["items"] == [
        {
            "kind": "voice_file",
            "name": VOICE_FILE,
            "ok": False,
            "status": "rejected",
            "reason": "录音不清晰",
            "stored_status": "approved",
            "differs": True,
            "error": None,
        }
    ]
    human = invoke("voice", "validate", "prod")
    assert f"voice file {VOICE_FILE}: rejected: 录音不清晰" in human.stdout
    assert f"run `smsctl voice template sync {VOICE_FILE}`" in human.stdout
    assert 'status = "approved"' in config_file.read_text()  # validate only reports


# --- send-test -----------------------------------------------------------------------------------


def test_tts_call_reports_what_was_used_and_the_provider_answer(ready, state_dir) -> None:
    result = call()
    assert result.exit_code == 0, result.all_output
    assert "account:   prod (the active account)" in result.stdout
    assert f"template:  {TTS} (general (any app may use it))" in result.stdout
    assert "says:      您的验证码是4711，请在5分钟内输入。" in result.stdout
    assert "Call accepted by Alibaba Cloud: CallId" in result.stdout
    [(action, params)] = calls(ready)
    assert action == "SingleCallByTts"
    assert params["CalledNumber"] == "13812345678"
    assert params["TtsCode"] == TTS
    assert json.loads(params["TtsParam"]) == {"code": "4711"}
    entry = [e for e in audit_entries(state_dir) if e["event"] == "send"][-1]
    assert entry["channel"] == "voice"
    assert entry["to"] == "+86 138****5678"
    assert entry["outcome"] == "accepted"
    assert entry["call_id"] == ready.alibaba.state.calls[-1].call_id
    assert entry["out_id"] == params["OutId"]
    assert "13812345678" not in (state_dir / "audit.jsonl").read_text()


def test_voice_file_call_with_options_and_caller_number(ready) -> None:
    edit = invoke("voice", "account", "edit", "prod", "--called-show-number", "057188773344")
    assert edit.exit_code == 0, edit.all_output
    result = call(
        "--play-times", "2", "--volume", "80", "--speed", "-100", "--json", scenario="alert"
    )
    assert result.exit_code == 0, result.all_output
    [(action, params)] = calls(ready)
    assert action == "SingleCallByVoice"
    assert params["VoiceCode"] == VOICE_FILE
    assert (params["PlayTimes"], params["Volume"], params["Speed"]) == ("2", "80", "-100")
    assert params["CalledShowNumber"] == "057188773344"
    assert "TtsParam" not in params
    report = result.json()
    assert report["kind"] == "voice-file" and report["call_id"]


def test_wait_until_answered(ready) -> None:
    result = call("--wait", "10", "--json")
    assert result.exit_code == 0, result.all_output
    report = result.json()
    assert report["final"]["state"] == "answered"
    assert report["final"]["code"] == "200000"
    assert report["final"]["meaning"] == "Answered and listened to the end"


@pytest.mark.parametrize(
    ("number", "state", "code", "meaning"),
    [
        ("13900000024", "200001", 0, "hung up before the end"),
        ("13900000020", "200002", 8, "busy"),
        ("13900000021", "200003", 8, "Not answered"),
        ("13900000023", "200004", 8, "does not exist"),
        ("13900000025", "200005", 8, "could not be reached"),
        ("13900000022", "200010", 8, "powered off"),
    ],
)
def test_each_call_state_is_explained(ready, state_dir, number, state, code, meaning) -> None:
    ready.alibaba.state.call_result_delay = 0
    result = call("--wait", "10", to=number)
    assert result.exit_code == code, result.all_output
    assert meaning in result.all_output
    assert (state in result.all_output) if code else True
    if code:
        assert "Next:" in result.stderr
    results = [e for e in audit_entries(state_dir) if e["event"] == "send.call_result"]
    assert results[-1]["code"] == state
    assert results[-1]["to"].endswith(number[-4:])


def test_call_state_in_json_error(ready) -> None:
    ready.alibaba.state.call_result_delay = 0
    result = call("--wait", "10", "--json", to="13900000021")
    assert result.exit_code == 8
    assert result.stdout == ""
    error = result.error()
    assert error["code"] == "200003"
    assert error["details"]["final"]["code"] == "200003"
    assert error["details"]["final"]["state"] == "not_answered"
    assert error["details"]["call_id"]


def test_wait_running_out_says_how_to_check_later(ready) -> None:
    ready.alibaba.state.call_result_delay = 30
    result = call("--wait", "0.5")
    assert result.exit_code == 8, result.all_output
    assert "No final call result within 0.5 s" in result.stderr
    call_id = ready.alibaba.state.calls[-1].call_id
    assert f"smsctl voice call-result --call-id '{call_id}'" in result.stderr
    pending = invoke("voice", "call-result", "--call-id", call_id)
    assert pending.exit_code == 8
    ready.alibaba.state.call_result_delay = 0
    done = invoke("--json", "voice", "call-result", "--call-id", call_id)
    assert done.exit_code == 0, done.all_output
    assert done.json()["state"] == "200000"


def test_call_result_of_an_unanswered_voice_file_call(ready) -> None:
    ready.alibaba.state.call_result_delay = 0
    assert call(scenario="alert", to="13900000022").exit_code == 0
    call_id = ready.alibaba.state.calls[-1].call_id
    as_tts = invoke("voice", "call-result", "--call-id", call_id)
    assert as_tts.exit_code == 8  # wrong ProdId: no record
    assert f"`smsctl voice call-result --call-id '{call_id}' --voice-file`" in as_tts.stderr
    result = invoke("voice", "call-result", "--call-id", call_id, "--voice-file")
    assert result.exit_code == 8
    assert "powered off" in result.stderr
    assert invoke("voice", "call-result", "--call-id", "1", "--date", "yesterday").exit_code == 2


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("--to", "12345", "--param", "code=1"), "Invalid phone number"),
        (("--to", OK_NUMBER), "missing value for code"),
        (("--to", OK_NUMBER, "--param", "code=1", "--param", "x=2"), "unknown variable x"),
        (("--to", OK_NUMBER, "--params-json", "{"), "not valid JSON"),
        (("--to", OK_NUMBER, "--params-json", "[1]"), "JSON object"),
        (("--to", OK_NUMBER, "--param", "code=1", "--play-times", "4"), "--play-times"),
        (("--to", OK_NUMBER, "--param", "code=1", "--volume", "101"), "--volume"),
        (("--to", OK_NUMBER, "--param", "code=1", "--speed", "-501"), "--speed"),
    ],
)
def test_bad_input_refused_before_any_request(ready, state_dir, args, expected) -> None:
    result = invoke("voice", "send-test", "--scenario", "login", "--yes", *args)
    assert result.exit_code == 2, result.all_output
    assert expected in result.stderr
    assert ready.alibaba.state.requests == []
    assert not (state_dir / "guard.jsonl").exists()


def test_voice_file_takes_no_variables(ready) -> None:
    result = invoke(
        "voice", "send-test", "--to", OK_NUMBER, "--scenario", "alert", "--param", "a=1", "--yes"
    )
    assert result.exit_code == 2
    assert "takes no variables" in result.stderr
    assert calls(ready) == []


def test_landline_numbers_are_accepted_for_voice(ready) -> None:
    result = call("--dry-run", "--json", to="+862161234567")
    assert result.exit_code == 0, result.all_output
    assert result.json()["to"] == "+862161234567"


def test_dry_run_places_no_call_and_uses_no_guard_slot(ready, state_dir) -> None:
    result = call("--dry-run")
    assert result.exit_code == 0
    assert "no call was placed" in result.stdout
    assert calls(ready) == []
    assert call().exit_code == 0  # the dry run did not count against the per-minute limit


def test_no_tty_and_no_yes_is_exit_3_and_no_call(ready) -> None:
    result = invoke("voice", "send-test", "--to", OK_NUMBER, "--scenario", "login",
                    "--param", "code=1")  # fmt: skip
    assert result.exit_code == 3
    assert "--yes" in result.stderr
    assert calls(ready) == []


def test_guard_refuses_a_second_call_within_a_minute(ready, state_dir) -> None:
    assert call().exit_code == 0
    again = call("--json")
    assert again.exit_code == 6
    assert again.error()["code"] == "guard_limit"
    assert "voice" in again.error()["message"]
    assert len(calls(ready)) == 1


def test_guard_limits_are_configurable(ready, config_file) -> None:
    config_file.write_text(config_file.read_text() + "\n[guard.voice]\nper_minute = 0\n")
    result = call()
    assert result.exit_code == 6
    assert calls(ready) == []


@pytest.mark.parametrize(
    ("number", "code", "provider_code", "attempts"),
    [
        ("13900000005", 5, "isv.AMOUNT_NOT_ENOUGH", 1),
        ("13900000006", 7, "isp.SYSTEM_ERROR", 1),
        ("13900000007", 7, "ServiceUnavailable", 1),
        ("13900000009", 7, "BadResponse", 1),
        ("13900000003", 6, "isv.BUSINESS_LIMIT_CONTROL", 1),
        ("13900000001", 6, "Throttling.User", 3),
    ],
)
def test_provider_faults_map_to_exit_codes(
    ready, state_dir, number, code, provider_code, attempts
) -> None:
    ready.alibaba.state.retry_after_ms = 50
    result = call("--json", to=number)
    assert result.exit_code == code, result.all_output
    error = result.error()
    assert error["code"] == provider_code
    assert error["hint"]
    assert len(calls(ready)) == attempts
    entry = [e for e in audit_entries(state_dir) if e["event"] == "send"][-1]
    assert (entry["outcome"], entry["code"]) == ("failed", provider_code)


def test_throttled_once_is_retried_safely(ready) -> None:
    ready.alibaba.state.retry_after_ms = 50
    result = call("--json", to="13900000002")
    assert result.exit_code == 0, result.all_output
    assert result.json()["provider"]["attempts"] == 2


def test_lost_response_is_not_retried_and_says_so(ready, state_dir) -> None:
    result = call("--timeout", "0.5", to="13900000011")
    assert result.exit_code == 7, result.all_output
    assert "MAY have been" in result.stderr
    assert "voice console" in result.stderr
    assert len(calls(ready)) == 1
    entry = [e for e in audit_entries(state_dir) if e["event"] == "send"][-1]
    assert entry["outcome"] == "unknown"


def test_missing_secret_is_exit_4_before_the_guard(fresh_sandbox_state, voice_info, state_dir):
    assert add_account(voice_info).exit_code == 0
    invoke("voice", "template", "add", TTS, "--account", "prod", "--scenario", "login",
           "--content", TTS_CONTENT)  # fmt: skip
    from tests.support.memory_keyring import MemoryKeyring

    MemoryKeyring.entries.clear()
    result = call("--account", "prod")
    assert result.exit_code == 4, result.all_output
    assert not (state_dir / "guard.jsonl").exists()


def test_no_active_account_explains_validate(fresh_sandbox_state, voice_info) -> None:
    assert add_account(voice_info).exit_code == 0
    result = call("--dry-run")
    assert result.exit_code == 3
    assert "smsctl voice validate prod" in result.stderr


# --- doctor --------------------------------------------------------------------------------------


def test_doctor_passes_for_a_ready_voice_setup(ready) -> None:
    result = invoke("--json", "doctor", "--channel", "voice")
    assert result.exit_code == 0, result.stdout
    names = [c["check"] for c in result.json()["checks"] if c["channel"] == "voice"]
    assert names == [
        "active account",
        "account prod: secret",
        "account prod: credentials",
        f"template {TTS}",
        f"template {VOICE_FILE}",
    ]


def test_doctor_reports_wrong_credentials_with_the_voice_fix(ready) -> None:
    from tests.support.memory_keyring import MemoryKeyring

    MemoryKeyring.entries[("smsctl", "voice/prod")] = "wrong-secret-value"
    result = invoke("--json", "doctor", "--channel", "voice")
    assert result.exit_code == 4, result.stdout
    [bad] = [c for c in result.json()["checks"] if not c["ok"]]
    assert bad["check"] == "account prod: credentials"
    assert "smsctl voice account edit prod --rotate-secret" in bad["fix"]


def test_doctor_finds_template_and_account_problems(ready, config_file) -> None:
    invoke("voice", "template", "add", "TTS_X", "--account", "prod", "--scenario", "test",
           "--content", "Hi ${name}")  # fmt: skip
    text = config_file.read_text().replace('"Hi ${name}"', '"Hi ${name} costs $5"')
    config_file.write_text(text)
    result = invoke("--json", "doctor", "--channel", "voice", "--offline")
    checks = {c["check"]: c for c in result.json()["checks"] if c["channel"] == "voice"}
    assert result.exit_code == 3
    assert "malformed placeholder" in checks["template TTS_X"]["detail"]
    assert invoke("voice", "account", "disable", "prod").exit_code == 0
    result = invoke("--json", "doctor", "--channel", "voice", "--offline")
    checks = {c["check"]: c for c in result.json()["checks"] if c["channel"] == "voice"}
    assert "disabled" in checks["active account"]["detail"]
    assert "missing or disabled" in checks[f"template {TTS}"]["detail"]


def test_doctor_flags_a_voice_file_that_is_not_approved(ready, config_file) -> None:
    text = config_file.read_text().replace('status = "approved"', 'status = "pending"')
    config_file.write_text(text)
    result = invoke("--json", "doctor", "--channel", "voice", "--offline")
    assert result.exit_code == 3, result.stdout
    [bad] = [c for c in result.json()["checks"] if not c["ok"]]
    assert bad["check"] == f"template {VOICE_FILE}"
    assert "not approved at the provider (status pending)" in bad["detail"]
    assert f"smsctl voice template sync {VOICE_FILE}" in bad["fix"]


def test_doctor_missing_secret(ready) -> None:
    from tests.support.memory_keyring import MemoryKeyring

    MemoryKeyring.entries.clear()
    result = invoke("doctor", "--channel", "voice")
    assert result.exit_code == 4
    assert "account prod: secret" in result.stdout


def test_doctor_takes_the_env_secret_without_asking_the_keyring(ready, monkeypatch) -> None:
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "tests.support.memory_keyring.LockedKeyring")
    locked = invoke("--json", "doctor", "--channel", "voice", "--offline")
    assert locked.exit_code == 4
    secret = ready.info()["voice"]["access_key_secret"]
    monkeypatch.setenv("SMSCTL_SECRET_VOICE_PROD", secret)
    result = invoke("--json", "doctor", "--channel", "voice")
    assert result.exit_code == 0, result.stdout
    checks = {c["check"]: c for c in result.json()["checks"]}
    assert checks["account prod: secret"]["detail"] == "set (env SMSCTL_SECRET_VOICE_PROD)"
    assert secret not in result.all_output
