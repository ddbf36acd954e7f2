"""Calls a stopped switch left open: closed and billed for the time they are known to have been up.

Every switch process (node) writes a heartbeat (``switch_nodes.alive_at``) while it runs, and each
call it journals carries its node (adapters/call_records.py). When a node's heartbeat is older than
``stale_s`` — the process was killed, or its host died — its journalled calls are closed:
- an answered call as ``answered`` with hang-up cause ``interrupted`` and its duration up to the
  node's last heartbeat (the last moment it is known to have been up), so the talk time is rated;
  without a heartbeat (a journal older than migration 0018) its duration is 0;
- a call never answered as ``failed``, duration 0, as before.
Their dialogs are returned so the caller can send BYE on each: a carrier leg left up goes on
billing the provider (issue 13 §3). Running it twice closes nothing more; each call's CDR and the
removal of its journal row are one transaction.

Several nodes on one PostgreSQL (docs/scale-out.md): every survivor looks for stale nodes on each
heartbeat, so two may find the same dead node at once. A call is taken over exactly once: its
journal row is locked (``FOR UPDATE SKIP LOCKED``: the other survivor passes over it) and the CDR
is written only if this transaction's ``DELETE`` of the row removed it (rowcount 1) — on SQLite,
where there is no row lock, the store's single writer gives the same answer.
A dead node's ownership rows (park slots, queues, conference rooms: adapters/ownership.py) are
removed in the same transaction.
A node whose ``name`` is this node's own is this node's earlier life (killed, then restarted): its
calls are closed at once, whatever its heartbeat says.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session, sessionmaker

from centrex.adapters.ownership import release_node
from centrex.calls.dialog_record import DialogRecord, records_from_json
from centrex.numbers.classes import CallClass, Direction
from centrex.store.db import transaction
from centrex.store.models import ActiveCall, CallDetail, CdrOutcome, SwitchNode

log = logging.getLogger(__name__)


@dataclass
class Recovered:
    calls: int = 0
    answered: int = 0
    dialogs: list[DialogRecord] = field(default_factory=list)


def _direction(row: ActiveCall) -> str:
    if row.call_class == CallClass.ON_NET.value:
        return Direction.INTERNAL.value
    return row.direction or Direction.OUTBOUND.value


def close_interrupted(
    sessions: sessionmaker[Session],
    now: datetime | None = None,
    *,
    own_node: uuid.UUID | None = None,
    stale_s: float = 0.0,
    own_name: str | None = None,
) -> Recovered:
    """Close the journalled calls of nodes other than ``own_node`` whose heartbeat is older than
    ``stale_s`` (0: every other node's, as at a single switch's start) or whose name is
    ``own_name`` (this node's earlier life), and calls of no known node."""
    now = now or datetime.now(UTC)
    out = Recovered()
    with transaction(sessions) as s:
        nodes = {n.id: n for n in s.scalars(select(SwitchNode))}
        cutoff = now - timedelta(seconds=stale_s)
        dead = {
            i
            for i, n in nodes.items()
            if i != own_node and (n.alive_at <= cutoff or (own_name is not None and n.name == own_name))
        }
        alive = [i for i in nodes if i not in dead]
        # Their park slots, queues and conference rooms died with them: free for the survivors
        # (adapters/ownership.py; docs/scale-out.md "What is owned").
        release_node(s, dead)
        query = select(ActiveCall).where(
            or_(ActiveCall.node_id.is_(None), ActiveCall.node_id.not_in(alive))
            if alive
            else ActiveCall.id.is_not(None)
        )
        # One survivor per row: locked rows (another survivor's) are passed over (PostgreSQL).
        rows = s.scalars(query.with_for_update(skip_locked=True)).all()
        for row in rows:
            if s.execute(delete(ActiveCall).where(ActiveCall.id == row.id)).rowcount != 1:  # type: ignore[attr-defined]
                continue  # another survivor closed it first
            s.expunge(row)
            node = nodes.get(row.node_id) if row.node_id is not None else None
            last_up = node.alive_at if node is not None else None
            answered = row.answered_at is not None
            end = max(last_up, row.answered_at) if (answered and last_up and row.answered_at) else now
            duration_ms = 0
            if answered and last_up is not None and row.answered_at is not None:
                duration_ms = max(0, round((last_up - row.answered_at).total_seconds() * 1000))
            cdr = CallDetail(
                tenant_id=row.tenant_id,
                call_id=row.call_id,
                caller=row.caller,
                callee=row.callee or row.dialled[:32],
                dialled=row.dialled,
                call_class=row.call_class,
                direction=_direction(row),
                start=row.started_at,
                answer=row.answered_at,
                duration_ms=duration_ms,
                disposition="answered" if answered else "failed",
                is_intra_enterprise=row.call_class == CallClass.ON_NET.value,
                site_id=row.site_id,
                user_id=row.user_id,
            )
            s.add(cdr)
            s.flush()
            s.add(
                CdrOutcome(
                    tenant_id=row.tenant_id,
                    cdr_id=cdr.id,
                    device_id=row.device_id,
                    end=end,
                    hangup_cause="interrupted",
                    sip_code=0,
                    outcome="interrupted",
                )
            )
            out.dialogs.extend(records_from_json(row.dialogs))
            out.calls += 1
            out.answered += int(answered)
        s.flush()
        for node_id in dead:
            if not s.scalars(select(ActiveCall.id).where(ActiveCall.node_id == node_id).limit(1)).first():
                s.execute(delete(SwitchNode).where(SwitchNode.id == node_id))
    if out.calls:
        log.warning(
            "sip.calls.interrupted closed=%d answered=%d dialogs=%d (their switch process stopped)",
            out.calls,
            out.answered,
            len(out.dialogs),
        )
    return out
