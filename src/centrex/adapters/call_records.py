"""Durable call state: CDRs when calls end, the journal of calls in progress, and registrations.

DESIGN.md: "a CDR that was produced is never lost, even if the process is killed". The CDR of a
call is written in one transaction when the call ends: billing's ``cdrs`` row (what rating reads),
its ``cdr_outcomes`` row (end, hang-up cause, SIP code) and one ``cdr_legs`` row per device rung,
and the call's ``active_calls`` journal row is deleted in the same transaction. The journal row
is written when the call starts, so after a ``kill -9`` every call that had ended has its CDR
and every call that had not is found at the next start and closed as interrupted.

Writes leave the event loop: once ``start()`` has run, one writer thread owns them and commits
with *group commit* — everything queued while the previous commit ran goes into the next
transaction, so one fsync serves every call that ended in the meantime. Each call write returns a
sequence number; the SIP service holds every message it sends after that write (transport/base.py
OutputGate) until the writer reports the number committed. So nobody is told that a call rang,
was answered or ended before the store holds it: a call whose end anyone heard of has its CDR,
and a call anyone heard of at all has at least its journal row. Before ``start()`` (tests, tools)
each write is its own transaction, made at once.

Registrations are batched the same way but hold nothing back: a REGISTER is answered at once. A
crash can lose the registrations answered during the last commit (a few milliseconds): a lost
refresh is harmless (the stored row still holds the previous expiry and the phone refreshes again),
a lost new registration leaves that phone unreachable for incoming calls until its next REGISTER,
and a lost unregistration brings back a contact that is gone until it expires.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import socket
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, Table, and_, bindparam, delete, insert, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from centrex.adapters.interrupted import Recovered, close_interrupted
from centrex.adapters.registration_sync import Change, notify_changes
from centrex.calls.events import CallAnswered, CallDialogs, CallEnded, CallStarted
from centrex.calls.location import AorKey, Binding, LocationService, contact_key
from centrex.numbers.classes import CallClass, Direction
from centrex.store.db import transaction
from centrex.store.models import ActiveCall, CallDetail, CdrLeg, CdrOutcome, Registration, SwitchNode

log = logging.getLogger(__name__)

# billing/cdr.py Disposition has these five; the engine's finer outcomes map onto them and are kept
# verbatim in cdr_outcomes.outcome.
BILLING_DISPOSITIONS = {"answered", "no_answer", "busy", "failed", "cancelled"}

_CDRS: Table = CallDetail.__table__  # type: ignore[assignment]
_OUTCOMES: Table = CdrOutcome.__table__  # type: ignore[assignment]
_LEGS: Table = CdrLeg.__table__  # type: ignore[assignment]
_JOURNAL: Table = ActiveCall.__table__  # type: ignore[assignment]
_REGISTRATIONS: Table = Registration.__table__  # type: ignore[assignment]
_NODES: Table = SwitchNode.__table__  # type: ignore[assignment]


def billing_disposition(outcome: str) -> str:
    return outcome if outcome in BILLING_DISPOSITIONS else "failed"


def _utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def _direction(call_class: str, direction: str) -> str:
    if direction == Direction.INBOUND.value:
        return direction
    return Direction.INTERNAL.value if call_class == CallClass.ON_NET.value else direction


# -- rows (pure) ---------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class CdrRows:
    cdr: dict[str, Any]
    outcome: dict[str, Any]
    legs: list[dict[str, Any]]

    @property
    def id(self) -> uuid.UUID:
        value = self.cdr["id"]
        assert isinstance(value, uuid.UUID)
        return value


def cdr_rows(ev: CallEnded, now: datetime) -> CdrRows:
    """The rows of one finished call: billing's ``cdrs`` row, its outcome and its legs."""
    cdr_id = uuid.uuid4()
    stamps = {"created_at": now, "updated_at": now}
    cdr = {
        "id": cdr_id,
        "tenant_id": ev.tenant_id,
        "call_id": str(ev.call_id),
        "caller": ev.from_[:32],
        "callee": ev.to[:32],
        "dialled": ev.dialled[:64],
        "call_class": ev.call_class,
        "direction": _direction(ev.call_class, ev.direction),
        "start": ev.started_at,
        "answer": ev.answered_at,
        "duration_ms": ev.duration_ms,
        "disposition": billing_disposition(ev.disposition),
        "is_intra_enterprise": ev.call_class == CallClass.ON_NET.value,
        "site_id": ev.site_id,
        "user_id": ev.user_id,
        **stamps,
    }
    outcome = {
        "id": uuid.uuid4(),
        "tenant_id": ev.tenant_id,
        "cdr_id": cdr_id,
        "device_id": ev.device_id,
        "end": ev.ended_at,
        "hangup_cause": ev.hangup_cause[:64],
        "sip_code": ev.sip_code,
        "outcome": ev.disposition,
        "trunk": ev.trunk,  # the trunk's name (issue 17 §5)
        **stamps,
    }
    legs = [
        {
            "id": uuid.uuid4(),
            "tenant_id": ev.tenant_id,
            "cdr_id": cdr_id,
            "position": i,
            "user_id": leg.user_id,
            "extension": leg.extension[:32],
            "device_id": leg.device_id,
            "contact": leg.contact[:512],
            "start": leg.started_at,
            "answer": leg.answered_at,
            "end": leg.ended_at,
            "sip_code": leg.sip_code,
            "disposition": leg.disposition,
            **stamps,
        }
        for i, leg in enumerate(ev.legs)
    ]
    return CdrRows(cdr, outcome, legs)


