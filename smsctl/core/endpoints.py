"""Endpoint addresses: TLS everywhere, plain http only for loopback (SPEC §7)."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from smsctl.core.errors import UsageError

LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


def is_loopback(host: str) -> bool:
    host = host.strip("[]").lower()
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_endpoint(value: str, *, allow_insecure: bool = False) -> str:
    """Accepts `host`, `host:port`, `https://host[:port]`, and `http://` for loopback hosts
    (or any host with allow_insecure). Returns the value unchanged when it is acceptable."""
    raw = value.strip()
    if not raw or any(ch.isspace() for ch in raw):
        raise UsageError(f"Invalid endpoint {value!r}.", code="invalid_endpoint")
    parts = urlsplit(raw if "://" in raw else f"https://{raw}")
    if parts.scheme not in ("http", "https"):
        raise UsageError(
            f"Invalid endpoint {value!r}: only https:// (or http:// for loopback) is supported.",
            code="invalid_endpoint",
        )
    try:
        host, _port = parts.hostname, parts.port
    except ValueError:
        raise UsageError(
            f"Invalid endpoint {value!r}: bad port.", code="invalid_endpoint"
        ) from None
    if not host:
        raise UsageError(f"Invalid endpoint {value!r}: no host.", code="invalid_endpoint")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise UsageError(
            f"Invalid endpoint {value!r}: give only scheme, host and port.",
            code="invalid_endpoint",
        )
    if parts.scheme == "http" and not is_loopback(host) and not allow_insecure:
        raise UsageError(
            f"Refusing plain http:// to {host}: credentials and messages would cross the network "
            "unencrypted.",
            hint="Use https://, or pass --allow-insecure-endpoint if you really mean it.",
            code="insecure_endpoint",
        )
    return raw
