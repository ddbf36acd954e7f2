"""Ringing a user: forwarding (always / busy / no answer after N seconds), do-not-disturb and
voicemail when nobody answers (hosted-pbx.txt MAC 8 and voicemail; issue #4 point 2).

Every registered contact of the user rings at once (parallel forking). A forward goes to another
extension of the same tenant, counted against ``max_forward_hops`` so two users forwarding to
each other end with 480 instead of a loop.
"""

from __future__ import annotations

import logging

from centrex.calls.directory import UserInfo
from centrex.calls.model import BLeg, Call, CallState
from centrex.calls.services import CallService, Destination
from centrex.pbx.apps import Apps
from centrex.pbx.diversion import diversion_headers, external_number

log = logging.getLogger(__name__)


class UserRouting(CallService):
    name = "users"

    def __init__(self, apps: Apps) -> None:
        self.apps = apps

    def deliver(self, call: Call, destination: Destination, now: float) -> bool:
        if destination.kind != "user" or not isinstance(destination.value, UserInfo):
            return False
        self.ring(call, destination.value, now)
        return True

    def ring(self, call: Call, user: UserInfo, now: float) -> None:
        core = self.core
        call.target = user
        call.hops += 1
        if call.hops > core.max_forward_hops:
            core.reject(call, 480, now, "failed", "forward_loop", "Temporarily Unavailable (forwarding loop)")
            return
        if user.forward_always:
            self.forward(call, user.forward_always, now, "always")
            return
        if user.do_not_disturb:
            if user.forward_busy:
                self.forward(call, user.forward_busy, now, "dnd")
            elif self.apps.has_voicemail(user):
                self.to_voicemail(call, user, "busy", now)
            else:
                core.reject(call, 486, now, "busy", "do_not_disturb")
            return
        bindings = core.location.of_user(user.id, now)
        if not bindings:
            if user.forward_no_answer:
                self.forward(call, user.forward_no_answer, now, "unavailable")
            elif self.apps.has_voicemail(user):
                self.to_voicemail(call, user, "unavailable", now)
            else:
                core.reject(call, 480, now, "failed", "unavailable")
            return
        core.media_path.choose(call, user, bindings)
        call.state = CallState.RINGING
        call.legs = []
        call.busy_seen = False
        for binding in bindings:
            core.start_leg(call, user, binding)
        call.timers.pop("no_answer", None)
        if user.forward_no_answer or self.apps.has_voicemail(user):
            core.arm(call, "no_answer", now + max(1, user.forward_no_answer_seconds))
        if "ring" not in call.timers:
            core.arm(call, "ring", now + core.max_ring_s)

    def forward(self, call: Call, destination: str, now: float, why: str) -> None:
        target = self.core.directory.user_by_extension(call.tenant.id, destination.strip())
        log.info("sip.call.forward call=%s why=%s to=%r", call.id, why, destination)
        number = external_number(destination) if target is None else None
        if number is not None and call.target is not None:
            # Off the switch (issue 17 §5): through a trunk with Diversion and History-Info.
            diverting = call.target.number or call.target.extension
            call.extra_headers += diversion_headers(diverting, number, call.tenant.domain, why)
            self.core.ring_back(call)
            self.core.deliver(call, Destination("number", number, reason=f"forward_{why}"), now)
            return
        if target is None:
            self.core.reject(call, 480, now, "failed", f"forward_{why}_unroutable")
            return
        self.core.ring_back(call)
        self.ring(call, target, now)

    def to_voicemail(self, call: Call, user: UserInfo, reason: str, now: float) -> None:
        """hosted-pbx.txt voicemail / issue #4 point 2: busy, no answer or unavailable go to the
        user's mailbox, with the greeting for the reason."""
        log.info("sip.call.voicemail call=%s user=%s reason=%s", call.id, user.extension, reason)
        call.target = user
        self.apps.route(call, f"vm-deposit.{user.id}", now, reason=reason)

    def timer(self, call: Call, name: str, now: float) -> bool:
        if name != "no_answer":
            return False
        if call.state is CallState.RINGING and call.target is not None:
            self.core.cancel_legs(call)
            if call.target.forward_no_answer:
                self.forward(call, call.target.forward_no_answer, now, "no_answer")
            else:
                self.to_voicemail(call, call.target, "no-answer", now)
        return True

    def legs_failed(self, call: Call, leg: BLeg, status: int, now: float) -> bool:
        """Nobody of the user's phones answered: busy or unavailable forwarding, else voicemail."""
        target = call.target
        if target is None:
            return False
        if call.busy_seen:
            if target.forward_busy:
                self.forward(call, target.forward_busy, now, "busy")
            elif self.apps.has_voicemail(target):
                self.to_voicemail(call, target, "busy", now)
            else:
                self.core.reject(call, 486, now, "busy", "busy")
        elif target.forward_no_answer:
            call.timers.pop("no_answer", None)
            self.forward(call, target.forward_no_answer, now, "unavailable")
        elif self.apps.has_voicemail(target):
            call.timers.pop("no_answer", None)
            self.to_voicemail(call, target, "unavailable", now)
        else:
            self.core.reject(call, 480, now, "failed", "unavailable")
        return True
