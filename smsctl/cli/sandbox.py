"""`smsctl sandbox serve|try`: local emulators of the providers, and a guided tour on them."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import typer

from smsctl.cli.context import app_context
from smsctl.core.errors import SmsctlError, UsageError

app = typer.Typer(
    help="Local emulators of Alibaba Cloud SMS/voice, SMTP and the WeChat API, "
    "for trying smsctl and rehearsing scripts without provider accounts.",
    no_args_is_help=True,
)


def build_sandbox(host: str, port: int, seed: str | None, mailbox: str | None) -> Any:
    from smsctl.core.endpoints import is_loopback
    from smsctl.sandbox.server import Sandbox
    from smsctl.sandbox.smtp import SmtpEmulator
    from smsctl.sandbox.wechat import WechatEmulator

    if not is_loopback(host):
        raise UsageError(f"--host {host}: the sandbox only listens on loopback addresses.")
    if seed is not None and not Path(seed).is_file():
        raise UsageError(f"--seed {seed}: no such file.")
    sandbox = Sandbox(host=host, port=port, seed=seed)
    sandbox.add(SmtpEmulator(host=host, mailbox_dir=mailbox))
    sandbox.add(WechatEmulator(host=host, clock=sandbox.alibaba.state.now))
    return sandbox


@app.command("serve")
def serve(
    ctx: typer.Context,
    host: str = typer.Option("127.0.0.1", "--host", help="A loopback address."),
    port: int = typer.Option(
        0,
        "--port",
        min=0,
        max=65535,
        help="Port of the Alibaba SMS/voice emulator (0: any free port).",
    ),
    seed: str = typer.Option(
        None,
        "--seed",
        metavar="FILE",
        help="TOML file with the signatures, templates and faults to emulate.",
    ),
    mailbox: str = typer.Option(
        None,
        "--mailbox",
        metavar="DIR",
        help="Where the SMTP emulator writes received mail as .eml files.",
    ),
) -> None:
    """Run the emulators until SIGINT/SIGTERM. With --json the first line of stdout is one JSON
    object with every endpoint and credential. On stopping, the temporary files it created (CA,
    mailbox, sample template) are removed; a --mailbox DIR is kept."""
    from smsctl.sandbox.server import serve_forever

    app_ctx = app_context(ctx)
    out = app_ctx.output
    sandbox = build_sandbox(host, port, seed, mailbox)
    workdir = Path(tempfile.mkdtemp(prefix="smsctl-sandbox-"))

    def ready(info: dict[str, Any]) -> None:
        if out.json_mode:
            out.stdout.write(json.dumps(info, ensure_ascii=False) + "\n")
        else:
            for line in describe(info, sandbox, workdir, kept_mailbox=mailbox is not None):
                out.line(line)
        out.stdout.flush()

    try:
        serve_forever(sandbox, ready)
    except OSError as exc:
        raise SmsctlError(
            f"Cannot start the sandbox: {exc.strerror or exc}.", hint="Choose another --port."
        ) from None
    finally:
        sandbox.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    out.info("Sandbox stopped.")


SAMPLE_VALUES = {"code": "4711"}
SAMPLE_NUMBER = "+8613812345678"
LOGIN_HTML = "<p>Hello,</p>\n<p>your login code is <b>${code}</b>.</p>\n"


def command(*argv: str) -> str:
    """A command line as it can be pasted into a POSIX shell."""
    return " ".join(shlex.quote(arg) for arg in argv)


def param_args(names: list[str]) -> list[str]:
    args: list[str] = []
    for name in names:
        args += ["--param", f"{name}={SAMPLE_VALUES.get(name, 'test')}"]
    return args


def describe(
    info: dict[str, Any], sandbox: Any, workdir: Path, *, kept_mailbox: bool = False
) -> list[str]:
    """For every channel: where it listens, what is seeded, and commands that set smsctl up on
    it and send a first test (each one works as printed, in this order)."""
    from smsctl.sandbox.smtp import SmtpEmulator
    from smsctl.sandbox.wechat import WechatEmulator

    components = {type(c): c for c in sandbox.components}
    lines = ["smsctl sandbox is running."]
    lines += _describe_sms(info["sms"], sandbox.alibaba.state)
    lines += _describe_voice(info["voice"], sandbox.alibaba.state)
    if "smtp" in info and SmtpEmulator in components:
        lines += _describe_email(info["smtp"], workdir, kept_mailbox)
    if "wechat" in info and WechatEmulator in components:
        lines += _describe_wechat(info["wechat"], components[WechatEmulator])
    lines += [
        "",
        "Ctrl-C (or SIGTERM) stops it; the temporary files above are then removed"
        + (" (the --mailbox directory is kept)." if kept_mailbox else "."),
    ]
    return lines


def _describe_sms(sms: dict[str, Any], state: Any) -> list[str]:
    from smsctl.sandbox.alibaba import template_variables

    signatures = list(state.signatures.values())
    templates = list(state.templates.values())
    lines = [
        "",
        f"SMS (Alibaba Cloud dysmsapi): {sms['endpoint']}",
        f"  AccessKey ID {sms['access_key_id']}, secret {sms['access_key_secret']}",
        "  Signatures: " + (", ".join(f"{s.name} ({s.status})" for s in signatures) or "none"),
        "  Templates:",
        *[f"    {t.code} \"{t.name}\" ({t.type}, {t.status}): {t.content}" for t in templates],
        "  Set up and send a test:",
        f"    export SMSCTL_SECRET_SMS_SANDBOX={shlex.quote(sms['access_key_secret'])}",
        "    " + command("smsctl", "account", "add", "sandbox", "--access-key-id",
                        sms["access_key_id"], "--endpoint", sms["endpoint"]),
        "    smsctl validate sandbox",
    ]  # fmt: skip
    signature = next((s for s in signatures if s.status == "approved"), None)
    usable = [
        t
        for t in templates
        if t.status == "approved" and signature and t.related_sign_name in ("", signature.name)
    ]
    template = next((t for t in usable if t.type == "verification"), None) or next(
        (t for t in usable if t.type != "international"), None
    )
    if signature is None or template is None:
        return [*lines, "    (no approved signature with an approved template to send with)"]
    scenario = "login" if template.type == "verification" else "notification"
    lines += [
        "    " + command("smsctl", "signature", "add", signature.name, "--account", "sandbox"),
        "    " + command("smsctl", "template", "add", template.code, "--account", "sandbox",
                        "--scenario", scenario),
        "    " + command("smsctl", "send-test", "--to", SAMPLE_NUMBER, "--scenario", scenario,
                        *param_args(template_variables(template.content)), "--yes"),
    ]  # fmt: skip
    return lines


def _describe_voice(voice: dict[str, Any], state: Any) -> list[str]:
    from smsctl.sandbox.alibaba import template_variables

    templates = list(state.voice_templates.values())
    tts = [t for t in templates if t.kind == "tts"]
    files = [t for t in templates if t.kind == "voice-file"]
    lines = [
        "",
        f"Voice (Alibaba Cloud dyvmsapi, the same port): {voice['endpoint']}",
        f"  AccessKey ID {voice['access_key_id']}, secret {voice['access_key_secret']}",
        "  TTS templates:",
        *[f"    {t.code} ({t.status}): {t.content}" for t in tts],
        "  Voice files: " + (", ".join(f"{t.code} ({t.status})" for t in files) or "none"),
        "  Set up and place a test call:",
        f"    export SMSCTL_SECRET_VOICE_SANDBOX={shlex.quote(voice['access_key_secret'])}",
        "    " + command("smsctl", "voice", "account", "add", "sandbox", "--access-key-id",
                        voice["access_key_id"], "--endpoint", voice["endpoint"]),
        "    smsctl voice validate sandbox",
    ]  # fmt: skip
    template = next((t for t in tts if t.status == "approved"), None)
    if template is None:
        return [*lines, "    (no approved TTS template to call with)"]
    lines += [
        "    " + command("smsctl", "voice", "template", "add", template.code, "--account",
                        "sandbox", "--scenario", "login", "--content", template.content),
        "    " + command("smsctl", "voice", "send-test", "--to", SAMPLE_NUMBER, "--scenario",
                        "login", *param_args(template_variables(template.content)), "--yes"),
    ]  # fmt: skip
    return lines


def _describe_email(smtp: dict[str, Any], workdir: Path, kept_mailbox: bool) -> list[str]:
    html = workdir / "login.html"
    html.write_text(LOGIN_HTML, encoding="utf-8")
    kept = "" if kept_mailbox else ", removed when the sandbox stops"
    return [
        "",
        f"Email (SMTP): {smtp['host']}, STARTTLS port {smtp['starttls_port']}, implicit TLS port "
        f"{smtp['ssl_port']}",
        f"  Login {smtp['username']}, password {smtp['password']}",
        f"  CA to trust: {smtp['ca_file']} (generated for this run, removed when it stops)",
        f"  Received mail: {smtp['mailbox']} (.eml files{kept})",
        "  Recipients reject@..., busy@..., slow@... and the sender blocked@... trigger failures.",
        "  Set up and send a test:",
        f"    export SMSCTL_SECRET_EMAIL_SANDBOX={shlex.quote(smtp['password'])}",
        "    " + command("smsctl", "email", "account", "add", "sandbox", "--host", smtp["host"],
                        "--port", str(smtp["starttls_port"]), "--security", "starttls",
                        "--username", smtp["username"], "--from", "noreply@example.com",
                        "--ca-file", smtp["ca_file"]),
        "    smsctl email validate sandbox",
        "    " + command("smsctl", "email", "template", "add", "login-code", "--scenario",
                        "login", "--subject", "Your login code", "--html", str(html)),
        "    " + command("smsctl", "email", "send-test", "--to", "ops@example.com", "--scenario",
                        "login", "--param", "code=4711", "--yes"),
    ]  # fmt: skip


def _describe_wechat(wechat: dict[str, Any], emulator: Any) -> list[str]:
    from smsctl.sandbox.wechat import NON_FOLLOWER, VERIFY_TEMPLATE_ID, template_variables

    templates = emulator.seed.templates
    lines = [
        "",
        f"WeChat official-account API: {wechat['endpoint']}",
        f"  AppID {wechat['app_id']}, AppSecret {wechat['app_secret']}",
        f"  Follower OpenID {wechat['follower_openid']}; {NON_FOLLOWER} does not follow (43004)",
        "  Templates:",
        *[
            f"    {t['template_id']} {t['title']}: variables "
            + ", ".join(template_variables(t["content"]))
            for t in templates
        ],
        "  Set up and push a test:",
        f"    export SMSCTL_SECRET_WECHAT_SANDBOX={shlex.quote(wechat['app_secret'])}",
        "    " + command("smsctl", "wechat", "account", "add", "sandbox", "--app-id",
                        wechat["app_id"], "--endpoint", wechat["endpoint"]),
        "    smsctl wechat validate sandbox",
    ]  # fmt: skip
    template = next((t for t in templates if t["template_id"] == VERIFY_TEMPLATE_ID), None)
    if template is None:
        return lines
    values = {"first": "Sign-in", "keyword1": "${code}", "keyword2": "5 minutes"}
    var_args: list[str] = []
    for name in template_variables(template["content"]):
        var_args += ["--var", f"{name}={values.get(name, 'Ignore this if it was not you')}"]
    lines += [
        "    " + command("smsctl", "wechat", "rule", "add", "login-code", "--account", "sandbox",
                        "--template-id", template["template_id"], *var_args,
                        "--scenario", "login"),
        "    " + command("smsctl", "wechat", "send-test", "--openid", wechat["follower_openid"],
                        "--rule", "login-code", "--var", "code=4711", "--yes"),
    ]  # fmt: skip
    return lines


@app.command("try")
def try_(
    ctx: typer.Context,
    keep: str = typer.Option(
        None,
        "--keep",
        metavar="DIR",
        help="Keep the walkthrough's config and log in DIR instead of a temporary directory.",
    ),
) -> None:
    """A guided tour: starts the sandbox, then runs and prints each real command, from adding an
    account to a delivered test SMS. Touches neither your config nor your keyring."""
    from smsctl.sandbox.server import Sandbox

    _interrupt_on_sigterm()

    out = app_context(ctx).output
    workdir = keep_dir(out, Path(keep)) if keep else Path(tempfile.mkdtemp(prefix="smsctl-try-"))
    sandbox: Sandbox = build_sandbox("127.0.0.1", 0, None, str(workdir / "mailbox")).start()
    try:
        code = run_steps(out, walkthrough(sandbox.info(), workdir))
        if code == 0:
            show_received_mail(out, workdir / "mailbox")
    finally:
        sandbox.stop()
        if not keep:
            shutil.rmtree(workdir, ignore_errors=True)
    if code:
        raise typer.Exit(code)
    out.line()
    out.line(
        "Done: the whole chain worked against the local sandbox. Run the same commands "
        "with your real AccessKey (no --endpoint) to do it for real."
    )
    if keep:
        out.line(f"The walkthrough's config, log and mailbox are in {workdir}.")


def keep_dir(out: Any, path: Path) -> Path:
    """--keep DIR: created 0700 like smsctl's own config directory (it gets a config, an audit
    log and received mail); an existing one is used as it is, with a warning if others can
    read it."""
    import stat

    try:
        path.mkdir(mode=0o700, parents=True)
        return path
    except FileExistsError:
        pass
    except OSError as exc:
        raise UsageError(f"--keep {path}: cannot create it ({exc.strerror}).") from None
    if not path.is_dir():
        raise UsageError(f"--keep {path}: exists and is not a directory.")
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        out.warn(
            f"{path} is open to others (mode {mode:04o}); the walkthrough's config, log and "
            f"mail go there. `chmod 700 {path}` closes it."
        )
    return path


def _interrupt_on_sigterm() -> None:
    """SIGTERM stops the tour like Ctrl-C: the sandbox stops and its files are removed."""
    import signal

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)


def show_received_mail(out: Any, mailbox: Path) -> None:
    """What the sandbox's SMTP server received, so the newcomer sees the email itself."""
    from email import policy
    from email.parser import BytesParser

    received = sorted(mailbox.glob("*.eml"))
    if not received:
        return
    message = BytesParser(policy=policy.default).parsebytes(received[-1].read_bytes())
    text = message.get_body(preferencelist=("plain",))
    out.line()
    out.line("# The sandbox's SMTP server received:")
    out.line(f"Subject: {message['Subject']}  (To: {message['To']})")
    if text is not None:
        for line in text.get_content().strip().splitlines():
            out.line(f"  {line}".rstrip())


