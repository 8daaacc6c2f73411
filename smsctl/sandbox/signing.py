"""Request signature verification as the Alibaba Cloud API gateway does it.

Two schemes reach the gateway from the SDK:
- ACS3-HMAC-SHA256 (the default): `Authorization` header over a canonical request.
- RPC v1 HMAC-SHA1 (`Config(signature_algorithm='v2')`): `Signature=` query parameter over the
  sorted query + form parameters.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import quote, quote_plus

ACS3_ALGORITHM = "ACS3-HMAC-SHA256"
MAX_CLOCK_SKEW_SECONDS = 15 * 60
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
# Every common header must be covered by the signature, as the gateway requires.
ACS3_REQUIRED_SIGNED_HEADERS = (
    "host",
    "x-acs-action",
    "x-acs-version",
    "x-acs-date",
    "x-acs-signature-nonce",
    "x-acs-content-sha256",
)
RPC_V1_REQUIRED_PARAMS = (
    "AccessKeyId",
    "Signature",
    "SignatureMethod",
    "SignatureNonce",
    "Timestamp",
)


class SignatureError(Exception):
    """A request the gateway refuses before it reaches the API."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status


@dataclass(frozen=True)
class AccessKey:
    id: str
    secret: str
    enabled: bool = True


@dataclass(frozen=True)
class IncomingRequest:
    """What the verifier needs of an HTTP request, with header names in lower case."""

    method: str
    path: str
    query: Sequence[tuple[str, str]]
    headers: Mapping[str, Sequence[str]]
    body: bytes
    form: Sequence[tuple[str, str]] = ()

    def header(self, name: str) -> str | None:
        values = self.headers.get(name)
        return values[0] if values else None

    def query_value(self, name: str) -> str | None:
        for key, value in self.query:
            if key == name:
                return value
        return None


def percent_encode(value: str) -> str:
    return quote(value, safe="~", encoding="utf-8")


def canonical_query(pairs: Sequence[tuple[str, str]]) -> str:
    ordered = sorted(pairs, key=lambda pair: pair[0])
    return "&".join(f"{percent_encode(key)}={percent_encode(value)}" for key, value in ordered)


def canonical_headers(headers: Mapping[str, Sequence[str]], signed: Sequence[str]) -> str:
    lines = []
    for name in signed:
        values = sorted(value.strip() for value in headers.get(name, ()))
        lines.append(f"{name}:{','.join(values)}\n")
    return "".join(lines)


def acs3_string_to_sign(request: IncomingRequest, signed_headers: Sequence[str]) -> str:
    hashed_payload = hashlib.sha256(request.body).hexdigest()
    canonical_request = "\n".join(
        [
            request.method,
            request.path or "/",
            canonical_query(request.query),
            canonical_headers(request.headers, signed_headers),
            ";".join(signed_headers),
            hashed_payload,
        ]
    )
    digest = hashlib.sha256(canonical_request.encode("utf-8")).hexdigest()
    return f"{ACS3_ALGORITHM}\n{digest}"


def acs3_signature(secret: str, string_to_sign: str) -> str:
    mac = hmac.new(secret.encode("utf-8"), string_to_sign.encode("utf-8"), hashlib.sha256)
    return mac.hexdigest()


def rpc_v1_string_to_sign(method: str, params: Sequence[tuple[str, str]]) -> str:
    unsigned = [(key, value) for key, value in params if key != "Signature"]
    return f"{method}&%2F&{quote_plus(canonical_query(unsigned), safe='~')}"


def rpc_v1_signature(secret: str, string_to_sign: str) -> str:
    mac = hmac.new(f"{secret}&".encode(), string_to_sign.encode("utf-8"), hashlib.sha1)
    return base64.b64encode(mac.digest()).decode("ascii")


def parse_acs3_authorization(value: str) -> tuple[str, list[str], str]:
    """(access key id, signed header names, signature) from an ACS3 Authorization header."""
    algorithm, _, rest = value.strip().partition(" ")
    if algorithm != ACS3_ALGORITHM:
        raise SignatureError(
            "IncompleteSignature", f"The signature algorithm {algorithm!r} is not supported."
        )
    fields: dict[str, str] = {}
    for part in rest.split(","):
        key, sep, item = part.strip().partition("=")
        if sep:
            fields[key] = item
    missing = [
        name for name in ("Credential", "SignedHeaders", "Signature") if not fields.get(name)
    ]
    if missing:
        raise SignatureError(
            "IncompleteSignature",
            f"The request signature does not conform to Aliyun standards. Missing {missing[0]}.",
        )
    return fields["Credential"], fields["SignedHeaders"].split(";"), fields["Signature"]


