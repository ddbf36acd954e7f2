"""How a call ends: refused before it was answered (a final response to the caller, or BYE when an
app had answered it), the end itself (the core's indexes, the relay, the services' ``ended``
hook, the ``CallEnded`` record of calls/cdr_event.py), and the switch hanging calls up itself: a
timer, the relay's no-media timeout, SIGTERM, the dialogs a crashed process left up.

Functions of the core, which ``CallEngine`` binds as its methods (no wrapper on a call's path).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING

from centrex.calls.cdr_event import call_ended
from centrex.calls.dialog_record import DialogRecord
from centrex.calls.model import Call, CallState, LegState
from centrex.sip.message import make_response

if TYPE_CHECKING:
    from centrex.calls.engine import CallEngine

# The end's log lines keep the engine's logger name, which operators filter on (docs/operations.md).
log = logging.getLogger("centrex.calls.engine")


def reject(
    core: CallEngine,
    call: Call,
    status: int,
    now: float,
    disposition: str,
    cause: str,
    reason: str | None = None,
    extra: list[tuple[str, str]] | None = None,
) -> None:
    if call.state in (CallState.ANSWERED, CallState.ENDED):
        return
    if call.a_dialog is not None:
        # Re-routed after an app answered: the caller's INVITE is long done; hang up instead.
        core.send(call.a_transport, call.a_dialog.create_request("BYE"), call.a_addr)
        core.end(call, now, disposition, cause, status)
        return
    response = make_response(call.a_invite, status, reason, to_tag=call.a_tag)
    for name, value in extra or ():
        response.headers.add(name, value)
    core.network.send_response(call.a_transport, response)
    core.end(call, now, disposition, cause, status)


def end(core: CallEngine, call: Call, now: float, disposition: str, cause: str, code: int) -> None:
    if call.state is CallState.ENDED:
        return
    call.state = CallState.ENDED
    call.timers.clear()
    core.media_path.close(call)
    core.calls.pop(call.id, None)
    core.by_a_key.pop(call.a_key, None)
    core.by_a_dialog.pop((call.a_invite.call_id, call.a_from_tag), None)
    ended = core.wall()
    core.session_timers.forget(call)
    for ended_hook in core.asking("ended"):
        ended_hook(call, now)
    answered = call.answered
    if answered is not None and answered.user is not None:
        core.activity.off_call(answered.user.id, now)
    for leg in call.all_legs:
        if leg.state is LegState.ANSWERED:
            leg.state, leg.ended_at = LegState.ENDED, ended
            core.forget_leg(leg)
        elif leg.ended_at is None and leg.state is LegState.CANCELLING:
            leg.ended_at = ended
    record = call_ended(call, ended, now, disposition, cause, code)
    log.info(
        "sip.call.end call=%s disposition=%s cause=%s code=%d duration_ms=%d",
        call.id,
        disposition,
        cause,
        code,
        record.duration_ms,
    )
    core.notify(core.on_call_ended, record)
    # Break the call's cycles with its legs so reference counting frees them at once: fewer
    # objects for the collector's full passes, whose pauses were what failed calls under load.
    call.legs, call.all_legs, call.answered, call.xfer = [], [], None, None


def hang_up(core: CallEngine, call: Call, now: float, cause: str, code: int) -> None:
    """The switch ends a call itself (media stopped, a session refresh failed, the tenant's
    longest call passed): BYE to every party it is answered with, the ringing ones cancelled."""
    if call.state is CallState.ENDED:
        return
    if call.a_dialog is None:
        core.cancel_legs(call)
        core.reject(call, 408 if code < 400 else code, now, "failed", cause)
        return
    core.send(call.a_transport, call.a_dialog.create_request("BYE"), call.a_addr)
    leg = call.answered
    if leg is not None and leg.dialog is not None:
        core.send(leg.transport, leg.dialog.create_request("BYE"), leg.addr)
    core.cancel_legs(call)
    core.end(call, now, "answered", cause, code)


def hang_up_all(core: CallEngine, now: float, cause: str = "shutdown") -> int:
    """The switch is stopping (SIGTERM): every answered call gets BYE on both sides, every
    ringing one 503 and its legs cancelled; each gets its CDR. Returns how many."""
    calls = list(core.calls.values())
    for call in calls:
        if call.a_dialog is not None:
            core.hang_up(call, now, cause, 200)
        else:
            core.cancel_legs(call)
            core.reject(call, 503, now, "failed", cause, "Service Unavailable (switch stopping)")
    return len(calls)


def media_stopped(core: CallEngine, call_id: str, now: float) -> None:
    """The relay heard nothing from either side for its no-media timeout: the phones are gone
    (a crash, a network cut) and nobody will send BYE, so the switch does."""
    try:
        call = core.calls.get(uuid.UUID(call_id))
    except ValueError:
        return
    if call is None or call.a_dialog is None:
        return  # still ringing: its ring timer ends it
    log.warning("sip.call.media_timeout call=%s", call.id)
    core.hang_up(call, now, "media_timeout", 408)


def end_dialogs(core: CallEngine, records: Sequence[DialogRecord]) -> int:
    """BYE on dialogs a previous process left up (the journal's, after a crash)."""
    sent = 0
    for r in records:
        try:
            core.send(r.transport, r.bye(), (r.host, r.port))
            sent += 1
        except Exception:
            log.exception("sip.recovery.bye_failed call_id=%s", r.call_id)
    return sent