def walkthrough(info: dict[str, Any], workdir: Path) -> list[tuple[str, list[str], dict]]:
    sms = info["sms"]
    env = {
        "SMSCTL_CONFIG": str(workdir / "config.toml"),
        "SMSCTL_STATE_DIR": str(workdir / "state"),
        "SMSCTL_SECRET_SMS_SANDBOX": sms["access_key_secret"],
    }
    number = "+8613812345678"
    return [
        (
            "In a pipeline the secret comes from the environment (or use the keyring: omit it "
            "and smsctl asks, hidden).",
            ["export", f"SMSCTL_SECRET_SMS_SANDBOX={sms['access_key_secret']}"],
            env,
        ),
        (
            "Add the account; --endpoint points it at the sandbox.",
            [
                "account",
                "add",
                "sandbox",
                "--access-key-id",
                sms["access_key_id"],
                "--endpoint",
                sms["endpoint"],
                "--note",
                "local sandbox",
            ],
            env,
        ),
        ("Check it live and make it the active SMS account.", ["validate", "sandbox"], env),
        (
            "Add a signature: smsctl asks the provider whether it is approved.",
            ["signature", "add", "Acme", "--account", "sandbox"],
            env,
        ),
        (
            "Add a template: its content and variables come from the provider.",
            ["template", "add", "SMS_100000001", "--account", "sandbox", "--scenario", "login"],
            env,
        ),
        (
            "Personalize it for one app (a new app name needs --create-app).",
            ["authorize", "template", "SMS_100000001", "--app", "ios", "--create-app"],
            env,
        ),
        ("What each app gets for each scenario.", ["authorize", "list"], env),
        (
            "Render the exact text locally, before spending a message.",
            ["template", "render", "SMS_100000001", "--param", "code=4711", "--signature", "Acme"],
            env,
        ),
        (
            "Send a real test SMS and wait for the delivery receipt.",
            [
                "send-test",
                "--to",
                number,
                "--scenario",
                "login",
                "--app",
                "ios",
                "--param",
                "code=4711",
                "--wait",
                "15",
                "--yes",
            ],
            env,
        ),
        (
            "Every send and change is in the audit log (numbers masked).",
            ["log", "--limit", "5"],
            env,
        ),
        ("The pre-flight check a CI pipeline runs.", ["doctor", "--channel", "sms"], env),
        *email_steps(info, workdir, env),
    ]


