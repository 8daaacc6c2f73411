"""`smsctl sandbox serve|try`: local emulators of the providers, and a guided tour on them."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
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
    if "sts" in info:
        lines += _describe_sts(info["sts"], info["sms"])
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
        f"  Applications (template submit, signature submit) are reviewed after "
        f"{state.review.delay:g} s; one containing {state.review.reject_marker} is rejected.",
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


def _describe_sts(sts: dict[str, Any], sms: dict[str, Any]) -> list[str]:
    """The STS emulator, for the credential modes ram-role-arn and oidc-role-arn."""
    return [
        "",
        f"STS (role sessions, HTTPS): {sts['endpoint']}",
        f"  CA certificate {sts['ca_file']} (smsctl trusts it with SSL_CERT_FILE)",
        f"  Role {sts['role_arn']}, OIDC provider {sts['oidc_provider_arn']}",
        "  An SMS account that assumes the role:",
        f"    export SSL_CERT_FILE={shlex.quote(sts['ca_file'])}",
        f"    export SMSCTL_SECRET_SMS_ROLE={shlex.quote(sms['access_key_secret'])}",
        "    " + command("smsctl", "account", "add", "role", "--credential", "ram-role-arn",
                        "--access-key-id", sms["access_key_id"], "--role-arn", sts["role_arn"],
                        "--endpoint", sms["endpoint"], "--sts-endpoint", sts["endpoint"]),
        "    smsctl validate role --check-only",
    ]  # fmt: skip


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
        help="Keep the walkthrough's config, audit log and mail in DIR instead of a temporary "
        "directory, to go on with `smsctl --config DIR/config.toml ...`.",
    ),
) -> None:
    """A guided tour of all four channels: starts the sandbox, then prints and runs each real
    command, from adding an account to a delivered SMS, an answered call, a received email and a
    pushed WeChat message, and ends with what that proved. Touches neither your config nor your
    keyring."""
    with _interrupts_stop_the_tour():
        _try(app_context(ctx).output, keep)


def _try(out: Any, keep: str | None) -> None:
    from smsctl.sandbox.server import Sandbox

    if keep:
        workdir = keep_dir(out, Path(keep).absolute())
    else:
        workdir = Path(tempfile.mkdtemp(prefix="smsctl-try-"))
    sandbox: Sandbox = build_sandbox("127.0.0.1", 0, None, str(workdir / "mailbox")).start()
    try:
        code = run_tour(out, sandbox, workdir, kept=bool(keep))
    finally:
        sandbox.stop()
        if not keep:
            shutil.rmtree(workdir, ignore_errors=True)
    if code:
        raise typer.Exit(code)
    if keep:
        out.line()
        out.line(
            f"Kept in {workdir}: config.toml, the audit log (state/) and the mail (mailbox/). "
            "The sandbox has stopped, so its accounts no longer answer; local commands work:"
        )
        for line in kept_commands(workdir):
            out.line(f"  {line}")


def keep_dir(out: Any, path: Path) -> Path:
    """--keep DIR: created 0700 like smsctl's own config directory (it gets a config, an audit
    log and received mail); an existing one is used as it is, with a warning if others can
    read it, unless an earlier run's config is in it (the tour would clash with its accounts)."""
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
    if (path / "config.toml").exists():
        raise UsageError(
            f"--keep {path}: it already holds a config.toml (of an earlier run?); the tour "
            "starts from an empty config.",
            hint="Give a new directory, or remove that one first.",
        )
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        out.warn(
            f"{path} is open to others (mode {mode:04o}); the walkthrough's config, log and "
            f"mail go there. `chmod 700 {path}` closes it."
        )
    return path


class _Interrupts:
    """SIGTERM and Ctrl-C stop the tour as a KeyboardInterrupt (the sandbox stops, its files are
    removed), but never while a step's process is being started: an interrupt raised inside
    subprocess.Popen leaves the process it started running, unseen, writing into the directory
    being removed. One that comes then is held, and delivered once the process can be killed."""

    def __init__(self) -> None:
        self.holding = False
        self.pending = False

    def handle(self, signum: int, frame: object) -> None:
        if self.holding:
            self.pending = True
            return
        raise KeyboardInterrupt

    @contextmanager
    def held(self) -> Iterator[None]:
        self.holding = True
        try:
            yield
        finally:
            self.holding = False

    def deliver(self) -> None:
        if self.pending:
            self.pending = False
            raise KeyboardInterrupt


