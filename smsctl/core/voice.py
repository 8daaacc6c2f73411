"""Voice administration and test calls (Alibaba Cloud dyvmsapi).

Voice templates differ from SMS templates in one way that shapes everything here: the provider
has no API to look a TTS template up, so its content (and the `${var}` variables in it) is what
the operator typed when adding it. A voice-file template is a recorded audio file: no text, no
variables. Test calls follow the shared test-send flow of `core.testsend`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from smsctl.core import accounts, audit, clock, connect, items, templating, testsend
from smsctl.core.config import Config, ConfigStore
from smsctl.core.errors import ConfigError, DeliveryFailed, SmsctlError, UsageError
from smsctl.core.names import check_provider_name
from smsctl.core.sms import StatusCheck, Validation

CHANNEL = "voice"
KINDS = ("tts", "voice-file")
CONSOLE = "Alibaba Cloud Voice Messaging console (Voice File Management)"

# The shared Alibaba catalog speaks in SMS commands; on the voice channel its hints must name
# the voice ones (and the voice endpoint).
# --- templates -----------------------------------------------------------------------------------


def check_content(content: str) -> list[str]:
    """A TTS template's text: not empty, placeholders well formed. Returns its variables."""
    if not content or not content.strip():
        raise UsageError(
            "A TTS template needs its content (--content TEXT), exactly as approved at the "
            "provider, with ${var} placeholders.",
            code="missing_content",
        )
    templating.check_syntax(content, what="TTS content")
    return templating.variables(content)


def add_template(
    store: ConfigStore,
    secrets: Any,
    code: str,
    *,
    account: str,
    scenario: str,
    content: str | None,
    voice_file: bool,
    name: str | None,
    default: bool,
    allow_pending: bool = False,
) -> items.ItemChange:
    """A TTS template is stored as the operator gives it; a voice file only once the provider
    says it is approved (pending with allow_pending: stored, never used until sync)."""
    check_provider_name(code, "voice template code")
    if voice_file and content is not None:
        raise UsageError(
            "A voice-file template is recorded audio: it has no --content.",
            hint="Give either --content TEXT (a TTS template) or --voice-file.",
            code="invalid_template_kind",
        )
    if not voice_file and content is None:
        raise UsageError(
            "Give --content TEXT for a TTS template, or --voice-file for a recorded one.",
            hint="The provider has no API to look TTS templates up: copy the content from the "
            "voice console, e.g. --content '您的验证码是${code}'.",
            code="invalid_template_kind",
        )
    values: dict[str, Any] = {
        "account": account,
        "scenario": scenario,
        "kind": "voice-file" if voice_file else "tts",
        "name": name,
        "content": "" if voice_file else content,
        "variables": [] if voice_file else check_content(content or ""),
        "default": True if default else None,
    }
    if voice_file:
        config = store.load()
        config.get(CHANNEL, "accounts", account)
        info = connect.adapter(config, secrets, CHANNEL, account).voice_files([code])[code]
        items.refuse_unapproved(
            "voice file", code, info.status, info.reason, allow_pending,
            sync="smsctl voice template sync", console=CONSOLE,
        )  # fmt: skip
        values.update(_review_fields(info))
    # The content is the operator's, not refreshed from a provider: a different one is a
    # conflict to resolve with `edit`, not something to overwrite silently. Only a voice file's
    # review state is the provider's, refreshed by every add.
    return items.add(
        store, CHANNEL, "templates", code, values, command="voice template add",
        volatile=items.REVIEW,
    )  # fmt: skip


def edit_template(
    store: ConfigStore,
    code: str,
    *,
    scenario: str | None = None,
    name: str | None = None,
    content: str | None = None,
    default: bool | None = None,
) -> items.ItemChange:
    item = store.load().get(CHANNEL, "templates", code)
    changes: dict[str, Any] = {
        k: v for k, v in {"scenario": scenario, "name": name, "default": default}.items()
        if v is not None
    }  # fmt: skip
    if content is not None:
        if item["kind"] != "tts":
            raise UsageError(
                f"`{code}` is a voice-file template: it has no content to edit.",
                code="invalid_template_kind",
            )
        changes["content"] = content
        changes["variables"] = check_content(content)
    if not changes:
        raise UsageError(
            "Nothing to change.", hint="Give --scenario, --name, --content or --default."
        )
    return items.update(store, CHANNEL, "templates", code, changes, command="voice template edit")


