"""Alibaba Cloud SMS (dysmsapi) and voice (dyvmsapi) codes: meaning, cause, next step, exit class.

Three kinds of code live here:
- API error codes (gateway, credentials, throttling, business, transient) — the exit classes of
  docs/contract.md §6;
- SMS delivery-receipt codes (``ErrCode`` of QuerySendDetails) — exit 0 when delivered, else 8;
- voice call states (``state`` of QueryCallDetailByCallId) — exit 0 when answered, else 8.

Carrier receipt codes come in families (``MK:0001``, ``DB:0141``, ...) that ``explain`` cannot
match by prefix; ``smsctl.core.catalog.receipts`` resolves those.
"""

from __future__ import annotations

import re

from smsctl.core.catalog import Explanation

CREDENTIALS = 4
THROTTLED = 6
REFUSED = 5
TRANSIENT = 7
CONFIG = 3
DELIVERED = 0
UNDELIVERED = 8


def _e(meaning: str, cause: str, next_step: str, exit_code: int) -> Explanation:
    return Explanation(meaning=meaning, cause=cause, next_step=next_step, exit_code=exit_code)


# What `{host}` names in the texts below, for each channel (the provider's default endpoint).
WORDS = {"sms": {"host": "dysmsapi.aliyuncs.com"}, "voice": {"host": "dyvmsapi.aliyuncs.com"}}

_CHECK_SECRET = (
    "check the account with `{cli} validate {account} --check-only`; if the secret is wrong, "
    "replace it with {store_secret}."
)

