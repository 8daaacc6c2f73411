"""Raw requests to the sandbox, signed the way the SDK signs them (its own Utils), so that
single pieces can be tampered with."""

from __future__ import annotations

import http.client
import json
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlencode


def sdk_signed_headers(
    entry: dict[str, Any],
    action: str,
    query: dict[str, str],
    *,
    secret: str | None = None,
    key_id: str | None = None,
    date: datetime | None = None,
    nonce: str | None = None,
    body: bytes = b"",
    content_type: str | None = None,
    algorithm: str = "ACS3-HMAC-SHA256",
    extra: dict[str, str] | None = None,
) -> dict[str, str]:
    """Headers of a V3 request signed by the SDK's own signer (every header given is signed)."""
    from alibabacloud_tea_openapi.utils import Utils
    from darabonba.request import DaraRequest

    host = entry["endpoint"].removeprefix("http://")
    stamp = (date or datetime.now(timezone.utc)).strftime("%Y-%m-%dT%H:%M:%SZ")
    request = DaraRequest()
    request.method = "POST"
    request.pathname = "/"
    request.query = dict(query)
    request.headers = {
        "host": host,
        "x-acs-version": "2017-05-25",
        "x-acs-action": action,
        "user-agent": "sandbox-test",
        "x-acs-date": stamp,
        "x-acs-signature-nonce": nonce or uuid.uuid4().hex,
        "accept": "application/json",
        "x-acs-content-sha256": Utils.hash(body, algorithm).hex(),
        **(extra or {}),
    }
    if content_type:
        request.headers["content-type"] = content_type
    request.headers["Authorization"] = Utils.get_authorization(
        request,
        algorithm,
        Utils.hash(body, algorithm).hex(),
        key_id or entry["access_key_id"],
        secret or entry["access_key_secret"],
    )
    return request.headers


def raw_post(
    entry: dict[str, Any], query: dict[str, str], headers: dict[str, str], body: bytes = b""
) -> tuple[int, dict[str, Any], dict[str, str]]:
    host = entry["endpoint"].removeprefix("http://")
    connection = http.client.HTTPConnection(host, timeout=5)
    try:
        connection.request("POST", "/?" + urlencode(query), body=body, headers=headers)
        response = connection.getresponse()
        data = response.read()
        return response.status, json.loads(data), {k.lower(): v for k, v in response.getheaders()}
    finally:
        connection.close()


def stale(minutes: float) -> datetime:
    return datetime.now(timezone.utc) + timedelta(minutes=minutes)
