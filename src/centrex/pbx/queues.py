"""Call-center queues (issue #4 point 4): the caller is answered at once and hears music from the
relay while agents are offered the call one at a time (longest idle first, ``agent_ring_s``
each); agents have ``wrap_up_s`` after a queue call; after ``max_wait_s`` the caller overflows.
Every ``announce_position_s`` a waiting caller hears "You are caller number N" over the music, as
Asterisk's app_queue announce-position does. Agents log in and out with *45/*46<queue>.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable

from centrex.calls.directory import QueueInfo, UserInfo
from centrex.calls.features import Match
from centrex.calls.model import BLeg, Call, CallState
from centrex.calls.ports import Announcer
from centrex.calls.services import CallService, Destination
from centrex.media.g711 import Pcm
from centrex.pbx.queue_model import QueueEvent, QueueStore, position_phrase

log = logging.getLogger(__name__)

QUEUE_RETRY_S = 2.0  # nobody free: look again this often
QUEUE_FIRST_ANNOUNCE_S = 1.0  # the first "you are caller number N", once the caller hears us


class Queues(CallService):
    name = "queues"

    def __init__(self, store: QueueStore | None = None) -> None:
        self.store = store
        # Prompt keys -> 8 kHz audio (apps/prompts.py PromptLibrary.phrase of the app server):
        # the position announcements. None: waiting callers hear music only.
        self.prompt_audio: Callable[[tuple[str, ...]], Pcm] | None = None
        self._waiting: dict[uuid.UUID, list[Call]] = {}  # queue id -> callers, oldest first
        self._offering: dict[uuid.UUID, Call] = {}  # agent -> the queue call ringing them
        self._wrap_up_until: dict[uuid.UUID, float] = {}
        self._dispatch_at: dict[uuid.UUID, float] = {}  # queue id -> when to look for agents

    # -- hooks ---------------------------------------------------------------------------------
    def resolve(self, tenant_id: uuid.UUID, extension: str) -> Destination | None:
        queue = self.store.queue_by_extension(tenant_id, extension) if self.store else None
        return Destination("queue", queue) if queue is not None else None

    def deliver(self, call: Call, destination: Destination, now: float) -> bool:
        if destination.kind != "queue":
            return False
        queue = destination.value
        if isinstance(queue, uuid.UUID):  # a DID's target: the queue by id, of the call's tenant
            queue = self.store.queue(queue) if self.store is not None else None
            if queue is None or queue.tenant_id != call.tenant.id:
                return False
        if not isinstance(queue, QueueInfo):
            return False
        self.enter(call, queue, now)
        return True

    def feature(self, call: Call, hit: Match, now: float) -> bool:
        if hit.feature not in ("agent_login", "agent_logout"):
            return False
        self.agent_login(call, hit.argument, hit.feature == "agent_login", now)
        return True

    def next_timer(self) -> float | None:
        return min(self._dispatch_at.values()) if self._dispatch_at else None

    def tick(self, now: float) -> None:
        for queue_id, at in list(self._dispatch_at.items()):
            if at <= now:
                del self._dispatch_at[queue_id]
                self._dispatch(queue_id, now)

    def timer(self, call: Call, name: str, now: float) -> bool:
        if name == "queue_offer":
            if call.queue is not None:
                self._offer_missed(call, now)
        elif name == "queue_max":
            if call.queue is not None:
                self._overflow(call, now)
        elif name == "queue_announce":
            if call.queue is not None:
                self._announce_position(call, now)
        elif name == "feature_done":
            if call.a_dialog is not None:
                self.core.send(call.a_transport, call.a_dialog.create_request("BYE"), call.a_addr)
                self.core.end(call, now, "answered", "feature_code", 200)
        else:
            return False
        return True

    def answered(self, call: Call, leg: BLeg, now: float) -> None:
        queue = call.queue
        if queue is None or call.parked is not None:
            return
        waiting = self._waiting.get(queue.id, [])
        if call in waiting:
            waiting.remove(call)
        self._release_offer(call)
        self.core.media_path.caller_music_off(call)
        call.target = leg.user
        wait_ms = round((now - (call.queued_at if call.queued_at is not None else now)) * 1000)
        self._event("answered", queue, call, agent_id=leg.user.id if leg.user else None, wait_ms=wait_ms)
        log.info(
            "sip.queue.answered call=%s queue=%s agent=%s wait_ms=%d",
            call.id,
            queue.extension,
            leg.label,
            wait_ms,
        )

    def legs_failed(self, call: Call, leg: BLeg, status: int, now: float) -> bool:
        if call.queue is None or leg.app:
            return False
        call.timers.pop("queue_offer", None)
        self._offer_missed(call, now)
        return True

    def ended(self, call: Call, now: float) -> None:
        """Abandoned while waiting, or an agent's call done: wrap-up, then the queue is looked at."""
        queue = call.queue
        if queue is not None:
            waiting = self._waiting.get(queue.id, [])
            if call in waiting:
                waiting.remove(call)
                wait_ms = round((now - (call.queued_at if call.queued_at is not None else now)) * 1000)
                self._event("abandoned", queue, call, wait_ms=wait_ms)
            self._release_offer(call)
            agent = call.answered.user if call.answered is not None else None
            if agent is not None:
                self.wrap_up(agent.id, queue, now)
        for queue_id, waiting in self._waiting.items():
            if waiting:  # someone may be free now
                self._dispatch_at.setdefault(queue_id, now)

    # -- what park needs -----------------------------------------------------------------------
    def is_waiting(self, call: Call) -> bool:
        return call.queue is not None and call in self._waiting.get(call.queue.id, [])

    def wrap_up(self, agent_id: uuid.UUID, queue: QueueInfo, now: float) -> None:
        """The agent's part of a queue call is done: wrap-up from now, then the queue is looked at."""
        self._wrap_up_until[agent_id] = now + queue.wrap_up_s
        self._dispatch_at[queue.id] = now + queue.wrap_up_s

    # -- the queue -----------------------------------------------------------------------------
    def _event(self, kind: str, queue: QueueInfo, call: Call | None = None, **kw: object) -> None:
        if self.store is None:
            return
        try:
            self.store.record(
                QueueEvent(kind, queue.id, queue.tenant_id, self.core.wall(), call.id if call else None, **kw)  # type: ignore[arg-type]
            )
        except Exception:
            log.exception("sip.queue.event_failed queue=%s kind=%s", queue.id, kind)

    def enter(self, call: Call, queue: QueueInfo, now: float) -> None:
        core = self.core
        if call.anchor is None or core.media is None:
            core.reject(
                call, 480, now, "failed", "queue_needs_media", "Temporarily Unavailable (no media relay)"
            )
            return
        pt = core.answer_locally(call, now)
        if pt is None:
            return
        call.queue, call.queued_at, call.target, call.group = queue, now, None, None
        call.state, call.legs = CallState.RINGING, []
        call.timers.pop("ring", None)
        core.answered_event(call, queue.extension)
        core.media_path.caller_music(call, pt, True)
        self._waiting.setdefault(queue.id, []).append(call)
        self._event("entered", queue, call)
        core.arm(call, "queue_max", now + max(1, queue.max_wait_s))
        if queue.announce_position_s > 0:
            core.arm(call, "queue_announce", now + QUEUE_FIRST_ANNOUNCE_S)
        log.info(
            "sip.queue.enter call=%s queue=%s waiting=%d",
            call.id,
            queue.extension,
            len(self._waiting[queue.id]),
        )
        self._dispatch(queue.id, now)

    def _announce_position(self, call: Call, now: float) -> None:
        """ "You are caller number N" over the music, N the caller's place among the queue's
        waiting callers (oldest first); once on entry, then every ``announce_position_s`` until an
        agent answers (answering clears the call's timers) or the call overflows."""
        queue = call.queue
        waiting = self._waiting.get(queue.id, []) if queue is not None else []
        if queue is None or call not in waiting or queue.announce_position_s <= 0:
            return
        self.core.arm(call, "queue_announce", now + queue.announce_position_s)
        media, prompts = self.core.media, self.prompt_audio
        if not isinstance(media, Announcer) or prompts is None:
            return
        position = waiting.index(call) + 1
        try:
            media.announce(str(call.id), "a", call.a_codec or 0, prompts(position_phrase(position)))
        except Exception:  # a prompt that cannot be played: the caller keeps the music
            log.exception("sip.queue.announce_failed call=%s", call.id)
            return
        log.info("sip.queue.position call=%s queue=%s position=%d", call.id, queue.extension, position)

    def _agent_free(self, user: UserInfo, now: float) -> bool:
        return (
            not user.do_not_disturb
            and not self.core.activity.busy(user.id)
            and self._wrap_up_until.get(user.id, 0.0) <= now
            and user.id not in self._offering
            and bool(self.core.location.of_user(user.id, now))
        )

    def _dispatch(self, queue_id: uuid.UUID, now: float) -> None:
        """Offer waiting callers, oldest first, to free agents, longest idle first."""
        core = self.core
        waiting = self._waiting.get(queue_id)
        if not waiting or self.store is None:
            return
        agents = [u for u in (core.directory.user(i) for i in self.store.agents(queue_id)) if u is not None]
        idle = core.activity.idle_since
        agents.sort(key=lambda u: idle.get(u.id, float("-inf")))
        retry = False
        for call in list(waiting):
            if call.legs:
                continue  # already ringing an agent
            free = [u for u in agents if u.tenant_id == call.tenant.id and self._agent_free(u, now)]
            if not free:
                retry = retry or bool(agents)
                break
            fresh = [u for u in free if u.id not in call.offered]
            if not fresh:
                call.offered.clear()  # everyone had a turn: start a new round
                fresh = free
            agent = fresh[0]
            call.offered.add(agent.id)
            for binding in core.location.of_user(agent.id, now):
                core.start_leg(call, agent, binding)
            self._offering[agent.id] = call
            assert call.queue is not None
            core.arm(call, "queue_offer", now + max(1, call.queue.agent_ring_s))
            agents = [u for u in agents if u.id != agent.id]
        if retry:
            self._dispatch_at[queue_id] = min(
                self._dispatch_at.get(queue_id, now + QUEUE_RETRY_S), now + QUEUE_RETRY_S
            )

    def _release_offer(self, call: Call) -> None:
        for agent_id, offered in list(self._offering.items()):
            if offered is call:
                del self._offering[agent_id]

    def _offer_missed(self, call: Call, now: float) -> None:
        """The agent did not answer in ``agent_ring_s`` (or refused): the next one is tried."""
        if call.queue is None or call not in self._waiting.get(call.queue.id, []):
            return
        call.timers.pop("queue_offer", None)
        self.core.cancel_legs(call)
        self._release_offer(call)
        self._dispatch_at[call.queue.id] = now  # on the next timer turn, with the others

    def _overflow(self, call: Call, now: float) -> None:
        core = self.core
        queue = call.queue
        assert queue is not None
        waiting = self._waiting.get(queue.id, [])
        if call not in waiting:
            return
        waiting.remove(call)
        core.cancel_legs(call)
        self._release_offer(call)
        core.media_path.caller_music_off(call)
        wait_ms = round((now - (call.queued_at if call.queued_at is not None else now)) * 1000)
        self._event("overflowed", queue, call, wait_ms=wait_ms)
        call.queue = None
        destination = (queue.overflow_destination or "").strip()
        log.info("sip.queue.overflow call=%s queue=%s to=%r", call.id, queue.extension, destination)
        user = core.directory.user_by_extension(call.tenant.id, destination) if destination else None
        group = (
            None
            if user or not destination
            else core.directory.hunt_group_by_extension(call.tenant.id, destination)
        )
        if user is not None:
            core.route_to_user(call, user, now)
        elif group is not None:
            core.deliver(call, Destination("hunt_group", group), now)
        elif destination.startswith("vm-") or destination.startswith("aa."):
            core.route_to_app(call, destination, now)
        else:
            core.reject(call, 480, now, "no_answer", "queue_overflow")

    def agent_login(self, call: Call, extension: str, on: bool, now: float) -> None:
        """*45<queue> logs the caller in as an agent, *46<queue> out: answered, confirmed with a
        short pause, hung up. Only the queue's members may log in."""
        core = self.core
        queue = self.store.queue_by_extension(call.tenant.id, extension) if self.store else None
        caller = call.caller
        if queue is None or caller is None or self.store is None:
            core.reject(call, 404, now, "failed", "no_such_queue", "Not Found (no such queue)")
            return
        if caller.id not in self.store.members(queue.id):
            core.reject(call, 403, now, "rejected", "not_an_agent", "Forbidden (not an agent of this queue)")
            return
        self.store.set_logged_in(queue.id, caller.id, on)
        self._event("agent_login" if on else "agent_logout", queue, call, agent_id=caller.id)
        log.info(
            "sip.queue.agent call=%s queue=%s agent=%s logged_in=%s", call.id, extension, caller.extension, on
        )
        if on:
            self._dispatch_at[queue.id] = now
        if call.anchor is None:
            core.reject(call, 480, now, "answered", "agent_login_done", "Logged in" if on else "Logged out")
            return
        if core.answer_locally(call, now) is not None:
            core.arm(call, "feature_done", now + 1.0)