_GATEWAY: dict[str, Explanation] = {
    "InvalidAccessKeyId.NotFound": _e(
        "Alibaba Cloud does not know this AccessKey ID",
        "The AccessKey ID in the account is mistyped, belongs to another cloud account, or the "
        "key was deleted in the RAM console.",
        "compare it with the RAM console and fix it with "
        "`{cli} account edit {account} --access-key-id ID`, then `{cli} validate {account}`.",
        CREDENTIALS,
    ),
    "InvalidAccessKeyId.Inactive": _e(
        "The AccessKey is disabled",
        "The key was deactivated in the RAM console (often during a key rotation).",
        "re-enable it in the RAM console or switch to the new key with {new_key}.",
        CREDENTIALS,
    ),
    "InvalidAccessKeyId": _e(
        "The AccessKey ID is not valid",
        "The AccessKey ID is malformed or unknown.",
        "fix it with `{cli} account edit {account} --access-key-id ID`.",
        CREDENTIALS,
    ),
    "SignatureDoesNotMatch": _e(
        "The request signature does not match: the AccessKey secret is wrong",
        "The secret stored for the account does not belong to this AccessKey ID (rotated, "
        "pasted with extra characters, or from another key); more rarely a proxy rewrote the "
        "request.",
        "store the right secret with {store_secret}, then `{cli} validate {account}`; check "
        "HTTP(S)_PROXY if it persists.",
        CREDENTIALS,
    ),
    "IncompleteSignature": _e(
        "The request signature is incomplete",
        "A header the signature covers was removed or altered on the way, typically by a proxy "
        "or gateway between smsctl and Alibaba Cloud.",
        "retry without the proxy (unset HTTP_PROXY/HTTPS_PROXY) and run `smsctl doctor`; "
        + _CHECK_SECRET,
        CREDENTIALS,
    ),
    "SignatureNonceUsed": _e(
        "The request's signature nonce was already used",
        "Alibaba Cloud saw the same signed request twice: a proxy or network device replayed it. "
        "smsctl makes a new nonce for every request.",
        "check for a replaying proxy (HTTP_PROXY/HTTPS_PROXY) and run the command again; "
        "for a send, first check with `smsctl log` whether it went out.",
        CREDENTIALS,
    ),
    "InvalidTimeStamp.Expired": _e(
        "The request timestamp is more than 15 minutes off Alibaba Cloud's clock",
        "This machine's clock is wrong (or its time zone is misconfigured).",
        "synchronise the clock (e.g. `timedatectl set-ntp true` or `chronyc makestep`) and retry.",
        CREDENTIALS,
    ),
    "InvalidTimeStamp.Format": _e(
        "The request timestamp is malformed",
        "The clock or locale of this machine produced an unexpected date.",
        "check the system clock and retry.",
        CREDENTIALS,
    ),
    "isp.RAM_PERMISSION_DENY": _e(
        "The RAM user behind this AccessKey lacks permission for SMS/voice",
        "The key belongs to a RAM user without the AliyunDysmsFullAccess (SMS) or "
        "AliyunDyvmsFullAccess (voice) policy, or a policy denies this action.",
        "grant the policy to the RAM user in the RAM console, then `{cli} validate {account}`.",
        CREDENTIALS,
    ),
    "Forbidden.RAM": _e(
        "The RAM user behind this AccessKey is not authorised for this action",
        "The RAM user lacks a policy such as AliyunDysmsFullAccess / AliyunDyvmsFullAccess.",
        "grant the policy in the RAM console, then `{cli} validate {account}`.",
        CREDENTIALS,
    ),
    "Forbidden.AccessKeyDisabled": _e(
        "The AccessKey is disabled",
        "The key was deactivated in the RAM console.",
        "re-enable it, or switch keys with {new_key}.",
        CREDENTIALS,
    ),
    "Forbidden.*": _e(
        "Alibaba Cloud refused access for this AccessKey",
        "The AccessKey or its RAM user is not allowed to call this action.",
        "check the RAM user's policies in the RAM console, then `{cli} validate {account}`.",
        CREDENTIALS,
    ),
    "InvalidCredentials": _e(
        "No usable credentials were given to the Alibaba Cloud SDK",
        "The account's AccessKey ID or secret is empty.",
        "check `smsctl config show` and `smsctl doctor`; store the secret with {store_secret}.",
        CREDENTIALS,
    ),
    "InvalidSecurityToken.*": _e(
        "The security token is invalid or expired",
        "Temporary (STS) credentials were used and have expired, were revoked, or the token "
        "does not belong to the AccessKey.",
        "for credential mode sts, set SMSCTL_SECURITY_TOKEN_<CHANNEL>_<ACCOUNT> to a fresh "
        "token with its AccessKey; for ram-role-arn or oidc-role-arn just run again (smsctl "
        "obtains a new session, dropping the cached one); or change the mode with "
        "`{cli} account edit {account} --credential MODE`.",
        CREDENTIALS,
    ),
    "MissingSecurityToken": _e(
        "Temporary (STS) credentials were used without their security token",
        "The AccessKey ID is an STS one (STS.…) but the account's mode gives no token.",
        "use `{cli} account edit {account} --credential sts` and set "
        "SMSCTL_SECURITY_TOKEN_<CHANNEL>_<ACCOUNT>, or a permanent AccessKey.",
        CREDENTIALS,
    ),
    "InvalidAction.NotFound": _e(
        "The endpoint does not offer this API action",
        "The account's endpoint points at another product (e.g. the voice endpoint for SMS) or "
        "an outdated address.",
        "fix the endpoint with `{cli} account edit {account} --endpoint {host}` "
        "(voice: dyvmsapi.aliyuncs.com), or remove it to use the default.",
        CONFIG,
    ),
    "InvalidVersion": _e(
        "The endpoint does not support this API version",
        "The account's endpoint points at another product or a private gateway.",
        "fix or remove the endpoint with `{cli} account edit {account} --endpoint ...`.",
        CONFIG,
    ),
    "MissingParameter": _e(
        "A required parameter is missing from the request",
        "smsctl sent an incomplete request (a template variable, number or name was empty).",
        "re-run with every value given (see `smsctl template show CODE`); if it persists, report "
        "it with the request id.",
        REFUSED,
    ),
    "MissingParameter.*": _e(
        "A required parameter is missing from the request",
        "smsctl sent an incomplete request.",
        "re-run with every value given; if it persists, report it with the request id.",
        REFUSED,
    ),
    "InvalidParameter": _e(
        "A request parameter has an invalid value",
        "A number, name, date or option is not in the form Alibaba Cloud expects.",
        "check the values named in the provider message and re-run.",
        REFUSED,
    ),
    "InvalidParameter.*": _e(
        "A request parameter has an invalid value",
        "A number, name, date or option is not in the form Alibaba Cloud expects.",
        "check the values named in the provider message and re-run.",
        REFUSED,
    ),
    "UnsupportedHTTPMethod": _e(
        "The endpoint refused the HTTP method",
        "The endpoint is not an Alibaba Cloud API gateway (a web server or proxy answered).",
        "check the account's endpoint (`{cli} account show {account}`).",
        CONFIG,
    ),
}