INTERRUPTS = _Interrupts()


@contextmanager
def _interrupts_stop_the_tour() -> Iterator[None]:
    import signal

    previous = {
        sig: signal.signal(sig, INTERRUPTS.handle) for sig in (signal.SIGTERM, signal.SIGINT)
    }
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


# What the tour registers and sends; the sandbox's default seed has all of it approved.
SIGNATURE = "Acme"
SMS_TEMPLATE = "SMS_100000001"
APP = "ios"
EMAIL_TO = "ops@example.com"
EMAIL_SUBJECT = "Your login code"
WECHAT_RULE = "login-code"
WECHAT_VALUES = {
    "first": "Sign-in",
    "keyword1": "${code}",
    "keyword2": "5 minutes",
    "remark": "Ignore this if it was not you",
}


@dataclass
class Step:
    """One command of the tour: why it runs (printed before it), its arguments after `smsctl`
    or `export NAME=VALUE ...` (which the later steps then run with), and what its output
    showed (printed after it)."""

    why: str
    argv: list[str]
    showed: str = ""


@dataclass
class Channel:
    title: str
    steps: list[Step]
    after: Callable[[Any, Path], None] | None = None  # shows what the sandbox received


def run_tour(out: Any, sandbox: Any, workdir: Path, *, kept: bool) -> int:
    """The intro, every channel's steps, and what they proved. The first failing step stops
    it, with that step's exit code."""
    for line in intro(workdir, kept=kept):
        out.line(line)
    env = dict(os.environ)
    for channel in walkthrough(sandbox, workdir, kept=kept):
        out.line()
        out.line(f"== {channel.title} ==")
        code = run_steps(out, channel.steps, env)
        if code:
            return code
        if channel.after is not None:
            channel.after(out, workdir)
    try:
        proofs = proved(sandbox, workdir, kept=kept)
    except LookupError as missing:
        out.failure(f"every step succeeded, but the sandbox has no record of {missing} (a bug)")
        return 1
    out.line()
    out.line("== What this proved ==")
    width = max(len(name) for name, _ in proofs)
    for name, proof in proofs:
        out.line(f"{name.ljust(width)}  {proof}")
    out.line()
    out.line("Done: the whole chain of every channel worked against the local sandbox.")
    out.line(
        "To do it for real, run the same commands with your own AccessKey, SMTP server and "
        "official account, without --endpoint and --ca-file."
    )
    return 0


def intro(workdir: Path, *, kept: bool) -> list[str]:
    lines = [
        "smsctl sandbox try: a tour of smsctl on local emulators of Alibaba Cloud SMS and voice,",
        "an SMTP server and the WeChat API. Every command below is real and runs as printed; it",
        "needs no provider account and touches neither your config nor your keyring.",
        "",
    ]
    directory = command_directory()
    if directory is None:
        lines.append(
            "The commands below run as `smsctl ...`; this environment has no `smsctl` command, "
            f"so run them yourself as `{shlex.quote(sys.executable)} -m smsctl ...`."
        )
    else:
        lines += [
            "The commands below run as `smsctl ...`; to run them yourself, put the environment's "
            "bin on PATH:",
            f'  export PATH="{double_quoted(str(directory))}:$PATH"',
        ]
        if (directory / "activate").is_file():
            lines.append(f"or activate the venv: . {shlex.quote(str(directory / 'activate'))}")
    config = shlex.quote(str(workdir / "config.toml"))
    if kept:
        lines += [
            "This run's config is kept; afterwards, try further commands with",
            f"  smsctl --config {config} ...",
        ]
    else:
        lines += [
            "To keep this run's config and try further commands with `smsctl --config "
            "DIR/config.toml ...`",
            "afterwards, run `smsctl sandbox try --keep DIR`.",
        ]
    return lines


def command_directory() -> Path | None:
    """The directory of the `smsctl` command being run (a symlink on PATH is not resolved: its
    directory is the one to name), or of the one beside this Python (`python -m smsctl`)."""
    script = Path(sys.argv[0])
    if script.name in ("smsctl", "smsctl.exe") and script.is_file():
        return script.absolute().parent
    beside = Path(sys.executable).with_name("smsctl")
    if beside.is_file():
        return beside.absolute().parent
    found = shutil.which("smsctl")
    return Path(found).absolute().parent if found else None


