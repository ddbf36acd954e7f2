"""Conference bridges on the app server (issue 4 point 6): rooms of parties mixed by apps/mixer.py.

Reached at three Request-URI users: ``conf-main`` (the ``*55`` feature code: the caller keys the
bridge's number, then its PIN), ``conf.<bridge uuid>`` (the bridge's own extension: only the PIN,
when it has one) and ``conf-adhoc.<uuid>`` (three-way calling: a room with no bridge row, no PIN and
no prompt, at most ``adhoc_max_parties``, for the switch to send the legs of a call and the added
party to under one fresh UUID; the room belongs to the tenant of its first party).

A bridge with a PIN admits a party who keys that PIN or the moderator PIN (three tries); one with
only a moderator PIN admits everyone, a moderator by keying it.

A room exists while it has parties. Each party's CallMedia hands every decoded frame it receives to
the party's inbox (``on_audio``); one task per room ticks every 20 ms on the loop clock, takes one
frame from each inbox (none: silence), mixes and sends each party the others (``send_stream_frame``).
Inboxes hold at most 120 ms and restart with 40 ms buffered after running dry, so a party's jitter
costs that party's audio a frame now and then, never the room its pace. A full room says so and
hangs up; the last party out closes the room. Who is in which room is live state, read by the API
through ``participants()``.
"""

from __future__ import annotations

import asyncio
import logging
import re
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from centrex.apps.media import FRAME, FRAME_S, CallMedia
from centrex.apps.mixer import Mixer
from centrex.apps.phrases import TEXTS
from centrex.apps.prompts import PromptLibrary
from centrex.apps.voicemail import CallerInfo
from centrex.media.g711 import Pcm
from centrex.store.credentials import verify_password
from centrex.store.models.conferences import ConferenceBridge

log = logging.getLogger(__name__)

MAIN = "conf-main"
_BY_ID = re.compile(r"^conf\.([0-9a-fA-F-]{32,36})$")
_ADHOC = re.compile(r"^conf-adhoc\.([0-9a-fA-F-]{32,36})$")

# The conference's phrases join the one catalogue (prompts.prepare renders every key of TEXTS).
TEXTS.update(
    {
        "conf-enter-number": "Please enter the conference number, then press pound.",
        "conf-enter-pin": "Please enter the conference PIN, then press pound.",
        "conf-no-such": "There is no conference with that number.",
        "conf-pin-incorrect": "That PIN is not correct.",
        "conf-full": "This conference is full. Please try again later. Goodbye.",
        "conf-joining": "You are joining the conference.",
        "conf-first": "You are the first person in the conference.",
    }
)


def is_conference(user: str | None) -> bool:
    """Is this Request-URI user one of the conference's?"""
    return user == MAIN or _BY_ID.match(user or "") is not None or _ADHOC.match(user or "") is not None


def bridge_id_of(user: str | None, pattern: re.Pattern[str] = _BY_ID) -> uuid.UUID | None:
    match = pattern.match(user or "")
    if match is None:
        return None
    try:
        return uuid.UUID(match.group(1))
    except ValueError:
        return None


@dataclass(frozen=True)
class BridgeInfo:
    id: uuid.UUID
    tenant_id: uuid.UUID
    name: str
    extension: str
    pin_hash: str | None
    moderator_pin_hash: str | None
    max_parties: int
    announce: bool

    @property
    def asks_pin(self) -> bool:
        return bool(self.pin_hash or self.moderator_pin_hash)


@dataclass(frozen=True)
class ConferenceSettings:
    first_digit_s: float = 5.0
    next_digit_s: float = 3.0
    tries: int = 3
    max_digits: int = 10
    adhoc_max_parties: int = 3  # three-way calling


@dataclass(frozen=True)
class Participant:
    """What the API shows of one party in a room."""

    id: uuid.UUID
    caller: str
    caller_name: str
    user_id: uuid.UUID | None
    moderator: bool
    joined_at: datetime