def journal_row(ev: CallStarted, now: datetime, node_id: uuid.UUID | None = None) -> dict[str, Any]:
    return {
        "node_id": node_id,
        "direction": ev.direction[:16],
        "dialogs": None,
        "id": uuid.uuid4(),
        "tenant_id": ev.tenant_id,
        "call_id": str(ev.call_id),
        "caller": ev.from_[:32],
        "callee": "",
        "dialled": ev.dialled[:64],
        "call_class": ev.call_class,
        "site_id": ev.site_id,
        "user_id": ev.user_id,
        "device_id": ev.device_id,
        "started_at": ev.started_at,
        "answered_at": None,
        "created_at": now,
        "updated_at": now,
    }


def registration_row(b: Binding, now: datetime) -> dict[str, Any]:
    key = contact_key(b.contact)
    return {
        "id": uuid.uuid4(),
        "tenant_id": b.tenant_id,
        "device_id": b.device_id,
        "user_id": b.user_id,
        "username": b.username,
        "contact": b.contact[:512],
        "contact_key": key[:512],
        "expires_at": _utc(b.expires_at),
        "call_id": b.call_id[:200],
        "cseq": b.cseq,
        "source_host": b.source[0],
        "source_port": b.source[1],
        "transport": b.transport,
        "q": b.q,
        "created_at": now,
        "updated_at": now,
    }


# -- writes ---------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class SaveRegistration:
    binding: Binding


@dataclass(frozen=True, slots=True)
class RemoveRegistration:
    tenant_id: uuid.UUID
    username: str
    contact_key: str | None  # None: every contact of the device


@dataclass(frozen=True, slots=True)
class PurgeRegistrations:
    before: datetime


@dataclass(frozen=True, slots=True)
class Heartbeat:
    """This switch process is alive at ``at`` (adapters/interrupted.py reads it after a crash)."""

    node_id: uuid.UUID
    at: datetime
    name: str = ""


@dataclass(frozen=True, slots=True)
class StoreWrite:
    """Any other write of the switch that must not hold up signalling (e.g. the nomadic 911
    tracker's note of a device's network): ``apply`` runs in the writer's transaction, in order."""

    apply: Callable[[Session], None]
    what: str