def render_item(
    config: Any, code: str, item: dict[str, Any], values: dict[str, str], *, signature: None
) -> dict[str, Any]:
    """`voice template render`: the text the callee hears (None for a recorded voice file)."""
    return {
        "text": render(item, values),
        "variables": list(item.get("variables") or []),
        "warnings": [],
        "code": code,
        "kind": item["kind"],
    }


def render(item: dict[str, Any], values: dict[str, str]) -> str | None:
    """The exact text the callee hears for a TTS template; None for a voice file (which takes
    no variables). Missing or unknown variables are a UsageError naming them."""
    if item["kind"] == "voice-file":
        if values:
            raise UsageError(
                "A voice-file template takes no variables; unknown variable "
                + ", ".join(values) + ".",
                hint="Remove the --param/--params-json values, or use a TTS template.",
                code="template_variables",
                details={"unknown": list(values), "missing": [], "variables": []},
            )  # fmt: skip
        return None
    return templating.render(item["content"], values)


# --- validate ------------------------------------------------------------------------------------


def _review_fields(info: Any) -> dict[str, Any]:
    if info.status == "not_found":
        return {**items.review_fields("unknown", ""), "reason": "not found at the provider"}
    return items.review_fields(info.status, info.reason)


def _compare(
    name: str, fields: dict[str, Any], item: dict[str, Any], code: str = ""
) -> StatusCheck:
    changed = fields["status"] != item["status"]
    return StatusCheck(
        name, fields["status"], fields["reason"], changed, item["status"],
        kind="voice_file", item=code or name,
    )  # fmt: skip


def sync(store: ConfigStore, secrets: Any, codes: list[str] | None = None) -> list[StatusCheck]:
    """Refresh the review state of voice files (all, or the given ones) from the provider.
    TTS templates have nothing to refresh: the provider cannot be asked for them."""
    config = store.load()
    collection = config.collection(CHANNEL, "templates")
    for code in codes or []:
        config.get(CHANNEL, "templates", code)
        if collection[code]["kind"] != "voice-file":
            raise UsageError(
                f"`{code}` is a TTS template: the provider has no API to look it up, so there "
                "is nothing to sync.",
                hint="Only voice files are synced; edit a TTS template's text with "
                f"`smsctl voice template edit {code} --content TEXT`.",
                code="invalid_template_kind",
            )
    wanted = codes or [c for c, item in collection.items() if item["kind"] == "voice-file"]
    by_account: dict[str, list[str]] = {}
    for code in wanted:
        by_account.setdefault(collection[code]["account"], []).append(code)
    results: list[StatusCheck] = []
    updates: dict[str, dict[str, Any]] = {}
    for account, account_codes in by_account.items():
        try:
            infos = connect.adapter(config, secrets, CHANNEL, account).voice_files(account_codes)
        except SmsctlError as err:
            if err.exit_code in (4, 7):
                raise
            for code in account_codes:
                item = collection[code]
                results.append(StatusCheck(code, item["status"], item["reason"], error=err))
            continue
        for code in account_codes:
            fields = _review_fields(infos[code])
            results.append(_compare(code, fields, collection[code]))
            updates[code] = fields
    if updates:
        with store.edit() as editor:
            for code, fields in updates.items():
                editor.set_item(CHANNEL, "templates", code, fields)
        audit.record(
            "config.change",
            command="voice template sync",
            channel=CHANNEL,
            action="template.sync",
            changed=[f"{r.name}: {r.previous} -> {r.status}" for r in results if r.changed],
        )
    return results


# The read-only call that proves a voice account's credentials (no call is placed).
VALIDATE_VIA = "QueryCallDetailByCallId"


def validate(
    store: ConfigStore, secrets: Any, account: str | None, *, check_only: bool
) -> Validation:
    """Check the credentials live; on success make the account active (unless check_only), and
    report the provider's review state of the account's voice files. Nothing is written when
    the credential check fails."""
    config = store.load()
    name = account or config.active_account(CHANNEL) or _only_account(config)
    config.get(CHANNEL, "accounts", name)
    client = connect.adapter(config, secrets, CHANNEL, name)
    client.check_credentials()
    if check_only:
        result = Validation(name, False, config.active_account(CHANNEL), via=VALIDATE_VIA)
    else:
        previous = accounts.activate(store, CHANNEL, name, command="voice validate")
        result = Validation(name, True, previous, via=VALIDATE_VIA)
    stored = config.collection(CHANNEL, "templates")
    files = [
        code
        for code, item in stored.items()
        if item["kind"] == "voice-file" and item["account"] == name
    ]
    if not files:
        return result
    try:
        infos = client.voice_files(files)
    except SmsctlError as err:
        result.checks = [
            StatusCheck(
                f"voice file {code}", "error", err.message, error=err, kind="voice_file", item=code
            )
            for code in files
        ]
        return result
    result.checks = [
        _compare(f"voice file {code}", _review_fields(infos[code]), stored[code], code)
        for code in files
    ]
    return result


