"""Call park (issue #4 point 6): the answering side transfers the caller to a park slot (REFER to
the tenant's park code, *70<slot>); the caller waits with music until someone of the tenant dials
the retrieve code (*71<slot>) — or, after the tenant's ``park_timeout_s``, the call rings the
parker back ("Park 3: Alice"), then goes to the parker's voicemail or waits again. What
Asterisk's res_parking does with ``comebacktoorigin=yes``, FreePBX's "Come back to origin" and
Kazoo's periodic ringback."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable

from centrex.calls.codecs import first_g711_pt
from centrex.calls.directory import UserInfo
from centrex.calls.features import Match
from centrex.calls.model import BLeg, Call, CallState, Transfer
from centrex.calls.services import CallService
from centrex.pbx.apps import Apps
from centrex.pbx.pickup import take_over
from centrex.pbx.queues import Queues
from centrex.pbx.refer import notify_refer, refer_target
from centrex.pbx.user_routing import UserRouting
from centrex.sip.dialog import Dialog
from centrex.sip.message import Request

log = logging.getLogger(__name__)

PARK_SLOTS = range(1, 10)
PARK_RECALL_PREFIX = "Park"  # the caller ID name of a parked call ringing back: "Park 3: Alice"


class Park(CallService):
    name = "park"

    def __init__(self, apps: Apps, users: UserRouting, queues: Queues | None = None) -> None:
        self.apps = apps
        self.users = users
        self.queues = queues
        # Several nodes: may this node take the slot (no other node holds it; pbx/owners.py)?
        self.slots: Callable[[uuid.UUID, int, float], bool] | None = None

    def _may_take(self, call: Call, slot: int, now: float) -> bool:
        return self.slots is None or self.slots(call.tenant.id, slot, now)

    def refer(self, call: Call, req: Request, side: str, dialog: Dialog, transport: str, now: float) -> bool:
        target = refer_target(req)
        if target is None or (call.answered is not None and call.answered.app):
            return False  # an app's REFER is a redirect (pbx/apps.py)
        parking = call.tenant.feature_codes.match(target[1])
        if parking is None or parking.feature != "park":
            return False
        self.park(call, req, side, dialog, transport, parking.argument, now)
        return True

    def feature(self, call: Call, hit: Match, now: float) -> bool:
        if hit.feature != "retrieve":
            return False
        self.retrieve(call, hit.argument, now)
        return True

    def timer(self, call: Call, name: str, now: float) -> bool:
        if name == "park_timeout":
            if call.parked is not None and not call.recalling:
                self._recall(call, now)
        elif name == "park_recall":
            if call.recalling:
                self._recall_missed(call, now)
        else:
            return False
        return True

    def answered(self, call: Call, leg: BLeg, now: float) -> None:
        """The parker answered the recall: the music stops and the slot is free."""
        if call.parked is None:
            return
        self.core.media_path.caller_music_off(call)
        log.info("sip.call.park_recalled call=%s slot=%s by=%s", call.id, call.parked, leg.label)
        call.parked, call.recalling = None, False
        if leg.user is not None:
            call.target = leg.user

    def legs_failed(self, call: Call, leg: BLeg, status: int, now: float) -> bool:
        if not call.recalling:
            return False
        self._recall_missed(call, now)  # the parker's phones refused the recall (busy, …)
        return True

    def park(
        self, call: Call, req: Request, side: str, dialog: Dialog, transport: str, slot_text: str, now: float
    ) -> None:
        core = self.core
        if side != "callee" or call.anchor is None or call.xfer is not None:
            core.reply(transport, req, 501, "Not Implemented (only the answering side may park)")
            return
        taken = {c.parked for c in core.calls.values() if c.tenant.id == call.tenant.id and c.parked}
        if slot_text:
            slot = int(slot_text) if slot_text.isdigit() else -1
            if slot in PARK_SLOTS and slot not in taken and not self._may_take(call, slot, now):
                taken.add(slot)  # another node holds it (pbx/owners.py)
            if slot not in PARK_SLOTS or slot in taken:
                core.reply(transport, req, 486 if slot in taken else 404, "Park slot not available")
                return
        else:
            found = next((n for n in PARK_SLOTS if n not in taken and self._may_take(call, n, now)), None)
            if found is None:
                core.reply(transport, req, 486, "Busy Here (every park slot is taken)")
                return
            slot = found
        leg = call.answered
        assert leg is not None and leg.dialog is not None
        core.reply(transport, req, 202, "Accepted", to_tag=dialog.local_tag)
        xfer = Transfer(
            side,
            dialog,
            transport,
            leg.addr,
            req.cseq.seq,
            call.target or UserInfo(uuid.uuid4(), call.tenant.id, "", ""),
        )
        notify_refer(core, xfer, "SIP/2.0 200 OK", final=True)
        core.release_leg(leg)
        parker = leg.user
        if parker is not None and core.activity.busy(parker.id):
            # The parker is free again (hunt groups, queues): the parked call is nobody's call.
            core.activity.off_call(parker.id, now)
        queue = call.queue
        if queue is not None and not (self.queues is not None and self.queues.is_waiting(call)):
            # An agent parked a queue call: their part is done (wrap-up from now), and whoever
            # takes it back is not answering the queue again.
            if parker is not None and self.queues is not None:
                self.queues.wrap_up(parker.id, queue, now)
            call.queue = None
        call.answered, call.parked, call.parked_by = None, slot, parker
        log.info("sip.call.parked call=%s slot=%d tenant=%s", call.id, slot, call.tenant.id)
        if core.media is not None:
            pt = first_g711_pt(call.a_invite.body)
            if pt is not None:
                core.media_path.caller_music(call, pt, True)
        if parker is not None and call.tenant.park_timeout_s > 0:
            core.arm(call, "park_timeout", now + call.tenant.park_timeout_s)

    def _recall(self, call: Call, now: float) -> None:
        """Nobody took the parked call back in the tenant's ``park_timeout_s``: it rings every
        phone of the user who parked it, as a new leg whose caller ID name says what it is,
        still with music and still in its slot (the retrieve code still takes it)."""
        core = self.core
        parked_by = call.parked_by
        assert parked_by is not None and call.parked is not None
        parker = core.directory.user(parked_by.id) or parked_by  # DND or mailbox may have changed
        bindings = [] if parker.do_not_disturb else core.location.of_user(parker.id, now)
        if not bindings:
            self._recall_missed(call, now)
            return
        log.info("sip.call.park_recall call=%s slot=%d parker=%s", call.id, call.parked, parker.extension)
        call.recalling, call.state, call.legs, call.busy_seen = True, CallState.RINGING, [], False
        core.keep_codec(call)
        for binding in bindings:
            core.start_leg(call, parker, binding, name_prefix=f"{PARK_RECALL_PREFIX} {call.parked}: ")
        core.arm(call, "park_recall", now + max(1, parker.forward_no_answer_seconds))

    def _recall_missed(self, call: Call, now: float) -> None:
        """The parker did not answer the recall in their no-answer time (or was busy, on DND, or
        not registered): the call goes to the parker's voicemail when they have one — a caller is
        not left waiting on nobody (BroadWorks' recall and Kazoo's ringback end the same way);
        without a mailbox it stays parked with music and rings the parker again after another
        ``park_timeout_s``, until someone takes it or the caller hangs up."""
        core = self.core
        call.timers.pop("park_recall", None)
        core.cancel_legs(call)
        call.recalling, call.state = False, CallState.ANSWERED
        parked_by = call.parked_by
        parker = (core.directory.user(parked_by.id) or parked_by) if parked_by is not None else None
        if parker is not None and self.apps.has_voicemail(parker):
            core.media_path.caller_music_off(call)
            call.parked = None
            core.keep_codec(call)
            self.users.to_voicemail(call, parker, "no-answer", now)
            return
        if call.tenant.park_timeout_s > 0:
            core.arm(call, "park_timeout", now + call.tenant.park_timeout_s)

    def retrieve(self, picker: Call, slot_text: str, now: float) -> None:
        core = self.core
        parked = sorted(
            (c for c in core.calls.values() if c.tenant.id == picker.tenant.id and c.parked),
            key=lambda c: c.started_mono,
        )
        if slot_text:
            parked = [c for c in parked if str(c.parked) == slot_text]
        if not parked:
            core.reject(picker, 404, now, "failed", "nothing_parked", "Not Found (nothing parked there)")
            return
        call = parked[0]
        core.media_path.caller_music_off(call)
        if call.recalling:  # taken back while it rang the parker: their phones stop ringing
            core.cancel_legs(call)
        call.parked, call.recalling = None, False
        take_over(core, call, picker, now, answer_caller=False)
