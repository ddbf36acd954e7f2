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
import logging
import socket
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from centrex.adapters.interrupted import Recovered, close_interrupted
from centrex.adapters.record_writer import RecordWriter
from centrex.adapters.record_writes import (  # noqa: F401 (write_cdr, cdr_listeners: used from here)
    Heartbeat,
    PurgeRegistrations,
    RemoveRegistration,
    SaveRegistration,
    StoreWrite,
    Write,
    apply_writes,
    cdr_listeners,
    registration_row,
    utc_of,
    write_cdr,
    write_cdrs,
)
from centrex.calls.events import CallAnswered, CallDialogs, CallEnded, CallStarted
from centrex.calls.location import AorKey, Binding, LocationService, contact_key
from centrex.store.db import transaction
from centrex.store.models import Registration, SwitchNode

log = logging.getLogger(__name__)


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
            rows = s.scalars(select(Registration).where(Registration.expires_at > utc_of(now))).all()
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
        self._write(PurgeRegistrations(utc_of(now)))