def _only_account(config: Config) -> str:
    names = list(config.accounts(CHANNEL))
    if len(names) == 1:
        return names[0]
    raise UsageError(
        "Name the voice account to validate"
        + (f" (one of {', '.join(names)})." if names else "; there are none yet."),
        hint="smsctl voice validate ACCOUNT"
        if names
        else "Add one first: smsctl voice account add NAME --access-key-id ID",
    )


# --- test calls ----------------------------------------------------------------------------------


def prepare_call(
    config: Config,
    *,
    to: str,
    scenario: str | None,
    app: str | None,
    account: str | None,
    template: str | None,
    values: dict[str, str],
    play_times: int | None = None,
    volume: int | None = None,
    speed: int | None = None,
) -> testsend.Plan:
    """Resolve, validate and render; nothing touches the network."""
    from smsctl.core import resolution
    from smsctl.core.recipients import parse_phone
    from smsctl.core.sms import value_warnings

    phone = parse_phone(to, mobile_only=False)
    chosen = resolution.resolve(
        config, CHANNEL, scenario=scenario, app=app, account=account, template=template
    )
    item = chosen.template.item
    if item.get("kind") == "tts" and sorted(item.get("variables") or []) != sorted(
        templating.variables(item.get("content") or "")
    ):
        raise ConfigError(
            f"Voice template `{chosen.template.name}`: its `variables` do not match its content.",
            hint=f"Set the content again: `smsctl voice template edit {chosen.template.name} "
            "--content TEXT`.",
            code="template_inconsistent",
        )
    text = render(item, values)
    plan = testsend.Plan(
        CHANNEL,
        chosen,
        phone.e164,
        values,
        text or "",
        testsend.new_out_id(),
        warnings=(value_warnings(values) if text is not None else []) + chosen.notes,
    )
    plan.extra.update(
        kind=item["kind"],
        called_show_number=chosen.account.item.get("called_show_number") or None,
        play_times=play_times,
        volume=volume,
        speed=speed,
    )
    return plan


@dataclass
class PlacedCall:
    client: Any
    call_id: str
    request_id: str | None
    attempts: int
    placed_at: datetime