def email_steps(
    info: dict[str, Any], workdir: Path, env: dict
) -> list[tuple[str, list[str], dict]]:
    """The same chain for email, against the sandbox's SMTP server (STARTTLS, its own CA)."""
    smtp = info["smtp"]
    env = {**env, "SMSCTL_SECRET_EMAIL_SANDBOX": smtp["password"]}
    html = workdir / "login.html"
    html.write_text("<p>Hello,</p>\n<p>your login code is <b>${code}</b>.</p>\n", encoding="utf-8")
    return [
        (
            "Email works the same way; its password comes from the environment here too.",
            ["export", f"SMSCTL_SECRET_EMAIL_SANDBOX={smtp['password']}"],
            env,
        ),
        (
            "Add an SMTP account; TLS is always verified (here against the sandbox's own CA).",
            [
                "email",
                "account",
                "add",
                "sandbox",
                "--host",
                smtp["host"],
                "--port",
                str(smtp["starttls_port"]),
                "--security",
                "starttls",
                "--username",
                smtp["username"],
                "--from",
                "noreply@example.com",
                "--ca-file",
                smtp["ca_file"],
            ],
            env,
        ),
        (
            "Connect, negotiate TLS, log in, quit; it becomes the active email account.",
            ["email", "validate", "sandbox"],
            env,
        ),
        (
            "An HTML template; login templates must use ${code}.",
            [
                "email",
                "template",
                "add",
                "login-code",
                "--scenario",
                "login",
                "--subject",
                "Your login code",
                "--html",
                str(html),
            ],
            env,
        ),
        (
            "Send a test email (multipart: the text part is generated from the HTML).",
            [
                "email",
                "send-test",
                "--to",
                "ops@example.com",
                "--scenario",
                "login",
                "--param",
                "code=4711",
                "--yes",
            ],
            env,
        ),
    ]


def run_steps(out: Any, steps: list[tuple[str, list[str], dict]]) -> int:
    for explanation, argv, env in steps:
        out.line()
        out.line(f"# {explanation}")
        if argv[0] == "export":
            out.line("$ export " + argv[1])
            continue
        out.line("$ smsctl " + " ".join(shlex.quote(a) for a in argv))
        out.stdout.flush()
        done = subprocess.run(
            [sys.executable, "-m", "smsctl", *argv],
            env={**os.environ, **env},
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
        )
        out.stdout.write(done.stdout)
        if done.stderr:
            out.stdout.write(done.stderr)
        if done.returncode != 0:
            out.failure(f"step failed with exit code {done.returncode}")
            return done.returncode
    return 0
