"""Endpoint addresses: TLS everywhere, plain http only for loopback.

Two doors, one rule. `check_endpoint` judges what an operator types (a usage error, exit 2);
`endpoint_in_use` judges the address an adapter is about to call, wherever it came from (a
flag, the config file, a hand edit), and is what every provider adapter calls when it is built
(a configuration error, exit 3), so that no path reaches the network without it.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

from smsctl.core.errors import ConfigError, UsageError

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


@dataclass(frozen=True)
class Endpoint:
    """An endpoint that passed the policy: where an adapter may send its requests."""

    scheme: str  # "https" | "http"
    host: str  # without brackets
    port: int | None

    @property
    def loopback(self) -> bool:
        return is_loopback(self.host)

    @property
    def netloc(self) -> str:
        """`host[:port]`, IPv6 in brackets (what the Host header and the SDK want)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}" if self.port else host

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://{self.netloc}"


def endpoint_in_use(
    value: str | None, default: str, *, allow_insecure: bool = False, what: str = "Endpoint"
) -> Endpoint:
    """The endpoint an adapter will call: `value` (host, host:port or an http(s) URL with no
    path) or, when it is empty, `default`. Plain http:// is refused unless the host is loopback
    or the account explicitly allows an insecure endpoint (`allow_insecure_endpoint = true`)."""
    text = (value or "").strip() or default
    given = text
    if "://" not in text:
        text = "https://" + text
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    try:
        host, port = parts.hostname, parts.port
    except ValueError:
        raise ConfigError(
            f"{what} {given!r} has an invalid port.", code="invalid_endpoint"
        ) from None
    if scheme not in ("http", "https") or not host or any(ch.isspace() for ch in given):
        raise ConfigError(
            f"{what} {given!r} is not a host, host:port or http(s) URL.",
            hint="Use e.g. the provider's default host, or http://127.0.0.1:PORT for the sandbox.",
            code="invalid_endpoint",
        )
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise ConfigError(
            f"{what} {given!r} must not contain a path, query or user name.",
            hint="Give only the scheme, host and port.",
            code="invalid_endpoint",
        )
    if scheme == "http" and not allow_insecure and not is_loopback(host):
        raise ConfigError(
            f"{what} {given!r} uses plain http:// on a non-loopback address: the credentials "
            "would cross the network unencrypted, so smsctl will not call it.",
            hint="Use https:// (edit the account's endpoint), or set allow_insecure_endpoint = "
            "true for the account (--allow-insecure-endpoint) if you really mean it.",
            code="insecure_endpoint",
        )
    return Endpoint(scheme, host, port)