class VoiceSend(testsend.ChannelSend):
    """The voice part of the send-test flow (core.testsend.run): one SingleCallByTts /
    SingleCallByVoice, its call result."""

    channel = CHANNEL
    noun = "call"
    verb = "placed"
    id_keys = ("call_id",)
    can_wait = True
    dry_run_text = "Dry run: no call was placed"
    confirm_what = "Placing a test call"

    def prepare(self, config: Config, request: dict[str, Any]) -> testsend.Plan:
        return prepare_call(config, **request)

    def connect(
        self, config: Config, secrets: Any, plan: testsend.Plan, timeout: float | None
    ) -> Any:
        return connect.adapter(config, secrets, CHANNEL, plan.account, timeout=timeout)

    def deliver(self, adapter: Any, plan: testsend.Plan) -> Any:
        extra = plan.extra
        options = {
            "out_id": plan.out_id,
            "called_show_number": extra.get("called_show_number"),
            "play_times": extra.get("play_times"),
            "volume": extra.get("volume"),
            "speed": extra.get("speed"),
        }
        code = plan.resolution.template.name
        if extra["kind"] == "voice-file":
            return adapter.call_voice_file(plan.target, code, **options)
        return adapter.call_tts(plan.target, code, plan.values, **options)

    def answer(self, raw: Any, plan: testsend.Plan, adapter: Any) -> testsend.Sent:
        placed = PlacedCall(
            adapter, raw.call_id, raw.request_id, raw.attempts, plan.sent_at or clock.now()
        )
        return testsend.Sent(
            testsend.provider_answer(
                "alibaba",
                request_id=raw.request_id,
                message_id=raw.call_id,
                attempts=raw.attempts,
            ),
            {"call_id": raw.call_id},
            {"call_id": raw.call_id, "request_id": raw.request_id, "attempts": raw.attempts},
            placed,
        )

    def wait(self, result: testsend.SendTest, seconds: float, on_tick: Any) -> testsend.Final:
        plan, placed = result.plan, result.sent.adapter
        outcome = wait_call(placed, plan, seconds, on_tick=on_tick)
        detail = outcome.state
        data = final_of(detail, outcome.final, outcome.waited)
        failure = call_error(
            plan.masked_target, placed.call_id, plan.extra["kind"], outcome, seconds
        )
        return testsend.Final(data, failure, detail)

    def question(self, plan: testsend.Plan) -> str:
        return f"Call {plan.target} now?"

    def plan_lines(self, plan: testsend.Plan) -> list[str]:
        lines = [f"to:        {plan.target}"]
        if plan.extra["kind"] == "voice-file":
            lines.append(f"plays:     voice file {plan.resolution.template.name} (recorded audio)")
        else:
            lines.append(f"says:      {plan.text}")
        caller = plan.extra.get("called_show_number")
        lines.append(f"caller:    {caller or '(provider default, public number pool)'}")
        return lines

    def in_flight_hint(self, plan: testsend.Plan, config: Config) -> str:
        return (
            f"Check before calling again: look up OutId {plan.out_id} in the voice console's "
            "call records; `smsctl log --sends` lists the attempt."
        )

    def accepted_text(self, result: testsend.SendTest) -> str:
        provider = result.sent.provider
        retried = f" after {provider['attempts']} attempts" if provider["attempts"] > 1 else ""
        return (
            f"Call accepted by Alibaba Cloud{retried}: CallId {result.sent.ids['call_id']}, "
            f"RequestId {provider['request_id']}, OutId {result.plan.out_id}"
        )

    def accepted_note(self, result: testsend.SendTest) -> str | None:
        return (
            "Accepted means the call is being placed, not answered; add --wait 90 to wait for "
            "the call result."
        )

    def waiting_texts(self, seconds: float) -> tuple[str, Any]:
        return (
            f"Waiting for the call result (up to {seconds:g} s)...",
            lambda state, waited: (
                f"Waiting for the call result: no result yet after {waited:.0f} s"
            ),
        )

    def wait_lookup(self, result: testsend.SendTest, config: Config) -> tuple[str, str]:
        call_id = result.sent.ids["call_id"]
        return (
            f"the call was placed (CallId {call_id}, OutId {result.plan.out_id})",
            f"`{call_result_command(config, result.plan, call_id)}`",
        )

    def final_text(self, result: testsend.SendTest) -> str:
        detail = result.final.state
        return (
            f"Answered by {result.plan.target}: {detail.explanation.meaning} (state "
            f"{detail.state}, {detail.duration or 0} s, ended {clock.show(detail.ended_at)})"
        )


SEND_TEST = VoiceSend()


def final_of(detail: Any, final: bool, waited: float | None = None) -> dict[str, Any]:
    """A call result as `--json` reports a final state on every channel: `state` answered,
    not_answered or waiting, `at` when the call ended, `code` the provider's state code."""
    final = final and detail is not None
    explanation = getattr(detail, "explanation", None) if final else None
    extra = {} if waited is None else {"waited_seconds": round(waited, 1)}
    return testsend.final_data(
        ("answered" if detail.answered else "not_answered") if final else "waiting",
        getattr(detail, "ended_at", None) if final else None,
        detail.state if final else None,
        explanation.meaning if explanation else None,
        **extra,
        state_desc=getattr(detail, "state_desc", None),
        duration=getattr(detail, "duration", None),
    )


def call_result_command(config: Config, plan: testsend.Plan, call_id: str) -> str:
    """`smsctl voice call-result` for this call."""
    import shlex

    words = ["smsctl voice call-result --call-id", shlex.quote(call_id)]
    if plan.extra["kind"] == "voice-file":
        words.append("--voice-file")
    if config.active_account(CHANNEL) != plan.account:
        words += ["--account", plan.account]
    return " ".join(words)


def wait_call(
    placed: PlacedCall, plan: testsend.Plan, wait_seconds: float, on_tick: Any = None
) -> testsend.WaitOutcome:
    """Poll QueryCallDetailByCallId until the call has a final state or the wait runs out."""
    kind = plan.extra["kind"]
    moments = query_moments(clock.days_to_ask(None, placed.placed_at))
    outcome = testsend.poll_until(
        lambda: _first_final(placed.client, placed.call_id, kind, moments),
        lambda detail: detail.final,
        wait_seconds,
        interval=min(1.0, max(0.2, wait_seconds / 10)),
        on_tick=on_tick,
    )
    detail = outcome.state
    audit.record(
        "send.call_result",
        channel=CHANNEL,
        account=plan.account,
        to=plan.masked_target,
        call_id=placed.call_id,
        out_id=plan.out_id,
        state=getattr(detail, "state", None) if outcome.final else None,
        outcome=(
            ("answered" if detail.answered else "not answered")
            if outcome.final
            else "no call result in time"
        ),
        code=getattr(detail, "state", None) if outcome.final else None,
    )
    return outcome


