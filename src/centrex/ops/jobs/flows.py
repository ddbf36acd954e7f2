"""flow-retention: cpaas.txt §2.4.2 for flow executions and their step logs.

- (iv) "the records for application detail ... for no longer than three (3) years": an execution
  (the application detail record of a flow run) and its steps are deleted 36 calendar months after
  the execution was created.
- (i) "any content of the communications in their entirety ... for thirty (30) days": what an
  execution kept of the communications — its context (trigger message, variables, widgets'
  outputs) and each step's outputs (message bodies sent and received, HTTP answers) — is emptied 30
  days after creation (``content_erased_at`` set); the record (states, events, times) stays.
Each batch is one transaction with one audit entry per tenant and batch; a second run finds nothing.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from centrex.ops.jobs.messaging import cutoffs
from centrex.ops.jobs.two_tier import run_two_tier
from centrex.ops.scheduler import JobContext, JobReport
from centrex.store.access import AccessBase, Principal
from centrex.store.db import transaction
from centrex.store.models import Role, TokenKind
from centrex.store.models.flows import FlowExecution, FlowStep

BATCH = 1000
SYSTEM = Principal(TokenKind.OPERATOR, uuid.UUID(int=0), frozenset({Role.OPERATOR}), "system:flow-retention")


def _audit(s: Session, tenant_id: uuid.UUID, action: str, count: int, cutoff: datetime, rule: str) -> None:
    AccessBase(s, SYSTEM).audit(
        action,
        "flow_executions",
        None,
        {"count": count},
        {"cutoff": cutoff.isoformat(), "rule": rule},
        tenant_id,
    )


def _erase_batch(
    sessions: sessionmaker[Session], tenant_id: uuid.UUID, cutoff: datetime, now: datetime
) -> int:
    with transaction(sessions) as s:
        ids = list(
            s.scalars(
                select(FlowExecution.id)
                .where(
                    FlowExecution.tenant_id == tenant_id,
                    FlowExecution.created_at < cutoff,
                    FlowExecution.content_erased_at.is_(None),
                )
                .limit(BATCH)
            )
        )
        if not ids:
            return 0
        s.execute(
            update(FlowExecution).where(FlowExecution.id.in_(ids)).values(context={}, content_erased_at=now)
        )
        s.execute(
            update(FlowStep)
            .where(FlowStep.execution_id.in_(ids), FlowStep.content_erased_at.is_(None))
            .values(outputs={}, content_erased_at=now)
        )
        _audit(s, tenant_id, "flow.content_erased", len(ids), cutoff, "cpaas.txt §2.4.2 (i)")
        return len(ids)


def _delete_batch(sessions: sessionmaker[Session], tenant_id: uuid.UUID, cutoff: datetime) -> int:
    with transaction(sessions) as s:
        ids = list(
            s.scalars(
                select(FlowExecution.id)
                .where(FlowExecution.tenant_id == tenant_id, FlowExecution.created_at < cutoff)
                .limit(BATCH)
            )
        )
        if not ids:
            return 0
        s.execute(delete(FlowStep).where(FlowStep.execution_id.in_(ids)))
        s.execute(delete(FlowExecution).where(FlowExecution.id.in_(ids)))
        _audit(s, tenant_id, "flow.retention_delete", len(ids), cutoff, "cpaas.txt §2.4.2 (iv)")
        return len(ids)


def _per_tenant(s: Session, *where: object) -> dict[uuid.UUID, int]:
    q = select(FlowExecution.tenant_id, func.count()).where(*where).group_by(FlowExecution.tenant_id)  # type: ignore[arg-type]
    return {t: n for t, n in s.execute(q)}


def flow_retention(ctx: JobContext) -> JobReport:
    content_cutoff, record_cutoff = cutoffs(ctx.now)
    with ctx.sessions() as s:
        to_erase = _per_tenant(
            s, FlowExecution.created_at < content_cutoff, FlowExecution.content_erased_at.is_(None)
        )
        to_delete = _per_tenant(s, FlowExecution.created_at < record_cutoff)
    return run_two_tier(
        ctx,
        what="flow executions",
        content="contents",
        to_erase=to_erase,
        to_delete=to_delete,
        content_cutoff=content_cutoff,
        record_cutoff=record_cutoff,
        delete_batch=_delete_batch,
        erase_batch=_erase_batch,
    )