def double_quoted(text: str) -> str:
    """`text` for the inside of a double-quoted shell word (in which `$PATH` still expands)."""
    return "".join("\\" + ch if ch in '\\"$`' else ch for ch in text)


def kept_commands(workdir: Path) -> list[str]:
    """Local commands that work on a kept directory once the sandbox is gone."""
    config = shlex.quote(str(workdir / "config.toml"))
    state = shlex.quote(str(workdir / "state"))
    return [
        f"smsctl --config {config} template list",
        f"SMSCTL_STATE_DIR={state} smsctl --config {config} log --sends",
    ]


def walkthrough(sandbox: Any, workdir: Path, *, kept: bool = False) -> list[Channel]:
    info = sandbox.info()
    setup = Step(
        "This run's own config, state and cache directories"
        + (" (kept)." if kept else " (removed at the end)."),
        ["export", f"SMSCTL_CONFIG={workdir / 'config.toml'}",
         f"SMSCTL_STATE_DIR={workdir / 'state'}", f"SMSCTL_CACHE_DIR={workdir / 'cache'}"],
    )  # fmt: skip
    return [
        Channel("SMS: Alibaba Cloud SMS, on the sandbox", [setup, *sms_steps(info["sms"])]),
        Channel("Voice: Alibaba Cloud voice, the same AccessKey", voice_steps(info, sandbox)),
        Channel(
            "Email: SMTP with STARTTLS, on the sandbox's server",
            email_steps(info["smtp"], workdir),
            after=lambda out, workdir: show_received_mail(out, workdir / "mailbox"),
        ),
        Channel("WeChat: an official account, on the sandbox", wechat_steps(info["wechat"])),
        Channel("Every channel: the audit log and the pre-flight check", closing_steps()),
    ]


def sms_steps(sms: dict[str, Any]) -> list[Step]:
    return [
        Step(
            "The AccessKey Secret comes from the environment, as in a pipeline (at a terminal, "
            "leave it out: smsctl asks, hidden, and keeps it in the keyring).",
            ["export", f"SMSCTL_SECRET_SMS_SANDBOX={sms['access_key_secret']}"],
        ),
        Step(
            "Add the account; --endpoint points it at the sandbox.",
            ["account", "add", "sandbox", "--access-key-id", sms["access_key_id"],
             "--endpoint", sms["endpoint"], "--note", "local sandbox"],
            "Saved in the config without its secret, which stays in the environment.",
        ),
        Step(
            "Check it live and make it the active SMS account.",
            ["validate", "sandbox"],
            "The provider accepted the AccessKey; SMS commands now use `sandbox`.",
        ),
        Step(
            "Add a signature: smsctl asks the provider whether it is approved.",
            ["signature", "add", SIGNATURE, "--account", "sandbox"],
            f"{SIGNATURE} is approved, so messages can be signed with it.",
        ),
        Step(
            "Add a template: its content and variables come from the provider.",
            ["template", "add", SMS_TEMPLATE, "--account", "sandbox", "--scenario", "login"],
            "It now serves the login scenario.",
        ),
        Step(
            "Personalize it for one app (a new app name needs --create-app).",
            ["authorize", "template", SMS_TEMPLATE, "--app", APP, "--create-app"],
            f"Only the app `{APP}` gets it now.",
        ),
        Step(
            "What each app gets for each scenario.",
            ["authorize", "list"],
            f"For login, `{APP}` gets {SMS_TEMPLATE} signed {SIGNATURE}; an app not named "
            "gets nothing.",
        ),
        Step(
            "Render the exact text locally, before spending a message.",
            ["template", "render", SMS_TEMPLATE, "--param", "code=4711",
             "--signature", SIGNATURE],
            "What the phone will show; nothing was sent.",
        ),
        Step(
            "Send a real test SMS and wait for the delivery receipt.",
            ["send-test", "--to", SAMPLE_NUMBER, "--scenario", "login", "--app", APP,
             "--param", "code=4711", "--wait", "15", "--yes"],
            "The provider accepted it, and the delivery receipt says DELIVERED.",
        ),
    ]  # fmt: skip