class ConferenceStore:
    """The bridges, read for the app (blocking: call it in a thread)."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def bridge(self, tenant_id: uuid.UUID, bridge_id: uuid.UUID) -> BridgeInfo | None:
        return self._one(
            select(ConferenceBridge).where(
                ConferenceBridge.tenant_id == tenant_id, ConferenceBridge.id == bridge_id
            )
        )

    def by_number(self, tenant_id: uuid.UUID, number: str) -> BridgeInfo | None:
        return self._one(
            select(ConferenceBridge).where(
                ConferenceBridge.tenant_id == tenant_id, ConferenceBridge.extension == number
            )
        )

    def _one(self, stmt: object) -> BridgeInfo | None:
        with self.sessions() as s:
            row = s.scalars(stmt).first()  # type: ignore[call-overload]
            if row is None:
                return None
            return BridgeInfo(
                row.id,
                row.tenant_id,
                row.name,
                row.extension,
                row.pin_hash,
                row.moderator_pin_hash,
                row.max_parties,
                row.announce,
            )


class Inbox:
    """What one party sent, waiting for the room's tick: whole 20 ms frames out, whatever size in."""

    MAX = 6 * FRAME  # 120 ms: more is dropped from the front (old audio is worse than lost audio)
    PRIME = 2 * FRAME  # after running dry, wait for 40 ms before playing again

    def __init__(self) -> None:
        self._parts: deque[Pcm] = deque()
        self._size = 0
        self._primed = False

    def push(self, pcm: Pcm) -> None:
        if not len(pcm):
            return
        self._parts.append(pcm)
        self._size += len(pcm)
        while self._size > self.MAX:
            self._drop(self._size - self.PRIME)

    def _drop(self, n: int) -> None:
        while n > 0 and self._parts:
            head = self._parts[0]
            if len(head) <= n:
                self._parts.popleft()
                self._size -= len(head)
                n -= len(head)
            else:
                self._parts[0] = head[n:]
                self._size -= n
                n = 0

    def take(self) -> Pcm | None:
        if not self._primed:
            if self._size < self.PRIME:
                return None
            self._primed = True
        if self._size < FRAME:
            self._primed = False
            return None
        out: list[Pcm] = []
        need = FRAME
        while need:
            head = self._parts[0]
            if len(head) <= need:
                out.append(self._parts.popleft())
                need -= len(head)
            else:
                out.append(head[:need])
                self._parts[0] = head[need:]
                need = 0
        self._size -= FRAME
        return out[0] if len(out) == 1 else np.concatenate(out)


@dataclass
class _Party:
    info: Participant
    media: CallMedia
    inbox: Inbox = field(default_factory=Inbox)


class Room:
    """One bridge's live room: its parties, its mixer and the 20 ms tick that serves them."""

    def __init__(self, bridge: BridgeInfo, on_empty: object) -> None:
        self.bridge = bridge
        self.mixer: Mixer[uuid.UUID] = Mixer()
        self.parties: dict[uuid.UUID, _Party] = {}
        self._on_empty = on_empty
        self._task: asyncio.Task[None] | None = None
        self.ticks = 0

    @property
    def full(self) -> bool:
        return len(self.parties) >= self.bridge.max_parties

    def join(self, party: _Party) -> None:
        self.parties[party.info.id] = party
        self.mixer.add(party.info.id, tone=self.bridge.announce)
        party.media.on_audio = party.inbox.push
        if self._task is None:
            self._task = asyncio.ensure_future(self._run())

    def leave(self, party_id: uuid.UUID) -> None:
        party = self.parties.pop(party_id, None)
        if party is None:
            return
        party.media.on_audio = None
        party.media.end_stream()
        self.mixer.remove(party_id, tone=self.bridge.announce)
        if not self.parties:
            if self._task is not None:
                self._task.cancel()
            self._on_empty(self)  # type: ignore[operator]

    def tick(self) -> None:
        frames = {pid: p.inbox.take() for pid, p in self.parties.items()}
        for pid, out in self.mixer.tick(frames).items():
            party = self.parties.get(pid)
            if party is not None and not party.media.closed.is_set():
                party.media.send_stream_frame(out)
        self.ticks += 1

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        start = loop.time()
        n = 0
        while self.parties:
            try:
                self.tick()
            except Exception:  # one bad frame must not end the room
                log.exception("conference %s: tick failed", self.bridge.id)
            n += 1
            due = start + n * FRAME_S
            now = loop.time()
            if now - due > 0.1:  # the loop stalled: start the schedule again rather than burst
                start, n, due = now, 0, now
            await asyncio.sleep(max(0.0, due - loop.time()))


