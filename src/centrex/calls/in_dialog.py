"""Requests inside a call's dialogs, and the answers to the ones relayed to the other side.

The switch is a B2BUA: a re-INVITE, UPDATE or INFO from one side becomes a new request in the
other side's dialog (its SDP rewritten for the relay), and the answer comes back the same way.
BYE ends the call (unless a service keeps it going: a transfer whose referrer left), REFER goes
to the services (transfers, park, an app's redirect), a body-less UPDATE is a session refresh the
switch answers itself (calls/session_timers.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from centrex.calls.model import CallState, Relay
from centrex.sip.dialog import Dialog
from centrex.sip.message import Request, Response, make_response

if TYPE_CHECKING:
    from centrex.calls.engine import CallEngine

ALLOW = "INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE, INFO, REFER, NOTIFY, SUBSCRIBE, REGISTER"


def in_dialog(core: CallEngine, req: Request, transport: str, now: float) -> None:
    """A request in a dialog of a call: BYE ends it, REFER goes to the services, anything else
    (re-INVITE, UPDATE, INFO) is relayed to the other side with its SDP through the relay."""
    call = core.by_a_dialog.get((req.call_id, req.from_.tag or ""))
    this: Dialog | None
    other: Dialog | None
    if call is not None and req.to.tag == call.a_tag:
        leg = call.answered
        this, other = call.a_dialog, leg.dialog if leg else None
        side = "caller"
        other_transport, other_addr = (leg.transport, leg.addr) if leg else ("", ("", 0))
    else:
        leg = core.legs_by_callid.get(req.call_id)
        call = leg.call if leg else None
        if (
            leg is None
            or call is None
            or call.answered is not leg
            or leg.dialog is None
            or not leg.dialog.matches(req)
        ):
            core.reply(transport, req, 481)
            return
        this, other = leg.dialog, call.a_dialog
        side = "callee"
        other_transport, other_addr = call.a_transport, call.a_addr
    if call is not None and side == "caller" and this is not None and call.answered is None:
        # Answered but with nobody on the other side yet (parked, waiting in a queue, being
        # routed again after an app): the caller may hang up; anything else waits.
        if this.receive_request(req) and req.method == "BYE":
            core.network.send_response(transport, make_response(req, 200))
            if call.anchor is not None:
                core.media_path.caller_music_off(call)
            core.cancel_legs(call)
            cause = "caller_bye_parked" if call.parked is not None else "caller_bye_waiting"
            core.end(call, now, "answered", cause, 200)
        else:
            core.reply(transport, req, 200 if req.method == "OPTIONS" else 491)
        return
    if this is None or other is None or call.state is not CallState.ANSWERED:
        core.reply(transport, req, 481)
        return
    if not this.receive_request(req):
        core.reply(transport, req, 500, "Server Internal Error (CSeq out of order)")
        return
    if req.method == "BYE":
        core.network.send_response(transport, make_response(req, 200))
        if any(bye(call, side, now) for bye in core.asking("bye")):
            return
        core.send(other_transport, other.create_request("BYE"), other_addr)
        core.end(call, now, "answered", f"{side}_bye", 200)
        return
    if req.method == "REFER":
        for refer in core.asking("refer"):
            if refer(call, req, side, this, transport, now):
                return
        core.reply(transport, req, 501, "Not Implemented (transfer)")
        return
    if req.method == "OPTIONS":
        core.reply(transport, req, 200, extra=[("Allow", ALLOW)])
        return
    if core.session_timers.local_update(call, "a" if side == "caller" else "b", req, transport, now):
        return
    toward = "b" if side == "caller" else "a"
    if req.method == "INVITE":
        core.media_path.hold_music(call, toward, req)
    forwarded = other.create_request(
        req.method,
        body=core.media_path.through(call, toward, req.body, req.headers.get("Content-Type")),
        content_type=req.headers.get("Content-Type"),
    )
    key = core.send(other_transport, forwarded, other_addr)
    core.relays[key] = Relay(call, req, transport, forwarded, other, other_transport, other_addr)


def relay_response(core: CallEngine, relay: Relay, resp: Response, now: float) -> None:
    """The other side's final answer to a relayed request, passed back to the side that sent it."""
    relay.other.receive_response(resp)
    if relay.forwarded.method == "INVITE" and 200 <= resp.status < 300:
        ack = relay.other.create_ack(relay.forwarded.cseq.seq)
        core.send(relay.other_transport, ack, relay.other_addr)
    extra = []
    if 200 <= resp.status < 300 and relay.request.method in ("INVITE", "UPDATE"):
        extra.append(("Contact", core.network.contact(relay.transport)))
        extra += core.session_timers.relayed_2xx_headers(relay.request)
        core.session_timers.refreshed(relay.call, now)
    toward = "a" if relay.other is not relay.call.a_dialog else "b"
    out = make_response(
        relay.request,
        resp.status,
        resp.reason,
        body=core.media_path.through(relay.call, toward, resp.body, resp.headers.get("Content-Type")),
        content_type=resp.headers.get("Content-Type"),
        extra=extra,
    )
    core.network.send_response(relay.transport, out)