def voice_steps(info: dict[str, Any], sandbox: Any) -> list[Step]:
    voice = info["voice"]
    template = next(
        t
        for t in sandbox.alibaba.state.voice_templates.values()
        if t.kind == "tts" and t.status == "approved"
    )
    return [
        Step(
            "Voice is a channel of its own, with its own accounts; its secret also comes from "
            "the environment.",
            ["export", f"SMSCTL_SECRET_VOICE_SANDBOX={voice['access_key_secret']}"],
        ),
        Step(
            "Add a voice account with the same AccessKey.",
            ["voice", "account", "add", "sandbox", "--access-key-id", voice["access_key_id"],
             "--endpoint", voice["endpoint"]],
            "Saved, without its secret.",
        ),
        Step(
            "Check it live and make it the active voice account.",
            ["voice", "validate", "sandbox"],
            "Accepted; voice commands now use `sandbox`.",
        ),
        Step(
            "Add a TTS template of the seed. The voice API cannot look templates up, so give "
            "its content as the console shows it.",
            ["voice", "template", "add", template.code, "--account", "sandbox",
             "--scenario", "login", "--content", template.content],
            "It serves the login scenario; ${code} is filled in for each call.",
        ),
        Step(
            "Place a real test call and wait for the call result.",
            ["voice", "send-test", "--to", SAMPLE_NUMBER, "--scenario", "login",
             "--param", "code=4711", "--wait", "15", "--yes"],
            "The call was answered and listened to the end.",
        ),
    ]  # fmt: skip


def email_steps(smtp: dict[str, Any], workdir: Path) -> list[Step]:
    """The same chain for email, against the sandbox's SMTP server (STARTTLS, its own CA)."""
    html = workdir / "login.html"
    html.write_text(LOGIN_HTML, encoding="utf-8")
    return [
        Step(
            "Email works the same way; its password comes from the environment too.",
            ["export", f"SMSCTL_SECRET_EMAIL_SANDBOX={smtp['password']}"],
        ),
        Step(
            "Add an SMTP account; TLS is always verified (here against the sandbox's own CA).",
            ["email", "account", "add", "sandbox", "--host", smtp["host"],
             "--port", str(smtp["starttls_port"]), "--security", "starttls",
             "--username", smtp["username"], "--from", "noreply@example.com",
             "--ca-file", smtp["ca_file"]],
            "Saved with the CA to trust, without the password.",
        ),
        Step(
            "Connect, negotiate TLS, log in, quit; it becomes the active email account.",
            ["email", "validate", "sandbox"],
            "TLS verified and the login accepted.",
        ),
        Step(
            "An HTML template; login templates must use ${code}.",
            ["email", "template", "add", "login-code", "--scenario", "login",
             "--subject", EMAIL_SUBJECT, "--html", str(html)],
            "Its text part is generated from the HTML.",
        ),
        Step(
            "Send a test email (multipart: the text part is generated from the HTML).",
            ["email", "send-test", "--to", EMAIL_TO, "--scenario", "login",
             "--param", "code=4711", "--yes"],
            "The SMTP server accepted it (the Message-ID above).",
        ),
    ]  # fmt: skip


def wechat_steps(wechat: dict[str, Any]) -> list[Step]:
    from smsctl.sandbox.wechat import VERIFY_TEMPLATE_ID

    var_args: list[str] = []
    for name, value in WECHAT_VALUES.items():
        var_args += ["--var", f"{name}={value}"]
    return [
        Step(
            "A WeChat official account: its AppSecret comes from the environment too.",
            ["export", f"SMSCTL_SECRET_WECHAT_SANDBOX={wechat['app_secret']}"],
        ),
        Step(
            "Add it with its AppID; smsctl checks the pair by getting an access token.",
            ["wechat", "account", "add", "sandbox", "--app-id", wechat["app_id"],
             "--endpoint", wechat["endpoint"]],
            "The AppID and AppSecret work; the config keeps only the AppID.",
        ),
        Step(
            "Check it live and make it the active WeChat account.",
            ["wechat", "validate", "sandbox"],
            "Token obtained; WeChat commands now use `sandbox`.",
        ),
        Step(
            "The template messages the official account may send.",
            ["wechat", "template", "list", "sandbox"],
            "Each template's variables; a push rule fills them in.",
        ),
        Step(
            "A push rule for the login scenario: the verification-code template, its code "
            "filled in at send time.",
            ["wechat", "rule", "add", WECHAT_RULE, "--account", "sandbox",
             "--template-id", VERIFY_TEMPLATE_ID, *var_args, "--scenario", "login"],
            "Every variable of the template is set.",
        ),
        Step(
            "Push a real test message to the sandbox's follower.",
            ["wechat", "send-test", "--openid", wechat["follower_openid"],
             "--rule", WECHAT_RULE, "--var", "code=4711", "--yes"],
            "WeChat accepted it and gave its msgid.",
        ),
    ]  # fmt: skip