class ConferenceApp:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        prompts: PromptLibrary,
        settings: ConferenceSettings | None = None,
    ) -> None:
        self.store = ConferenceStore(sessions)
        self.prompts = prompts
        self.settings = settings or ConferenceSettings()
        self.rooms: dict[uuid.UUID, Room] = {}

    # -- the API's view -----------------------------------------------------------------------------
    def participants(self, tenant_id: uuid.UUID, bridge_id: uuid.UUID) -> list[Participant]:
        """Who is in the bridge's room now (empty when nobody is). Read from any thread."""
        room = self.rooms.get(bridge_id)
        if room is None or room.bridge.tenant_id != tenant_id:
            return []
        return sorted((p.info for p in list(room.parties.values())), key=lambda i: i.joined_at)

    # -- checks before answering ----------------------------------------------------------------------
    async def exists(self, tenant_id: uuid.UUID, user: str | None) -> bool:
        """``conf.<uuid>`` must name a bridge of the tenant (else 404 before answering)."""
        adhoc = bridge_id_of(user, _ADHOC)
        if adhoc is not None:  # a room of another tenant under that UUID is as good as none
            room = self.rooms.get(adhoc)
            return room is None or room.bridge.tenant_id == tenant_id
        bridge_id = bridge_id_of(user)
        if bridge_id is None:
            return user == MAIN
        return await asyncio.to_thread(self.store.bridge, tenant_id, bridge_id) is not None

    # -- the call -----------------------------------------------------------------------------------
    async def run(self, media: CallMedia, caller: CallerInfo, user: str) -> None:
        bridge: BridgeInfo | None
        bridge_id = bridge_id_of(user)
        adhoc = bridge_id_of(user, _ADHOC)
        if adhoc is not None:
            bridge = BridgeInfo(
                adhoc, caller.tenant_id, "three-way", "", None, None, self.settings.adhoc_max_parties, True
            )
            room = self.rooms.get(adhoc)
            if room is not None and room.bridge.tenant_id != caller.tenant_id:
                return
            if self._full(bridge):
                await self._say(media, "conf-full")
                return
            await self._enter(media, caller, bridge, False)
            return
        if bridge_id is not None:
            bridge = await asyncio.to_thread(self.store.bridge, caller.tenant_id, bridge_id)
        else:
            bridge = await self._ask_bridge(media, caller.tenant_id)
        if bridge is None or media.closed.is_set():
            return
        moderator = await self._ask_pin(media, bridge)
        if moderator is None or media.closed.is_set():
            return
        if self._full(bridge):
            await self._say(media, "conf-full")
            return
        first = bridge.id not in self.rooms
        await self._say(media, "conf-joining", *(("conf-first",) if first else ()))
        if media.closed.is_set():
            return
        if self._full(bridge):  # filled while the prompt played
            await self._say(media, "conf-full")
            return
        await self._enter(media, caller, bridge, moderator)

    async def run_named(
        self, media: CallMedia, caller: CallerInfo, room_id: uuid.UUID, name: str, max_parties: int
    ) -> None:
        """A voice app's <Conference>name</Conference> (cpaas/voice): a room of the tenant without
        a bridge row, PIN or prompt, up to ``max_parties``, until the call ends."""
        bridge = BridgeInfo(room_id, caller.tenant_id, name[:100], "", None, None, max_parties, True)
        room = self.rooms.get(room_id)
        if room is not None and room.bridge.tenant_id != caller.tenant_id:
            return
        if self._full(bridge):
            await self._say(media, "conf-full")
            return
        await self._enter(media, caller, bridge, False)

    async def _enter(self, media: CallMedia, caller: CallerInfo, bridge: BridgeInfo, moderator: bool) -> None:
        """Into the room (made if it is not there) until the call ends."""
        room = self.rooms.get(bridge.id)
        if room is None:
            room = self.rooms[bridge.id] = Room(bridge, self._closed)
        info = Participant(
            uuid.uuid4(),
            caller.caller,
            caller.caller_name,
            caller.caller_user,
            moderator,
            datetime.now(UTC),
        )
        room.join(_Party(info, media))
        log.info("conference %s: %s joined (%d in the room)", bridge.id, caller.caller, len(room.parties))
        try:
            await media.closed.wait()
        finally:
            room.leave(info.id)
            log.info("conference %s: %s left", bridge.id, caller.caller)

    def _full(self, bridge: BridgeInfo) -> bool:
        room = self.rooms.get(bridge.id)
        return room is not None and room.full

    def _closed(self, room: Room) -> None:
        if self.rooms.get(room.bridge.id) is room:
            del self.rooms[room.bridge.id]
            log.info("conference %s: room closed", room.bridge.id)

    async def _say(self, media: CallMedia, *keys: str, interrupt: str = "") -> str | None:
        return await media.play(self.prompts.phrase(keys), interrupt=interrupt)

    async def _collect(self, media: CallMedia, prompt: str) -> str | None:
        """Digits keyed until # (or a pause), the prompt cut by the first key; None: nothing keyed."""
        first = await self._say(media, prompt, interrupt="0123456789*#")
        digits = "" if first is None else first
        if digits != "#":
            timeout = self.settings.first_digit_s if not digits else self.settings.next_digit_s
            while len(digits) < self.settings.max_digits:
                d = await media.next_digit(timeout)
                if d is None or d == "#":
                    break
                digits += d
                timeout = self.settings.next_digit_s
        digits = digits.rstrip("#")
        return digits if digits else None

    async def _ask_bridge(self, media: CallMedia, tenant_id: uuid.UUID) -> BridgeInfo | None:
        for _ in range(self.settings.tries):
            number = await self._collect(media, "conf-enter-number")
            if media.closed.is_set():
                return None
            if number is not None:
                bridge = await asyncio.to_thread(self.store.by_number, tenant_id, number)
                if bridge is not None:
                    return bridge
            await self._say(media, "conf-no-such")
        await self._say(media, "vm-goodbye")
        return None

    async def _ask_pin(self, media: CallMedia, bridge: BridgeInfo) -> bool | None:
        """True: a moderator; False: a party; None: not admitted (hang up)."""
        if not bridge.asks_pin:
            return False
        for _ in range(self.settings.tries):
            pin = await self._collect(media, "conf-enter-pin")
            if media.closed.is_set():
                return None
            entered = pin or ""
            ok_mod, ok_pin = await asyncio.to_thread(_check_pins, bridge, entered)
            if ok_mod:
                return True
            if ok_pin or (bridge.pin_hash is None and not entered):
                return False
            await self._say(media, "conf-pin-incorrect")
        await self._say(media, "vm-goodbye")
        return None


def _check_pins(bridge: BridgeInfo, entered: str) -> tuple[bool, bool]:
    """argon2 is slow on purpose: run in a thread."""
    if not entered:
        return False, False
    moderator = bool(bridge.moderator_pin_hash) and verify_password(bridge.moderator_pin_hash, entered)
    party = bool(bridge.pin_hash) and verify_password(bridge.pin_hash, entered)
    return moderator, party