_THROTTLING: dict[str, Explanation] = {
    "Throttling": _e(
        "Alibaba Cloud is throttling requests",
        "Too many API calls in a short time from this account.",
        "wait a few seconds and retry; slow down scripts that loop over accounts or templates.",
        THROTTLED,
    ),
    "Throttling.User": _e(
        "Alibaba Cloud is throttling this account's API calls",
        "The account exceeded its API call rate (queries count too).",
        "wait a few seconds and retry; space out `--wait` polling and bulk `sync` runs.",
        THROTTLED,
    ),
    "Throttling.Api": _e(
        "Alibaba Cloud is throttling this API",
        "The API's own rate limit was exceeded.",
        "wait a few seconds and retry.",
        THROTTLED,
    ),
    "Throttling.*": _e(
        "Alibaba Cloud is throttling requests",
        "A rate limit was exceeded.",
        "wait and retry.",
        THROTTLED,
    ),
    "isv.BUSINESS_LIMIT_CONTROL": _e(
        "Per-number flow control: this number got too many messages from this signature",
        "Alibaba Cloud limits messages per number and signature (verification codes by default "
        "1 per minute, 5 per hour, 10 per day); the provider message says which limit was hit.",
        "wait until the window passes (`smsctl log` shows earlier sends to this number); test "
        "with another number; limits can be changed in the console (国内消息 > 通用设置 > "
        "发送频率设置).",
        THROTTLED,
    ),
    "isv.DAY_LIMIT_CONTROL": _e(
        "The account's daily sending quota is used up",
        "A daily limit set in the SMS console was reached.",
        "wait until tomorrow or raise the quota in the SMS console (发送频率/额度设置).",
        THROTTLED,
    ),
    "isv.MONTH_LIMIT_CONTROL": _e(
        "The account's monthly sending quota is used up",
        "A monthly limit set in the SMS console was reached.",
        "wait until next month or raise the quota in the SMS console.",
        THROTTLED,
    ),
}

