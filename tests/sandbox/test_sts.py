"""The sandbox STS through the official credentials library (what smsctl uses), over HTTPS with
the sandbox CA: AssumeRole is signed and verified, AssumeRoleWithOIDC is anonymous, and the SMS
API checks the issued token on its own clock."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from smsctl.core import credentials
from smsctl.core.errors import CredentialError
from smsctl.providers import alibaba_credentials, transport

FAR_AHEAD = datetime(2099, 1, 1, tzinfo=timezone.utc)


@pytest.fixture
def sts(fresh_sandbox_state, monkeypatch):
    monkeypatch.setenv("SSL_CERT_FILE", fresh_sandbox_state.info()["sts"]["ca_file"])
    # SSL_CERT_FILE is read when a TLS context is made: a session an earlier test made in this
    # process would not trust the sandbox CA (a command is one process, and makes its own).
    monkeypatch.setattr(transport, "_sessions", {})
    alibaba_credentials._memory.clear()
    # The library refuses a session that ends before its own (wall) clock: the service's clock
    # stands far ahead of any run of this suite, so the sessions it issues are current.
    fresh_sandbox_state.alibaba.state.set_clock(FAR_AHEAD, frozen=True)
    return fresh_sandbox_state


def role_plan(box, secret: str, role: str | None = None, **extra) -> credentials.Plan:
    info = box.info()
    values = {
        "credential": "ram-role-arn",
        "access_key_id": info["sms"]["access_key_id"],
        "role_arn": role or info["sts"]["role_arn"],
        "sts_endpoint": info["sts"]["endpoint"],
        **extra,
    }
    return credentials.plan("sms", "t", values, lambda: secret, lambda: None)


def test_assume_role_is_signed_and_its_session_is_recorded(sts) -> None:
    session = alibaba_credentials.session_for(
        role_plan(sts, sts.info()["sms"]["access_key_secret"])
    )
    issued = sts.alibaba.state.sts_session(session.access_key_id)
    assert issued is not None and issued.security_token == session.security_token
    assert session.expires_at is not None


def test_a_wrong_source_secret_is_refused_by_the_signature_check(sts) -> None:
    with pytest.raises(CredentialError) as caught:
        alibaba_credentials.session_for(role_plan(sts, "not-the-secret"))
    assert caught.value.code == "SignatureDoesNotMatch"
    assert "not-the-secret" not in caught.value.message + (caught.value.hint or "")


def test_duration_out_of_range_is_refused_by_the_library_first(sts) -> None:
    with pytest.raises(CredentialError) as caught:
        alibaba_credentials.session_for(
            role_plan(sts, sts.info()["sms"]["access_key_secret"], duration_seconds=600)
        )
    assert "900" in caught.value.message


def oidc_plan(box, token_file: Path, provider: str | None = None) -> credentials.Plan:
    info = box.info()["sts"]
    values = {
        "credential": "oidc-role-arn",
        "role_arn": info["role_arn"],
        "oidc_provider_arn": provider or info["oidc_provider_arn"],
        "oidc_token_file": str(token_file),
        "sts_endpoint": info["endpoint"],
    }
    return credentials.plan("sms", "ci", values, lambda: None, lambda: None)


def test_assume_role_with_oidc_needs_no_signature(sts, tmp_path) -> None:
    token = tmp_path / "token"
    token.write_text("a.b.c")
    session = alibaba_credentials.session_for(oidc_plan(sts, token))
    assert session.access_key_id.startswith("STS.")


@pytest.mark.parametrize(
    ("content", "provider", "code"),
    [
        ("not-a-jwt", None, "InvalidParameter.OIDCToken"),
        ("a.b.c", "acs:ram::1:oidc-provider/other", "EntityNotExist.OIDCProvider"),
    ],
)
def test_oidc_refusals_carry_the_sts_code(sts, tmp_path, content, provider, code) -> None:
    token = tmp_path / "token"
    token.write_text(content)
    with pytest.raises(CredentialError) as caught:
        alibaba_credentials.session_for(oidc_plan(sts, token, provider))
    assert caught.value.code == code
    assert caught.value.exit_code == 4


def test_an_expired_oidc_token(sts, tmp_path) -> None:
    token = tmp_path / "token"
    token.write_text("x.y.z")
    sts.alibaba.state.expired_oidc_tokens.add("x.y.z")
    with pytest.raises(CredentialError) as caught:
        alibaba_credentials.session_for(oidc_plan(sts, token))
    assert caught.value.code == "AuthenticationFail.OIDCToken.Expired"


def test_sms_api_checks_the_token_on_the_service_clock(sts, sms_client) -> None:
    from alibabacloud_dysmsapi20170525.client import Client
    from alibabacloud_dysmsapi20170525.models import QuerySmsSignListRequest
    from darabonba.exceptions import ResponseException

    from tests.fixtures.sandbox import alibaba_config

    state = sts.alibaba.state
    session = state.issue_session(sts.info()["sts"]["role_arn"], "s", 900)
    entry = {**sts.info()["sms"], "access_key_id": session.access_key_id,
             "access_key_secret": session.access_key_secret}  # fmt: skip

    def call(token: str | None) -> str:
        client = Client(alibaba_config(entry, security_token=token))
        try:
            client.query_sms_sign_list(QuerySmsSignListRequest())
        except ResponseException as exc:
            return str(exc.code)
        except Exception as exc:  # noqa: BLE001 - the SDK's own wrapper
            return str(getattr(exc, "code", exc))
        return "OK"

    assert call(session.security_token) == "OK"
    assert call(None) == "MissingSecurityToken"
    assert call("garbage") == "InvalidSecurityToken.Malformed"
    other = state.issue_session(sts.info()["sts"]["role_arn"], "o", 900)
    assert call(other.security_token) == "InvalidSecurityToken.MismatchWithAccessKey"
    state.advance_clock(900)
    assert call(session.security_token) == "InvalidSecurityToken.Expired"
    assert json.dumps(state.requests)  # the log stays plain data
