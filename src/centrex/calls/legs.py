"""The B-legs of a call: our UAC dialogs toward the phones, trunks and the app server it rings.

A leg is launched with the caller's identity from the user record (never the phone's From) and
the offer the relay made for it; its provisionals are passed on to a caller still waiting (PRACKed
first when a carrier sends them reliably, RFC 3262), the first 2xx wins and cancels the others,
and a round of legs that all failed goes back to the services before the caller gets the failure.

Functions of the core, which ``CallEngine`` binds as its methods (no wrapper on a call's path).
"""

from __future__ import annotations

import contextlib
import logging
from typing import TYPE_CHECKING

from centrex.calls.codecs import first_g711_pt
from centrex.calls.directory import UserInfo
from centrex.calls.in_dialog import ALLOW
from centrex.calls.location import Binding
from centrex.calls.model import BLeg, Call, CallState, LegState
from centrex.calls.services import CallService
from centrex.routing.model import Target
from centrex.sip.dialog import Dialog
from centrex.sip.errors import SipParseError
from centrex.sip.events import Address
from centrex.sip.headers import Headers, quote
from centrex.sip.message import Request, Response, make_response, new_call_id, new_tag
from centrex.sip.reliable import ReliableReceiver, build_prack, is_reliable
from centrex.sip.sdp import parse_sdp
from centrex.sip.uri import parse_uri

if TYPE_CHECKING:
    from centrex.calls.engine import CallEngine

# The answer's log line keeps the engine's logger name, which operators filter on (docs/operations.md).
log = logging.getLogger("centrex.calls.engine")

# Timers that outlive a call's ringing: cleared only when the call ends.
LIFETIME_TIMERS = ("max_duration", "session_a", "session_b")


def caller_id(core: CallEngine, call: Call) -> tuple[str, str]:
    """The caller's name and number as sent off the switch (the user's record, never the
    phone's From): the user's DID, else their extension; a call from a trunk keeps its caller."""
    if call.caller is not None:
        return call.caller.name, call.caller.number or call.caller.extension
    if call.remote_number:
        return call.remote_identity or call.remote_number, call.remote_number
    name = call.device.username if call.device else "anonymous"
    return name, name


def leg_headers(core: CallEngine, call: Call, to: str) -> Headers:
    headers = Headers()
    mf = call.a_invite.max_forwards
    headers.add("Max-Forwards", str(max(1, (mf if mf is not None else 70) - 1)))
    headers.add("To", to)
    headers.add("Call-ID", new_call_id())
    headers.add("CSeq", "1 INVITE")
    for name, value in core.session_timers.leg_headers():
        headers.add(name, value)
    return headers


def start_leg(
    core: CallEngine, call: Call, user: UserInfo, binding: Binding, *, name_prefix: str = ""
) -> BLeg:
    """Ring one registered contact of a user, as the caller (the user record, not its From)."""
    domain = call.tenant.domain
    caller = call.caller
    if caller is not None:
        ext, name = caller.extension, caller.name
    elif call.remote_number:
        ext, name = call.remote_number, call.remote_identity or call.remote_number
    elif call.device is not None:
        ext = name = call.device.username
    else:
        ext = name = "anonymous"
    identity = f"{quote(name_prefix + name)} <sip:{ext}@{domain}>"
    headers = core.leg_headers(call, f"<sip:{user.extension}@{domain}>")
    headers.add("From", f"{identity};tag={new_tag()}")
    headers.add("P-Asserted-Identity", identity)
    return core.launch(call, binding.contact, headers, binding.transport, binding.source, user, binding, None)


