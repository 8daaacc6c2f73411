"""The email channel: SMTP account values, HTML templates with `${var}` variables, live
validation of an account, and test sends.

A test send follows the shape of every channel (core.testsend): resolve -> validate values ->
render subject, text and HTML (nothing touches the network before this is done) -> dry-run stop
-> confirm -> guard -> send (recorded in the audit log whatever happens) -> report.
TLS is always verified: the adapter (providers.smtp) never falls back to an unverified
connection, and `security = "none"` is refused for a non-loopback host unless the operator
allowed it explicitly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from smsctl.core import accounts, testsend
from smsctl.core.config import Config, ConfigStore
from smsctl.core.endpoints import is_loopback
from smsctl.core.errors import ConfigError, UsageError
from smsctl.core.recipients import check_email
from smsctl.core.schema import SECURITY_MODES, VERIFICATION_SCENARIOS, check_scenario

CHANNEL = "email"
DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "none": 25}
MAX_TEMPLATE_BYTES = 512 * 1024
_HOST = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?$")
_PEM_MARKER = "-----BEGIN CERTIFICATE-----"


# --- accounts ---------------------------------------------------------------------------------


def check_host(host: str) -> str:
    raw = (host or "").strip().strip("[]")
    if not raw:
        raise UsageError("Empty --host.", code="invalid_host")
    if "://" in raw or "/" in raw or any(ch.isspace() for ch in raw):
        raise UsageError(
            f"Invalid --host {host!r}: give the SMTP server's host name or address only "
            "(no scheme, path or port).",
            hint="Example: --host smtp.example.com --port 587 --security starttls",
            code="invalid_host",
        )
    if ":" in raw:  # an IPv6 address
        import ipaddress

        try:
            ipaddress.IPv6Address(raw)
        except ValueError:
            raise UsageError(
                f"Invalid --host {host!r}: give the port with --port, not host:port.",
                code="invalid_host",
            ) from None
        return raw
    if not _HOST.match(raw):
        raise UsageError(f"Invalid --host {host!r}.", code="invalid_host")
    return raw


def check_security(security: str) -> str:
    if security not in SECURITY_MODES:
        raise UsageError(
            f"Unknown --security {security!r}.",
            hint="Use starttls (usually port 587), ssl (implicit TLS, usually 465) or none "
            "(loopback only).",
            code="invalid_security",
        )
    return security


def check_plain_allowed(host: str, security: str, allow_insecure: bool) -> None:
    """`--security none` sends the password and the mail in clear: loopback only by default."""
    if security == "none" and not is_loopback(host) and not allow_insecure:
        raise UsageError(
            f"Refusing --security none to {host}: the password and every message would cross "
            "the network unencrypted.",
            hint="Use --security starttls or ssl; pass --allow-insecure-endpoint only if you "
            "really mean it.",
            code="insecure_endpoint",
        )


def check_ca_file(value: str) -> str:
    """An existing, readable PEM file with at least one certificate; returned absolute."""
    import ssl

    path = Path(value).expanduser()
    if not path.exists():
        raise UsageError(f"--ca-file {value}: no such file.", code="invalid_ca_file")
    if not path.is_file():
        raise UsageError(f"--ca-file {value}: not a regular file.", code="invalid_ca_file")
    try:
        text = path.read_text(encoding="ascii", errors="replace")
    except OSError as exc:
        raise UsageError(
            f"--ca-file {value}: cannot read it ({exc.strerror}).", code="invalid_ca_file"
        ) from None
    if _PEM_MARKER not in text:
        raise UsageError(
            f"--ca-file {value}: not a PEM certificate file (no {_PEM_MARKER} line).",
            hint="Give the PEM file of the CA that signed the server's certificate.",
            code="invalid_ca_file",
        )
    try:
        ssl.create_default_context(cafile=str(path))
    except (OSError, ssl.SSLError) as exc:
        raise UsageError(
            f"--ca-file {value}: the certificate cannot be loaded ({exc}).",
            code="invalid_ca_file",
        ) from None
    return str(path.resolve())


def account_values(
    *,
    host: str | None = None,
    port: int | None = None,
    security: str | None = None,
    username: str | None = None,
    from_address: str | None = None,
    from_name: str | None = None,
    ca_file: str | None = None,
    timeout: float | None = None,
    note: str | None = None,
) -> dict[str, Any]:
    """The checked values of the flags given (None: not given; "" for from_name/ca_file:
    remove)."""
    values: dict[str, Any] = {}
    if host is not None:
        values["host"] = check_host(host)
    if port is not None:
        if not 1 <= port <= 65535:
            raise UsageError(f"Invalid --port {port}: 1-65535.", code="invalid_port")
        values["port"] = port
    if security is not None:
        values["security"] = check_security(security)
    if username is not None:
        if not username.strip() or any(ch in username for ch in "\r\n"):
            raise UsageError("Invalid --username: empty or several lines.", code="invalid_username")
        values["username"] = username
    if from_address is not None:
        values["from_address"] = check_email(from_address, "--from address")
    if from_name is not None:
        if any(ch in from_name for ch in "\r\n"):
            raise UsageError("Invalid --from-name: one line only.", code="invalid_from_name")
        values["from_name"] = from_name
    if ca_file is not None:
        values["ca_file"] = check_ca_file(ca_file) if ca_file else ""
    if timeout is not None:
        if not 0.1 <= timeout <= 600:
            raise UsageError(f"Invalid --timeout {timeout:g}: 0.1-600 s.", code="invalid_timeout")
        values["timeout"] = float(timeout)
    if note is not None:
        values["note"] = note
    return values


def new_account_values(
    *,
    host: str,
    port: int | None,
    security: str,
    username: str,
    from_address: str,
    from_name: str | None,
    ca_file: str | None,
    timeout: float | None,
    note: str | None,
    allow_insecure: bool,
) -> dict[str, Any]:
    security = check_security(security)
    values = account_values(
        host=host,
        port=port if port is not None else DEFAULT_PORTS[security],
        security=security,
        username=username,
        from_address=from_address,
        from_name=from_name or None,
        ca_file=ca_file or None,
        timeout=timeout,
        note=note,
    )
    check_plain_allowed(values["host"], security, allow_insecure)
    if allow_insecure and security == "none" and not is_loopback(values["host"]):
        values["allow_insecure_endpoint"] = True
    return values


def edited_account_values(
    config: Config, name: str, changes: dict[str, Any], allow_insecure: bool
) -> dict[str, Any]:
    """Check the account as it would be after the change (host and security together)."""
    current = config.get(CHANNEL, "accounts", name)
    merged = {**current, **changes}
    allowed = allow_insecure or bool(current.get("allow_insecure_endpoint"))
    check_plain_allowed(merged["host"], merged["security"], allowed)
    if allow_insecure and merged["security"] == "none" and not is_loopback(merged["host"]):
        changes["allow_insecure_endpoint"] = True
    for key in ("from_name", "ca_file"):
        if changes.get(key) == "":
            changes[key] = None  # removes the key
    return changes


def edited_values(config: Config, name: str, options: dict[str, Any]) -> dict[str, Any]:
    """The checked changes the options of `account edit` make; empty when they make none."""
    fields = {key: value for key, value in options.items() if key != "allow_insecure"}
    changes = account_values(**fields)
    if not changes:
        return changes
    return edited_account_values(config, name, changes, bool(options.get("allow_insecure")))


def check_plain_allowed_config(account: str, item: dict[str, Any]) -> None:
    """The same rule for a hand-edited config: refused at use, as a configuration error."""
    if (
        item.get("security") == "none"
        and not is_loopback(str(item.get("host", "")))
        and not item.get("allow_insecure_endpoint")
    ):
        raise ConfigError(
            f'email account `{account}` has security = "none" for the non-loopback host '
            f"{item.get('host')}: the password and mail would cross the network in clear.",
            hint=f"`smsctl email account edit {account} --security starttls` (or ssl); "
            "--allow-insecure-endpoint only if you really mean it.",
            code="insecure_endpoint",
        )


def pick_account(config: Config, account: str | None) -> str:
    """The named account, else the active one, else the only one."""
    if account:
        config.get(CHANNEL, "accounts", account)
        return account
    active = config.active_account(CHANNEL)
    if active:
        return active
    names = list(config.accounts(CHANNEL))
    if len(names) == 1:
        return names[0]
    raise UsageError(
        "Name the email account to validate"
        + (f" (one of {', '.join(names)})." if names else "; there are none yet."),
        hint="smsctl email validate ACCOUNT"
        if names
        else "Add one: `smsctl email account add NAME --host H --security starttls ...`.",
        code="account_needed",
    )


@dataclass
class Validation:
    account: str
    server: str
    activated: bool
    previous_active: str | None
    host: str = ""
    port: int = 0
    security: str = ""
    via: str = "smtp_login"  # connected, TLS as configured, authenticated, quit: nothing sent


def validate(
    store: ConfigStore, secrets: Any, account: str | None, *, check_only: bool
) -> Validation:
    """Connect, negotiate TLS as configured, authenticate and quit (nothing is sent); on
    success make the account the active email account unless check_only."""
    from smsctl.core import connect

    config = store.load()
    name = pick_account(config, account)
    item = config.get(CHANNEL, "accounts", name)
    if not check_only and not item["enabled"]:
        raise ConfigError(
            f"email account `{name}` is disabled; a disabled account cannot be the active one.",
            hint=f"`smsctl email account enable {name}` first, or use --check-only.",
            code="account_disabled",
        )
    connect.adapter(config, secrets, CHANNEL, name).check_credentials()
    previous = config.active_account(CHANNEL)  # stays so with --check-only
    if not check_only:
        previous = accounts.activate(store, CHANNEL, name, command="email validate")
    host, port, security = item["host"], int(item["port"]), item["security"]
    server = f"{host}:{port} ({security})"
    return Validation(name, server, not check_only, previous, host, port, security)


# --- templates --------------------------------------------------------------------------------


def read_template_file(value: str, flag: str) -> str:
    """A UTF-8 text file given as --html/--text; line endings normalized to \\n."""
    path = Path(value).expanduser()
    if not path.exists():
        raise UsageError(f"{flag} {value}: no such file.", code="invalid_file")
    if not path.is_file():
        raise UsageError(f"{flag} {value}: not a regular file.", code="invalid_file")
    try:
        size = path.stat().st_size
        if size > MAX_TEMPLATE_BYTES:
            raise UsageError(
                f"{flag} {value}: {size} bytes; templates are limited to "
                f"{MAX_TEMPLATE_BYTES // 1024} KiB (they are stored in the config file).",
                code="invalid_file",
            )
        data = path.read_bytes()
    except OSError as exc:
        raise UsageError(
            f"{flag} {value}: cannot read it ({exc.strerror}).", code="invalid_file"
        ) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UsageError(
            f"{flag} {value}: not UTF-8 text (byte {exc.start}).", code="invalid_file"
        ) from None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise UsageError(f"{flag} {value}: the file is empty.", code="invalid_file")
    if "\x00" in text:
        raise UsageError(f"{flag} {value}: contains NUL bytes.", code="invalid_file")
    return text


def check_subject(subject: str) -> str:
    if not subject or not subject.strip():
        raise UsageError("Empty --subject.", code="invalid_subject")
    if any(ch in subject for ch in "\r\n"):
        raise UsageError("--subject must be one line.", code="invalid_subject")
    return subject


def _parts(subject: str, html: str, text: str | None) -> list[tuple[str, str]]:
    parts = [("subject", subject), ("HTML body", html)]
    if text is not None:
        parts.append(("text body", text))
    return parts


def template_variables(subject: str, html: str, text: str | None) -> list[str]:
    from smsctl.core.templating import variables

    seen: dict[str, None] = {}
    for _, part in _parts(subject, html, text):
        for name in variables(part):
            seen.setdefault(name, None)
    return list(seen)


def template_problems(scenario: str | None, subject: str, html: str, text: str | None) -> list[str]:
    """Every reason the template cannot be used: malformed placeholders (with line and column)
    and a verification template without ${code}."""
    from smsctl.core.templating import find_malformed, variables

    problems = []
    for what, part in _parts(subject, html, text):
        for line, column, snippet in find_malformed(part):
            problems.append(
                f"malformed placeholder in the {what} at line {line}, column {column}: {snippet!r}"
            )
    if scenario in VERIFICATION_SCENARIOS:
        if "code" not in variables(html):
            problems.append(
                f"a {scenario} email must show the code: the HTML body has no ${{code}}"
            )
        if text is not None and "code" not in variables(text):
            problems.append(
                f"a {scenario} email must show the code: the text body has no ${{code}}"
            )
    return problems


def check_template(scenario: str | None, subject: str, html: str, text: str | None) -> list[str]:
    """UsageError on any problem; the variables otherwise."""
    problems = template_problems(scenario, subject, html, text)
    if problems:
        raise UsageError(
            "The email template cannot be used: " + "; ".join(problems) + ".",
            hint="Write variables as ${name} (letters, digits, underscores; not starting with a "
            "digit), a literal dollar sign as $$; verification scenarios (register, login, "
            "reset-password) need ${code}.",
            code="invalid_template",
            details={"problems": problems},
        )
    return template_variables(subject, html, text)


def template_values(
    *,
    scenario: str,
    subject: str,
    html: str,
    text: str | None,
    account: str | None,
    label: str | None,
    default: bool,
    note: str | None,
) -> dict[str, Any]:
    check_scenario(scenario)
    check_subject(subject)
    variables = check_template(scenario, subject, html, text)
    return {
        "account": account or None,
        "scenario": scenario,
        "label": label,
        "subject": subject,
        "html": html,
        "text": text,
        "variables": variables,
        "default": default or None,
        "note": note,
    }


def edited_template(item: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """Re-check the whole template as it would be after the change; adds `variables`."""
    merged = {**item, **{k: v for k, v in changes.items()}}
    if "subject" in changes:
        check_subject(changes["subject"])
    check_scenario(merged.get("scenario"))
    changes["variables"] = check_template(
        merged.get("scenario"), merged["subject"], merged["html"], merged.get("text")
    )
    return changes


@dataclass
class RenderedEmail:
    subject: str
    text: str
    html: str
    text_generated: bool
    variables: list[str] = field(default_factory=list)


def render_item(
    config: Any, name: str, item: dict[str, Any], values: dict[str, str], *, signature: None
) -> dict[str, Any]:
    """`email template render`: subject, text and HTML exactly as they would be sent."""
    rendered = render_template(name, item, values)
    return {
        "text": rendered.text,
        "variables": rendered.variables,
        "warnings": [],
        "subject": rendered.subject,
        "html": rendered.html,
        "text_generated": rendered.text_generated,
    }


def render_template(name: str, item: dict[str, Any], values: dict[str, str]) -> RenderedEmail:
    """Subject, text and HTML exactly as sent: values HTML-escaped in the HTML part only.

    A stored template that became unusable (hand-edited) is a configuration error; values
    that do not match its variables are a usage error naming them.
    """
    from smsctl.core.html_text import html_to_text
    from smsctl.core.templating import check_values, render

    subject, html, text = item.get("subject") or "", item.get("html") or "", item.get("text")
    problems = template_problems(item.get("scenario"), subject, html, text)
    if problems:
        raise ConfigError(
            f"email template `{name}` in the config cannot be used: " + "; ".join(problems) + ".",
            hint=f"Fix it with `smsctl email template edit {name} ...`.",
            code="invalid_template",
            details={"problems": problems},
        )
    expected = template_variables(subject, html, text)
    check_values(expected, values, what=f"Email template `{name}`")
    for key, value in values.items():
        if key in _subject_variables(subject) and any(ch in value for ch in "\r\n"):
            raise UsageError(
                f"The value of `{key}` is used in the subject and must be one line.",
                code="invalid_param",
            )
    rendered_subject = render(subject, values, allow_extra=True)
    rendered_html = render(html, values, escape_html=True, allow_extra=True)
    generated = text is None
    text_template = html_to_text(html) if generated else text
    rendered_text = render(text_template, values, allow_extra=True)
    return RenderedEmail(rendered_subject, rendered_text, rendered_html, generated, expected)


def _subject_variables(subject: str) -> list[str]:
    from smsctl.core.templating import variables

    return variables(subject)


# --- test sends -------------------------------------------------------------------------------


def prepare_send(
    config: Config,
    *,
    to: str,
    scenario: str | None,
    app: str | None,
    account: str | None,
    template: str | None,
    values: dict[str, str],
) -> testsend.Plan:
    """Resolve, validate and render; nothing touches the network."""
    from smsctl.core import resolution

    address = check_email(to, "--to address")
    chosen = resolution.resolve(
        config, CHANNEL, scenario=scenario, app=app, account=account, template=template
    )
    item = chosen.account.item
    check_plain_allowed_config(chosen.account.name, item)
    rendered = render_template(chosen.template.name, chosen.template.item, values)
    plan = testsend.Plan(
        CHANNEL,
        chosen,
        address,
        values,
        rendered.text,
        testsend.new_out_id(),
        warnings=list(chosen.notes),
    )
    plan.extra.update(
        subject=rendered.subject,
        html=rendered.html,
        text_generated=rendered.text_generated,
        from_address=item["from_address"],
        from_name=item.get("from_name") or None,
        server={"host": item["host"], "port": int(item["port"]), "security": item["security"]},
    )
    return plan


def _server_text(server: dict[str, Any]) -> str:
    return f"{server['host']}:{server['port']} ({server['security']})"


class EmailSend(testsend.ChannelSend):
    """The email part of the send-test flow (core.testsend.run): one SMTP transaction. An SMTP
    server's acceptance is all there is to know: no wait."""

    channel = CHANNEL
    noun = "email"
    verb = "sent"
    id_keys = ("message_id",)
    can_wait = False
    dry_run_text = "Dry run: nothing was sent"
    confirm_what = "Sending a test email"

    def prepare(self, config: Config, request: dict[str, Any]) -> testsend.Plan:
        return prepare_send(config, **request)

    def connect(
        self, config: Config, secrets: Any, plan: testsend.Plan, timeout: float | None
    ) -> Any:
        """The adapter and the message, its Message-ID made before anything is sent (so that
        every record of the send has it, also when the outcome is unknown)."""
        from smsctl.core import connect

        adapter = connect.adapter(config, secrets, CHANNEL, plan.account, timeout=timeout)
        message = adapter.compose(plan.target, plan.extra["subject"], plan.text, plan.extra["html"])
        message["X-Smsctl-Out-Id"] = plan.out_id
        return adapter, message

    def context(self, adapter: Any, plan: testsend.Plan) -> dict[str, Any]:
        _adapter, message = adapter
        return {"message_id": str(message["Message-ID"])}

    def deliver(self, adapter: Any, plan: testsend.Plan) -> Any:
        smtp, message = adapter
        return smtp.send(message)

    def answer(self, raw: Any, plan: testsend.Plan, adapter: Any) -> testsend.Sent:
        return testsend.Sent(
            testsend.provider_answer("smtp", message_id=raw.message_id),
            {"message_id": raw.message_id},
            {"message_id": raw.message_id, "server": plan.extra["server"]},
        )

    def question(self, plan: testsend.Plan) -> str:
        return f"Send this email to {plan.target}?"

    def plan_lines(self, plan: testsend.Plan) -> list[str]:
        sender = plan.extra["from_address"]
        if plan.extra.get("from_name"):
            sender = f"{plan.extra['from_name']} <{sender}>"
        generated = " (generated from the HTML)" if plan.extra["text_generated"] else ""
        return [
            f"server:    {_server_text(plan.extra['server'])}",
            f"from:      {sender}",
            f"to:        {plan.target}",
            f"subject:   {plan.extra['subject']}",
            "--- text/plain" + generated,
            plan.text.rstrip("\n"),
            "--- text/html",
            plan.extra["html"].rstrip("\n"),
            "---",
        ]

    def sending_text(self, plan: testsend.Plan) -> str | None:
        return f"Sending through {_server_text(plan.extra['server'])}..."

    def in_flight_hint(self, plan: testsend.Plan, config: Config) -> str:
        return (
            "Check before sending again: `smsctl log --sends` shows its Message-ID; search the "
            "recipient's mailbox or the server's log for it (its header X-Smsctl-Out-Id is "
            f"{plan.out_id})."
        )

    def accepted_text(self, result: testsend.SendTest) -> str:
        return (
            f"Accepted by {_server_text(result.plan.extra['server'])}: Message-ID "
            f"{result.sent.ids['message_id']}, OutId {result.plan.out_id}"
        )

    def accepted_note(self, result: testsend.SendTest) -> str | None:
        return (
            "Accepted means the SMTP server took the message, not that it reached the inbox; "
            "search the mailbox (or the server's log) for the Message-ID."
        )


SEND_TEST = EmailSend()