_SMS_BUSINESS: dict[str, Explanation] = {
    "isv.SMS_SIGNATURE_ILLEGAL": _e(
        "The signature is unknown to this account or not approved",
        "The sign name is mistyped, belongs to another Alibaba Cloud account, is still under "
        "review, or was rejected.",
        "run `smsctl signature sync NAME` to see its status at the provider, and check the "
        "account with `smsctl signature show NAME`.",
        REFUSED,
    ),
    "isv.SMS_TEMPLATE_ILLEGAL": _e(
        "The template is unknown to this account or not approved",
        "The template code is mistyped, belongs to another account, is under review, or was "
        "rejected.",
        "run `smsctl template sync CODE` and check its account with `smsctl template show CODE`.",
        REFUSED,
    ),
    "isv.SMS_SIGNATURE_SCENE_ILLEGAL": _e(
        "The signature cannot be used with this template type",
        "A verification-code signature was used with a notification/promotional template, or "
        "the other way round.",
        "pick a signature whose usage matches the template (`smsctl template show CODE` shows "
        "its type and related signature); `--signature NAME` on send-test.",
        REFUSED,
    ),
    "isv.SIGN_STATE_ILLEGAL": _e(
        "The signature is not in a usable state",
        "The signature is pending, rejected, cancelled or its carrier registration is incomplete.",
        "run `smsctl signature sync NAME`; fix it in the SMS console if rejected.",
        REFUSED,
    ),
    "isv.SMS_SIGN_ILLEGAL": _e(
        "The signature is not valid for this account",
        "The sign name is unknown to this account or not approved.",
        "run `smsctl signature sync NAME`.",
        REFUSED,
    ),
    "isv.SMS_SIGN_NOT_EXIST": _e(
        "This account has no signature with that name",
        "The sign name is mistyped, or was created under another Alibaba Cloud account.",
        "check the exact name (case and full-width characters matter) in the SMS console under "
        "the same account, or add it to the right account with `smsctl signature add NAME "
        "--account ACC`.",
        REFUSED,
    ),
    "isv.SMS_TEMPLATE_NOT_EXIST": _e(
        "This account has no template with that code",
        "The template code is mistyped or belongs to another Alibaba Cloud account.",
        "check the code in the SMS console under the same account, or add it to the right "
        "account with `smsctl template add CODE --account {account} --scenario SCENARIO`.",
        REFUSED,
    ),
    "isv.MOBILE_NUMBER_ILLEGAL": _e(
        "The phone number is not valid for this message",
        "The number is malformed, or a mainland template was sent to an international number "
        "(mainland numbers are 11 digits; international ones need the country code).",
        "check the number passed to `--to`; use an international template for non-mainland "
        "numbers.",
        REFUSED,
    ),
    "isv.MOBILE_COUNT_OVER_LIMIT": _e(
        "Too many phone numbers in one request",
        "More numbers were given than one call allows (1000 for SendSms).",
        "send to fewer numbers at once.",
        REFUSED,
    ),
    "isv.TEMPLATE_MISSING_PARAMETERS": _e(
        "A template variable has no value",
        "The template has a ${var} that the request did not fill.",
        "see the variables with `smsctl template show CODE` and pass each with `--param k=v`; "
        "run `smsctl template sync CODE` if the template changed at the provider.",
        REFUSED,
    ),
    "isv.TEMPLATE_PARAMS_ILLEGAL": _e(
        "A template variable value is not allowed",
        "A value breaks the template's variable rules (type, length, or forbidden content).",
        "check the values with `smsctl template render CODE --param k=v`.",
        REFUSED,
    ),
    "isv.INVALID_JSON_PARAM": _e(
        "The template parameters are not valid JSON",
        "TemplateParam was not a JSON object of string values.",
        "pass values with `--param k=v` or a JSON object of strings with `--params-json`.",
        REFUSED,
    ),
    "isv.INVALID_PARAMETERS": _e(
        "A request parameter is invalid",
        "A value (number, sign name, template code, OutId) is malformed.",
        "check the values named in the provider message.",
        REFUSED,
    ),
    "isv.PARAM_LENGTH_LIMIT": _e(
        "A template variable value is too long",
        "A variable exceeds its length limit (35 characters is a common limit).",
        "shorten the value; check with `smsctl template render CODE --param k=v`.",
        REFUSED,
    ),
    "isv.PARAM_NOT_SUPPORT_URL": _e(
        "Template variables may not contain a URL",
        "A variable value holds a link, which Alibaba Cloud refuses in variables.",
        "put fixed links in the template text itself (a new template) instead of a variable.",
        REFUSED,
    ),
    "isv.BLACK_KEY_CONTROL_LIMIT": _e(
        "The message contains blocked keywords",
        "The rendered text hits the carriers' or Alibaba Cloud's keyword blacklist.",
        "check the rendered text with `smsctl template render CODE` and change the values.",
        REFUSED,
    ),
    "isv.SMS_CONTENT_ILLEGAL": _e(
        "The message content is not allowed",
        "The content breaks the content rules (forbidden words, format).",
        "check the rendered text with `smsctl template render CODE`.",
        REFUSED,
    ),
    "isv.DOMESTIC_NUMBER_NOT_SUPPORTED": _e(
        "This international template cannot be sent to a mainland number",
        "An international/HK-Macao-Taiwan template was used with a mainland China number.",
        "use a mainland template for mainland numbers (`--template CODE`).",
        REFUSED,
    ),
    "isv.AMOUNT_NOT_ENOUGH": _e(
        "The Alibaba Cloud account balance is too low",
        "The account has no funds or SMS package left.",
        "top up the account or buy an SMS package in the console, then retry.",
        REFUSED,
    ),
    "isv.OUT_OF_SERVICE": _e(
        "The Alibaba Cloud account is suspended for arrears",
        "An unpaid bill stopped the service.",
        "pay the outstanding bill in the console; service resumes shortly after.",
        REFUSED,
    ),
    "isv.PRODUCT_UN_SUBSCRIPT": _e(
        "The product is not activated for this Alibaba Cloud account",
        "SMS (or voice) was never activated for the account that owns this AccessKey.",
        "activate the product in the console, then `{cli} validate {account}`.",
        REFUSED,
    ),
    "isv.PRODUCT_UNSUBSCRIBE": _e(
        "The product is not activated for this Alibaba Cloud account",
        "SMS (or voice) was never activated, or was cancelled, for this account.",
        "activate the product in the console, then `{cli} validate {account}`.",
        REFUSED,
    ),
    "isv.ACCOUNT_NOT_EXISTS": _e(
        "The Alibaba Cloud account does not exist",
        "The AccessKey belongs to an account that is closed or was never set up for SMS.",
        "check which account owns the AccessKey; switch to a key of a working account with "
        "{new_key}.",
        REFUSED,
    ),
    "isv.ACCOUNT_ABNORMAL": _e(
        "The Alibaba Cloud account is in an abnormal state",
        "The account is frozen or under risk control.",
        "contact Alibaba Cloud support with the request id.",
        REFUSED,
    ),
    "isv.DENY_IP_RANGE": _e(
        "Requests from this IP address are refused",
        "The source IP is outside the mainland or outside the account's allowed range.",
        "send from an allowed network, or adjust the IP policy in the console.",
        REFUSED,
    ),
    "isv.EXTEND_CODE_ERROR": _e(
        "The extension code is invalid",
        "The SMS up-extend code is not allowed for this signature.",
        "send without an extension code.",
        REFUSED,
    ),
    "isv.SMS_TEST_SIGN_TEMPLATE_LIMIT": _e(
        "The test signature/template may only send to bound test numbers",
        "Alibaba Cloud's free test signature only reaches numbers bound in the console.",
        "bind the number in the SMS console (快速学习/测试) or use your own approved signature.",
        REFUSED,
    ),
    "isv.SMS_TEST_NUMBER_LIMIT": _e(
        "This number is not bound as a test number",
        "Test templates only reach numbers bound in the console.",
        "bind the number in the SMS console or use your own approved template.",
        REFUSED,
    ),
    "isv.SECURITY_FROZEN_ACCOUNT": _e(
        "The account is frozen by security controls",
        "Alibaba Cloud's risk control froze sending.",
        "contact Alibaba Cloud support with the request id.",
        REFUSED,
    ),
}