Write = (
    CallStarted
    | CallAnswered
    | CallDialogs
    | CallEnded
    | Heartbeat
    | SaveRegistration
    | RemoveRegistration
    | PurgeRegistrations
    | StoreWrite
)


# Told of the CDRs each write_cdrs inserts ((cdr id, the call's CallEnded) pairs), in the writer's
# transaction: webhooks' cdr.written (cpaas/events.py). Must be quick and never raise.
cdr_listeners: list[Callable[[list[tuple[uuid.UUID, CallEnded]]], None]] = []


def write_cdrs(s: Session | Connection, events: Iterable[CallEnded]) -> list[uuid.UUID]:
    """The one place CDRs are written: each call's ``cdrs`` row, its outcome and its legs, and the
    calls' journal rows removed, all in the caller's transaction. Returns the CDRs' ids."""
    now = datetime.now(UTC)
    events = list(events)
    rows = [cdr_rows(ev, now) for ev in events]
    if not rows:
        return []
    s.execute(insert(_CDRS), [r.cdr for r in rows])
    s.execute(insert(_OUTCOMES), [r.outcome for r in rows])
    legs = [leg for r in rows for leg in r.legs]
    if legs:
        s.execute(insert(_LEGS), legs)
    s.execute(
        delete(_JOURNAL).where(_JOURNAL.c.call_id == bindparam("ended_call_id")),
        [{"ended_call_id": r.cdr["call_id"]} for r in rows],
    )
    for listener in cdr_listeners:
        try:
            listener([(r.id, ev) for r, ev in zip(rows, events, strict=True)])
        except Exception:
            log.exception("cdr listener failed")
    return [r.id for r in rows]


def write_cdr(s: Session, ev: CallEnded) -> uuid.UUID:
    """One call's CDR in the caller's transaction (``write_cdrs`` of one)."""
    return write_cdrs(s, [ev])[0]


_DIALOGS = (
    update(_JOURNAL)
    .where(_JOURNAL.c.call_id == bindparam("dialogs_call_id"))
    .values(dialogs=bindparam("dialogs"))
)
_ALIVE = update(_NODES).where(_NODES.c.id == bindparam("node")).values(alive_at=bindparam("alive_at"))

_ANSWER = (
    update(_JOURNAL)
    .where(_JOURNAL.c.call_id == bindparam("answered_call_id"))
    .values(answered_at=bindparam("answered_at"), callee=bindparam("callee"))
)