def launch(
    core: CallEngine,
    call: Call,
    uri: str,
    headers: Headers,
    transport: str,
    addr: Address,
    user: UserInfo | None,
    binding: Binding | None,
    target: Target | None,
    *,
    owner: CallService | None = None,
) -> BLeg:
    if call.direct and (user is None or call.group is not None or call.queue is not None):
        core.media_path.reanchor(call)  # an app, a trunk, a hunt group or a queue: back on the relay
    headers.add("Contact", core.network.contact(transport))
    headers.add("Allow", ALLOW)
    for name, value in call.extra_headers:
        headers.add(name, value)
    if call.extra_body is not None:
        content_type, body = call.extra_body
    else:
        content_type, body = call.a_invite.headers.get("Content-Type") or "", call.a_invite.body
        if call.b_offer is not None:
            body = call.b_offer
    if content_type:
        headers.add("Content-Type", content_type)
    invite = Request("INVITE", parse_uri(uri), headers, body)
    key = core.send(transport, invite, addr)
    leg = BLeg(call, user, binding, invite, key, core.wall(), target, owner=owner)
    call.legs.append(leg)
    call.all_legs.append(leg)
    core.legs_by_key[key] = leg
    core.legs_by_callid[invite.call_id] = leg
    return leg


def resend(core: CallEngine, leg: BLeg, invite: Request) -> None:
    """The leg's INVITE again as a new transaction (with credentials after a challenge)."""
    core.legs_by_key.pop(leg.key, None)
    leg.invite = invite
    leg.key = core.send(leg.transport, invite, leg.addr)
    core.legs_by_key[leg.key] = leg


def leg_response(core: CallEngine, leg: BLeg, resp: Response, now: float) -> None:
    call, status = leg.call, resp.status
    if leg.owner is not None and leg.owner.leg_response(leg, resp, now):
        return
    if status == 100:
        return
    if status < 200 and is_reliable(resp) and not _prack(core, leg, resp):
        return  # a retransmitted reliable provisional: PRACKed again, not passed on
    if status == 422:
        invite = core.session_timers.retry_422(leg, resp)
        if invite is not None:
            core.resend(leg, invite)
            return
    if status < 200:
        if leg.state is LegState.CALLING:
            leg.state = LegState.RINGING
            for ringing in core.asking("leg_ringing"):
                ringing(leg, resp, now)
        # Ringing is passed on only to a caller still waiting for its answer; a caller already
        # answered (queue, park recall, after an app) hears the relay meanwhile.
        if call.state is CallState.RINGING and leg in call.legs and call.a_dialog is None:
            if resp.body:
                core.network.send_response(
                    call.a_transport,
                    make_response(
                        call.a_invite,
                        183,
                        to_tag=call.a_tag,
                        body=core.media_path.through(call, "a", resp.body, resp.headers.get("Content-Type")),
                        content_type=resp.headers.get("Content-Type"),
                        extra=[("Contact", core.network.contact(call.a_transport))],
                    ),
                )
            elif not call.ringing_sent:
                call.ringing_sent = True
                core.network.send_response(
                    call.a_transport,
                    make_response(
                        call.a_invite,
                        180,
                        to_tag=call.a_tag,
                        extra=[("Contact", core.network.contact(call.a_transport))],
                    ),
                )
        return
    if status < 300:
        _answered(core, leg, resp, now)
        return
    core.leg_failed(leg, status, now)


def _prack(core: CallEngine, leg: BLeg, resp: Response) -> bool:
    """RFC 3262 toward a carrier that sends its 18x reliably: PRACK each once, in order, in
    the early dialog; True when the provisional is new (to be passed on)."""
    receiver = leg.reliable = leg.reliable or ReliableReceiver()
    try:
        send, new = receiver.accept(resp)
        if leg.early is None or leg.early.remote_tag != (resp.to.tag or ""):
            leg.early = Dialog.from_uac(leg.invite, resp)
    except SipParseError:
        return True
    if send:
        core.send(leg.transport, build_prack(leg.early, resp), leg.addr)
    return new


