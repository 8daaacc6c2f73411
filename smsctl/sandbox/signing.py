"""Request signature verification as the Alibaba Cloud API gateway does it.

Two schemes reach the gateway from the SDKs:
- ACS3 (V3): `Authorization` header over a canonical request, hashed and keyed with SHA-256
  (`ACS3-HMAC-SHA256`, the default) or SM3 (`ACS3-HMAC-SM3`).
- RPC v1 HMAC-SHA1 (`Config(signature_algorithm='v2')`, the legacy core SDKs, pop-core):
  `Signature=` parameter over the sorted query + form parameters; the parameters, `Signature`
  included, may travel in the query or in the form body.
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
ACS3_SM3_ALGORITHM = "ACS3-HMAC-SM3"
# A request's date must lie within the 15 minutes before it arrives; a date ahead of the
# service's clock is refused beyond a minute of clock drift.
MAX_CLOCK_SKEW_SECONDS = 15 * 60
MAX_FUTURE_SKEW_SECONDS = 60
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

    def param(self, name: str) -> str | None:
        """An RPC parameter from the query or, failing that, the form body (as the gateway)."""
        value = self.query_value(name)
        if value is not None:
            return value
        for key, item in self.form:
            if key == name:
                return item
        return None


# SM3 (GB/T 32905): OpenSSL's when hashlib has it, else the pure-Python one the Alibaba SDK
# itself signs with (installed with smsctl's Alibaba dependencies).
_OPENSSL_SM3 = "sm3" in hashlib.algorithms_available


def sm3_digest(data: bytes) -> bytes:
    if _OPENSSL_SM3:
        return hashlib.new("sm3", data).digest()
    from alibabacloud_tea_openapi.sm3 import hash_sm3

    return hash_sm3(data)


def hmac_sm3(key: bytes, message: bytes) -> bytes:
    if _OPENSSL_SM3:
        return hmac.new(key, message, "sm3").digest()
    from alibabacloud_tea_openapi.sm3 import Sm3

    return hmac.new(key, message, Sm3).digest()


def acs3_hash(algorithm: str, data: bytes) -> str:
    if algorithm == ACS3_SM3_ALGORITHM:
        return sm3_digest(data).hex()
    return hashlib.sha256(data).hexdigest()


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


def acs3_string_to_sign(
    request: IncomingRequest, signed_headers: Sequence[str], algorithm: str = ACS3_ALGORITHM
) -> str:
    hashed_payload = acs3_hash(algorithm, request.body)
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
    digest = acs3_hash(algorithm, canonical_request.encode("utf-8"))
    return f"{algorithm}\n{digest}"


def acs3_signature(secret: str, string_to_sign: str, algorithm: str = ACS3_ALGORITHM) -> str:
    key, message = secret.encode("utf-8"), string_to_sign.encode("utf-8")
    if algorithm == ACS3_SM3_ALGORITHM:
        return hmac_sm3(key, message).hex()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def rpc_v1_string_to_sign(method: str, params: Sequence[tuple[str, str]]) -> str:
    unsigned = [(key, value) for key, value in params if key != "Signature"]
    return f"{method}&%2F&{quote_plus(canonical_query(unsigned), safe='~')}"


def rpc_v1_signature(secret: str, string_to_sign: str) -> str:
    mac = hmac.new(f"{secret}&".encode(), string_to_sign.encode("utf-8"), hashlib.sha1)
    return base64.b64encode(mac.digest()).decode("ascii")


def parse_acs3_authorization(value: str) -> tuple[str, str, list[str], str]:
    """(algorithm, access key id, signed header names, signature) from an ACS3 Authorization."""
    algorithm, _, rest = value.strip().partition(" ")
    if algorithm not in (ACS3_ALGORITHM, ACS3_SM3_ALGORITHM):
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
    return algorithm, fields["Credential"], fields["SignedHeaders"].split(";"), fields["Signature"]


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
        if request.param("Signature") is not None:
            return self._verify_rpc_v1(request)
        raise SignatureError(
            "IncompleteSignature",
            "The request signature does not conform to Aliyun standards. Missing Authorization.",
        )

    def _verify_acs3(self, request: IncomingRequest, authorization: str) -> str:
        algorithm, key_id, signed_headers, signature = parse_acs3_authorization(authorization)
        self._check_signed_headers(request, signed_headers)
        key = self._active_key(key_id)
        self._check_timestamp(request.header("x-acs-date") or "")
        expected_string = acs3_string_to_sign(request, signed_headers, algorithm)
        expected = acs3_signature(key.secret, expected_string, algorithm)
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
        # Every common header the request carries, and its content type, must be signed too.
        for name in sorted(request.headers):
            if (name.startswith("x-acs-") or name == "content-type") and name not in signed:
                raise SignatureError(
                    "IncompleteSignature",
                    "The request signature does not conform to Aliyun standards. "
                    f"Header {name} must be signed.",
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
        age = self._clock() - stamp.timestamp()
        if age > MAX_CLOCK_SKEW_SECONDS or age < -MAX_FUTURE_SKEW_SECONDS:
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