_VOICE_BUSINESS: dict[str, Explanation] = {
    "isv.TTS_TEMPLATE_ILLEGAL": _e(
        "The TTS template is unknown to this account or not approved",
        "The TTS code is mistyped, belongs to another account, or is not approved.",
        "check the code in the voice console; fix it with `smsctl voice template edit CODE`.",
        REFUSED,
    ),
    "isv.VOICE_FILE_ILLEGAL": _e(
        "The voice file is unknown to this account or not approved",
        "The voice code is mistyped, belongs to another account, or is not approved.",
        "check the voice file in the voice console.",
        REFUSED,
    ),
    "isv.CALLED_NUMBER_ILLEGAL": _e(
        "The called number is not valid",
        "Voice calls only reach mainland China numbers (11 digits or a fixed line with area code).",
        "check the number given to --to.",
        REFUSED,
    ),
    "isv.DISPLAY_NUMBER_ILLEGAL": _e(
        "The caller number (CalledShowNumber) is not valid for this account",
        "The show number is not one purchased for this account, or is not usable for this "
        "call type.",
        "use a number bought in the voice console (`smsctl voice account edit {account} "
        "--called-show-number ...`), or leave it empty for public mode.",
        REFUSED,
    ),
    "isv.NO_AVAILABLE_NUMBER": _e(
        "No caller number is available for this call",
        "The account has no usable caller number for public-mode calls.",
        "buy or qualify a caller number in the voice console.",
        REFUSED,
    ),
    "isv.VOICE_TEMPLATE_PARAMS_ILLEGAL": _e(
        "The TTS variables are not valid",
        "TtsParam is not a JSON object of strings, or a variable is missing or too long.",
        "check with `smsctl voice template render CODE --param k=v`.",
        REFUSED,
    ),
}

