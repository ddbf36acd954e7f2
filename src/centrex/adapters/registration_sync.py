"""Registrations shared between the nodes of one PostgreSQL, by LISTEN/NOTIFY.

Every node keeps all registrations in memory (calls/location.py), because a call looks its callee
up on the event loop, where a database read would stall every other call. With several nodes
behind Kamailio, a phone's REGISTER reaches one node and a call to it may reach another, so each
node must learn of the others' registrations:

- the record writer that stores a registration change (adapters/call_records.py ``apply_writes``)
  also sends ``pg_notify('centrex_registrations', …)`` in the same transaction: PostgreSQL
  delivers it when, and only if, the change commits, in commit order;
- each node LISTENs on a connection of its own (``RegistrationSync``, a thread) and applies the
  other nodes' changes to its memory, without writing them again (``notify=False``);
- a node that starts, or whose listening connection was lost, reads every registration from the
  store (``CallRecords.load_registrations``), so a notification missed meanwhile costs nothing.

Chosen over reading the store on a miss: a miss would cost a query on the event loop for most
calls to phones registered elsewhere, and a node could never learn that a contact it holds was
removed through another node. The price is one notification per stored change per node, and
registration refreshes are already written only when they extend the stored expiry (records.py).
SQLite serves one node: nothing is sent or listened to there.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
import time
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, text
from sqlalchemy.orm import Session

from centrex.calls.location import Binding, LocationService

if TYPE_CHECKING:
    from centrex.adapters.call_records import CallRecords

log = logging.getLogger(__name__)

CHANNEL = "centrex_registrations"
# PostgreSQL refuses a payload of 8000 bytes or more; changes are sent in chunks below it.
MAX_PAYLOAD = 7000

# One change: ("s", binding) saved, or ("r", (tenant_id, username, contact_key or None)) removed.
Change = tuple[str, Any]


def binding_json(b: Binding) -> dict[str, Any]:
    return {
        "t": str(b.tenant_id),
        "u": b.username,
        "d": str(b.device_id),
        "us": str(b.user_id) if b.user_id else None,
        "c": b.contact,
        "e": b.expires_at,
        "ci": b.call_id,
        "cs": b.cseq,
        "sh": b.source[0],
        "sp": b.source[1],
        "tr": b.transport,
        "q": b.q,
    }


def binding_from_json(d: dict[str, Any]) -> Binding:
    return Binding(
        uuid.UUID(d["t"]),
        str(d["u"]),
        uuid.UUID(d["d"]),
        uuid.UUID(d["us"]) if d.get("us") else None,
        str(d["c"]),
        float(d["e"]),
        str(d["ci"]),
        int(d["cs"]),
        (str(d["sh"]), int(d["sp"])),
        str(d["tr"]),
        d.get("q"),
    )


def payloads(node_id: uuid.UUID | None, changes: Sequence[Change]) -> list[str]:
    """The changes as JSON payloads, each under MAX_PAYLOAD, in order."""
    out: list[str] = []
    chunk: list[Any] = []
    size = 0
    for kind, value in changes:
        item: list[Any]
        if kind == "s":
            item = ["s", binding_json(value)]
        else:
            tenant_id, username, key = value
            item = ["r", str(tenant_id), username, key]
        encoded = len(json.dumps(item))
        if chunk and size + encoded > MAX_PAYLOAD:
            out.append(json.dumps({"n": str(node_id), "ops": chunk}))
            chunk, size = [], 0
        chunk.append(item)
        size += encoded + 1
    if chunk:
        out.append(json.dumps({"n": str(node_id), "ops": chunk}))
    return out


def notify_changes(s: Session | Connection, node_id: uuid.UUID | None, changes: Sequence[Change]) -> None:
    """Tell the other nodes of registration changes made in this transaction (PostgreSQL only)."""
    if not changes:
        return
    dialect = s.dialect.name if isinstance(s, Connection) else s.get_bind().dialect.name
    if dialect != "postgresql":
        return
    statement = text("SELECT pg_notify(:channel, :payload)")
    for payload in payloads(node_id, changes):
        s.execute(statement, {"channel": CHANNEL, "payload": payload})


class RegistrationSync:
    """Applies other nodes' registration changes to this node's location service.

    A thread holds one PostgreSQL connection that LISTENs; what it hears is applied on the event
    loop. ``start`` before the SIP service loads the stored registrations, so nothing committed
    between that read and the LISTEN is missed."""

    def __init__(self, engine: Engine, records: CallRecords, location: LocationService) -> None:
        self.records = records
        self.location = location
        self._conninfo = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.applied = 0  # changes from other nodes applied (tests, /healthz)
        self.listening = threading.Event()

    @staticmethod
    def wanted(engine: Engine) -> bool:
        return engine.dialect.name == "postgresql"

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._thread = threading.Thread(target=self._run, name="centrex-registration-sync", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        import psycopg

        first = True
        while not self._stop.is_set():
            try:
                with psycopg.connect(self._conninfo, autocommit=True) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self.listening.set()
                    if not first:
                        # What was committed while we were not listening: read it all again
                        # (here, off the event loop), then apply it there.
                        stored = self.records.stored_registrations(time.time())
                        self._call(self.records.apply_stored, self.location, stored)
                    first = False
                    while not self._stop.is_set():
                        for note in conn.notifies(timeout=1.0):
                            self._call(self._apply, note.payload)
            except Exception:
                self.listening.clear()
                log.exception("sip.registrations.sync_lost (reconnecting)")
                self._stop.wait(1.0)

    def _call(self, fn: Any, *args: Any) -> None:
        assert self._loop is not None
        with contextlib.suppress(RuntimeError):  # the loop closed: the process is stopping
            self._loop.call_soon_threadsafe(fn, *args)

    def _apply(self, payload: str) -> None:
        try:
            data = json.loads(payload)
            if data.get("n") == str(self.records.node_id):
                return  # our own change
            for op in data.get("ops", []):
                if op[0] == "s":
                    b = binding_from_json(op[1])
                    self.location.save(b, notify=False)
                    self.records.remembered(b)
                elif op[0] == "r":
                    tenant_id, username, key = uuid.UUID(op[1]), str(op[2]), op[3]
                    if key is None:
                        self.location.remove_all((tenant_id, username), notify=False)
                    else:
                        self.location.remove((tenant_id, username), str(key), notify=False)
                    self.records.forgotten(tenant_id, username, key)
                self.applied += 1
        except (ValueError, KeyError, TypeError, IndexError):
            log.exception("sip.registrations.bad_notification %r", payload[:200])
