"""The rows the switch writes and how a batch of writes is applied in one transaction.

Pure row builders (``cdr_rows``, ``journal_row``, ``registration_row``), the write types the record
writer queues, and ``apply_writes``, which turns a batch of them into Core statements. The writer
thread is record_writer.py; the facade the switch calls is call_records.py."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Table, and_, bindparam, delete, insert, update
from sqlalchemy.orm import Session

from centrex.adapters.registration_sync import Change, notify_changes
from centrex.calls.events import CallAnswered, CallDialogs, CallEnded, CallStarted
from centrex.calls.location import Binding, contact_key
from centrex.numbers.classes import CallClass, Direction
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


def utc_of(ts: float) -> datetime:
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
        "expires_at": utc_of(b.expires_at),
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