_BUSINESS_CATCH_ALL: dict[str, Explanation] = {
    "isv.*": _e(
        "Alibaba Cloud refused the request",
        "A business rule refused it (see the provider message).",
        "read the provider message; quote the request id to Alibaba Cloud support if unclear.",
        REFUSED,
    ),
}

_TRANSIENT: dict[str, Explanation] = {
    "isp.SYSTEM_ERROR": _e(
        "Alibaba Cloud had an internal error",
        "A transient failure on the provider side.",
        "retry in a moment; for a send, first check with `smsctl log` that it did not go out.",
        TRANSIENT,
    ),
    "isp.GATEWAY_ERROR": _e(
        "Alibaba Cloud's gateway had an internal error",
        "A transient failure on the provider side.",
        "retry in a moment.",
        TRANSIENT,
    ),
    "isp.*": _e(
        "Alibaba Cloud had a platform error",
        "A failure on the provider side.",
        "retry in a moment; quote the request id to support if it persists.",
        TRANSIENT,
    ),
    "ServiceUnavailable": _e(
        "The Alibaba Cloud service is temporarily unavailable",
        "Maintenance or overload on the provider side.",
        "retry in a minute; check the Alibaba Cloud status page if it persists.",
        TRANSIENT,
    ),
    "ServiceUnavailable.*": _e(
        "The Alibaba Cloud service is temporarily unavailable",
        "Maintenance or overload on the provider side.",
        "retry in a minute.",
        TRANSIENT,
    ),
    "InternalError": _e(
        "Alibaba Cloud had an internal error",
        "A transient failure on the provider side.",
        "retry in a moment; for a send, first check with `smsctl log`.",
        TRANSIENT,
    ),
    "ServiceTimeout": _e(
        "Alibaba Cloud timed out internally",
        "The provider did not finish the request in time.",
        "retry in a moment; for a send, first check with `smsctl log` whether it went out.",
        TRANSIENT,
    ),
}

_CHECK_RECEIPT = "for details run `smsctl log` and re-check the receipt later."

RECEIPTS: dict[str, Explanation] = {
    "DELIVERED": _e(
        "Delivered to the handset",
        "The carrier confirmed delivery.",
        "nothing to do.",
        DELIVERED,
    ),
    "DELIVRD": _e(
        "Delivered to the handset",
        "The carrier confirmed delivery.",
        "nothing to do.",
        DELIVERED,
    ),
    "UNDELIV": _e(
        "The carrier could not deliver the message",
        "The phone was off or out of coverage for too long, the number is suspended or "
        "cancelled, or the handset refused it.",
        "check that the phone is on and reachable and try again later, or test another number; "
        + _CHECK_RECEIPT,
        UNDELIVERED,
    ),
    "EXPIRED": _e(
        "The message expired before it could be delivered",
        "The phone stayed off or out of coverage for the whole validity period (usually 24-72 "
        "hours).",
        "make sure the phone is on and has signal, then send again.",
        UNDELIVERED,
    ),
    "REJECTD": _e(
        "The carrier rejected the message",
        "The number is on the carrier's blacklist, the user unsubscribed/blocked, or the "
        "content was filtered.",
        "ask the recipient to check their spam/blocked list; try another number to rule out "
        "content filtering.",
        UNDELIVERED,
    ),
    "REJECTED": _e(
        "The carrier rejected the message",
        "Blacklist, user block, or content filtering.",
        "try another number to tell a number problem from a content problem.",
        UNDELIVERED,
    ),
    "DELETED": _e(
        "The carrier deleted the message before delivery",
        "The carrier's gateway dropped it (congestion or policy).",
        "send again later.",
        UNDELIVERED,
    ),
    "UNKNOWN": _e(
        "The carrier reported an unknown delivery state",
        "No definite receipt came back from the carrier.",
        "ask the recipient whether it arrived; " + _CHECK_RECEIPT,
        UNDELIVERED,
    ),
    "isv.MOBILE_ACCOUNT_ABNORMAL": _e(
        "The recipient's phone account is abnormal",
        "The number is suspended, in arrears, or cancelled at the carrier.",
        "ask the recipient to check their phone service; test another number.",
        UNDELIVERED,
    ),
    "isv.IN_BLACKLIST": _e(
        "The number is on a blacklist",
        "The recipient unsubscribed (replied TD/T) or is on a carrier/Alibaba blacklist.",
        "ask the recipient to re-subscribe; test another number.",
        UNDELIVERED,
    ),
}

