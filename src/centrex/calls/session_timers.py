"""RFC 4028 session timers on both sides of every call, so a call whose party vanished ends.

The switch is a B2BUA: each side (the caller's dialog ``a``, the answering leg's ``b``) has its
own session timer, negotiated with the pure functions of sip/session_timer.py:
- toward the caller as UAS: the INVITE's Session-Expires below our Min-SE is refused with 422;
  our 200 carries the interval and the refresher (``uas_negotiate``);
- toward the callee as UAC: every B-leg INVITE offers ``Supported: timer``, Session-Expires and
  Min-SE; a 422 is retried once with the callee's Min-SE; its 2xx settles that side's timer.
A side that does not support timers (no ``Supported: timer`` and no Session-Expires) gets none.
Per side, whoever refreshes: when it is us, at half the interval we send UPDATE (when the peer
allows it; else a re-INVITE with the SDP it already has) and a refresh that fails (no answer,
481, 408) ends the call; when it is the phone, a session it did not refresh in time is over.
Either way the switch sends BYE to both sides and the CDR's cause says which: ``session_expired``
or ``session_refresh_failed`` (issue 13 §3). A re-INVITE or UPDATE relayed through the call
refreshes both sides; a body-less UPDATE (a pure refresh) is answered here and goes no further.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from centrex.calls.model import BLeg, Call, CallState
from centrex.sip.dialog import Dialog
from centrex.sip.errors import SipParseError
from centrex.sip.events import Address, TransactionKey
from centrex.sip.message import Request, Response, make_response
from centrex.sip.session_timer import (
    TIMER,
    SessionTimer,
    TimerPolicy,
    UasDecision,
    refresh_headers,
    supports_timer,
    uac_after_422,
    uac_negotiated,
    uac_request_headers,
    uas_negotiate,
)
from centrex.sip.update import allows

if TYPE_CHECKING:
    from centrex.calls.engine import CallEngine

log = logging.getLogger(__name__)

TIMER_NAMES = {"a": "session_a", "b": "session_b"}


@dataclass
class _Side:
    timer: SessionTimer | None = None
    refreshed: float = 0.0
    update_ok: bool = False  # the peer listed UPDATE in Allow
    sdp: bytes = b""  # what it has from us (a re-INVITE refresh offers it again)


@dataclass
class _Calls:
    sides: dict[str, _Side] = field(default_factory=lambda: {"a": _Side(), "b": _Side()})
    offer_headers: tuple[tuple[str, str], ...] = ()  # for our 200 to the caller


class SessionTimers:
    def __init__(self, core: CallEngine, policy: TimerPolicy | None = None) -> None:
        self.core = core
        self.policy = policy or TimerPolicy()
        self._calls: dict[uuid.UUID, _Calls] = {}
        self._refreshes: dict[TransactionKey, tuple[uuid.UUID, str, Request]] = {}

    # -- the caller's INVITE (UAS) --------------------------------------------------------------
    def check_invite(self, req: Request, transport: str) -> bool:
        """False when the INVITE was answered here: 422 for too short a session, 400 for a broken
        Session-Expires or Min-SE."""
        if req.headers.get("Session-Expires") is None:
            return True  # nothing to refuse (most phones): no negotiation on the hot path
        return self._negotiate(req, transport) is not None

    def _negotiate(self, req: Request, transport: str) -> UasDecision | None:
        """§9 for a request we answer: None when it was refused here (422, or 400 for a broken
        Session-Expires or Min-SE)."""
        try:
            decision = uas_negotiate(req, self.policy)
        except SipParseError as exc:
            self.core.reply(transport, req, 400, f"Bad Request ({exc.reason[:60]})")
            return None
        if decision.reject is not None:
            self.core.network.send_response(transport, decision.reject)
            return None
        return decision

    def started(self, call: Call) -> None:
        state = self._calls[call.id] = _Calls()
        if not supports_timer(call.a_invite) and call.a_invite.headers.get("Session-Expires") is None:
            # A phone that knows nothing of session timers is not sent refreshes it never asked
            # for (RFC 4028 lets us; many phones answer a surprise re-INVITE badly): its call
            # ends by BYE, by the relay's no-media timeout, or by the tenant's longest call.
            return
        try:
            decision = uas_negotiate(call.a_invite, self.policy)
        except SipParseError:
            return
        state.offer_headers = decision.headers
        state.sides["a"].timer = decision.timer
        state.sides["a"].update_ok = allows(call.a_invite, "UPDATE")

    def answer_headers(self, call: Call) -> list[tuple[str, str]]:
        state = self._calls.get(call.id)
        return [("Supported", TIMER), *(state.offer_headers if state else ())]

    def caller_answered(self, call: Call, sdp: bytes, now: float) -> None:
        """Our 200 went to the caller: its side's session starts now."""
        state = self._calls.get(call.id)
        if state is not None:
            side = state.sides["a"]
            side.sdp = sdp
            self._arm(call, "a", side, now)

    # -- the callee (UAC) -----------------------------------------------------------------------
    def leg_headers(self) -> list[tuple[str, str]]:
        return uac_request_headers(self.policy)

    def retry_422(self, leg: BLeg, resp: Response) -> Request | None:
        """The INVITE again with the callee's Min-SE (§7.4), once; None: give up on this leg."""
        value = leg.invite.headers.get("Session-Expires") or ""
        asked = (
            int(value.split(";")[0]) if value.split(";")[0].strip().isdigit() else self.policy.session_expires
        )
        interval = uac_after_422(resp, self.policy, asked)
        if interval is None or leg.auth_tried:
            return None
        invite = leg.invite.copy()
        invite.headers.remove("Via")
        invite.headers.set("CSeq", f"{leg.invite.cseq.seq + 1} INVITE")
        invite.headers.set("Session-Expires", str(interval))
        invite.headers.set("Min-SE", str(interval))
        leg.auth_tried = True  # one retry, like a challenge
        return invite

    def callee_answered(self, call: Call, leg: BLeg, resp: Response, now: float) -> None:
        state = self._calls.get(call.id)
        if state is None:
            return
        side = state.sides["b"]
        try:
            side.timer = uac_negotiated(resp)
        except SipParseError:
            side.timer = None
        side.update_ok = allows(resp, "UPDATE")
        side.sdp = leg.invite.body
        self._arm(call, "b", side, now)

    # -- during the call ------------------------------------------------------------------------
    def refreshed(self, call: Call, now: float, sides: tuple[str, ...] = ("a", "b")) -> None:
        """A re-INVITE or UPDATE through the call succeeded: both sides' sessions go on."""
        state = self._calls.get(call.id)
        if state is None:
            return
        for name in sides:
            side = state.sides[name]
            if side.timer is not None:
                self._arm(call, name, side, now)

    def local_update(self, call: Call, side: str, req: Request, transport: str, now: float) -> bool:
        """A body-less UPDATE is a pure refresh of that side's session (RFC 3311 + 4028 §9):
        answered here with the negotiated timer, nothing relayed. False: it carries an offer."""
        if req.method != "UPDATE" or req.body:
            return False
        decision = self._negotiate(req, transport)
        if decision is None:
            return True
        state = self._calls.get(call.id)
        if state is not None and decision.timer is not None:
            state.sides[side].timer = decision.timer
            self._arm(call, side, state.sides[side], now)
        self.core.network.send_response(transport, make_response(req, 200, extra=list(decision.headers)))
        return True

    def relayed_2xx_headers(self, request: Request) -> list[tuple[str, str]]:
        """What our 2xx to a relayed re-INVITE/UPDATE carries for the side that sent it."""
        if request.headers.get("Session-Expires") is None:
            return []
        try:
            decision = uas_negotiate(request, self.policy)
        except SipParseError:
            return []
        return list(decision.headers)

    def _arm(self, call: Call, name: str, side: _Side, now: float) -> None:
        side.refreshed = now
        if side.timer is not None:
            self.core.arm(call, TIMER_NAMES[name], side.timer.next_deadline(now))

    def timer(self, call: Call, name: str, now: float) -> bool:
        which = next((k for k, v in TIMER_NAMES.items() if v == name), None)
        if which is None:
            return False
        state = self._calls.get(call.id)
        side = state.sides[which] if state else None
        if side is None or side.timer is None or call.state is not CallState.ANSWERED:
            return True
        if not side.timer.we_refresh:
            log.warning(
                "sip.session.expired call=%s side=%s interval=%d", call.id, which, side.timer.interval
            )
            self.core.hang_up(call, now, "session_expired", 408)
            return True
        self._send_refresh(call, which, side, now)
        return True

    def _send_refresh(self, call: Call, which: str, side: _Side, now: float) -> None:
        assert side.timer is not None
        where = self._where(call, which)
        if where is None:
            return
        dialog, transport, addr = where
        extra = refresh_headers(side.timer, self.policy, "uac")
        if side.update_ok:
            request = dialog.create_request("UPDATE", extra=extra)
        else:
            request = dialog.create_request(
                "INVITE", body=side.sdp, content_type="application/sdp", extra=extra
            )
        key = self.core.send(transport, request, addr)
        self._refreshes[key] = (call.id, which, request)
        # No answer by the time the session would end: the refresh failed (the transaction's own
        # time-out reports it sooner on UDP).
        self.core.arm(call, TIMER_NAMES[which], side.timer.expires_at(side.refreshed))
        side.timer = SessionTimer(side.timer.interval, side.timer.refresher, we_refresh=False)

    def _where(self, call: Call, which: str) -> tuple[Dialog, str, Address] | None:
        if which == "a":
            return (call.a_dialog, call.a_transport, call.a_addr) if call.a_dialog is not None else None
        leg = call.answered
        if leg is None or leg.dialog is None:
            return None
        return leg.dialog, leg.transport, leg.addr

    def response(self, key: TransactionKey, resp: Response, now: float) -> bool:
        """The answer to one of our refreshes."""
        pending = self._refreshes.get(key)
        if pending is None:
            return False
        if not resp.is_final:
            return True
        del self._refreshes[key]
        call_id, which, request = pending
        call = self.core.calls.get(call_id)
        state = self._calls.get(call_id)
        if call is None or state is None:
            return True
        where = self._where(call, which)
        if 200 <= resp.status < 300:
            if where is not None:
                dialog = where[0]
                dialog.receive_response(resp)
                if request.method == "INVITE":
                    self.core.send(where[1], dialog.create_ack(request.cseq.seq), where[2])
            side = state.sides[which]
            try:
                timer = uac_negotiated(resp)
            except SipParseError:
                timer = None
            if timer is not None:
                side.timer = timer
            elif side.timer is not None:
                side.timer = SessionTimer(side.timer.interval, "uac", we_refresh=True)
            self._arm(call, which, side, now)
            return True
        if resp.status == 491:
            return True  # crossing offers: the expiry deadline armed still stands
        log.warning("sip.session.refresh_failed call=%s side=%s status=%d", call.id, which, resp.status)
        self.core.hang_up(call, now, "session_refresh_failed", 408 if resp.status < 400 else resp.status)
        return True

    def timed_out(self, key: TransactionKey, now: float) -> bool:
        pending = self._refreshes.pop(key, None)
        if pending is None:
            return False
        call = self.core.calls.get(pending[0])
        if call is not None:
            log.warning("sip.session.refresh_failed call=%s side=%s (no answer)", call.id, pending[1])
            self.core.hang_up(call, now, "session_refresh_failed", 408)
        return True

    def forget(self, call: Call) -> None:
        self._calls.pop(call.id, None)