def apply_writes(s: Session | Connection, writes: Sequence[Write], node_id: uuid.UUID | None = None) -> None:
    """Apply ``writes`` in the caller's transaction, folded: a call that starts and ends within
    the batch never gets a journal row (the transaction is atomic, so nothing is lost), one that
    starts and is answered gets its row with the answer; rows go in with one statement per
    table. Registration changes keep their order (a save after a removal of the same contact
    stays), consecutive saves of one contact keep the last."""
    now = datetime.now(UTC)
    journal: dict[uuid.UUID, dict[str, Any]] = {}  # started in this batch
    answers: dict[uuid.UUID, CallAnswered] = {}  # started in an earlier batch
    dialogs: dict[uuid.UUID, list[dict[str, Any]]] = {}  # of calls started in an earlier batch
    alive: dict[uuid.UUID, Heartbeat] = {}
    ended: list[CallEnded] = []
    saves: dict[tuple[uuid.UUID, str, str], Binding] = {}
    changes: list[Change] = []  # registration changes, in order, for the other nodes

    def flush_saves() -> None:
        if not saves:
            return
        changes.extend(("s", b) for b in saves.values())
        s.execute(
            delete(_REGISTRATIONS).where(
                and_(
                    _REGISTRATIONS.c.tenant_id == bindparam("k_tenant"),
                    _REGISTRATIONS.c.username == bindparam("k_username"),
                    _REGISTRATIONS.c.contact_key == bindparam("k_contact"),
                )
            ),
            [{"k_tenant": t, "k_username": u, "k_contact": c[:512]} for t, u, c in saves],
        )
        s.execute(insert(_REGISTRATIONS), [registration_row(b, now) for b in saves.values()])
        saves.clear()

    for w in writes:
        if isinstance(w, CallStarted):
            journal[w.call_id] = journal_row(w, now, node_id)
        elif isinstance(w, CallDialogs):
            as_json = [d.as_json() for d in w.dialogs]
            if w.call_id in journal:
                journal[w.call_id]["dialogs"] = as_json
            else:
                dialogs[w.call_id] = as_json
        elif isinstance(w, Heartbeat):
            alive[w.node_id] = w
        elif isinstance(w, CallAnswered):
            row = journal.get(w.call_id)
            if row is not None:
                row["answered_at"], row["callee"] = w.answered_at, w.to[:32]
            else:
                answers[w.call_id] = w
        elif isinstance(w, CallEnded):
            journal.pop(w.call_id, None)
            answers.pop(w.call_id, None)
            dialogs.pop(w.call_id, None)
            ended.append(w)
        elif isinstance(w, SaveRegistration):
            b = w.binding
            key = (b.tenant_id, b.username, contact_key(b.contact))
            saves.pop(key, None)  # the last save of a contact is the one that counts
            saves[key] = b
        else:
            flush_saves()
            if isinstance(w, RemoveRegistration):
                where = [_REGISTRATIONS.c.tenant_id == w.tenant_id, _REGISTRATIONS.c.username == w.username]
                if w.contact_key is not None:
                    where.append(_REGISTRATIONS.c.contact_key == w.contact_key[:512])
                s.execute(delete(_REGISTRATIONS).where(*where))
                changes.append(("r", (w.tenant_id, w.username, w.contact_key)))
            elif isinstance(w, PurgeRegistrations):
                s.execute(delete(_REGISTRATIONS).where(_REGISTRATIONS.c.expires_at <= w.before))
            elif isinstance(s, Session):
                w.apply(s)
            else:
                # An ORM write on the writer's Core connection: a session joined to its
                # transaction (it flushes, the writer commits).
                with Session(bind=s) as joined:
                    w.apply(joined)
                    joined.flush()
    flush_saves()
    notify_changes(s, node_id, changes)  # delivered to the other nodes when this commits
    if journal:
        s.execute(insert(_JOURNAL), list(journal.values()))
    if answers:
        s.execute(
            _ANSWER,
            [
                {"answered_call_id": str(a.call_id), "answered_at": a.answered_at, "callee": a.to[:32]}
                for a in answers.values()
            ],
        )
    if dialogs:
        s.execute(_DIALOGS, [{"dialogs_call_id": str(c), "dialogs": d} for c, d in dialogs.items()])
    for beat in alive.values():
        if s.execute(_ALIVE, {"node": beat.node_id, "alive_at": beat.at}).rowcount == 0:  # type: ignore[attr-defined]
            # Our row is gone: another node took us for dead (a stall longer than its
            # node_stale_s) and closed our calls then. We are alive: say so again, or every call
            # we journal from now on would look like a dead node's.
            log.warning(
                "sip.node.row_missing node=%s (declared dead by another node; re-registered)", beat.node_id
            )
            s.execute(
                insert(_NODES),
                {
                    "id": beat.node_id,
                    "name": beat.name[:128],
                    "started_at": beat.at,
                    "alive_at": beat.at,
                    "created_at": beat.at,
                    "updated_at": beat.at,
                },
            )
    write_cdrs(s, ended)


