"""Call pickup (issue #4 point 6): *8<ext> takes a call ringing that extension, *8 alone one
ringing a member of a hunt group the picker belongs to (group pickup). ``take_over`` is also how
a parked call is taken back (pbx/park.py)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from centrex.calls.codecs import common_g711
from centrex.calls.features import Match
from centrex.calls.legs import LIFETIME_TIMERS
from centrex.calls.model import BLeg, Call, CallState, LegState
from centrex.calls.services import CallService
from centrex.pbx.hunt_groups import HuntGroups
from centrex.sip.errors import SipParseError
from centrex.sip.sdp import TELEPHONE_EVENT, negotiate_answer, parse_sdp

if TYPE_CHECKING:
    from centrex.calls.engine import CallEngine

log = logging.getLogger(__name__)


class Pickup(CallService):
    name = "pickup"

    def __init__(self, groups: HuntGroups | None = None) -> None:
        self.groups = groups

    def feature(self, call: Call, hit: Match, now: float) -> bool:
        if hit.feature != "pickup":
            return False
        self.pickup(call, hit.argument, now)
        return True

    def ringing_for(self, picker: Call, extension: str) -> Call | None:
        """The oldest call of the picker's tenant ringing ``extension`` — or, with no extension,
        ringing a member of a hunt group the picker belongs to (group pickup)."""
        tenant = picker.tenant.id
        groups: set[object] = set()
        if not extension and picker.caller is not None and self.groups is not None:
            groups = set(self.groups.groups_of(tenant, picker.caller.id))
        for call in sorted(self.core.calls.values(), key=lambda c: c.started_mono):
            if call is picker or call.tenant.id != tenant or call.state is not CallState.RINGING:
                continue
            if (call.anchor is None and not call.direct) or call.xfer is not None:
                continue  # a direct call is anchored again by pickup
            if not any(leg.user for leg in call.legs):
                continue
            if call.parked is not None:
                continue  # a parked call ringing its parker back: taken with the retrieve code
            rung = {leg.user.extension for leg in call.legs if leg.user is not None}
            if extension and extension in rung:
                return call
            if not extension and call.group is not None and call.group.id in groups:
                return call
        return None

    def pickup(self, picker: Call, extension: str, now: float) -> None:
        """The picker's phone takes a call ringing elsewhere: the ringing phones are cancelled, the
        caller is answered with the relay's a side and the picker with its b side, both on the
        one G.711 codec they share. The picker's own INVITE ends as a "picked_up" record."""
        ringing = self.ringing_for(picker, extension)
        if ringing is not None and ringing.direct:
            self.core.media_path.reanchor(ringing)  # the caller has heard no answer yet
        if ringing is None or ringing.anchor is None:
            self.core.reject(picker, 404, now, "failed", "nothing_to_pick_up", "Not Found (no call ringing)")
            return
        take_over(self.core, ringing, picker, now, answer_caller=True)


def take_over(core: CallEngine, call: Call, picker: Call, now: float, *, answer_caller: bool) -> None:
    """The picker's phone becomes the answering side of ``call`` on the relay's b side, with
    the one G.711 codec it shares with the caller. ``answer_caller``: the caller is still
    ringing (pickup) and gets its 200 on the relay's a side; a parked caller is in a dialog."""
    assert call.anchor is not None and core.media is not None
    try:
        c_offer, p_offer = parse_sdp(call.a_invite.body), parse_sdp(picker.a_invite.body)
    except (SipParseError, ValueError):
        core.reject(picker, 488, now, "failed", "pickup_sdp")
        return
    codec = common_g711(c_offer, p_offer)
    if codec is None:
        core.reject(picker, 488, now, "failed", "pickup_codecs", "Not Acceptable Here (no common codec)")
        return
    (a_host, a_port), (b_host, b_port) = call.anchor
    to_caller = negotiate_answer(c_offer, a_host, a_port, (codec, TELEPHONE_EVENT))
    to_picker = negotiate_answer(p_offer, b_host, b_port, (codec, TELEPHONE_EVENT))
    core.media_path.learn(call, "b", p_offer)
    if answer_caller:
        core.cancel_legs(call)
    for name in [n for n in call.timers if n not in LIFETIME_TIMERS]:
        del call.timers[name]
    # The picker's INVITE is answered in the taken call's name; its own call ends here.
    picker_dialog = core.answer_invite(picker, str(to_picker).encode(), "application/sdp", now)
    leg = BLeg(call, picker.caller, None, picker.a_invite, picker.a_key, core.wall())
    leg.peer = (picker.a_transport, picker.a_addr)
    leg.dialog = picker_dialog
    leg.state, leg.status, leg.answered_at = LegState.ANSWERED, 200, core.wall()
    core.adopt_leg(call, leg)
    core.end(picker, now, "picked_up", "picked_up", 200)
    if answer_caller:
        call.a_dialog = core.answer_invite(call, str(to_caller).encode(), "application/sdp", now)
        call.answered_at, call.answered_mono = leg.answered_at, now
    call.answered, call.state = leg, CallState.ANSWERED
    if picker.caller is not None:
        call.target = picker.caller
        core.activity.answered(picker.caller.id)
    log.info("sip.call.taken call=%s by=%s", call.id, leg.label)
    if answer_caller:
        core.answered_event(call, leg.label, leg.answered_at)
    else:
        core.journal_dialogs(call)