class Verifier:
    """Checks a request's signature, timestamp and nonce; returns the caller's AccessKey ID."""

    def __init__(
        self,
        lookup_key: Callable[[str], AccessKey | None],
        use_nonce: Callable[[str], bool],
        clock: Callable[[], float],
    ) -> None:
        self._lookup_key = lookup_key
        self._use_nonce = use_nonce
        self._clock = clock

    def verify(self, request: IncomingRequest) -> str:
        authorization = request.header("authorization")
        if authorization:
            return self._verify_acs3(request, authorization)
        if request.query_value("Signature") is not None:
            return self._verify_rpc_v1(request)
        raise SignatureError(
            "IncompleteSignature",
            "The request signature does not conform to Aliyun standards. Missing Authorization.",
        )

    def _verify_acs3(self, request: IncomingRequest, authorization: str) -> str:
        key_id, signed_headers, signature = parse_acs3_authorization(authorization)
        self._check_signed_headers(request, signed_headers)
        key = self._active_key(key_id)
        self._check_timestamp(request.header("x-acs-date") or "")
        expected_string = acs3_string_to_sign(request, signed_headers)
        expected = acs3_signature(key.secret, expected_string)
        if not hmac.compare_digest(expected, signature.lower()):
            raise signature_mismatch(expected_string)
        self._check_nonce(request.header("x-acs-signature-nonce") or "")
        return key.id

    def _verify_rpc_v1(self, request: IncomingRequest) -> str:
        params = [*request.query, *request.form]
        present = {key for key, value in params if value != ""}
        missing = [name for name in RPC_V1_REQUIRED_PARAMS if name not in present]
        if missing:
            raise SignatureError(
                "IncompleteSignature",
                "The request signature does not conform to Aliyun standards. "
                f"Missing {missing[0]}.",
            )
        values = dict(params)
        if values["SignatureMethod"] != "HMAC-SHA1":
            raise SignatureError(
                "InvalidSignatureMethod", "Specified signature method is not supported."
            )
        key = self._active_key(values["AccessKeyId"])
        self._check_timestamp(values["Timestamp"])
        expected_string = rpc_v1_string_to_sign(request.method, params)
        expected = rpc_v1_signature(key.secret, expected_string)
        if not hmac.compare_digest(expected, values["Signature"]):
            raise signature_mismatch(expected_string)
        self._check_nonce(values["SignatureNonce"])
        return key.id

    def _check_signed_headers(self, request: IncomingRequest, signed: list[str]) -> None:
        if signed != sorted(signed) or any(name != name.lower() for name in signed):
            raise SignatureError(
                "IncompleteSignature",
                "The request signature does not conform to Aliyun standards. "
                "SignedHeaders must be lower case and sorted.",
            )
        for name in ACS3_REQUIRED_SIGNED_HEADERS:
            if name not in signed or request.header(name) is None:
                raise SignatureError(
                    "IncompleteSignature",
                    "The request signature does not conform to Aliyun standards. "
                    f"Header {name} must be present and signed.",
                )
        for name in signed:
            if name not in request.headers:
                raise SignatureError(
                    "IncompleteSignature",
                    f"The signed header {name} is not in the request.",
                )

    def _active_key(self, key_id: str) -> AccessKey:
        key = self._lookup_key(key_id)
        if key is None:
            raise SignatureError(
                "InvalidAccessKeyId.NotFound", "Specified access key is not found.", 404
            )
        if not key.enabled:
            raise SignatureError("InvalidAccessKeyId.Inactive", "Specified access key is disabled.")
        return key

    def _check_timestamp(self, value: str) -> None:
        try:
            stamp = datetime.strptime(value, TIMESTAMP_FORMAT).replace(tzinfo=timezone.utc)
        except ValueError:
            raise SignatureError(
                "InvalidTimeStamp.Format",
                "Specified time stamp or date value is not well formatted.",
            ) from None
        if abs(stamp.timestamp() - self._clock()) > MAX_CLOCK_SKEW_SECONDS:
            raise SignatureError(
                "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired."
            )

    def _check_nonce(self, nonce: str) -> None:
        if not nonce:
            raise SignatureError(
                "IncompleteSignature",
                "The request signature does not conform to Aliyun standards. Missing nonce.",
            )
        if not self._use_nonce(nonce):
            raise SignatureError(
                "SignatureNonceUsed", "Specified signature nonce was used already."
            )


def signature_mismatch(server_string_to_sign: str) -> SignatureError:
    return SignatureError(
        "SignatureDoesNotMatch",
        "Specified signature does not match our calculation. "
        f"server string to sign is:{server_string_to_sign}",
    )
