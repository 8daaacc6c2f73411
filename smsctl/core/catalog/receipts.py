"""Meaning of SMS delivery receipts and voice call states, including carrier code families.

Carrier receipt codes look like ``MK:0001`` or ``DB:0141``: a family prefix naming the network
element that reported the failure, and a carrier-specific number. The exact numbers vary by
carrier and province, so smsctl explains the family; the verbatim code is always shown too.
"""

from __future__ import annotations

from smsctl.core.catalog import Explanation
from smsctl.core.catalog.alibaba import CALL_STATES, RECEIPTS, UNDELIVERED

_TRY_LATER = (
    "check that the phone is on, has signal and can receive SMS; send again later or test "
    "another number; `smsctl log` shows earlier attempts."
)

FAMILIES: dict[str, Explanation] = {
    "MK:": Explanation(
        "The handset or the carrier's SMS centre refused or could not take the message",
        "MK codes come from the carrier's SMS centre about the handset: phone off or out of "
        "coverage, inbox full, number suspended or cancelled, or the user blocked the sender.",
        _TRY_LATER,
        UNDELIVERED,
    ),
    "MN:": Explanation(
        "The carrier network could not reach the number",
        "MN codes report the number's state in the network: unassigned, suspended, powered "
        "off, or not reachable.",
        _TRY_LATER,
        UNDELIVERED,
    ),
    "MI:": Explanation(
        "The carrier's SMS centre failed to deliver",
        "MI codes report a delivery failure inside the carrier's SMS centre (often the phone "
        "being unreachable for too long).",
        _TRY_LATER,
        UNDELIVERED,
    ),
    "MB:": Explanation(
        "The carrier's SMS centre could not deliver (number state)",
        "MB codes report the number's state: busy, off, or barred.",
        _TRY_LATER,
        UNDELIVERED,
    ),
    "IC:": Explanation(
        "Delivery failed between carrier gateways",
        "IC codes come from the inter-carrier gateway: the message could not be passed to the "
        "recipient's network (ported or cross-network numbers, gateway congestion).",
        "send again later; if one carrier keeps failing, report the code and BizId to Alibaba "
        "Cloud support.",
        UNDELIVERED,
    ),
    "IB:": Explanation(
        "Delivery failed between carrier gateways",
        "IB codes come from the inter-carrier gateway (routing or congestion).",
        "send again later; report the code and BizId to support if it persists.",
        UNDELIVERED,
    ),
    "DB:": Explanation(
        "The carrier's subscriber database refused the number",
        "DB codes come from the carrier's subscriber database: the number is unknown, "
        "suspended, cancelled, or on the carrier's blacklist.",
        "check the number; test another one; the recipient may need to ask their carrier.",
        UNDELIVERED,
    ),
    "ID:": Explanation(
        "The carrier's gateway refused the message",
        "ID codes come from the carrier's SMS gateway: content or signature filtering, "
        "throttling of the sender, or the number on a gateway blacklist.",
        "check the signature's carrier registration (`smsctl signature sync NAME`) and the "
        "rendered text (`smsctl template render CODE`); test another number.",
        UNDELIVERED,
    ),
    "SP:": Explanation(
        "The SMS service provider's gateway refused the message",
        "A gateway before the carrier refused it (content, signature registration, blacklist).",
        "check the signature (`smsctl signature sync NAME`) and the rendered text.",
        UNDELIVERED,
    ),
    "HD:": Explanation(
        "The handset refused the message",
        "The phone rejected it (storage full, SMS blocked, or a non-SMS-capable device).",
        "ask the recipient to free storage or unblock SMS; test another number.",
        UNDELIVERED,
    ),
}

_GENERIC_FAILURE = Explanation(
    "The carrier reported that the message was not delivered",
    "A carrier-specific failure; the code is shown verbatim.",
    "send again later or test another number; quote the code and BizId to Alibaba Cloud "
    "support if it persists.",
    UNDELIVERED,
)


def explain_receipt(err_code: str | None) -> Explanation | None:
    """The meaning of a QuerySendDetails ErrCode; None while there is no code yet."""
    if not err_code:
        return None
    if err_code in RECEIPTS:
        return RECEIPTS[err_code]
    for prefix, entry in FAMILIES.items():
        if err_code.upper().startswith(prefix):
            return entry
    from smsctl.core.catalog import explain

    return explain("alibaba", err_code) or _GENERIC_FAILURE


ANSWERED_STATES = frozenset({"200000", "200001"})


def explain_call_state(state: str | None) -> Explanation | None:
    """The meaning of a voice call state; unknown states are final failures kept verbatim."""
    if not state:
        return None
    return CALL_STATES.get(
        state,
        Explanation(
            f"The call ended in state {state}",
            "A state smsctl does not know; the provider's description is shown with it.",
            "check the state description; quote the CallId to Alibaba Cloud support if unclear.",
            UNDELIVERED,
        ),
    )


def call_answered(state: str | None) -> bool:
    return state in ANSWERED_STATES