def _answered(core: CallEngine, leg: BLeg, resp: Response, now: float) -> None:
    call, status = leg.call, resp.status
    if leg.dialog is not None:
        core.send(leg.transport, leg.dialog.create_ack(leg.invite.cseq.seq), leg.addr)  # 2xx again
        return
    leg.dialog = Dialog.from_uac(leg.invite, resp)
    if leg.early is not None and leg.early.local_seq:
        # PRACKs used CSeq numbers of this dialog: our next request must go past them.
        leg.dialog.local_seq = max(leg.dialog.local_seq or 0, leg.early.local_seq)
    core.send(leg.transport, leg.dialog.create_ack(leg.invite.cseq.seq), leg.addr)
    leg.answered_at = core.wall()
    if call.state is not CallState.RINGING or leg not in call.legs or leg.state is LegState.CANCELLING:
        # Answered too late (another device won, or the caller gave up): hang it up.
        core.send(leg.transport, leg.dialog.create_request("BYE"), leg.addr)
        leg.state, leg.status, leg.ended_at = LegState.CANCELLING, status, core.wall()
        core.forget_leg(leg)
        return
    leg.state, leg.status = LegState.ANSWERED, status
    call.answered, call.state = leg, CallState.ANSWERED
    if leg.user is not None:
        core.activity.answered(leg.user.id)
    for name in [n for n in call.timers if n not in LIFETIME_TIMERS]:
        del call.timers[name]
    for other in call.legs:
        if other is not leg:
            core.cancel_leg(other)
    if call.a_dialog is not None:
        # A re-routed call: the caller was answered long ago (by an app, a queue, a park);
        # only the relay's b side learns where the new party is.
        if resp.body:
            with contextlib.suppress(SipParseError, ValueError):
                core.media_path.learn(call, "b", parse_sdp(resp.body))
        core.session_timers.callee_answered(call, leg, resp, now)
        for answered in core.asking("answered"):
            answered(call, leg, now)
        core.journal_dialogs(call)
        log.info("sip.call.answer call=%s by=%s (re-routed)", call.id, leg.label)
        return
    call.answered_at, call.answered_mono = leg.answered_at, now
    body = core.media_path.through(call, "a", resp.body, resp.headers.get("Content-Type"))
    call.a_dialog = core.answer_invite(call, body, resp.headers.get("Content-Type"), now)
    call.a_codec = first_g711_pt(body)
    core.session_timers.callee_answered(call, leg, resp, now)
    log.info("sip.call.answer call=%s by=%s", call.id, leg.label)
    for answered in core.asking("answered"):
        answered(call, leg, now)
    core.answered_event(call, leg.label, leg.answered_at)


def leg_failed(core: CallEngine, leg: BLeg, status: int, now: float) -> None:
    call = leg.call
    if leg.owner is not None and leg.owner.leg_failed(leg, status, now):
        return
    cancelled = leg.state is LegState.CANCELLING
    leg.status, leg.ended_at = status, core.wall()
    if not cancelled:
        leg.state = LegState.ENDED
    core.forget_leg(leg)
    if cancelled or call.state is not CallState.RINGING or leg not in call.legs:
        return
    if status in (486, 600, 603):
        call.busy_seen = True
    if any(other.state in (LegState.CALLING, LegState.RINGING) for other in call.legs):
        return
    for legs_failed in core.asking("legs_failed"):
        if legs_failed(call, leg, status, now):
            return
    core.reject(call, status if status >= 400 else 480, now, "failed", "unavailable")


def cancel_leg(core: CallEngine, leg: BLeg) -> None:
    if leg.state in (LegState.CALLING, LegState.RINGING):
        leg.state = LegState.CANCELLING
        core.network.send_cancel(leg.transport, leg.key)


def cancel_legs(core: CallEngine, call: Call) -> None:
    for leg in call.legs:
        core.cancel_leg(leg)
    call.legs = []


def forget_leg(core: CallEngine, leg: BLeg) -> None:
    core.legs_by_key.pop(leg.key, None)
    core.legs_by_callid.pop(leg.invite.call_id, None)


def release_leg(core: CallEngine, leg: BLeg) -> None:
    """Hang up an answered leg and let the call go on without it (park, a redirecting app)."""
    assert leg.dialog is not None
    core.send(leg.transport, leg.dialog.create_request("BYE"), leg.addr)
    leg.state, leg.ended_at = LegState.ENDED, core.wall()
    core.forget_leg(leg)
