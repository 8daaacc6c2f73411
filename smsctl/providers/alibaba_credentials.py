"""An Alibaba Cloud account's credentials from its credential mode (smsctl.core.credentials),
made by the official alibabacloud_credentials library: STS AssumeRole for `ram-role-arn`,
AssumeRoleWithOIDC for `oidc-role-arn`, aliyun-cli's config.json for `aliyun-cli-profile`.

The library's STS calls (Tea's ``TeaCore.do_action``) made from here run over smsctl's own
transport (providers.transport: no redirects, no proxy for loopback, a deadline, a size cap,
the system trust store plus certifi's; SSL_CERT_FILE adds a CA). A role session is kept in
memory for the run, or in the 0600 file cache when the account opts in. Every failure is an
SmsctlError carrying the STS code and message, never the library's text (it can quote a whole
STS answer) nor any credential.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
from datetime import datetime, timezone
from typing import Any

from smsctl.core import clock
from smsctl.core import credentials as modes
from smsctl.core.debug import debug
from smsctl.core.errors import CredentialError, ProviderUnavailable, SmsctlError
from smsctl.core.redaction import register_secret
from smsctl.providers import transport

# The sessions this run obtained, by Plan.cache_key().
_memory: dict[str, modes.Session] = {}

_STS_LIMITS: contextvars.ContextVar[transport.Limits | None] = contextvars.ContextVar(
    "smsctl_sts_exchange", default=None
)


def session_for(plan: modes.Plan) -> modes.Session:
    """The credentials to sign the account's calls with; raises CredentialError (exit 4) when
    the mode cannot produce them, before anything is sent."""
    if plan.mode in ("access-key", "sts"):
        if plan.mode == "sts" and not plan.security_token:
            raise _no_token(plan)
        return modes.Session(plan.access_key_id or "", plan.secret or "", plan.security_token)
    key = plan.cache_key()
    now = clock.now()
    found = _memory.get(key)
    if found is not None and _usable(found, now):
        return found
    if plan.cache_file:
        found = modes.cached(plan.cache_file, key, now)
        if found is not None:
            _register(found)
            expires = clock.show(found.expires_at)
            debug(f"{_who(plan)}: role session from the cache, expires {expires}")
            _memory[key] = found
            return found
    made = _obtain(plan)
    _register(made)
    _memory[key] = made
    if plan.cache_file and made.expires_at is not None:
        modes.remember(plan.cache_file, key, made, now)
    expiry = f", expires {clock.show(made.expires_at)}" if made.expires_at else ""
    debug(f"{_who(plan)}: credentials from {plan.mode}{expiry}")
    return made


def forget(plan: modes.Plan) -> None:
    """The provider refused the session: do not use it again, in memory or in the cache."""
    key = plan.cache_key()
    _memory.pop(key, None)
    if plan.cache_file:
        modes.forget(plan.cache_file, key)


def _usable(session: modes.Session, now: datetime) -> bool:
    if session.expires_at is None:
        return True
    return (session.expires_at - now).total_seconds() >= modes.MIN_REMAINING_SECONDS


def _register(session: modes.Session) -> None:
    register_secret(session.access_key_secret)
    register_secret(session.security_token)


def _who(plan: modes.Plan) -> str:
    return f"{plan.channel} account {plan.account}"


def _obtain(plan: modes.Plan) -> modes.Session:
    _silence_library_log()
    if plan.mode == "oidc-role-arn":
        _check_token_file(plan)
    try:
        provider = _provider(plan)
        token = _STS_LIMITS.set(
            transport.Limits(
                connect_timeout=plan.connect_timeout,
                read_timeout=plan.read_timeout,
                deadline=plan.deadline,
            )
        )
        _use_smsctl_transport()
        try:
            got = provider.get_credentials()
        finally:
            _STS_LIMITS.reset(token)
    except SmsctlError:
        raise
    except Exception as exc:  # noqa: BLE001 - every library failure is translated
        failure = exc
    else:
        expiration = got.get_expiration()
        return modes.Session(
            got.get_access_key_id() or "",
            got.get_access_key_secret() or "",
            got.get_security_token() or None,
            datetime.fromtimestamp(expiration, timezone.utc) if expiration else None,
        )
    error = _translate(plan, failure)
    del failure
    raise error


def _silence_library_log() -> None:
    """The library logs its failures to stderr on its own handler, quoting whole STS answers and
    exceptions; smsctl reports them itself. Its module sets the level when imported, so this
    comes after the import."""
    import alibabacloud_credentials.provider.refreshable  # noqa: F401

    logging.getLogger("credentials").disabled = True


def _provider(plan: modes.Plan) -> Any:
    from alibabacloud_credentials.http import HttpOptions

    options = HttpOptions(
        connect_timeout=int(plan.connect_timeout * 1000),
        read_timeout=int(plan.read_timeout * 1000),
    )
    endpoint = _sts_host(plan.sts_endpoint)
    if plan.mode == "ram-role-arn":
        from alibabacloud_credentials.provider import RamRoleArnCredentialsProvider

        return RamRoleArnCredentialsProvider(
            access_key_id=plan.access_key_id,
            access_key_secret=plan.secret,
            role_arn=plan.role_arn,
            role_session_name=plan.role_session_name,
            duration_seconds=plan.duration_seconds,
            policy=plan.policy,
            external_id=plan.external_id,
            sts_endpoint=endpoint,
            http_options=options,
        )
    if plan.mode == "oidc-role-arn":
        from alibabacloud_credentials.provider import OIDCRoleArnCredentialsProvider

        return OIDCRoleArnCredentialsProvider(
            role_arn=plan.role_arn,
            oidc_provider_arn=plan.oidc_provider_arn,
            oidc_token_file_path=plan.oidc_token_file,
            role_session_name=plan.role_session_name,
            duration_seconds=plan.duration_seconds,
            policy=plan.policy,
            sts_endpoint=endpoint,
            http_options=options,
        )
    if plan.mode == "aliyun-cli-profile":
        from alibabacloud_credentials.provider import CLIProfileCredentialsProvider

        _check_profile(plan)
        return CLIProfileCredentialsProvider(
            profile_name=plan.profile, profile_file=plan.profile_file
        )
    raise CredentialError(f"Unknown credential mode {plan.mode!r}.", code="credential_mode")


def _sts_host(endpoint: str | None) -> str | None:
    """`host[:port]` as the library wants it; it always speaks HTTPS to STS."""
    if not endpoint:
        return None
    return endpoint.removeprefix("https://").rstrip("/")


def _check_token_file(plan: modes.Plan) -> None:
    path = plan.oidc_token_file or ""
    try:
        with open(path, encoding="utf-8") as handle:
            content = handle.read().strip()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
        raise CredentialError(
            f"{_who(plan)}: cannot read the OIDC token file {path} ({reason}); nothing was sent.",
            hint="Check that the CI job writes its OIDC token there (ALIBABA_CLOUD_OIDC_TOKEN_FILE "
            "or `oidc_token_file`) and that smsctl may read it.",
            code="oidc_token_unreadable",
            details={"credential": plan.mode},
        ) from None
    register_secret(content)
    if not content:
        raise CredentialError(
            f"{_who(plan)}: the OIDC token file {path} is empty; nothing was sent.",
            hint="Check that the CI job has written its OIDC token before smsctl runs.",
            code="oidc_token_unreadable",
            details={"credential": plan.mode},
        )


def _check_profile(plan: modes.Plan) -> None:
    """Register the profile's secrets before the library reads them, so nothing can echo one."""
    try:
        with open(plan.profile_file or "", encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not JSON"
        raise CredentialError(
            f"{_who(plan)}: cannot read aliyun-cli's config {plan.profile_file} ({reason}); "
            "nothing was sent.",
            hint="Set the profile up with aliyun-cli (`aliyun configure`), or choose another "
            "credential mode.",
            code="profile_unreadable",
            details={"credential": plan.mode},
        ) from None
    profiles = data.get("profiles") if isinstance(data, dict) else None
    for profile in profiles if isinstance(profiles, list) else []:
        if isinstance(profile, dict):
            for key in ("access_key_secret", "sts_token"):
                if isinstance(profile.get(key), str):
                    register_secret(profile[key])


_STS_ERROR = re.compile(r"http_code: (\d+), result: (.*)$", re.S)


def _translate(plan: modes.Plan, exc: BaseException) -> SmsctlError:
    """A failure of the library as an SmsctlError that names the STS code and what to do."""
    if _is_tls(exc):
        return CredentialError(
            f"{_who(plan)}: the TLS certificate of STS ({plan.sts_endpoint or 'default'}) "
            "could not be verified; nothing was sent.",
            hint=modes.failure_hint(plan, "STSTLSError"),
            code="STSTLSError",
            details={"credential": plan.mode},
        )
    if isinstance(exc, transport.TransportLimitError) or _is_network(exc):
        return ProviderUnavailable(
            f"{_who(plan)}: could not reach Alibaba Cloud STS ({type(exc).__name__}) for "
            f"{plan.mode} credentials; nothing was sent.",
            hint=modes.failure_hint(plan, "STSUnreachable"),
            code="STSUnreachable",
            details={"credential": plan.mode},
        )
    text = str(getattr(exc, "message", None) or exc)
    code = message = None
    matched = _STS_ERROR.search(text)
    if matched:
        try:
            body = json.loads(matched.group(2))
            code, message = str(body.get("Code") or ""), str(body.get("Message") or "")
        except (ValueError, AttributeError):
            pass
    if isinstance(exc, ValueError) and not code:
        message = str(exc)  # the library's own parameter checks (no secret in them)
    elif not code:
        message = _library_sentence(text)
    what = {
        "ram-role-arn": f"assume the role {plan.role_arn}",
        "oidc-role-arn": f"assume the role {plan.role_arn} with the OIDC token",
        "aliyun-cli-profile": f"use the aliyun-cli profile {plan.profile or '(current)'}",
    }.get(plan.mode, "get credentials")
    said = f"{code}: {message}" if code else message
    return CredentialError(
        f"{_who(plan)}: could not {what} ({said}); nothing was sent.",
        hint=modes.failure_hint(plan, code),
        code=code or "credential_failed",
        details={"credential": plan.mode, "provider_code": code},
    )


def _library_sentence(text: str) -> str:
    """What the library says about a profile, without any path or value it quotes."""
    for known in (
        "unable to get profile",
        "unsupported profile mode",
        "invalid profile name",
        "cli credentials file is disabled",
        "failed to parse credential",
    ):
        if known in text:
            mode = re.search(r"mode '([A-Za-z]+)'", text)
            return known + (f" {mode.group(1)}" if mode else "")
    return "the credentials library refused"


def _is_tls(exc: BaseException) -> bool:
    import ssl

    try:
        import requests
    except ImportError:  # pragma: no cover
        return False
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        if isinstance(current, (requests.exceptions.SSLError, ssl.SSLError)):
            return True
        seen.append(current)
        current = current.__cause__ or current.__context__
    return False


def _is_network(exc: BaseException) -> bool:
    try:
        import requests
    except ImportError:  # pragma: no cover
        return False
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        if isinstance(current, (requests.exceptions.RequestException, ConnectionError)):
            return True
        seen.append(current)
        current = current.__cause__ or current.__context__
    return False


def _no_token(plan: modes.Plan) -> CredentialError:
    variable = modes.token_env_var(plan.channel, plan.account)
    return CredentialError(
        f"{_who(plan)} uses credential mode sts but has no security token: neither {variable} "
        f"is set nor the keyring has `{modes.token_entry(plan.channel, plan.account)}`; "
        "nothing was sent.",
        hint=f"Set {variable} to the STS token that goes with the AccessKey (it expires), "
        "or use ram-role-arn so that smsctl obtains one itself.",
        code="security_token_missing",
        details={"credential": plan.mode},
    )


# --- the library's HTTP exchanges ------------------------------------------------------------


def _use_smsctl_transport() -> None:
    """Route the STS calls made inside `_obtain` through providers.transport (see the module
    docstring); every other caller of TeaCore.do_action keeps the original."""
    from Tea.core import TeaCore

    if getattr(TeaCore.do_action, "smsctl_transport", False):
        return
    original = TeaCore.do_action

    def do_action(request: Any, runtime_option: Any = None) -> Any:
        limits = _STS_LIMITS.get()
        if limits is None:
            return original(request, runtime_option)
        return _exchange(request, limits)

    do_action.smsctl_transport = True  # type: ignore[attr-defined]
    TeaCore.do_action = staticmethod(do_action)


def _exchange(request: Any, limits: transport.Limits) -> Any:
    from Tea.core import TeaCore
    from Tea.response import TeaResponse

    url = TeaCore.compose_url(request)
    body = request.body.encode("utf-8") if isinstance(request.body, str) else request.body
    answer = transport.exchange(
        request.method.upper(), url, headers=dict(request.headers), body=body, limits=limits
    )
    response = TeaResponse()
    response.status_code = answer.status
    response.status_message = answer.reason
    response.headers = answer.headers
    response.body = answer.body
    return response