class RecordWriter:
    """The one thread that writes: group commit, in order, and a report of what is durable.

    ``submit`` queues a write and returns its sequence number (1, 2, ...); the writes of one turn
    of the event loop are handed to the thread together (one wake-up, not one per write). The
    thread takes the first writes waiting, then every other one already queued (up to about
    ``max_batch``), applies them
    in one transaction and calls ``on_durable(last sequence number)`` on the event loop. A batch
    that fails is retried write by write, so one bad row does not take its neighbours down; a
    write that fails on its own is logged in full (the log is its last copy) and counted as done,
    so signalling does not wait for ever on a store that refuses it.
    """

    _STOP = object()

    def __init__(
        self,
        sessions: sessionmaker[Session],
        loop: asyncio.AbstractEventLoop,
        on_durable: Callable[[int], None],
        *,
        max_batch: int = 2000,
        node_id: uuid.UUID | None = None,
    ) -> None:
        self.node_id = node_id
        self.sessions = sessions
        bind = sessions.kw.get("bind")
        self._engine: Engine | None = bind if isinstance(bind, Engine) else None
        self._conn: Connection | None = None  # the writer thread's own
        self.loop = loop
        self.on_durable = on_durable
        self.max_batch = max_batch
        self.submitted = 0
        self.commits = 0  # transactions committed (for tests and the benchmark)
        self.lost = 0
        self.durable = 0  # the last sequence number committed
        # (last sequence number, when handed to the thread) of each batch not yet committed:
        # the oldest one's age is the writer's lag (ops/metrics_switch.py).
        self.waiting: deque[tuple[int, float]] = deque()
        self._queue: queue.SimpleQueue[list[tuple[int, Write]] | object] = queue.SimpleQueue()
        self._pending: list[tuple[int, Write]] = []
        self._loop_thread = threading.get_ident()  # made on the loop (SipService.start)
        self._thread = threading.Thread(target=self._run, name="centrex-records", daemon=True)
        self._thread.start()

    def submit(self, write: Write) -> int:
        if threading.get_ident() != self._loop_thread:
            # From another thread (an API worker): queued at once, with no number, since no
            # message of the switch waits for it and numbers must reach the thread in order.
            self._queue.put([(0, write)])
            return 0
        self.submitted += 1
        if not self._pending:
            self.loop.call_soon(self._hand_over)
        self._pending.append((self.submitted, write))
        return self.submitted

    def _hand_over(self) -> None:
        pending, self._pending = self._pending, []
        if pending:
            self.waiting.append((pending[-1][0], time.monotonic()))
            self._queue.put(pending)

    def lag_s(self, now: float) -> float:
        """How long the oldest write not yet committed has waited (0: none waits)."""
        try:
            return max(0.0, now - self.waiting[0][1])
        except IndexError:
            return 0.0

    async def stop(self) -> None:
        """Commit everything queued, then end the thread."""
        self._hand_over()
        self._queue.put(self._STOP)
        await asyncio.to_thread(self._thread.join)

    def _run(self) -> None:
        stopping = False
        while not stopping:
            item = self._queue.get()
            if item is self._STOP:
                break
            pairs: list[tuple[int, Write]] = list(item)  # type: ignore[call-overload]
            while len(pairs) < self.max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is self._STOP:
                    stopping = True
                    break
                pairs.extend(item)  # type: ignore[arg-type]
            self._commit([w for _, w in pairs])
            last = max(seq for seq, _ in pairs)
            if last:
                self.durable = last
                while self.waiting and self.waiting[0][0] <= last:
                    self.waiting.popleft()
                with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits any more
                    self.loop.call_soon_threadsafe(self.on_durable, last)
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = None

    def _apply(self, writes: list[Write]) -> None:
        """One transaction on the thread's own connection: Core statements, no ORM session and
        no pool check-out per batch (together ~8 % of the switch's time at 450 calls/s). A
        connection the database dropped is replaced and the batch tried once more."""
        if self._engine is None:
            with transaction(self.sessions) as s:
                apply_writes(s, writes, self.node_id)
            return
        for attempt in (1, 2):
            if self._conn is None or self._conn.closed:
                self._conn = self._engine.connect()
            conn = self._conn
            try:
                with conn.begin():
                    apply_writes(conn, writes, self.node_id)
                return
            except DBAPIError as exc:
                if not exc.connection_invalidated or attempt == 2:
                    raise
                self._conn = None
                with contextlib.suppress(Exception):
                    conn.close()

    def _commit(self, writes: list[Write]) -> None:
        try:
            self._apply(writes)
            self.commits += 1
            return
        except Exception:
            if len(writes) == 1:
                self._lost(writes[0])
                return
            log.exception("sip.records.batch_failed writes=%d (retrying one by one)", len(writes))
        for w in writes:
            try:
                self._apply([w])
                self.commits += 1
            except Exception:
                self._lost(w)

    def _lost(self, w: Write) -> None:
        self.lost += 1
        log.exception("sip.records.write_failed %r", w)


