"""Presence: RFC 3856 SUBSCRIBE (Event: presence) to a colleague's extension, answered with RFC
3863 PIDF bodies — available (a phone registered, no call), busy (in an answered call), DND (the
user's do-not-disturb, pbx user settings), unavailable (no phone registered).

Registrations and DND changes are not call events: watched users are re-read every few seconds,
and at once on their calls' answers and ends; a NOTIFY goes only when the state changed."""

from __future__ import annotations

import uuid

from centrex.calls.model import BLeg, Call, CallState
from centrex.pbx import pidf
from centrex.pbx.subscriptions import DeviceLimit, Subscription, Subscriptions

POLL_S = 2.0  # how late a registration or DND change may show on a watcher's key


class Presence(Subscriptions):
    name = "presence"
    package = "presence"
    events = ("presence",)
    content_type = pidf.CONTENT_TYPE

    def __init__(self, limit: DeviceLimit | None = None) -> None:
        super().__init__(limit)
        self._poll_at: float | None = None

    def _on_call(self, tenant_id: uuid.UUID) -> set[uuid.UUID]:
        """Users of the tenant in an answered call, as caller or answering phone."""
        busy: set[uuid.UUID] = set()
        for call in self.core.calls.values():
            if call.tenant.id != tenant_id or call.state is not CallState.ANSWERED:
                continue
            if call.caller is not None:
                busy.add(call.caller.id)
            if call.answered is not None and call.answered.user is not None:
                busy.add(call.answered.user.id)
        return busy

    def state(self, sub: Subscription, now: float, on_call: set[uuid.UUID] | None = None) -> str:
        core = self.core
        user = core.directory.user(sub.watched.id)
        if user is None or user.tenant_id != sub.tenant_id or not core.location.of_user(user.id, now):
            return pidf.UNAVAILABLE
        if user.do_not_disturb:
            return pidf.DND
        if on_call is None:
            on_call = self._on_call(sub.tenant_id)
        return pidf.BUSY if user.id in on_call else pidf.AVAILABLE

    def body(self, sub: Subscription, now: float) -> bytes:
        sub.shown = self.state(sub, now)
        return pidf.render(sub.entity, str(sub.shown))

    def subscribed(self, sub: Subscription, now: float) -> None:
        if self._poll_at is None:
            self._poll_at = now + POLL_S

    def recheck(self, tenant_id: uuid.UUID | None, now: float) -> None:
        """NOTIFY every watcher (of the tenant, or all) whose watched user's state changed."""
        on_call: dict[uuid.UUID, set[uuid.UUID]] = {}
        for sub in list(self.subs.values()):
            if tenant_id is not None and sub.tenant_id != tenant_id:
                continue
            if sub.tenant_id not in on_call:
                on_call[sub.tenant_id] = self._on_call(sub.tenant_id)
            state = self.state(sub, now, on_call[sub.tenant_id])
            if state != sub.shown:
                sub.shown = state
                self.notify(sub, now, body=pidf.render(sub.entity, state))

    def answered(self, call: Call, leg: BLeg, now: float) -> None:
        if self.subs:
            self.recheck(call.tenant.id, now)

    def ended(self, call: Call, now: float) -> None:
        if self.subs:
            # The call is already out of core.calls: its parties show idle again.
            self.recheck(call.tenant.id, now)

    def next_timer(self) -> float | None:
        first = super().next_timer()
        if self._poll_at is not None and (first is None or self._poll_at < first):
            return self._poll_at
        return first

    def tick(self, now: float) -> None:
        super().tick(now)
        if self._poll_at is None or now < self._poll_at:
            return
        self._poll_at = now + POLL_S if self.subs else None
        self.recheck(None, now)
