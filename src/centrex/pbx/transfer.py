"""Blind transfer (RFC 3515 REFER, RFC 5589 §6; issue #4 point 6): the referrer's side is replaced
by the target once it answers; the other side stays on the relay and never notices. Progress goes
to the referrer as sipfrag NOTIFYs; a referrer that hung up after 202 (phones often do) is not
needed for the transfer to go on."""

from __future__ import annotations

import contextlib
import logging

from centrex.calls.dialling import loose_e164
from centrex.calls.directory import UserInfo
from centrex.calls.model import BLeg, Call, LegState, Transfer
from centrex.calls.services import CallService
from centrex.pbx.refer import notify_refer, refer_target
from centrex.sip.dialog import Dialog
from centrex.sip.errors import SipParseError
from centrex.sip.headers import quote
from centrex.sip.message import REASON_PHRASES, Request, Response, new_tag
from centrex.sip.sdp import parse_sdp, rewrite_connection

log = logging.getLogger(__name__)


class BlindTransfer(CallService):
    name = "transfer"

    def refer(self, call: Call, req: Request, side: str, dialog: Dialog, transport: str, now: float) -> bool:
        core = self.core
        found = refer_target(req)
        if found is None:
            core.reply(transport, req, 400, "Bad Request (no Refer-To)")
            return True
        wanted = found[1]
        target: UserInfo | None = core.directory.user_by_extension(call.tenant.id, wanted) if wanted else None
        if target is None and wanted:
            e164 = loose_e164(wanted)
            target = core.directory.user_by_number(call.tenant.id, e164) if e164 else None
        if call.anchor is None or call.xfer is not None:
            # Without the relay the staying side would need a re-offer; one transfer at a time.
            core.reply(transport, req, 501 if call.anchor is None else 491)
            return True
        if target is None:
            core.reply(transport, req, 404, "Not Found (transfer target)")
            return True
        addr = call.a_addr if side == "caller" else (call.answered.addr if call.answered else call.a_addr)
        xfer = Transfer(side, dialog, transport, addr, req.cseq.seq, target)
        core.reply(transport, req, 202, "Accepted", to_tag=dialog.local_tag)
        notify_refer(core, xfer, "SIP/2.0 100 Trying", final=False)
        bindings = core.location.of_user(target.id, now) if not target.do_not_disturb else []
        if not bindings:
            notify_refer(core, xfer, "SIP/2.0 480 Temporarily Unavailable", final=True)
            return True
        call.xfer = xfer
        log.info("sip.call.transfer call=%s by=%s to=%s", call.id, side, target.extension)
        # The target is offered the relay side the referrer used, so the staying side's media path
        # is untouched: the relay re-latches to the target.
        relay_side = call.anchor[0] if side == "caller" else call.anchor[1]
        offer = call.b_offer if side == "callee" else None
        if offer is None:
            try:
                offer = str(rewrite_connection(parse_sdp(call.a_invite.body), *relay_side)).encode()
            except (SipParseError, ValueError):
                offer = call.a_invite.body
        saved = call.legs
        call.legs = []
        for binding in bindings:
            headers = core.leg_headers(call, f"<sip:{target.extension}@{call.tenant.domain}>")
            name, number = core.caller_id(call)
            headers.add("From", f"{quote(name)} <sip:{number}@{call.tenant.domain}>;tag={new_tag()}")
            keep_body = call.extra_body
            call.extra_body = ("application/sdp", offer)
            leg = core.launch(
                call,
                binding.contact,
                headers,
                binding.transport,
                binding.source,
                target,
                binding,
                None,
                owner=self,
            )
            call.extra_body = keep_body
            xfer.legs.append(leg)
        call.legs = saved
        return True

    def bye(self, call: Call, side: str, now: float) -> bool:
        if call.xfer is not None and call.xfer.side == side:
            call.xfer.referrer_gone = True  # the transfer goes on without the referrer
            return True
        return False

    def ended(self, call: Call, now: float) -> None:
        xfer, call.xfer = call.xfer, None
        if xfer is not None:
            for leg in xfer.legs:
                self.core.cancel_leg(leg)

    def leg_response(self, leg: BLeg, resp: Response, now: float) -> bool:
        call = leg.call
        xfer = call.xfer
        if xfer is None or leg not in xfer.legs:
            return False
        core = self.core
        status = resp.status
        if status < 200:
            if status == 180 and leg.state is LegState.CALLING:
                leg.state = LegState.RINGING
                notify_refer(core, xfer, "SIP/2.0 180 Ringing", final=False)
            return True
        if status >= 300:
            self.leg_failed(leg, status, now)
            return True
        if leg.dialog is not None:
            core.send(leg.transport, leg.dialog.create_ack(leg.invite.cseq.seq), leg.addr)
            return True
        leg.dialog = Dialog.from_uac(leg.invite, resp)
        core.send(leg.transport, leg.dialog.create_ack(leg.invite.cseq.seq), leg.addr)
        leg.answered_at, leg.state, leg.status = core.wall(), LegState.ANSWERED, status
        for other in xfer.legs:
            if other is not leg:
                core.cancel_leg(other)
        if resp.body:
            with contextlib.suppress(SipParseError, ValueError):
                core.media_path.learn(call, "a" if xfer.side == "caller" else "b", parse_sdp(resp.body))
        notify_refer(core, xfer, "SIP/2.0 200 OK", final=True)
        if not xfer.referrer_gone:
            core.send(xfer.transport, xfer.dialog.create_request("BYE"), xfer.addr)
        if xfer.side == "callee":
            old = call.answered
            if old is not None:
                old.state, old.ended_at = LegState.ENDED, core.wall()
                core.forget_leg(old)
            call.answered, call.target = leg, xfer.target
        else:
            # The target takes the caller's place: requests from it are the caller side's now.
            core.move_caller(call, leg.dialog, leg.transport, leg.addr)
        call.xfer = None
        core.journal_dialogs(call)
        log.info("sip.call.transferred call=%s to=%s", call.id, xfer.target.extension)
        return True

    def leg_failed(self, leg: BLeg, status: int, now: float) -> bool:
        call = leg.call
        xfer = call.xfer
        if xfer is None or leg not in xfer.legs:
            return False
        core = self.core
        leg.status, leg.ended_at = status, core.wall()
        if leg.state is not LegState.CANCELLING:
            leg.state = LegState.ENDED
        core.forget_leg(leg)
        if any(o.state in (LegState.CALLING, LegState.RINGING) for o in xfer.legs):
            return True
        call.xfer = None
        notify_refer(core, xfer, f"SIP/2.0 {status} {REASON_PHRASES.get(status, 'Failed')}", final=True)
        if xfer.referrer_gone:
            # Nobody to go back to: the staying side is hung up.
            staying = (
                call.a_dialog if xfer.side == "callee" else (call.answered.dialog if call.answered else None)
            )
            if staying is not None:
                where = (
                    (call.a_transport, call.a_addr)
                    if xfer.side == "callee"
                    else (
                        call.answered.transport if call.answered else "UDP",
                        call.answered.addr if call.answered else call.a_addr,
                    )
                )
                core.send(where[0], staying.create_request("BYE"), where[1])
            core.end(call, now, "answered", "transfer_failed", status)
        return True