def query_moments(days: clock.ChinaDays) -> list[datetime]:
    """QueryCallDetailByCallId takes a moment (epoch ms) and looks the call up under that
    moment's China date: the call's own moment first, then noon of any other date to ask."""
    first = days.sent_at if days.basis == "send" and days.sent_at else None
    if first is None and days.basis == "today":
        first = clock.now()
    moments = [first or clock.china_noon(days.dates[0])]
    moments += [clock.china_noon(day) for day in days.dates[1:]]
    return moments


def _first_final(client: Any, call_id: str, kind: str, moments: list[datetime]) -> Any:
    detail = None
    for moment in moments:
        detail = client.query_call(call_id, kind, moment)
        if detail.final:
            return detail
    return detail


def query_call(
    config: Config,
    secrets: Any,
    account: str | None,
    call_id: str,
    kind: str,
    date_option: str | None,
) -> tuple[Any, clock.ChinaDays, str]:
    """The result of an earlier call (and the account asked), asked for under --date (a China
    date), else the China date of the call itself from smsctl's log, else China's today."""
    from smsctl.core.resolution import resolve_account

    days = clock.days_to_ask(date_option, audit.sent_at(CHANNEL, call_id=call_id))
    chosen = resolve_account(config, CHANNEL, account)
    client = connect.adapter(config, secrets, CHANNEL, chosen.name)
    return _first_final(client, call_id, kind, query_moments(days)), days, chosen.name


def pending_error(call_id: str, kind: str, days: clock.ChinaDays, details: dict) -> SmsctlError:
    """Exit 8 for a call with no result: still in progress, or not under the date asked."""
    flag = " --voice-file" if kind == "voice-file" else ""
    what, hint = clock.explain_days(
        days, lambda day: f"smsctl voice call-result --call-id '{call_id}'{flag} --date {day}"
    )
    other = f"smsctl voice call-result --call-id '{call_id}'" + (
        "" if kind == "voice-file" else " --voice-file"
    )
    played = "a TTS template" if kind == "voice-file" else "a voice file"
    return DeliveryFailed(
        f"No call result for CallId {call_id} {what}.",
        hint=f"The call may still be in progress (a result exists once it has ended). If it "
        f"played {played}, ask for that kind: `{other}`. {hint}",
        code="call_result_waiting",
        details=details,
    )


def check_later_hint(call_id: str, kind: str) -> str:
    flag = " --voice-file" if kind == "voice-file" else ""
    return (
        f"The call was placed (CallId {call_id}). Check its result later with "
        f"`smsctl voice call-result --call-id '{call_id}'{flag}`; results usually arrive within "
        "a minute of the call ending."
    )


def call_error(
    masked_target: str, call_id: str, kind: str, outcome: testsend.WaitOutcome, wait_seconds: float
) -> SmsctlError | None:
    """None when the call was answered; otherwise the exit-8 error that explains the state."""
    detail = outcome.state
    if outcome.final and detail.answered:
        return None
    if outcome.final:
        return state_error(masked_target, call_id, detail)
    return DeliveryFailed(
        f"No final call result within {wait_seconds:g} s (the call may still be ringing).",
        hint=check_later_hint(call_id, kind),
        code="call_result_timeout",
        details={"call_id": call_id, "call": "waiting"},
    )


def state_error(masked_target: str, call_id: str, detail: Any) -> SmsctlError:
    explanation = detail.explanation
    meaning = explanation.meaning if explanation else "the call failed"
    described = f" ({detail.state_desc})" if detail.state_desc else ""
    return DeliveryFailed(
        f"Call to {masked_target} not answered: state {detail.state}{described} — {meaning}.",
        hint=(f"{explanation.cause} Next: {explanation.next_step}" if explanation else None),
        code=detail.state,
        details={"call_id": call_id, "state": detail.state, "state_desc": detail.state_desc},
    )


def detail_dict(detail: Any, final: bool, waited: float | None = None) -> dict[str, Any] | None:
    if detail is None:
        return None
    data: dict[str, Any] = {
        "state": detail.state if final else "waiting",
        "state_desc": detail.state_desc,
        "answered": bool(final and detail.answered),
        "duration": detail.duration,
        "meaning": detail.explanation.meaning if detail.explanation else None,
        "ended_at": clock.iso(getattr(detail, "ended_at", None)) if final else None,
    }
    if waited is not None:
        data["waited_seconds"] = round(waited, 1)
    return data
