"""SMTP reply codes and local connection/TLS failures, explained.

Numeric keys are SMTP reply codes; upper-case keys are failures detected before or around the
SMTP dialogue (TLS, network), named by smsctl.
"""

from __future__ import annotations

from smsctl.core.catalog import Explanation

_SECURITY = "Check --security and --port: 465 is usually implicit TLS (ssl), 587 STARTTLS."

CODES: dict[str, Explanation] = {
    "535": Explanation(
        "Authentication failed",
        "The server rejected the username or password.",
        "Check --username, then set the password again with {store_secret}; some providers "
        "require an app password.",
        4,
    ),
    "534": Explanation(
        "Authentication mechanism refused",
        "The server wants a stronger mechanism or an application-specific password.",
        "Create an app password at the mail provider and store it as the account's secret.",
        4,
    ),
    "530": Explanation(
        "Authentication required",
        "The server does not accept mail from this connection without a login.",
        "Give the account a --username and a password, and use TLS.",
        4,
    ),
    "454": Explanation(
        "Temporary authentication failure",
        "The server could not check the credentials right now.",
        "Retry later.",
        7,
    ),
    "421": Explanation(
        "Service not available",
        "The server is closing the connection (overloaded, shutting down or throttling).",
        "Retry later.",
        7,
    ),
    "450": Explanation(
        "Mailbox temporarily unavailable",
        "The mailbox is busy or greylisting is in effect.",
        "Retry in a few minutes.",
        7,
    ),
    "451": Explanation(
        "Temporary local error at the server",
        "The server could not process the request right now.",
        "Retry in a few minutes.",
        7,
    ),
    "452": Explanation(
        "Insufficient storage at the server",
        "The server cannot accept the message right now.",
        "Retry later.",
        7,
    ),
    "550": Explanation(
        "Mailbox unavailable",
        "The address does not exist, or the server refuses to relay for it.",
        "Check the address; if it is correct, ask the mail administrator why it is refused.",
        5,
    ),
    "551": Explanation(
        "User not local",
        "The server does not relay for this recipient.",
        "Check the address, or send through the recipient's own mail server.",
        5,
    ),
    "552": Explanation(
        "Message refused: storage or size limit",
        "The mailbox is full or the message is too large.",
        "Check the message size; ask the recipient to make room.",
        5,
    ),
    "553": Explanation(
        "Mailbox name not allowed",
        "The address is malformed, or the account may not send as this sender.",
        "Check the address and that --from is an address the account may send as.",
        5,
    ),
    "554": Explanation(
        "Transaction failed",
        "The server refused the message (policy, spam filter or blocked sender).",
        "Read the server's message; check the sender's SPF/DKIM setup and the content.",
        5,
    ),
    "SENDER-REFUSED": Explanation(
        "Sender address refused",
        "The server does not accept mail from the configured --from address.",
        "Use a --from address the SMTP account is allowed to send as.",
        5,
    ),
    "TLS-UNKNOWN-CA": Explanation(
        "The server's TLS certificate is not signed by a trusted authority",
        "It is self-signed or issued by a private CA that this machine does not trust.",
        "If you trust that CA, give the account its certificate with --ca-file PEM. smsctl never "
        "sends over unverified TLS.",
        7,
    ),
    "TLS-HOSTNAME-MISMATCH": Explanation(
        "The server's TLS certificate is for another name",
        "The --host does not match any name in the certificate.",
        "Use the host name the certificate was issued for (see the mail provider's settings). "
        "--ca-file does not help with a name mismatch.",
        7,
    ),
    "TLS-EXPIRED": Explanation(
        "The server's TLS certificate has expired or is not yet valid",
        "The mail server's certificate is outside its validity period (or the local clock is "
        "wrong).",
        "Check this machine's clock; otherwise the mail administrator must renew the "
        "certificate. A renewed private-CA certificate can be trusted with --ca-file.",
        7,
    ),
    "TLS-VERIFY-FAILED": Explanation(
        "The server's TLS certificate could not be verified",
        "The certificate chain is invalid.",
        "Read the verification message; a private CA can be trusted with --ca-file.",
        7,
    ),
    "CA-FILE-UNREADABLE": Explanation(
        "The --ca-file cannot be used",
        "The file is missing, unreadable or not a PEM certificate.",
        "Point --ca-file at the PEM file of the CA that signed the server's certificate.",
        3,
    ),
    "TLS-WRONG-MODE": Explanation(
        "TLS handshake failed: the port does not speak the configured TLS mode",
        "Implicit TLS (--security ssl) was used against a plain/STARTTLS port, or the reverse.",
        _SECURITY,
        3,
    ),
    "TLS-HANDSHAKE": Explanation(
        "TLS handshake failed",
        "The server and smsctl could not agree on a TLS connection.",
        _SECURITY,
        7,
    ),
    "STARTTLS-NOT-OFFERED": Explanation(
        "The server does not offer STARTTLS",
        "The port is plain SMTP without TLS, or implicit TLS is expected.",
        _SECURITY,
        3,
    ),
    "AUTH-NOT-OFFERED": Explanation(
        "The server does not offer authentication on this connection",
        "Many servers offer AUTH only after TLS has been negotiated.",
        _SECURITY,
        3,
    ),
    "CONNECTION-REFUSED": Explanation(
        "Connection refused",
        "Nothing listens on that host and port, or a firewall rejects the connection.",
        "Check --host and --port, and that the server is up; then retry.",
        7,
    ),
    "HOST-NOT-FOUND": Explanation(
        "Host name not found",
        "DNS could not resolve the --host.",
        "Check the spelling of --host and this machine's DNS; then retry.",
        7,
    ),
    "NETWORK": Explanation(
        "Network error",
        "The connection to the SMTP server failed or was cut.",
        "Check connectivity to the server and retry.",
        7,
    ),
    "TIMEOUT": Explanation(
        "The SMTP server did not answer in time",
        "The server is slow or unreachable, or a plain connection was made to an implicit-TLS "
        "port (which waits silently).",
        "Retry; if it keeps happening, check --host, --port and --security (465 = ssl).",
        7,
    ),
    "TIMEOUT-AFTER-DATA": Explanation(
        "The SMTP server did not confirm the message in time",
        "The message was transmitted but the server's answer was lost: it MAY have been delivered.",
        "Check the recipient's mailbox (or the server's log) for the Message-ID before sending "
        "again.",
        7,
    ),
    "DEADLINE": Explanation(
        "The SMTP session took longer than its deadline",
        "The server answers too slowly (a byte at a time, or a reply that never ends); the "
        "deadline bounds the whole session however the server trickles.",
        "Retry; if it keeps happening, the server is overloaded or hostile. The limit is "
        "`[defaults] deadline` (seconds) in the config.",
        7,
    ),
    "DEADLINE-AFTER-DATA": Explanation(
        "The SMTP server did not confirm the message before the session's deadline",
        "The message was transmitted but the server's answer did not come in time: it MAY have "
        "been delivered.",
        "Check the recipient's mailbox (or the server's log) for the Message-ID before sending "
        "again.",
        7,
    ),
    "REPLY-TOO-LARGE": Explanation(
        "The SMTP server sent far more than any SMTP reply needs",
        "The server (or something posing as it) does not speak SMTP as it should.",
        "Check --host and --port; retry later or ask the mail administrator.",
        7,
    ),
    "PROTOCOL": Explanation(
        "The SMTP server broke the protocol",
        "Its answer is not valid SMTP (for example an AUTH challenge that is not base64).",
        "Check --host, --port and --security; if they are right, ask the mail administrator.",
        7,
    ),
    "DISCONNECTED": Explanation(
        "The SMTP server closed the connection",
        "The server dropped the connection unexpectedly.",
        "Retry; if it keeps happening, check --security and --port.",
        7,
    ),
}