def closing_steps() -> list[Step]:
    return [
        Step(
            "Every send and its outcome is in the audit log (numbers and OpenIDs masked).",
            ["log", "--sends"],
            "The sends and results of all four channels, oldest first.",
        ),
        Step(
            "The pre-flight check a CI pipeline runs, for every configured channel.",
            ["doctor"],
            "Config, secrets, credentials, templates and rules of all four channels are in order.",
        ),
    ]


def run_steps(out: Any, steps: list[Step], env: dict[str, str]) -> int:
    """Print and run each step; `env` gets the variables an `export` step sets."""
    for step in steps:
        out.line()
        out.line(f"# {step.why}")
        if step.argv[0] == "export":
            out.line("$ " + command(*step.argv))
            for assignment in step.argv[1:]:
                name, _, value = assignment.partition("=")
                env[name] = value
            continue
        out.line("$ " + command("smsctl", *step.argv))
        out.stdout.flush()
        returncode, stdout, stderr = _run_step(step.argv, env)
        out.stdout.write(stdout)
        if stderr:
            out.stdout.write(stderr)
        if returncode != 0:
            out.failure(f"step failed with exit code {returncode}")
            return returncode
        if step.showed:
            out.line(f"→ {step.showed}")
    return 0


def _run_step(argv: list[str], env: dict[str, str]) -> tuple[int, str, str]:
    """One step's smsctl, to its end. Interrupted (Ctrl-C, SIGTERM) or hung, the step is killed
    and reaped before the interrupt goes on, so that it writes nothing into the walkthrough's
    directory while that is being removed."""
    with INTERRUPTS.held():
        child = subprocess.Popen(
            [sys.executable, "-m", "smsctl", *argv],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
    with child:
        try:
            INTERRUPTS.deliver()
            stdout, stderr = child.communicate(timeout=120)
        except BaseException:
            child.kill()
            child.wait()
            raise
        return child.returncode, stdout, stderr


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


def proved(sandbox: Any, workdir: Path, *, kept: bool) -> list[tuple[str, str]]:
    """Per channel, the end state the sandbox itself recorded; LookupError names one missing."""
    from smsctl.core.masking import mask_openid, mask_phone
    from smsctl.sandbox.smtp import SmtpEmulator
    from smsctl.sandbox.wechat import WechatEmulator

    def last(items: list[Any], what: str) -> Any:
        if not items:
            raise LookupError(what)
        return items[-1]

    components = {type(c): c for c in sandbox.components}
    state = sandbox.alibaba.state
    sms = last([r for r in state.sms if r.outcome == "DELIVERED"], "a delivered SMS")
    call = last(state.calls, "a call")
    smtp = components[SmtpEmulator]
    mail = last(smtp.messages, "a received email")
    mail_file = last(sorted((workdir / "mailbox").glob("*.eml")), "a received email file")
    wechat = components[WechatEmulator]
    push = last(wechat.state.pushes, "a WeChat push")
    where = f" (kept in {mail_file})" if kept else ""
    return [
        (
            "SMS",
            f"AccessKey, signature {SIGNATURE} and template {SMS_TEMPLATE} accepted by the "
            f"provider; the test SMS to {mask_phone(sms.phone)} was delivered (BizId "
            f"{sms.biz_id}).",
        ),
        (
            "Voice",
            f"AccessKey and TTS template {call.code} work; the test call to "
            f"{mask_phone(call.callee)} was answered (CallId {call.call_id}).",
        ),
        (
            "Email",
            f'TLS verified, login accepted; the SMTP server received "{mail["Subject"]}" '
            f"for {mail['To']}{where}.",
        ),
        (
            "WeChat",
            f"AppID and AppSecret got a token, {len(wechat.seed.templates)} templates listed; "
            f"the push to {mask_openid(push['touser'])} was accepted (msgid {push['msgid']}).",
        ),
    ]
