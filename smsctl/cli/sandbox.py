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
    sandbox.add(WechatEmulator(host=host))
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
    object with every endpoint and credential."""
    from smsctl.sandbox.server import serve_forever

    app_ctx = app_context(ctx)
    out = app_ctx.output
    sandbox = build_sandbox(host, port, seed, mailbox)

    def ready(info: dict[str, Any]) -> None:
        if out.json_mode:
            out.stdout.write(json.dumps(info, ensure_ascii=False) + "\n")
        else:
            for line in describe(info):
                out.line(line)
        out.stdout.flush()

    try:
        serve_forever(sandbox, ready)
    except OSError as exc:
        raise SmsctlError(
            f"Cannot start the sandbox: {exc.strerror or exc}.", hint="Choose another --port."
        ) from None
    out.info("Sandbox stopped.")


def describe(info: dict[str, Any]) -> list[str]:
    sms = info["sms"]
    lines = [
        "smsctl sandbox is running (Ctrl-C to stop).",
        f"  Alibaba SMS + voice: {sms['endpoint']}",
        f"    AccessKey ID {sms['access_key_id']}, secret {sms['access_key_secret']}",
        "  Point an account at it:",
        f"    export SMSCTL_SECRET_SMS_SANDBOX={sms['access_key_secret']}",
        f"    smsctl account add sandbox --access-key-id {sms['access_key_id']} "
        f"--endpoint {sms['endpoint']}",
        f"    export SMSCTL_SECRET_VOICE_SANDBOX={sms['access_key_secret']}",
        f"    smsctl voice account add sandbox --access-key-id {sms['access_key_id']} "
        f"--endpoint {info['voice']['endpoint']}",
    ]
    if "smtp" in info:
        smtp = info["smtp"]
        lines += [
            f"  SMTP: {smtp['host']} STARTTLS port {smtp['starttls_port']}, implicit TLS port "
            f"{smtp['ssl_port']}; user {smtp['username']}, password {smtp['password']}",
            f"    CA to trust: {smtp['ca_file']}; received mail: {smtp['mailbox']}",
        ]
    if "wechat" in info:
        wechat = info["wechat"]
        lines.append(
            f"  WeChat API: {wechat['endpoint']} (AppID {wechat['app_id']}, "
            f"AppSecret {wechat['app_secret']})"
        )
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
