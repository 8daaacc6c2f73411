"""The STS emulator: AssumeRole (signed with an AccessKey, verified like every other API) and
AssumeRoleWithOIDC (anonymous, as in the real API: the OIDC token is the proof), over HTTPS
with a CA generated at start, since the credentials library only speaks HTTPS to STS.

It shares the Alibaba emulator's state: the AccessKeys that may assume a role, the roles and
OIDC providers of the seed, and the sessions it issues, whose tokens the SMS and voice APIs
check (expiring on the service's clock, which tests control).
"""

from __future__ import annotations

import shutil
import ssl
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from smsctl.sandbox.alibaba import json_reply, new_request_id
from smsctl.sandbox.emulator import HttpEmulator, Reply
from smsctl.sandbox.signing import IncomingRequest, SignatureError, Verifier
from smsctl.sandbox.state import State

STS_VERSION = "2015-04-01"
MIN_DURATION, MAX_DURATION = 900, 43200


class StsError(Exception):
    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(code)
        self.code, self.message, self.status = code, message, status


class StsEmulator(HttpEmulator):
    thread_name = "sts-emulator"
    server_version = "Tengine"
    sys_version = ""

    def __init__(self, state: State, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__(host, port)
        self.state = state
        self.verifier = Verifier(state.lookup_key, state.use_nonce, time.time)
        self._workdir = tempfile.mkdtemp(prefix="smsctl-sts-sandbox-")
        self.ca_file = str(Path(self._workdir) / "sandbox-ca.pem")

    def start(self) -> StsEmulator:
        import trustme

        Path(self._workdir).mkdir(mode=0o700, exist_ok=True)
        ca = trustme.CA(organization_name="smsctl sandbox STS")
        ca.cert_pem.write_to_path(self.ca_file)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert(self.host, "localhost").configure_cert(context)
        self.tls_context = context
        return super().start()

    def stop(self) -> None:
        super().stop()
        shutil.rmtree(self._workdir, ignore_errors=True)

    def info(self) -> dict[str, dict[str, Any]]:
        roles = sorted(self.state.roles)
        providers = sorted(self.state.oidc_providers)
        return {
            "sts": {
                "endpoint": self.endpoint,
                "ca_file": self.ca_file,
                "role_arn": roles[0] if roles else None,
                "oidc_provider_arn": providers[0] if providers else None,
            }
        }

    def handle(self, request: IncomingRequest) -> Reply:
        request_id = new_request_id()
        action = request.param("Action") or ""
        try:
            if request.param("Version") != STS_VERSION:
                raise StsError("InvalidVersion", "Specified parameter Version is not valid.")
            if action == "AssumeRole":
                body = self._assume_role(request)
            elif action == "AssumeRoleWithOIDC":
                body = self._assume_role_with_oidc(request)
            else:
                raise StsError(
                    "InvalidAction.NotFound",
                    "Specified api is not found, please check your url and method.",
                    404,
                )
        except (StsError, SignatureError) as error:
            self.state.log_request(action, {"Code": error.code})
            return json_reply(
                error.status,
                {
                    "RequestId": request_id,
                    "HostId": "sts.aliyuncs.com",
                    "Code": error.code,
                    "Message": error.message,
                },
            )
        self.state.log_request(action, {})
        return json_reply(200, {"RequestId": request_id, **body})

    def _assume_role(self, request: IncomingRequest) -> dict[str, Any]:
        caller = self.verifier.verify(request)
        parent = self.state.sts_session(caller)
        if parent is not None:
            token = request.param("SecurityToken") or ""
            if token != parent.security_token or self.state.now() >= parent.expires_at:
                raise StsError(
                    "InvalidSecurityToken.Expired", "Specified SecurityToken is expired."
                )
        role = self._role(request)
        return self._issue(request, role)

    def _assume_role_with_oidc(self, request: IncomingRequest) -> dict[str, Any]:
        provider = request.param("OIDCProviderArn") or ""
        token = request.param("OIDCToken") or ""
        if not provider:
            raise StsError(
                "MissingOIDCProviderArn", "OIDCProviderArn is mandatory for this action."
            )
        if provider not in self.state.oidc_providers:
            raise StsError(
                "EntityNotExist.OIDCProvider", f"The OIDC provider not exists: {provider}.", 404
            )
        token = token.strip()
        if not token:
            raise StsError("MissingOIDCToken", "OIDCToken is mandatory for this action.")
        if token.count(".") != 2:
            raise StsError("InvalidParameter.OIDCToken", "The parameter OIDCToken is invalid.")
        if token in self.state.expired_oidc_tokens:
            raise StsError("AuthenticationFail.OIDCToken.Expired", "The OIDC token is expired.")
        return self._issue(request, self._role(request))

    def _role(self, request: IncomingRequest) -> str:
        role = request.param("RoleArn") or ""
        if not role:
            raise StsError("MissingRoleArn", "RoleArn is mandatory for this action.")
        if role not in self.state.roles:
            raise StsError("EntityNotExist.Role", f"The role not exists: {role}.", 404)
        return role

    def _issue(self, request: IncomingRequest, role: str) -> dict[str, Any]:
        try:
            duration = int(request.param("DurationSeconds") or 3600)
        except ValueError:
            duration = -1
        if not MIN_DURATION <= duration <= MAX_DURATION:
            raise StsError(
                "InvalidParameter.DurationSeconds",
                f"The DurationSeconds must be between {MIN_DURATION} and {MAX_DURATION}.",
            )
        name = request.param("RoleSessionName") or ""
        session = self.state.issue_session(role, name, duration)
        expires = datetime.fromtimestamp(session.expires_at, timezone.utc)
        return {
            "Credentials": {
                "AccessKeyId": session.access_key_id,
                "AccessKeySecret": session.access_key_secret,
                "SecurityToken": session.security_token,
                "Expiration": expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
            },
            "AssumedRoleUser": {
                "Arn": f"{role.replace(':role/', ':assumed-role/')}/{name}",
                "AssumedRoleId": f"3{abs(hash(role)) % 10**17:017d}:{name}",
            },
        }
