"""Paging and intercom (issue 17 §3): phones that answer by themselves.

**Paging.** A paging group's extension rings every member's registered phones at once with the
auto-answer headers below; each phone that answers hears the pager, nobody is heard back (one-way:
the members are offered ``a=sendonly``). The pager is answered at once on the call's relay (a
side) on one G.711 codec, as Asterisk's Page() does, and every member's phone gets that codec
only. What the pager says reaches the relay's a side and goes out of its b side to every member
that answered (``RtpRelay.fan_out``: one talker, many listeners — the relay's own forwarding path,
no decoding, no mixer). Members on a call, on DND or unregistered are skipped; a phone that does
not answer within ``answer_s`` (one that ignores auto-answer rings like any call) is cancelled; one
that answers busy or refuses is left out. A member hanging up leaves the page; the page ends when
the pager hangs up (BYE to every member). 911 never reaches this: it is routed before any
extension or feature code (calls/origination.py).

**Intercom.** The ``intercom`` feature code (default ``*90``, calls/features.py) + an extension
rings that user's phones with the same headers, two-way, as an ordinary call of the core (the
first phone to answer wins, the others are cancelled); no forwarding, no voicemail.

**The headers** (docs/switch.md "Paging and intercom" names who honours which).
``Call-Info: <sip:DOMAIN>;answer-after=0`` (Snom, Gigaset, Grandstream, Cisco SPA/MPP, baresip)
and ``Alert-Info: <http://127.0.0.1>;info=alert-autoanswer;delay=0`` (Yealink's documented
``info=alert-autoanswer``, Polycom's alertInfo class of that value as FreePBX sends it, Aastra's
``delay=0``); the URI keeps the Alert-Info RFC 3261-valid, as a bare ``info=…`` is not.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from centrex.calls.directory import UserInfo
from centrex.calls.features import Match
from centrex.calls.model import BLeg, Call, CallState, LegState
from centrex.calls.services import CallService, Destination
from centrex.sip.dialog import Dialog
from centrex.sip.errors import SipParseError
from centrex.sip.events import RequestReceived
from centrex.sip.message import Request, Response, make_response
from centrex.sip.sdp import parse_sdp

log = logging.getLogger(__name__)

ANSWER_S = 8.0  # a member's phone that has not answered by then is not auto-answering: cancelled
ALERT_INFO = "<http://127.0.0.1>;info=alert-autoanswer;delay=0"


def auto_answer_headers(domain: str) -> tuple[tuple[str, str], ...]:
    """The headers on every paging and intercom INVITE (see the module's docstring)."""
    return (("Call-Info", f"<sip:{domain}>;answer-after=0"), ("Alert-Info", ALERT_INFO))


@dataclass(frozen=True, slots=True)
class PagingGroupInfo:
    """A paging group as the switch pages it (store: pbx/paging_store.py)."""

    id: uuid.UUID
    tenant_id: uuid.UUID
    name: str
    extension: str
    member_ids: tuple[uuid.UUID, ...]


GroupLookup = Callable[[uuid.UUID, str], "PagingGroupInfo | None"]


@runtime_checkable
class FanOut(Protocol):
    """The anchor's fan-out (calls/media.py RelayAnchor, calls/hybrid_anchor.py HybridAnchor)."""

    def can_fan_out(self, call_id: str) -> bool: ...

    def fan_out(self, call_id: str, leg: str, addresses: list[tuple[str, int]]) -> None: ...


@dataclass
class _Page:
    group: PagingGroupInfo
    listeners: dict[str, tuple[str, int]]  # member leg Call-ID -> its SDP address


class Paging(CallService):
    name = "paging"

    def __init__(self, groups: GroupLookup | None = None, answer_s: float = ANSWER_S) -> None:
        self.groups = groups
        self.answer_s = answer_s
        self._pages: dict[uuid.UUID, _Page] = {}  # call id -> its page
        self._members: dict[str, BLeg] = {}  # member leg Call-ID -> leg (their BYEs)

    # -- where a call goes ---------------------------------------------------------------------
    def resolve(self, tenant_id: uuid.UUID, extension: str) -> Destination | None:
        group = self.groups(tenant_id, extension) if self.groups is not None else None
        return Destination("paging", group) if group is not None else None

    def deliver(self, call: Call, destination: Destination, now: float) -> bool:
        if destination.kind != "paging" or not isinstance(destination.value, PagingGroupInfo):
            return False
        self.page(call, destination.value, now)
        return True

    def feature(self, call: Call, hit: Match, now: float) -> bool:
        if hit.feature != "intercom":
            return False
        self.intercom(call, hit.argument, now)
        return True

    def available(self, user: UserInfo) -> bool:
        return not user.do_not_disturb and not self.core.activity.busy(user.id)

    # -- intercom ------------------------------------------------------------------------------
    def intercom(self, call: Call, extension: str, now: float) -> None:
        core = self.core
        user = core.directory.user_by_extension(call.tenant.id, extension)
        if user is None:
            core.reject(call, 404, now, "failed", "intercom_not_found")
            return
        bindings = core.location.of_user(user.id, now)
        if not self.available(user):
            core.reject(call, 486, now, "busy", "intercom_busy")
            return
        if not bindings:
            core.reject(call, 480, now, "failed", "intercom_unavailable")
            return
        call.target = user
        call.extra_headers = call.extra_headers + auto_answer_headers(call.tenant.domain)
        call.state = CallState.RINGING
        core.arm(call, "ring", now + core.max_ring_s)
        for binding in bindings:
            core.start_leg(call, user, binding)
        log.info("sip.intercom call=%s to=%s phones=%d", call.id, extension, len(bindings))

    # -- paging --------------------------------------------------------------------------------
    def page(self, call: Call, group: PagingGroupInfo, now: float) -> None:
        core = self.core
        if call.direct:
            core.media_path.reanchor(call)
        media = core.media
        if call.anchor is None or not isinstance(media, FanOut) or not media.can_fan_out(str(call.id)):
            core.reject(
                call, 503, now, "failed", "paging_no_relay", "Service Unavailable (paging needs the relay)"
            )
            return
        caller_id = call.caller.id if call.caller is not None else None
        members = [core.directory.user(i) for i in group.member_ids if i != caller_id]
        phones = [
            (u, b)
            for u in members
            if u is not None and u.tenant_id == call.tenant.id and self.available(u)
            for b in core.location.of_user(u.id, now)
        ]
        if not phones:
            core.reject(call, 480, now, "failed", "paging_nobody")
            return
        if core.answer_locally(call, now) is None:
            return  # no G.711 in the pager's offer: 488 sent
        call.state = CallState.ANSWERED
        core.answered_event(call, f"page:{group.extension}")
        self._pages[call.id] = _Page(group, {})
        if call.b_offer is not None:
            with contextlib.suppress(SipParseError, ValueError):
                sd = parse_sdp(call.b_offer)
                for m in sd.media:
                    m.set_direction("sendonly")  # one-way: members listen
                call.b_offer = str(sd).encode()
        call.extra_headers = call.extra_headers + auto_answer_headers(call.tenant.domain)
        call.legs = []
        for user, binding in phones:
            leg = core.start_leg(call, user, binding, name_prefix="Page: ")
            leg.owner = self
            self._members[leg.invite.call_id] = leg
        core.arm(call, "page_answer", now + self.answer_s)
        log.info("sip.page.start call=%s group=%s phones=%d", call.id, group.extension, len(phones))

    def leg_response(self, leg: BLeg, resp: Response, now: float) -> bool:
        core, call = self.core, leg.call
        page = self._pages.get(call.id)
        if resp.status < 200:
            if leg.state is LegState.CALLING and resp.status > 100:
                leg.state = LegState.RINGING
            return True
        if resp.status >= 300:
            leg.status, leg.ended_at = resp.status, core.wall()
            if leg.state is not LegState.CANCELLING:
                leg.state = LegState.ENDED
            self._drop(leg, now)
            log.info("sip.page.skipped call=%s member=%s status=%d", call.id, leg.label, resp.status)
            return True
        if leg.dialog is not None:  # a retransmitted 2xx: ACK it again
            core.send(leg.transport, leg.dialog.create_ack(leg.invite.cseq.seq), leg.addr)
            return True
        leg.dialog = Dialog.from_uac(leg.invite, resp)
        core.send(leg.transport, leg.dialog.create_ack(leg.invite.cseq.seq), leg.addr)
        address = _sdp_address(resp.body)
        if (
            page is None
            or leg.state is LegState.CANCELLING
            or call.state is CallState.ENDED
            or address is None
        ):
            core.send(leg.transport, leg.dialog.create_request("BYE"), leg.addr)  # too late, or no media
            leg.state, leg.ended_at = LegState.ENDED, core.wall()
            self._drop(leg, now)
            return True
        leg.state, leg.status, leg.answered_at = LegState.ANSWERED, resp.status, core.wall()
        if leg.user is not None:
            core.activity.answered(leg.user.id)
        page.listeners[leg.invite.call_id] = address
        self._fan_out(call, page)
        log.info("sip.page.joined call=%s member=%s", call.id, leg.label)
        return True

    def leg_failed(self, leg: BLeg, status: int, now: float) -> bool:
        if leg.invite.call_id not in self._members:
            return False
        leg.status, leg.ended_at = status, self.core.wall()
        leg.state = LegState.ENDED
        self._drop(leg, now)
        return True

    def timer(self, call: Call, name: str, now: float) -> bool:
        if name != "page_answer":
            return False
        page = self._pages.get(call.id)
        if page is not None:
            for leg in list(call.legs):
                if leg.state in (LegState.CALLING, LegState.RINGING):
                    self.core.cancel_leg(leg)  # not auto-answering: skipped
            if not page.listeners:
                log.info("sip.page.nobody call=%s", call.id)
                self.core.hang_up(call, now, "paging_nobody", 480)
        return True

    def request(self, event: RequestReceived, transport: str, now: float) -> bool:
        """A member's phone hangs up (BYE in its dialog): it leaves the page, which goes on."""
        req = event.request
        if req.method == "BYE" and self._pages:
            call = self.core.by_a_dialog.get((req.call_id, req.from_.tag or ""))
            if call is not None and call.id in self._pages and call.a_dialog is not None:
                return self._pager_bye(call, req, transport, now)
        leg = self._members.get(req.call_id)
        if leg is None or not req.to.tag:
            return False
        if leg.dialog is None or not leg.dialog.matches(req) or not leg.dialog.receive_request(req):
            self.core.reply(transport, req, 481)
            return True
        if req.method != "BYE":
            # A listener has nothing to change: re-INVITEs are refused, the rest acknowledged.
            self.core.reply(transport, req, 488 if req.method == "INVITE" else 200)
            return True
        self.core.network.send_response(transport, make_response(req, 200))
        leg.state, leg.ended_at = LegState.ENDED, self.core.wall()
        self._drop(leg, now)
        call = leg.call
        page = self._pages.get(call.id)
        if page is not None and page.listeners.pop(req.call_id, None) is not None:
            self._fan_out(call, page)
        log.info("sip.page.left call=%s member=%s", call.id, leg.label)
        return True

    def _pager_bye(self, call: Call, req: Request, transport: str, now: float) -> bool:
        """The pager hangs up: the page ends (``ended`` hangs up the members)."""
        assert call.a_dialog is not None
        if req.to.tag != call.a_tag or not call.a_dialog.receive_request(req):
            return False  # not this dialog's, or out of order: the core answers it
        self.core.network.send_response(transport, make_response(req, 200))
        self.core.end(call, now, "answered", "caller_bye", 200)
        return True

    def ended(self, call: Call, now: float) -> None:
        """The pager hung up (or the switch ended the page): every member's phone is hung up."""
        page = self._pages.pop(call.id, None)
        if page is None:
            return
        core = self.core
        for leg in call.all_legs:
            if leg.invite.call_id not in self._members:
                continue
            if leg.state is LegState.ANSWERED and leg.dialog is not None:
                core.send(leg.transport, leg.dialog.create_request("BYE"), leg.addr)
                leg.state, leg.ended_at = LegState.ENDED, core.wall()
            elif leg.state in (LegState.CALLING, LegState.RINGING):
                core.cancel_leg(leg)
                continue  # its 487 still comes back through leg_response
            self._drop(leg, now)
        log.info("sip.page.end call=%s group=%s", call.id, page.group.extension)

    # -- helpers -------------------------------------------------------------------------------
    def _drop(self, leg: BLeg, now: float) -> None:
        if leg.state is LegState.ENDED and leg.answered_at is not None and leg.user is not None:
            self.core.activity.off_call(leg.user.id, now)
        self._members.pop(leg.invite.call_id, None)
        self.core.forget_leg(leg)
        if leg in leg.call.legs:
            leg.call.legs.remove(leg)

    def _fan_out(self, call: Call, page: _Page) -> None:
        media = self.core.media
        if isinstance(media, FanOut):
            media.fan_out(str(call.id), "b", list(page.listeners.values()))

    def active(self) -> dict[uuid.UUID, int]:
        """Pages in progress: call id -> phones listening (for tests and the portal)."""
        return {cid: len(p.listeners) for cid, p in self._pages.items()}


def _sdp_address(body: bytes) -> tuple[str, int] | None:
    """Where a member's phone receives audio, from its SDP answer."""
    try:
        sd = parse_sdp(body)
    except (SipParseError, ValueError):
        return None
    audio = next((m for m in sd.media if m.media == "audio" and m.port), None)
    conn = (audio.connection if audio else None) or sd.connection
    if audio is None or conn is None or conn.is_null:
        return None
    return conn.address, audio.port
