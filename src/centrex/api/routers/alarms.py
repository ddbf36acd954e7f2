"""Alarms (issue 19 part 2; ops/alarms.py): the operator's alone (404 to anyone else, as for every
operator-wide route). Monitoring raises and clears them; the operator reads them, acknowledges
one (the response of hosted-pbx.txt Monitoring 2: its clock stops) or clears one by hand."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from fastapi import APIRouter, Depends
from sqlalchemy import func, select

from centrex.api.deps import OperatorDep, PagingDep
from centrex.api.fields import Out, Page, page_of
from centrex.api.routers.numbering import ProblemRoute, remember_session
from centrex.ops.alarms import acknowledge_alarm, clear_alarm
from centrex.store.access import OperatorData
from centrex.store.errors import Conflict, NotFound
from centrex.store.models.alarms import AlarmRow

router = APIRouter(tags=["alarms"], route_class=ProblemRoute, dependencies=[Depends(remember_session)])


class AlarmState(StrEnum):
    OPEN = "open"
    CLEARED = "cleared"
    ALL = "all"


class AlarmOut(Out):
    id: uuid.UUID
    key: str
    component: str
    priority: int
    summary: str
    details: dict[str, Any] | None
    tenant_id: uuid.UUID | None
    service_affecting: bool
    raised_at: datetime
    last_seen_at: datetime
    occurrences: int
    due_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    escalated_at: datetime | None
    escalation_level: int
    cleared_at: datetime | None
    cleared_by: str | None
    outages_recorded: int


@router.get("/alarms", response_model=Page[AlarmOut])
def list_alarms(
    ops: OperatorDep, paging: PagingDep, state: AlarmState = AlarmState.OPEN, component: str | None = None
) -> Any:
    """Alarms, most urgent first (priority, then the earliest due)."""
    ops.require_operator()
    stmt = select(AlarmRow).order_by(AlarmRow.priority, AlarmRow.due_at, AlarmRow.id)
    if state is AlarmState.OPEN:
        stmt = stmt.where(AlarmRow.cleared_at.is_(None))
    elif state is AlarmState.CLEARED:
        stmt = stmt.where(AlarmRow.cleared_at.is_not(None))
    if component is not None:
        stmt = stmt.where(AlarmRow.component == component)
    total = ops.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    rows = list(ops.session.scalars(stmt.limit(paging.limit).offset(paging.offset)))
    return page_of(rows, total, paging.limit, paging.offset)


def _alarm(ops: OperatorData, alarm_id: uuid.UUID) -> AlarmRow:
    ops.require_operator()
    row = ops.session.get(AlarmRow, alarm_id)
    if row is None:
        raise NotFound(f"no alarm {alarm_id}", field="alarm_id")
    return row


@router.get("/alarms/{alarm_id}", response_model=AlarmOut)
def get_alarm(alarm_id: uuid.UUID, ops: OperatorDep) -> Any:
    return _alarm(ops, alarm_id)


@router.post("/alarms/{alarm_id}/acknowledge", response_model=AlarmOut)
def acknowledge_an_alarm(alarm_id: uuid.UUID, ops: OperatorDep) -> Any:
    """The operator has responded: the response clock stops (and its ticket's). Again: no change."""
    return acknowledge_alarm(ops.session, _alarm(ops, alarm_id), by=ops.principal.label)


@router.post("/alarms/{alarm_id}/clear", response_model=AlarmOut)
def clear_an_alarm(alarm_id: uuid.UUID, ops: OperatorDep) -> Any:
    """Clear by hand (monitoring clears what it raised by itself when the condition is over)."""
    row = _alarm(ops, alarm_id)
    if row.cleared_at is not None:
        raise Conflict(f"alarm {alarm_id} is already cleared", field="alarm_id", rule="alarm_cleared")
    cleared = clear_alarm(ops.session, row.key, by=ops.principal.label)
    assert cleared is not None
    return cleared