class CallRecords:
    """Writes CDRs and the call journal; restores and mirrors registrations."""

    def __init__(self, sessions: sessionmaker[Session], *, name: str = "") -> None:
        self.sessions = sessions
        self.writer: RecordWriter | None = None
        # This process as a switch node: its journal rows carry the id, its heartbeat bounds how
        # long they are known to have been up (adapters/interrupted.py).
        self.node_id = uuid.uuid4()
        # The node's name outlives the process (CENTREX_NODE_NAME, default the host name): a
        # restarted node closes the calls of its earlier life at once; other nodes' calls wait
        # until their heartbeat is stale. Two nodes on one host need names of their own.
        self.node_name = (name or socket.gethostname())[:128]
        # What the store holds per contact: (source, transport, user, expires_at). A refresh from
        # the same flow is written only when the stored expiry no longer covers half of the new
        # lifetime: phones refresh every few minutes and each write costs the store.
        self._stored: dict[tuple[object, ...], tuple[object, ...]] = {}

    # -- the writer ------------------------------------------------------------------------
    def start(self, loop: asyncio.AbstractEventLoop, on_durable: Callable[[int], None]) -> None:
        """From now on writes go to the writer thread; ``on_durable(seq)`` runs on ``loop``."""
        if self.writer is None:
            self.writer = RecordWriter(self.sessions, loop, on_durable, node_id=self.node_id)

    async def stop(self) -> None:
        """Commit what is queued and go back to writing at once."""
        writer, self.writer = self.writer, None
        if writer is not None:
            await writer.stop()

    def _write(self, w: Write) -> int:
        """Queue ``w`` (its sequence number), or write it now when no writer runs (0)."""
        if self.writer is not None:
            return self.writer.submit(w)
        with transaction(self.sessions) as s:
            apply_writes(s, [w], self.node_id)
        return 0

    def _needs_write(self, b: Binding) -> bool:
        k = (b.tenant_id, b.username, contact_key(b.contact))
        flow = (b.source, b.transport, b.user_id)
        prev = self._stored.get(k)
        if prev is not None and prev[:3] == flow and b.registered_at is not None:
            stored_expiry = prev[3]
            assert isinstance(stored_expiry, float)
            if stored_expiry >= b.registered_at + (b.expires_at - b.registered_at) / 2:
                return False
        return True

    # -- calls -----------------------------------------------------------------------------
    def call_started(self, ev: CallStarted) -> int:
        return self._write(ev)

    def call_answered(self, ev: CallAnswered) -> int:
        return self._write(ev)

    def call_ended(self, ev: CallEnded) -> int:
        return self._write(ev)

    def call_dialogs(self, ev: CallDialogs) -> int:
        return self._write(ev)

    def register_node(self, now: datetime | None = None) -> None:
        """This process is a switch node from now on (written at once, before any call)."""
        at = now or datetime.now(UTC)
        with transaction(self.sessions) as s:
            s.add(SwitchNode(id=self.node_id, name=self.node_name[:128], started_at=at, alive_at=at))

    def heartbeat(self, now: datetime | None = None) -> int:
        """This node is alive: the time its calls are known to have been up until."""
        return self._write(Heartbeat(self.node_id, now or datetime.now(UTC), self.node_name))

    def recover(self, now: datetime | None = None, *, stale_s: float = 0.0) -> Recovered:
        """Close the calls of nodes whose heartbeat stopped (every other node's with ``stale_s``
        0) and of this node's earlier life (its name): CDRs with their known talk time, and their
        dialogs to hang up. Several survivors may run it at once; each call is closed once."""
        return close_interrupted(
            self.sessions, now, own_node=self.node_id, stale_s=stale_s, own_name=self.node_name
        )

    def close_interrupted(self, now: datetime | None = None) -> int:
        """Close every call in the journal, this node's too (a tool's, or a test's, "after the crash")."""
        return close_interrupted(self.sessions, now).calls

    # -- registrations ---------------------------------------------------------------------
    def load_registrations(self, location: LocationService, now: float) -> int:
        """Fill the location service with the registrations that have not expired."""
        return self.apply_stored(location, self.stored_registrations(now))

    def stored_registrations(self, now: float) -> list[Binding]:
        """The registrations in the store that have not expired (a read; any thread)."""
        with self.sessions() as s:
            rows = s.scalars(select(Registration).where(Registration.expires_at > _utc(now))).all()
        return [
            Binding(
                r.tenant_id,
                r.username,
                r.device_id,
                r.user_id,
                r.contact,
                r.expires_at.timestamp(),
                r.call_id,
                r.cseq,
                (r.source_host, r.source_port),
                r.transport,
                r.q,
            )
            for r in rows
        ]

    def apply_stored(self, location: LocationService, bindings: list[Binding]) -> int:
        """Put registrations read from the store into ``location`` (on the event loop)."""
        for b in bindings:
            self.remembered(b)
            location.save(b, notify=False)
        return len(bindings)

    def saved(self, b: Binding) -> None:
        if not self._needs_write(b):
            return
        try:
            self._write(SaveRegistration(b))
            self._stored[(b.tenant_id, b.username, contact_key(b.contact))] = (
                b.source,
                b.transport,
                b.user_id,
                float(b.expires_at),
            )
        except Exception:
            # The registration holds in memory; the phone's next refresh writes it again.
            log.exception("sip.registration.persist_failed device=%s", b.username)

    def remembered(self, b: Binding) -> None:
        """Another node stored ``b`` (adapters/registration_sync.py): the store holds it now."""
        self._stored[(b.tenant_id, b.username, contact_key(b.contact))] = (
            b.source,
            b.transport,
            b.user_id,
            float(b.expires_at),
        )

    def forgotten(self, tenant_id: uuid.UUID, username: str, key: str | None) -> None:
        """Another node removed a contact of a device (``key`` None: all of them) from the store."""
        for k in [k for k in self._stored if k[0] == tenant_id and k[1] == username]:
            if key is None or k[2] == key:
                del self._stored[k]

    def removed(self, aor: AorKey, contact: str | None) -> None:
        """One contact of a device unregistered, or all of them (``contact`` None)."""
        tenant_id, username = aor
        key = contact_key(contact) if contact is not None else None
        for k in [k for k in self._stored if k[0] == tenant_id and k[1] == username]:
            if key is None or k[2] == key:
                del self._stored[k]
        try:
            self._write(RemoveRegistration(tenant_id, username, key))
        except Exception:
            log.exception("sip.registration.delete_failed username=%s", username)

    def write_later(self, apply: Callable[[Session], None], what: str) -> int:
        """Queue another write for the writer thread (at once when none runs); nothing waits
        for it. ``what`` names it in the log if the store refuses it."""
        return self._write(StoreWrite(apply, what))

    def purge_registrations(self, now: float) -> None:
        for k in [k for k, v in self._stored.items() if isinstance(v[3], float) and v[3] <= now]:
            del self._stored[k]
        self._write(PurgeRegistrations(_utc(now)))
