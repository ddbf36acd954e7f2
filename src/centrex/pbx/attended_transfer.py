"""Attended transfer (RFC 5589 §7, RFC 3891 Replaces): the transferor B, talking to S1 in one call
and to S2 in another, REFERs S1 to S2 with Replaces; S2 is re-INVITEd onto the relay side B used
in the first call, then B is released from both calls and the other call ends."""

from __future__ import annotations

import contextlib
import logging
import uuid
from dataclasses import dataclass

from centrex.calls.codecs import first_g711_pt
from centrex.calls.directory import UserInfo
from centrex.calls.in_dialog import ALLOW
from centrex.calls.model import BLeg, Call, CallState, LegState, Side, Transfer
from centrex.calls.services import CallService
from centrex.pbx.refer import notify_refer, refer_target, replaces_of
from centrex.sip.dialog import Dialog
from centrex.sip.errors import SipParseError
from centrex.sip.events import Address, TransactionKey
from centrex.sip.message import REASON_PHRASES, Request, Response
from centrex.sip.sdp import PCMA, PCMU, TELEPHONE_EVENT, build_offer, parse_sdp

log = logging.getLogger(__name__)


@dataclass(eq=False)
class AttendedTransfer:
    call: Call
    other: Call
    b_side: str  # "caller" or "callee": B's place in ``call``
    b_dialog: Dialog
    b_transport: str
    b_addr: Address
    b_in_other: Side
    s2: Side
    event_id: int
    reinvite: Request


def sides(call: Call) -> list[tuple[str, Side]]:
    out: list[tuple[str, Side]] = []
    if call.a_dialog is not None:
        out.append(("caller", Side(call.a_dialog, call.a_transport, call.a_addr, None)))
    leg = call.answered
    if leg is not None and leg.dialog is not None:
        out.append(("callee", Side(leg.dialog, leg.transport, leg.addr, leg)))
    return out


class AttendedTransfers(CallService):
    name = "attended_transfer"

    def __init__(self) -> None:
        self._reoffers: dict[TransactionKey, AttendedTransfer] = {}

    def refer(self, call: Call, req: Request, side: str, dialog: Dialog, transport: str, now: float) -> bool:
        found_target = refer_target(req)
        replaces = replaces_of(found_target[0]) if found_target is not None else None
        if replaces is None:
            return False
        core = self.core
        call_id, tag1, tag2 = replaces
        found: tuple[Call, Side, Side] | None = None
        for other in core.calls.values():
            if other is call or other.tenant.id != call.tenant.id or other.state is not CallState.ANSWERED:
                continue
            both = sides(other)
            for i, (_, b) in enumerate(both):
                same = b.dialog.call_id == call_id and {b.dialog.local_tag, b.dialog.remote_tag} == {
                    tag1,
                    tag2,
                }
                if same and len(both) == 2:
                    found = (other, b, both[1 - i][1])
        if found is None:
            core.reply(transport, req, 481, "Call/Transaction Does Not Exist (Replaces)")
            return True
        if call.anchor is None or call.xfer is not None:
            core.reply(transport, req, 501 if call.anchor is None else 491)
            return True
        other, b_other, s2 = found
        # S2 is offered the relay side B used in this call, on the codec S1 talks.
        address, port = call.anchor[1] if side == "callee" else call.anchor[0]
        pt = call.a_codec if call.a_codec is not None else first_g711_pt(call.a_invite.body)
        codec = PCMA if pt == 8 else PCMU
        offer = build_offer(address, port, (codec, TELEPHONE_EVENT), session_id=call.id.hex[:8])
        reinvite = s2.dialog.create_request(
            "INVITE",
            body=str(offer).encode(),
            content_type="application/sdp",
            extra=[("Contact", core.network.contact(s2.transport)), ("Allow", ALLOW)],
        )
        addr = call.a_addr if side == "caller" else (call.answered.addr if call.answered else call.a_addr)
        att = AttendedTransfer(
            call, other, side, dialog, transport, addr, b_other, s2, req.cseq.seq, reinvite
        )
        core.reply(transport, req, 202, "Accepted", to_tag=dialog.local_tag)
        key = core.send(s2.transport, reinvite, s2.addr)
        self._reoffers[key] = att
        log.info("sip.call.attended_transfer call=%s with=%s", call.id, other.id)
        return True

    def response(self, key: TransactionKey, resp: Response, now: float) -> bool:
        if key not in self._reoffers:
            return False
        if resp.is_final:
            self._answered(self._reoffers.pop(key), resp, now)
        return True

    def _answered(self, att: AttendedTransfer, resp: Response, now: float) -> None:
        core = self.core
        fragment = f"SIP/2.0 {resp.status} {resp.reason or REASON_PHRASES.get(resp.status, '')}"
        notice = Transfer(
            att.b_side,
            att.b_dialog,
            att.b_transport,
            att.b_addr,
            att.event_id,
            UserInfo(uuid.uuid4(), att.call.tenant.id, "", ""),
        )
        if resp.status >= 300:
            notify_refer(core, notice, fragment, final=True)
            return
        att.s2.dialog.receive_response(resp)
        core.send(att.s2.transport, att.s2.dialog.create_ack(att.reinvite.cseq.seq), att.s2.addr)
        call, other = att.call, att.other
        if resp.body and call.anchor is not None:
            with contextlib.suppress(SipParseError, ValueError):
                core.media_path.learn(call, "b" if att.b_side == "callee" else "a", parse_sdp(resp.body))
        notify_refer(core, notice, fragment, final=True)
        # Release B from both calls.
        core.send(att.b_transport, att.b_dialog.create_request("BYE"), att.b_addr)
        core.send(att.b_in_other.transport, att.b_in_other.dialog.create_request("BYE"), att.b_in_other.addr)
        s2 = att.s2
        # Take S2 out of the other call without hanging it up.
        if s2.leg is not None:
            other.all_legs = [leg for leg in other.all_legs if leg is not s2.leg]
            if other.answered is s2.leg:
                other.answered = None
            leg = s2.leg
            leg.call = call
        else:
            core.forget_caller_dialog(other)
            leg = BLeg(call, other.caller, None, other.a_invite, other.a_key, core.wall())
            leg.peer = (s2.transport, s2.addr)
            leg.dialog = s2.dialog
            leg.state, leg.status, leg.answered_at = LegState.ANSWERED, 200, core.wall()
            other.a_dialog = None
        # Put S2 in B's place in this call.
        if att.b_side == "callee":
            old = call.answered
            if old is not None:
                old.state, old.ended_at = LegState.ENDED, core.wall()
                core.forget_leg(old)
            call.answered = leg
            core.adopt_leg(call, leg)
            if leg.user is not None:
                call.target = leg.user
        else:
            core.move_caller(call, s2.dialog, s2.transport, s2.addr)
        core.end(other, now, "answered", "attended_transfer", 200)
        core.journal_dialogs(call)
        log.info("sip.call.transferred call=%s (attended) ended=%s", call.id, other.id)
