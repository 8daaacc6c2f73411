"""WeChat official-account API errcodes (keys: the errcode as a string), explained.

Upper-case keys are failures smsctl detects around the API (network, HTTP, malformed answers).
"""

from __future__ import annotations

from smsctl.core.catalog import Explanation

_TOKEN_NEXT = (
    "smsctl already fetched a fresh token and retried once. Another system may be force-"
    "refreshing this AppID's token, or the AppSecret was reset: run `{cli} validate {account}`."
)

CODES: dict[str, Explanation] = {
    "-1": Explanation(
        "WeChat system busy",
        "WeChat could not handle the request right now.",
        "Retry in a few seconds.",
        7,
    ),
    "40001": Explanation(
        "Access token invalid",
        "The access token was rejected: expired, replaced by a newer one, or the AppSecret "
        "does not match.",
        _TOKEN_NEXT,
        4,
    ),
    "40014": Explanation(
        "Access token malformed",
        "The access token was not recognised.",
        _TOKEN_NEXT,
        4,
    ),
    "42001": Explanation(
        "Access token expired",
        "The access token is past its validity.",
        _TOKEN_NEXT,
        4,
    ),
    "40013": Explanation(
        "Invalid AppID",
        "No official account has this AppID.",
        "Copy the AppID from the official-account platform (Settings and Development > Basic "
        "configuration) and add the account again.",
        4,
    ),
    "40125": Explanation(
        "Invalid AppSecret",
        "The AppSecret does not belong to this AppID, or it was reset.",
        "Get the current AppSecret from the official-account platform (Basic configuration) "
        "and add the account again; resetting it breaks every other system using the old one.",
        4,
    ),
    "40164": Explanation(
        "Caller IP not in the IP whitelist",
        "The official account only accepts API calls from whitelisted IP addresses.",
        "Add {ip} to the whitelist on the official-account platform (Settings and "
        "Development > Basic configuration > IP whitelist), then retry.",
        4,
    ),
    "89503": Explanation(
        "Call from a risky IP held for confirmation",
        "WeChat asks an administrator of the account to confirm calls from this IP.",
        "Have an administrator confirm the prompt in WeChat, then retry.",
        4,
    ),
    "41001": Explanation(
        "Access token missing",
        "The request carried no access token.",
        "This is a bug in smsctl: report it.",
        1,
    ),
    "41002": Explanation(
        "AppID missing",
        "The token request carried no AppID.",
        "Check the account's app_id in the configuration.",
        3,
    ),
    "41004": Explanation(
        "AppSecret missing",
        "The token request carried no AppSecret.",
        "Set the account's secret ({secret_env_var} or the keyring).",
        4,
    ),
    "45009": Explanation(
        "Daily API quota reached",
        "The account used up its daily quota for this API.",
        "Retry tomorrow, or reset the quota on the official-account platform.",
        6,
    ),
    "45047": Explanation(
        "Too many messages to this user",
        "WeChat limits how many messages one follower receives.",
        "Retry later.",
        6,
    ),
    "43004": Explanation(
        "Recipient does not follow the official account",
        "Template messages can only be sent to users who follow the account.",
        "Ask the user to follow the official account, or use a follower's OpenID.",
        5,
    ),
    "40003": Explanation(
        "Invalid OpenID",
        "The OpenID does not belong to a user of this official account (OpenIDs differ per "
        "account).",
        "Use an OpenID obtained through this official account.",
        5,
    ),
    "40037": Explanation(
        "Invalid template_id",
        "The template is not in this account's approved template list (deleted, or from another "
        "account).",
        "Run `{cli} template list {account}` and update the rule's --template-id.",
        5,
    ),
    "47003": Explanation(
        "Template data invalid",
        "A template variable is missing, empty or has a value WeChat does not accept.",
        "Give the named field a valid value (see `{cli} template list {account}`).",
        5,
    ),
    "47001": Explanation(
        "Request body malformed",
        "WeChat could not parse the request.",
        "This is probably a bug in smsctl: report it with the request id.",
        5,
    ),
    "48001": Explanation(
        "API not authorized for this account",
        "Test accounts and personal (unverified) subscription accounts cannot send template "
        "messages.",
        "Use a verified service account with the template-message feature enabled.",
        5,
    ),
    "NETWORK": Explanation(
        "WeChat API unreachable",
        "The connection to the WeChat API failed.",
        "Check connectivity (and any proxy settings) to the endpoint, then retry.",
        7,
    ),
    "TIMEOUT": Explanation(
        "WeChat API did not answer in time",
        "The request timed out, or its answer did not arrive whole within the deadline.",
        "Retry; raise [defaults] timeout (and deadline) if the network is slow.",
        7,
    ),
    "TIMEOUT-AFTER-SEND": Explanation(
        "WeChat's answer to the send was lost",
        "The request reached WeChat but its answer did not come back whole (timed out, past the "
        "deadline, cut off or oversized): the message MAY have been delivered.",
        "Check with the recipient before sending again; re-sending with the same client_msg_id "
        "lets WeChat drop a duplicate.",
        7,
    ),
    "REDIRECT": Explanation(
        "The endpoint answered with a redirect",
        "The WeChat API never redirects; a gateway, proxy or wrong endpoint answered. smsctl "
        "never follows it, so nothing (the AppSecret included) was sent to the other address.",
        "Check the account's endpoint (`{cli} account show {account}`) and any gateway in "
        "front of it.",
        7,
    ),
    "HTTP-ERROR": Explanation(
        "WeChat API answered with an HTTP error",
        "A gateway or server error (e.g. 502) before the API itself answered.",
        "Retry in a moment.",
        7,
    ),
    "BAD-RESPONSE": Explanation(
        "WeChat API answered with something that is not the expected JSON",
        "A proxy, captive portal or wrong --endpoint answered instead of the API.",
        "Check the account's endpoint and any proxy, then retry.",
        7,
    ),
}
