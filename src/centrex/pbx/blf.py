"""BLF: the RFC 4235 dialog event package. A phone SUBSCRIBEs (Event: dialog) to a colleague's
extension and gets a dialog-info NOTIFY when that colleague's phone rings (early), answers
(confirmed) and hangs up (terminated) — for calls the watcher is not in.

What the watched user is doing is read from the calls in progress (``core.calls``), never kept
twice: a call event (a leg ringing, answered, ended, a pickup's CallAnswered) re-reads that call;
a once-a-second check catches what no event announces (a ringing leg cancelled because another
phone or a hunt group member answered)."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from centrex.calls.events import CallAnswered
from centrex.calls.model import BLeg, Call, CallState, LegState
from centrex.pbx import dialog_info
from centrex.pbx.dialog_info import CONFIRMED, EARLY, DialogEntry
from centrex.pbx.subscriptions import DeviceLimit, Subscription, Subscriptions
from centrex.sip.message import Response

if TYPE_CHECKING:
    from centrex.calls.engine import CallEngine

RECHECK_S = 1.0  # how soon a ringing key goes dark after its leg was cancelled (no event says so)


class DialogEvents(Subscriptions):
    name = "blf"
    package = "dialog"
    events = ("dialog",)
    content_type = dialog_info.CONTENT_TYPE

    def __init__(self, limit: DeviceLimit | None = None) -> None:
        super().__init__(limit)
        # Per watched user: the dialogs its watchers were last told of, by dialog id.
        self.shown: dict[uuid.UUID, dict[str, tuple[uuid.UUID, DialogEntry]]] = {}
        self.watchers: dict[uuid.UUID, list[Subscription]] = {}
        self._to_tags: dict[str, str] = {}  # a ringing leg's Call-ID → the phone's To tag
        self._recheck_at: float | None = None
        self._dirty: set[uuid.UUID] = set()

    def attach(self, core: CallEngine) -> None:
        super().attach(core)
        core.listeners.append(self._call_event)  # a pickup's answer comes as a CallAnswered only

    # -- subscriptions -------------------------------------------------------------------------
    def subscribed(self, sub: Subscription, now: float) -> None:
        uid = sub.watched.id
        if uid not in self.watchers:
            self.watchers[uid] = []
            self.shown[uid] = {
                e.id: (c.id, e) for c in self._calls_of_tenant(sub.tenant_id) for e in self.entries(c, uid)
            }
        self.watchers[uid].append(sub)

    def dropped(self, sub: Subscription) -> None:
        uid = sub.watched.id
        left = [s for s in self.watchers.get(uid, []) if s is not sub]
        if left:
            self.watchers[uid] = left
        else:
            self.watchers.pop(uid, None)
            self.shown.pop(uid, None)

    def body(self, sub: Subscription, now: float, ended: list[DialogEntry] | None = None) -> bytes:
        current = [entry for _, entry in self.shown.get(sub.watched.id, {}).values()]
        version = sub.version
        sub.version += 1
        return dialog_info.render(sub.entity, version, current + (ended or []))

    # -- what a user is doing ------------------------------------------------------------------
    def _calls_of_tenant(self, tenant_id: uuid.UUID) -> list[Call]:
        return [c for c in self.core.calls.values() if c.tenant.id == tenant_id]

    def entries(self, call: Call, user_id: uuid.UUID) -> list[DialogEntry]:
        """The user's dialogs in this call: ringing or answered legs to its phones, and its own
        call as the caller."""
        if call.state is CallState.ENDED:
            return []
        domain = call.tenant.domain
        found: list[DialogEntry] = []
        caller = call.caller
        if caller is not None:
            caller_uri, caller_name = f"sip:{caller.extension}@{domain}", caller.name
        else:
            caller_uri, caller_name = f"sip:{call.remote_number or 'anonymous'}@{domain}", ""
        if (
            caller is not None
            and caller.id == user_id
            and call.state in (CallState.RINGING, CallState.ANSWERED)
        ):
            answered = call.answered
            other = answered.user if answered is not None else call.target
            other_uri = f"sip:{other.extension if other else call.dialled}@{domain}"
            state = CONFIRMED if call.state is CallState.ANSWERED else EARLY
            found.append(
                DialogEntry(
                    call.a_invite.call_id,
                    state,
                    "initiator",
                    call.a_invite.call_id,
                    call.a_invite.from_.tag or "",
                    call.a_tag,
                    caller_uri,
                    other_uri,
                    other.name if other else "",
                )
            )
        for leg in call.all_legs:
            if leg.user is None or leg.user.id != user_id:
                continue
            if leg.state is LegState.RINGING and leg in call.legs and call.state is CallState.RINGING:
                state = EARLY
            elif leg.state is LegState.ANSWERED and leg is call.answered:
                state = CONFIRMED
            else:
                continue
            found.append(self._leg_entry(leg, state, domain, caller_uri, caller_name))
        return found

    def _leg_entry(
        self, leg: BLeg, state: str, domain: str, caller_uri: str, caller_name: str
    ) -> DialogEntry:
        assert leg.user is not None
        if leg.dialog is not None:  # ours is the UAC side: the phone's tag is our remote tag
            call_id, phone_tag, our_tag = leg.dialog.call_id, leg.dialog.remote_tag, leg.dialog.local_tag
        else:
            call_id = leg.invite.call_id
            phone_tag, our_tag = self._to_tags.get(call_id, ""), leg.invite.from_.tag or ""
        return DialogEntry(
            call_id,
            state,
            "recipient",
            call_id,
            phone_tag,
            our_tag,
            f"sip:{leg.user.extension}@{domain}",
            caller_uri,
            caller_name,
        )

    # -- keeping watchers told -----------------------------------------------------------------
    def sync(self, call: Call, now: float) -> None:
        """Re-read what each watched user of the call's tenant does in this call; NOTIFY changes."""
        for uid, subs in self.watchers.items():
            if not subs or subs[0].tenant_id != call.tenant.id:
                continue
            shown = self.shown.setdefault(uid, {})
            before = {k: e for k, (cid, e) in shown.items() if cid == call.id}
            after = {e.id: e for e in self.entries(call, uid)}
            if before == after:
                continue
            ended = [e.ended() for k, e in before.items() if k not in after]
            for k in before:
                if k not in after:
                    del shown[k]
                    self._to_tags.pop(k, None)
            for k, e in after.items():
                shown[k] = (call.id, e)
            if self._recheck_at is None and any(e.state == EARLY for e in after.values()):
                self._recheck_at = now + RECHECK_S
            for sub in subs:
                self._send(sub, now, ended)

    def _send(self, sub: Subscription, now: float, ended: list[DialogEntry]) -> None:
        self.notify(sub, now, body=self.body(sub, now, ended))

    def _watched(self, leg: BLeg) -> bool:
        return leg.user is not None and leg.user.id in self.watchers

    def leg_ringing(self, leg: BLeg, resp: Response, now: float) -> None:
        if self._watched(leg):
            self._to_tags[leg.invite.call_id] = resp.to.tag or ""
        if self.watchers:
            self.sync(leg.call, now)

    def answered(self, call: Call, leg: BLeg, now: float) -> None:
        if self.watchers:
            self.sync(call, now)

    def ended(self, call: Call, now: float) -> None:
        if self.watchers:
            self.sync(call, now)
        for leg in call.all_legs:  # every leg that rang belongs to a call that ends
            self._to_tags.pop(leg.invite.call_id, None)

    def legs_failed(self, call: Call, leg: BLeg, status: int, now: float) -> bool:
        if self.watchers:
            self.sync(call, now)
        return False

    def _call_event(self, event: object) -> None:
        # No clock comes with a call event: the call is re-read on the next timer turn, at once.
        if isinstance(event, CallAnswered) and self.watchers:
            self._dirty.add(event.call_id)
            self._recheck_at = 0.0

    def next_timer(self) -> float | None:
        first = super().next_timer()
        if self._recheck_at is not None and (first is None or self._recheck_at < first):
            return self._recheck_at
        return first

    def tick(self, now: float) -> None:
        super().tick(now)
        if self._recheck_at is None or now < self._recheck_at:
            return
        self._recheck_at = None
        due, self._dirty = self._dirty, set()
        due.update(cid for shown in self.shown.values() for cid, e in shown.values() if e.state == EARLY)
        for cid in due:
            call = self.core.calls.get(cid)
            if call is not None:
                self.sync(call, now)
            else:
                self._forget_call(cid, now)

    def _forget_call(self, call_id: uuid.UUID, now: float) -> None:
        """A call that ended without our hearing (should not happen): its dialogs terminated."""
        for uid, shown in self.shown.items():
            ended = [e.ended() for cid, e in shown.values() if cid == call_id]
            if not ended:
                continue
            for e in ended:
                del shown[e.id]
            for sub in self.watchers.get(uid, []):
                self._send(sub, now, ended)
