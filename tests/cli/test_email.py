"""`smsctl email ...` in-process against the real SMTP emulator (aiosmtpd, trustme certificates)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from smsctl.sandbox.smtp import SmtpEmulator
from tests.conftest import CANARY
from tests.support.cli import invoke

FROM = "noreply@acme.test"
TO = "alice@example.test"
HTML = """<html><head><title>ignored</title></head><body>
<p>Hello ${name},</p>
<p>Your login code is <b>${code}</b>. It costs $$0.</p>
<p><a href="https://acme.test/help">Help</a></p>
</body></html>
"""


# --- helpers ----------------------------------------------------------------------------------


def info(server: SmtpEmulator) -> dict:
    return server.info()["smtp"]


def add_account(
    server: SmtpEmulator,
    name: str = "mail",
    *extra: str,
    security: str = "starttls",
    password: str | None = None,
    ca: bool = True,
):
    smtp = info(server)
    port = smtp["ssl_port"] if security == "ssl" else smtp["starttls_port"]
    args = ["email", "account", "add", name, "--host", "127.0.0.1", "--port", str(port)]
    args += ["--security", security, "--username", smtp["username"], "--from", FROM]
    args += ["--from-name", "Acme Login", "--secret-stdin", *extra]
    if ca:
        args += ["--ca-file", smtp["ca_file"]]
    return invoke(*args, input=(password or smtp["password"]) + "\n")


@pytest.fixture
def html_file(tmp_path: Path) -> Path:
    path = tmp_path / "login.html"
    path.write_text(HTML)
    return path


def add_template(html: Path, name: str = "login-code", *extra: str, scenario: str = "login"):
    return invoke(
        "email", "template", "add", name, "--scenario", scenario,
        "--subject", "${name}, your code", "--html", str(html), *extra,
    )  # fmt: skip


@pytest.fixture
def ready(smtp_server: SmtpEmulator, html_file: Path) -> SmtpEmulator:
    """An active, validated account and a login template."""
    assert add_account(smtp_server).exit_code == 0
    assert invoke("email", "validate", "mail").exit_code == 0
    assert add_template(html_file).exit_code == 0
    return smtp_server


def send(*extra: str, to: str = TO, code: str = "<123&456>", name: str = 'Bob "B" O\'Neil'):
    return invoke(
        "--json", "email", "send-test", "--to", to, "--scenario", "login",
        "--param", f"code={code}", "--param", f"name={name}", "--yes", *extra,
    )  # fmt: skip


def audit_sends(state_dir: Path) -> list[dict]:
    path = state_dir / "audit.jsonl"
    if not path.exists():
        return []
    records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [r for r in records if r.get("event") == "send"]


def append_config(config_file: Path, text: str) -> None:
    with config_file.open("a") as handle:
        handle.write("\n" + text)


@pytest.fixture(scope="module")
def misnamed_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SmtpEmulator]:
    with SmtpEmulator(
        mailbox_dir=tmp_path_factory.mktemp("misnamed"), cert_hosts=("mail.other.test",)
    ) as server:
        yield server


# --- accounts ---------------------------------------------------------------------------------


def test_add_keeps_the_password_in_the_keyring_only(
    smtp_server: SmtpEmulator, config_file: Path, keyring_entries: dict, state_dir: Path
) -> None:
    result = add_account(smtp_server, password=CANARY)
    assert result.exit_code == 0, result.all_output
    assert "Added email account `mail`" in result.stdout
    assert keyring_entries[("smsctl", "email/mail")] == CANARY
    text = config_file.read_text()
    assert CANARY not in text
    assert 'security = "starttls"' in text and f'from_address = "{FROM}"' in text
    assert CANARY not in (state_dir / "audit.jsonl").read_text()
    assert CANARY not in result.all_output
    shown = invoke("--json", "email", "account", "show", "mail").json()
    assert shown["secret"] == {"source": "keyring", "name": "smsctl: email/mail", "reason": None}
    assert shown["active"] is False


def test_re_adding_same_values_is_success_other_values_a_conflict(
    smtp_server: SmtpEmulator, config_file: Path
) -> None:
    assert add_account(smtp_server).exit_code == 0
    before = config_file.read_text()
    again = add_account(smtp_server)
    assert again.exit_code == 0 and "nothing changed" in again.stdout
    other = invoke(
        "email", "account", "add", "mail", "--host", "127.0.0.1", "--security", "ssl",
        "--username", "u", "--from", FROM, "--secret-stdin", input="pw\n",
    )  # fmt: skip
    assert other.exit_code == 3
    assert "email account edit mail" in other.stderr
    assert config_file.read_text() == before


def test_security_none_is_refused_for_a_non_loopback_host(
    config_file: Path, keyring_entries: dict
) -> None:
    args = ["email", "account", "add", "plain", "--host", "smtp.example.com"]
    args += ["--security", "none", "--username", "u", "--from", FROM, "--secret-stdin"]
    refused = invoke(*args, input="pw\n")
    assert refused.exit_code == 2
    assert "--allow-insecure-endpoint" in refused.stderr
    assert not config_file.exists() and keyring_entries == {}

    allowed = invoke(*args, "--allow-insecure-endpoint", input="pw\n")
    assert allowed.exit_code == 0, allowed.all_output
    assert "in clear" in allowed.stderr
    assert "allow_insecure_endpoint = true" in config_file.read_text()
    assert "port = 25" in config_file.read_text()

    loopback = invoke(
        "email", "account", "add", "local", "--host", "localhost", "--security", "none",
        "--username", "u", "--from", FROM, "--secret-stdin", input="pw\n",
    )  # fmt: skip
    assert loopback.exit_code == 0, loopback.all_output


def test_hand_edited_plain_smtp_to_a_remote_host_is_refused_at_use(config_file: Path) -> None:
    config_file.parent.mkdir(parents=True)
    config_file.write_text(
        '[email.accounts.plain]\nhost = "smtp.example.com"\nport = 25\nsecurity = "none"\n'
        f'username = "u"\nfrom_address = "{FROM}"\n'
    )
    config_file.chmod(0o600)
    result = invoke("email", "validate", "plain", env={"SMSCTL_SECRET_EMAIL_PLAIN": "pw"})
    assert result.exit_code == 3
    assert "insecure_endpoint" in result.stderr


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [
        ("--from", "not-an-address", "Invalid --from address"),
        ("--ca-file", "/nonexistent/ca.pem", "no such file"),
        ("--ca-file", "NOT-PEM", "not a PEM certificate"),
        ("--host", "smtp://mail.example.com", "Invalid --host"),
        ("--security", "tls", "Unknown --security"),
    ],
)
def test_bad_account_input_is_refused_before_anything_is_written(
    flag: str, value: str, message: str, tmp_path: Path, config_file: Path, keyring_entries: dict
) -> None:
    if value == "NOT-PEM":
        bogus = tmp_path / "bogus.pem"
        bogus.write_text("just text\n")
        value = str(bogus)
    values = {"--host": "smtp.example.com", "--security": "starttls", "--from": FROM}
    values[flag] = value
    args = ["email", "account", "add", "mail", "--username", "u", "--secret-stdin"]
    for key, val in values.items():
        args += [key, val]
    if flag == "--ca-file":
        args += [flag, value]
    result = invoke(*args, input="pw\n")
    assert result.exit_code == 2, result.all_output
    assert message in result.stderr
    assert not config_file.exists() and keyring_entries == {}


def test_edit_checks_host_and_security_together_and_rotates_the_secret(
    smtp_server: SmtpEmulator, config_file: Path, keyring_entries: dict
) -> None:
    assert add_account(smtp_server).exit_code == 0
    insecure = invoke("email", "account", "edit", "mail", "--host", "smtp.example.com",
                      "--security", "none")  # fmt: skip
    assert insecure.exit_code == 2 and "--allow-insecure-endpoint" in insecure.stderr
    removed = invoke("email", "account", "edit", "mail", "--ca-file", "", "--from-name", "")
    assert removed.exit_code == 0, removed.all_output
    text = config_file.read_text()
    assert "ca_file" not in text and "from_name" not in text
    rotated = invoke("email", "account", "edit", "mail", "--rotate-secret", "--secret-stdin",
                     input=CANARY + "\n")  # fmt: skip
    assert rotated.exit_code == 0, rotated.all_output
    assert keyring_entries[("smsctl", "email/mail")] == CANARY
    assert CANARY not in config_file.read_text() + rotated.all_output
    nothing = invoke("email", "account", "edit", "mail")
    assert nothing.exit_code == 2


def test_list_and_delete_with_yes_removes_templates_and_keyring_entry(
    ready: SmtpEmulator, config_file: Path, keyring_entries: dict
) -> None:
    listed = invoke("--json", "email", "account", "list").json()
    assert [(a["name"], a["active"]) for a in listed] == [("mail", True)]
    bound = invoke("email", "template", "edit", "login-code", "--account", "mail")
    assert bound.exit_code == 0, bound.all_output
    no_yes = invoke("email", "account", "delete", "mail")
    assert no_yes.exit_code == 3 and "--yes" in no_yes.stderr
    assert ("smsctl", "email/mail") in keyring_entries
    deleted = invoke("--json", "email", "account", "delete", "mail", "--yes")
    assert deleted.exit_code == 0, deleted.all_output
    data = deleted.json()
    assert data["keyring_entry_deleted"] is True and data["was_active"] is True
    assert data["removed"] == [{"kind": "template", "name": "login-code"}]
    assert ("smsctl", "email/mail") not in keyring_entries
    assert "[email" not in config_file.read_text()
    assert invoke("--json", "email", "account", "list").stdout.strip() == "[]"


# --- validate ---------------------------------------------------------------------------------


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_validate_connects_authenticates_and_activates(
    smtp_server: SmtpEmulator, security: str
) -> None:
    assert add_account(smtp_server, security=security).exit_code == 0
    checked = invoke("--json", "email", "validate", "--check-only")
    assert checked.exit_code == 0, checked.all_output
    assert checked.json()["active"] is False
    assert invoke("--json", "email", "account", "show", "mail").json()["active"] is False
    result = invoke("--json", "email", "validate", "mail")
    assert result.exit_code == 0, result.all_output
    assert result.json()["active"] is True and result.json()["server"]["security"] == security
    assert invoke("--json", "email", "account", "show", "mail").json()["active"] is True
    assert smtp_server.messages == []  # nothing was sent


def test_validate_another_account_keeps_the_previous_one_configured(
    smtp_server: SmtpEmulator,
) -> None:
    assert add_account(smtp_server, "first").exit_code == 0
    assert add_account(smtp_server, "second", security="ssl").exit_code == 0
    assert invoke("email", "validate", "first").exit_code == 0
    result = invoke("email", "validate", "second")
    assert result.exit_code == 0
    assert "was `first`" in result.stdout
    names = {a["name"]: a["active"] for a in invoke("--json", "email", "account", "list").json()}
    assert names == {"first": False, "second": True}


def test_validate_with_a_wrong_password_is_exit_4_and_activates_nothing(
    smtp_server: SmtpEmulator,
) -> None:
    assert add_account(smtp_server, password=CANARY).exit_code == 0
    result = invoke("--json", "email", "validate", "mail")
    assert result.exit_code == 4
    error = result.error()
    assert error["code"] == "535" and error["type"] == "credentials"
    assert CANARY not in result.all_output
    assert invoke("--json", "email", "account", "show", "mail").json()["active"] is False


def test_validate_without_a_secret_is_exit_4(smtp_server: SmtpEmulator, keyring_entries) -> None:
    assert add_account(smtp_server).exit_code == 0
    keyring_entries.clear()
    result = invoke("email", "validate", "mail")
    assert result.exit_code == 4
    assert "SMSCTL_SECRET_EMAIL_MAIL" in result.stderr


def test_untrusted_ca_is_refused_on_validate_and_send(
    smtp_server: SmtpEmulator, html_file: Path, state_dir: Path
) -> None:
    assert add_account(smtp_server, ca=False).exit_code == 0
    assert add_template(html_file).exit_code == 0
    validated = invoke("--json", "email", "validate", "mail")
    assert validated.exit_code == 7
    assert validated.error()["code"] == "TLS-UNKNOWN-CA"
    sent = send("--account", "mail")
    assert sent.exit_code == 7
    assert sent.error()["code"] == "TLS-UNKNOWN-CA"
    assert "--ca-file" in sent.error()["hint"]
    assert smtp_server.messages == []
    [record] = audit_sends(state_dir)
    assert record["outcome"] == "failed" and record["code"] == "TLS-UNKNOWN-CA"


def test_certificate_for_another_name_is_refused_even_with_its_ca(
    misnamed_server: SmtpEmulator, html_file: Path
) -> None:
    assert add_account(misnamed_server, security="ssl").exit_code == 0
    assert add_template(html_file).exit_code == 0
    result = send("--account", "mail")
    assert result.exit_code == 7
    assert result.error()["code"] == "TLS-HOSTNAME-MISMATCH"
    assert misnamed_server.messages == []


# --- templates --------------------------------------------------------------------------------


def test_template_add_lists_variables_and_stores_parts_inline(
    html_file: Path, config_file: Path, state_dir: Path
) -> None:
    result = invoke(
        "--json", "email", "template", "add", "login-code", "--scenario", "login",
        "--subject", "${name}, your code", "--html", str(html_file), "--name", "Login",
    )  # fmt: skip
    assert result.exit_code == 0, result.all_output
    data = result.json()
    assert data["variables"] == ["name", "code"]
    assert data["text_generated"] is True
    shown = invoke("--json", "email", "template", "show", "login-code").json()
    assert shown["html"] == HTML and shown["text"] is None and shown["label"] == "Login"
    assert 'variables = ["name", "code"]' in config_file.read_text()
    again = invoke(
        "--json", "email", "template", "add", "login-code", "--scenario", "login",
        "--subject", "${name}, your code", "--html", str(html_file),
    )  # fmt: skip
    assert again.exit_code == 0 and again.json()["changed"] is False


def test_malformed_placeholder_is_refused_with_its_line_and_column(
    tmp_path: Path, config_file: Path
) -> None:
    bad = tmp_path / "bad.html"
    bad.write_text("<p>Hello ${name},</p>\n<p>Code: ${code} costs $5 or ${1x}</p>\n")
    result = add_template(bad)
    assert result.exit_code == 2
    assert "line 2, column 24" in result.stderr
    assert "line 2, column 30" in result.stderr
    assert not config_file.exists()
    subject = invoke("email", "template", "add", "t", "--scenario", "notification",
                     "--subject", "Price ${", "--html", str(bad))  # fmt: skip
    assert subject.exit_code == 2 and "subject" in subject.stderr


@pytest.mark.parametrize("scenario", ["register", "login", "reset-password"])
def test_verification_templates_must_use_code(
    scenario: str, tmp_path: Path, config_file: Path
) -> None:
    no_code = tmp_path / "no-code.html"
    no_code.write_text("<p>Welcome ${name}</p>")
    result = add_template(no_code, scenario=scenario)
    assert result.exit_code == 2
    assert "${code}" in result.stderr
    assert not config_file.exists()
    assert add_template(no_code, scenario="notification").exit_code == 0


def test_text_part_given_must_also_show_the_code(html_file: Path, tmp_path: Path) -> None:
    text = tmp_path / "login.txt"
    text.write_text("Hello ${name}, welcome.\n")
    assert add_template(html_file, "t", "--text", str(text)).exit_code == 2
    text.write_text("Hello ${name}, your code: ${code}\n")
    assert add_template(html_file, "t", "--text", str(text)).exit_code == 0


@pytest.mark.parametrize("problem", ["missing", "directory", "empty", "binary"])
def test_template_file_paths_are_validated(problem: str, tmp_path: Path, config_file) -> None:
    path = tmp_path / "x.html"
    if problem == "directory":
        path.mkdir()
    elif problem == "empty":
        path.write_text("  \n")
    elif problem == "binary":
        path.write_bytes(b"\xff\xfe<p>${code}</p>")
    result = add_template(path)
    assert result.exit_code == 2
    assert str(path) in result.stderr
    assert not config_file.exists()


def test_render_shows_subject_text_and_html_exactly_as_sent(html_file: Path) -> None:
    assert add_template(html_file).exit_code == 0
    result = invoke(
        "--json", "email", "template", "render", "login-code",
        "--param", "code=<1&2>", "--param", "name=Zoë",
    )  # fmt: skip
    assert result.exit_code == 0, result.all_output
    data = result.json()
    assert data["subject"] == "Zoë, your code"
    assert "<b>&lt;1&amp;2&gt;</b>" in data["html"] and "It costs $0." in data["html"]
    assert "Your login code is <1&2>. It costs $0." in data["text"]
    assert "Help (https://acme.test/help)" in data["text"]
    assert "ignored" not in data["text"]
    human = invoke("email", "template", "render", "login-code", "--params-json",
                   '{"code": "9", "name": "A"}')  # fmt: skip
    assert "Subject: A, your code" in human.stdout and "--- text/html" in human.stdout


def test_render_refuses_missing_and_unknown_variables(html_file: Path) -> None:
    assert add_template(html_file).exit_code == 0
    missing = invoke("--json", "email", "template", "render", "login-code", "--param", "code=1")
    assert missing.exit_code == 2
    assert missing.error()["details"]["missing"] == ["name"]
    unknown = invoke(
        "--json", "email", "template", "render", "login-code",
        "--param", "code=1", "--param", "name=a", "--param", "extra=x",
    )  # fmt: skip
    assert unknown.exit_code == 2
    assert unknown.error()["details"]["unknown"] == ["extra"]


def test_edit_rechecks_the_whole_template(html_file: Path, tmp_path: Path, config_file) -> None:
    assert add_template(html_file).exit_code == 0
    before = config_file.read_text()
    plain = tmp_path / "plain.html"
    plain.write_text("<p>No code here, ${name}</p>")
    refused = invoke("email", "template", "edit", "login-code", "--html", str(plain))
    assert refused.exit_code == 2 and "${code}" in refused.stderr
    assert config_file.read_text() == before
    moved = invoke("--json", "email", "template", "edit", "login-code", "--html", str(plain),
                   "--scenario", "notification")  # fmt: skip
    assert moved.exit_code == 0, moved.all_output
    assert moved.json()["variables"] == ["name"]
    unknown_account = invoke("email", "template", "edit", "login-code", "--account", "nope")
    assert unknown_account.exit_code == 3


def test_template_enable_disable_delete(html_file: Path) -> None:
    assert add_template(html_file).exit_code == 0
    assert invoke("email", "template", "disable", "login-code").exit_code == 0
    listed = invoke("--json", "email", "template", "list").json()
    assert [(t["name"], t["enabled"]) for t in listed] == [("login-code", False)]
    assert invoke("email", "template", "enable", "login-code").exit_code == 0
    assert invoke("email", "template", "delete", "login-code").exit_code == 3
    assert invoke("email", "template", "delete", "login-code", "--yes").exit_code == 0
    assert invoke("--json", "email", "template", "list").stdout.strip() == "[]"


# --- send-test --------------------------------------------------------------------------------


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_send_test_delivers_multipart_with_values_escaped_in_html_only(
    smtp_server: SmtpEmulator, html_file: Path, security: str, state_dir: Path
) -> None:
    assert add_account(smtp_server, security=security, password=None).exit_code == 0
    assert invoke("email", "validate", "mail").exit_code == 0
    assert add_template(html_file).exit_code == 0
    result = send()
    assert result.exit_code == 0, result.all_output
    data = result.json()
    assert data["sent"] is True

    [message] = smtp_server.messages
    assert message.get_content_type() == "multipart/alternative"
    assert message["Subject"] == 'Bob "B" O\'Neil, your code'
    assert message["To"] == TO
    assert message["From"].addresses[0].addr_spec == FROM
    assert message["From"].addresses[0].display_name == "Acme Login"
    assert message["Message-ID"] == data["message_id"]
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "Your login code is <123&456>. It costs $0." in text
    assert 'Hello Bob "B" O\'Neil,' in text
    assert "<b>&lt;123&amp;456&gt;</b>" in html
    assert "Bob &quot;B&quot; O&#x27;Neil" in html
    assert "<123&456>" not in html

    [record] = audit_sends(state_dir)
    assert record["message_id"] == data["message_id"]
    assert record["outcome"] == "accepted"
    assert record["to"] == "al***@example.test"
    assert TO not in json.dumps(record)
    assert info(smtp_server)["password"] not in (state_dir / "audit.jsonl").read_text()


def test_send_test_missing_unknown_or_malformed_variables_never_connect(
    ready: SmtpEmulator, state_dir: Path, config_file: Path
) -> None:
    missing = invoke("--json", "email", "send-test", "--to", TO, "--scenario", "login",
                     "--param", "code=1", "--yes")  # fmt: skip
    assert missing.exit_code == 2 and missing.error()["details"]["missing"] == ["name"]
    unknown = send("--param", "colour=red")
    assert unknown.exit_code == 2 and unknown.error()["details"]["unknown"] == ["colour"]
    bad_json = invoke("email", "send-test", "--to", TO, "--scenario", "login",
                      "--params-json", "{oops", "--yes")  # fmt: skip
    assert bad_json.exit_code == 2
    bad_to = send(to="alice@@example")
    assert bad_to.exit_code == 2 and "--to address" in bad_to.stderr

    # A template broken by hand in the config is a configuration error, found before connecting.
    text = config_file.read_text().replace("Your login code", "Your $ login code")
    config_file.write_text(text)
    malformed = send()
    assert malformed.exit_code == 3
    assert "line 3, column 9" in malformed.error()["message"]

    assert ready.messages == []
    assert audit_sends(state_dir) == []
    assert not (state_dir / "guard.jsonl").exists()


def test_dry_run_and_missing_yes_send_nothing(ready: SmtpEmulator, state_dir: Path) -> None:
    dry = invoke("--json", "email", "send-test", "--to", TO, "--scenario", "login",
                 "--param", "code=1", "--param", "name=A", "--dry-run")  # fmt: skip
    assert dry.exit_code == 0, dry.all_output
    data = dry.json()
    assert data["dry_run"] is True and data["sent"] is False
    assert data["subject"] == "A, your code" and "<b>1</b>" in data["html"]
    assert data["resolved"]["template"]["name"] == "login-code"
    human = invoke("email", "send-test", "--to", TO, "--scenario", "login",
                   "--param", "code=1", "--param", "name=A")  # fmt: skip
    assert human.exit_code == 3 and "--yes" in human.stderr
    assert "subject:   A, your code" in human.stdout
    assert ready.messages == [] and audit_sends(state_dir) == []


def test_send_with_a_wrong_password_is_exit_4_and_logged_without_it(
    ready: SmtpEmulator, keyring_entries: dict, state_dir: Path
) -> None:
    keyring_entries[("smsctl", "email/mail")] = CANARY
    result = send()
    assert result.exit_code == 4
    assert result.error()["code"] == "535"
    assert ready.messages == []
    assert CANARY not in result.all_output
    assert CANARY not in (state_dir / "audit.jsonl").read_text()
    [record] = audit_sends(state_dir)
    assert record["outcome"] == "failed" and record["message_id"].startswith("<")


def test_refused_recipient_is_exit_5_and_the_log_masks_it(
    ready: SmtpEmulator, state_dir: Path
) -> None:
    result = send(to="reject@example.test")
    assert result.exit_code == 5
    assert result.error()["code"] == "550"
    log = (state_dir / "audit.jsonl").read_text()
    assert "reject@example.test" not in log
    assert "re***@example.test" in log


def test_guard_refuses_over_the_configured_limit(
    ready: SmtpEmulator, config_file: Path, state_dir: Path
) -> None:
    append_config(config_file, "[guard.email]\nper_minute = 1\n")
    assert send().exit_code == 0
    again = send()
    assert again.exit_code == 6
    assert again.error()["code"] == "guard_limit"
    assert "al***@example.test" in again.error()["message"]
    assert len(ready.messages) == 1
    assert send(to="bob@example.test").exit_code == 0  # the limit is per address


def test_resolution_prefers_the_template_personalized_for_the_app(
    ready: SmtpEmulator, tmp_path: Path
) -> None:
    ios = tmp_path / "ios.html"
    ios.write_text("<p>iOS code ${code}</p>")
    assert invoke("email", "template", "add", "ios-login", "--scenario", "login",
                  "--subject", "iOS", "--html", str(ios)).exit_code == 0  # fmt: skip
    granted = invoke("authorize", "template", "ios-login", "--channel", "email",
                     "--app", "ios", "--create-app")  # fmt: skip
    assert granted.exit_code == 0, granted.all_output
    invoke("authorize", "template", "login-code", "--channel", "email", "--app", "web",
           "--create-app")  # fmt: skip
    assert invoke("authorize", "revoke", "template", "login-code", "--channel", "email",
                  "--app", "web").exit_code == 0  # fmt: skip

    ios_send = invoke("--json", "email", "send-test", "--to", TO, "--scenario", "login",
                      "--app", "ios", "--param", "code=7", "--yes")  # fmt: skip
    assert ios_send.exit_code == 0, ios_send.all_output
    assert ios_send.json()["resolved"]["template"]["name"] == "ios-login"
    web = send("--app", "web")
    assert web.exit_code == 0
    assert web.json()["resolved"]["template"]["name"] == "login-code"
    assert [m["Subject"] for m in ready.messages] == ["iOS", 'Bob "B" O\'Neil, your code']

    assert invoke("email", "template", "disable", "ios-login").exit_code == 0
    disabled = invoke("--json", "email", "send-test", "--to", TO, "--template", "ios-login",
                      "--app", "ios", "--param", "code=7", "--yes")  # fmt: skip
    assert disabled.exit_code == 3 and "disabled" in disabled.error()["message"]


def test_no_active_account_and_disabled_account_are_config_errors(ready: SmtpEmulator) -> None:
    assert invoke("email", "account", "disable", "mail").exit_code == 0
    disabled = send()
    assert disabled.exit_code == 3 and "disabled" in disabled.stderr
    assert invoke("email", "validate", "mail").exit_code == 3
    assert invoke("email", "validate", "mail", "--check-only").exit_code == 0
    assert ready.messages == []


# --- doctor and the sandbox -------------------------------------------------------------------


def test_doctor_passes_a_working_setup_and_names_each_problem(
    ready: SmtpEmulator, config_file: Path, keyring_entries: dict
) -> None:
    good = invoke("--json", "doctor", "--channel", "email")
    assert good.exit_code == 0, good.all_output
    names = [c["check"] for c in good.json()["checks"] if c["channel"] == "email"]
    assert names == [
        "active account", "account mail: CA file", "account mail: secret",
        "account mail: connect", "template login-code",
    ]  # fmt: skip

    append_config(
        config_file,
        '[email.templates.broken]\nscenario = "register"\nsubject = "Hi"\n'
        'html = "<p>Welcome ${name} $ </p>"\n',
    )
    keyring_entries.clear()
    bad = invoke("--json", "doctor", "--channel", "email")
    assert bad.exit_code == 3
    failed = {c["check"]: c for c in bad.json()["checks"] if not c["ok"]}
    assert set(failed) == {"account mail: secret", "template broken"}
    assert "${code}" in failed["template broken"]["detail"]
    assert "column" in failed["template broken"]["detail"]


def test_doctor_live_check_fails_on_a_wrong_password(
    ready: SmtpEmulator, keyring_entries: dict
) -> None:
    keyring_entries[("smsctl", "email/mail")] = CANARY
    result = invoke("--json", "doctor", "--channel", "email")
    assert result.exit_code == 4
    [failed] = [c for c in result.json()["checks"] if not c["ok"]]
    assert failed["check"] == "account mail: connect"
    assert CANARY not in result.all_output
    offline = invoke("--json", "doctor", "--channel", "email", "--offline")
    assert offline.exit_code == 0


def test_sandbox_info_says_how_to_connect(smtp_server: SmtpEmulator) -> None:
    smtp = info(smtp_server)
    assert {
        "host",
        "starttls_port",
        "ssl_port",
        "username",
        "password",
        "ca_file",
        "mailbox",
    } <= set(smtp)
    assert Path(smtp["ca_file"]).read_text().startswith("-----BEGIN CERTIFICATE-----")


def test_lost_answer_after_data_is_logged_as_unknown_with_the_message_id(
    ready: SmtpEmulator, state_dir: Path
) -> None:
    result = send("--timeout", "0.5", to="slow@example.test")
    assert result.exit_code == 7
    error = result.error()
    assert error["code"] == "TIMEOUT-AFTER-DATA"
    assert "MAY have been delivered" in error["hint"]
    [record] = audit_sends(state_dir)
    assert record["outcome"] == "unknown"
    assert record["message_id"] == error["details"]["message_id"]


def test_a_subject_value_must_be_one_line(ready: SmtpEmulator) -> None:
    result = send(name="Bob\nBcc: victim@example.test")
    assert result.exit_code == 2
    assert "subject" in result.stderr
    assert ready.messages == []
