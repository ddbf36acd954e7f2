"""RFC 3311 UPDATE, sans-I/O: building one, and what a UAS answers when offers cross.

UPDATE changes the session (or only refreshes its timer, RFC 4028) without touching the
dialog's remote target, in early or confirmed dialogs. The one rule with teeth is §5.2: at
most one offer in flight per direction; a UAS that receives an offer while one of its own is
unanswered, or while an INVITE offer/answer is incomplete, refuses it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from centrex.sip.dialog import Dialog
from centrex.sip.headers import split_list
from centrex.sip.message import Request, Response


def allows(message: Request | Response, method: str) -> bool:
    """Whether the peer listed ``method`` in Allow (no Allow tells nothing: False)."""
    return method.upper() in {m.upper() for v in message.headers.get_all("Allow") for m in split_list(v)}


def build_update(
    dialog: Dialog,
    sdp: bytes = b"",
    *,
    extra: list[tuple[str, str]] | None = None,
) -> Request:
    """An UPDATE in ``dialog``: with an SDP offer, or with none (a session-timer refresh)."""
    return dialog.create_request(
        "UPDATE", body=sdp, content_type="application/sdp" if sdp else None, extra=extra
    )


@dataclass(frozen=True, slots=True)
class OfferState:
    """Offer/answer state of one dialog as its UAS sees it."""

    our_offer_pending: bool = False  # we sent an offer (UPDATE or re-INVITE) with no answer yet
    invite_incomplete: bool = False  # an INVITE transaction's offer/answer is not finished


def refuse_update(state: OfferState, has_offer: bool) -> tuple[int, list[tuple[str, str]]] | None:
    """§5.2: the refusal for an incoming UPDATE, or None to process it.

    Crossing offers (ours pending): 491, and the UAC retries after a random wait. An offer
    while an INVITE's offer/answer is unfinished: 500 with Retry-After 0-10 s. An UPDATE
    without an offer (a timer refresh) is always processed.
    """
    if not has_offer:
        return None
    if state.our_offer_pending:
        return 491, []
    if state.invite_incomplete:
        return 500, [("Retry-After", str(random.randint(0, 10)))]
    return None