# Voice call states (QueryCallDetailByCallId Data.state). Answered states exit 0.
CALL_STATES: dict[str, Explanation] = {
    "200000": _e(
        "Answered and listened to the end",
        "The callee picked up and heard the whole message.",
        "nothing to do.",
        DELIVERED,
    ),
    "200001": _e(
        "Answered, but hung up before the end",
        "The callee picked up and hung up early.",
        "nothing to do if the callee only needed to pick up; otherwise call again.",
        DELIVERED,
    ),
    "200002": _e(
        "The line was busy",
        "The callee was on another call or rejected the call.",
        "call again in a few minutes.",
        UNDELIVERED,
    ),
    "200003": _e(
        "Not answered",
        "The phone rang but nobody picked up.",
        "call again; check the phone is not on silent or blocking unknown callers.",
        UNDELIVERED,
    ),
    "200004": _e(
        "The number does not exist",
        "The called number is invalid or not assigned.",
        "check the number given to `--to`.",
        UNDELIVERED,
    ),
    "200005": _e(
        "The callee could not be reached",
        "The network could not reach the phone.",
        "call again later.",
        UNDELIVERED,
    ),
    "200007": _e(
        "The callee is out of the service area",
        "The phone has no coverage.",
        "call again later.",
        UNDELIVERED,
    ),
    "200010": _e(
        "The phone is powered off",
        "The callee's phone is switched off.",
        "call again later, or reach the person another way.",
        UNDELIVERED,
    ),
    "200011": _e(
        "The number is suspended",
        "The callee's line is suspended (arrears or reported lost).",
        "reach the person another way.",
        UNDELIVERED,
    ),
    "200121": _e(
        "The call was refused: too many concurrent calls",
        "The account hit its concurrent call limit.",
        "call again in a moment; spread calls out.",
        UNDELIVERED,
    ),
    "999999": _e(
        "The voice platform had a system error",
        "A failure on the provider side.",
        "call again in a moment; quote the CallId to support if it persists.",
        UNDELIVERED,
    ),
}

CODES: dict[str, Explanation] = {
    **_GATEWAY,
    **_THROTTLING,
    **_SMS_BUSINESS,
    **_VOICE_BUSINESS,
    **_TRANSIENT,
    **RECEIPTS,
    **CALL_STATES,
    # Catch-alls last so that exact codes are always found first by a linear scan.
    **_BUSINESS_CATCH_ALL,
}

_WINDOWS = (
    ("分钟", "minute"),
    ("小时", "hour"),
    ("天", "day"),
    ("日", "day"),
    ("minute", "minute"),
    ("hour", "hour"),
    ("day", "day"),
)
_PERMITS = re.compile(r"Permits\s*[:=：]\s*(\d+)", re.IGNORECASE)


def flow_control_window(message: str | None) -> tuple[str | None, int | None]:
    """Which per-number limit isv.BUSINESS_LIMIT_CONTROL hit.

    "触发小时级流控Permits:5" -> ("hour", 5); (None, None) when the message does not say.
    """
    if not message:
        return None, None
    window = next((name for marker, name in _WINDOWS if marker in message.lower()), None)
    permits_match = _PERMITS.search(message)
    permits = int(permits_match.group(1)) if permits_match else None
    return window, permits


def flow_control_sentence(message: str | None) -> str | None:
    """A plain sentence about the limit hit, or None when the message does not say."""
    window, permits = flow_control_window(message)
    if window is None:
        return None
    limit = f" ({permits} per {window})" if permits is not None else ""
    return (
        f"The per-{window} limit for this number and signature was reached{limit}; "
        f"the next message is allowed once the {window} has passed."
    )
