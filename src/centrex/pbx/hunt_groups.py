"""Hunt groups (hosted-pbx.txt MAC 5; issue #4 point 4).

Simultaneous rings every member at once; sequential, round-robin and longest-idle ring one member
at a time for ``ring_seconds`` each. Members on DND, unregistered or already in a call are
skipped; their own forwarding does not apply. When nobody answers the call falls through to the
group's no-answer destination (a user, or another group).
"""

from __future__ import annotations

import logging
import uuid

from centrex.calls.directory import HuntGroupInfo, UserInfo
from centrex.calls.model import BLeg, Call, CallState
from centrex.calls.services import CallService, Destination

log = logging.getLogger(__name__)


class HuntGroups(CallService):
    name = "hunt_groups"

    def __init__(self) -> None:
        self._next: dict[uuid.UUID, int] = {}  # round-robin: who rings first next time

    def resolve(self, tenant_id: uuid.UUID, extension: str) -> Destination | None:
        group = self.core.directory.hunt_group_by_extension(tenant_id, extension)
        return Destination("hunt_group", group) if group is not None else None

    def deliver(self, call: Call, destination: Destination, now: float) -> bool:
        if destination.kind != "hunt_group" or not isinstance(destination.value, HuntGroupInfo):
            return False
        self.ring(call, destination.value, now)
        return True

    def available(self, user: UserInfo) -> bool:
        return not user.do_not_disturb and not self.core.activity.busy(user.id)

    def ring(self, call: Call, group: HuntGroupInfo, now: float) -> None:
        core = self.core
        call.group, call.target = group, None
        members = [u for u in (core.directory.user(i) for i in group.member_ids) if u is not None]
        members = [u for u in members if u.tenant_id == call.tenant.id]
        if group.strategy == "round_robin" and members:
            start = self._next.get(group.id, 0) % len(members)
            self._next[group.id] = start + 1
            members = members[start:] + members[:start]
        elif group.strategy == "longest_idle":
            idle = core.activity.idle_since
            members.sort(key=lambda u: idle.get(u.id, float("-inf")))
        call.state = CallState.RINGING
        if "ring" not in call.timers:
            core.arm(call, "ring", now + core.max_ring_s)
        if group.strategy == "simultaneous":
            call.hunt = []
            call.legs = []
            for user in members:
                if self.available(user):
                    for binding in core.location.of_user(user.id, now):
                        core.start_leg(call, user, binding)
            if call.legs:
                core.arm(call, "hunt", now + max(1, group.ring_seconds))
            else:
                self.fall_through(call, now)
            return
        call.hunt = members
        self.next_member(call, now)

    def next_member(self, call: Call, now: float) -> None:
        group = call.group
        assert group is not None
        core = self.core
        while call.hunt:
            user = call.hunt.pop(0)
            bindings = core.location.of_user(user.id, now) if self.available(user) else []
            if not bindings:
                continue
            call.legs = []
            for binding in bindings:
                core.start_leg(call, user, binding)
            core.arm(call, "hunt", now + max(1, group.ring_seconds))
            return
        self.fall_through(call, now)

    def fall_through(self, call: Call, now: float) -> None:
        group = call.group
        assert group is not None
        core = self.core
        call.timers.pop("hunt", None)
        destination = (group.no_answer_destination or "").strip()
        log.info("sip.hunt.fall_through call=%s group=%s to=%r", call.id, group.extension, destination)
        call.group = None
        if not destination:
            core.reject(call, 480, now, "no_answer", "hunt_group_no_answer")
            return
        user = core.directory.user_by_extension(call.tenant.id, destination)
        if user is not None:
            core.ring_back(call)
            core.route_to_user(call, user, now)
            return
        other = core.directory.hunt_group_by_extension(call.tenant.id, destination)
        if other is not None and other.id != group.id and call.hops < core.max_forward_hops:
            call.hops += 1
            self.ring(call, other, now)
            return
        core.reject(call, 480, now, "no_answer", "hunt_group_unroutable")

    def timer(self, call: Call, name: str, now: float) -> bool:
        if name != "hunt":
            return False
        if call.state is CallState.RINGING and call.group is not None:
            self.core.cancel_legs(call)
            self.next_member(call, now)
        return True

    def legs_failed(self, call: Call, leg: BLeg, status: int, now: float) -> bool:
        if call.group is None or leg.app:
            return False
        call.timers.pop("hunt", None)
        self.next_member(call, now)
        return True

    def groups_of(self, tenant_id: uuid.UUID, user_id: uuid.UUID) -> list[uuid.UUID]:
        """The groups being hunted now that the user is a member of (group pickup)."""
        found = []
        for call in self.core.calls.values():
            g = call.group
            if g is not None and g.tenant_id == tenant_id and user_id in g.member_ids:
                found.append(g.id)
        return found
