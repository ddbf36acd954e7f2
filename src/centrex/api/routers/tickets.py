"""Trouble tickets (issue 19 part 2; ops/tickets.py).

A tenant's office administrator or back-up opens a ticket and follows it (hosted-pbx.txt, MACs:
they "will contact CNI-Independents to report issues"; store/policy.py Resource.TICKET refuses
every other tenant user with 403); the operator reads every ticket, acknowledges (the response:
the clock stops) and resolves, under /tickets (404 to anyone else).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field
from sqlalchemy import func, select

from centrex.api.deps import OperatorDep, PagingDep, TenantDep
from centrex.api.fields import Out, Page, page_of
from centrex.api.routers.numbering import ProblemRoute, remember_session
from centrex.ops.tickets import acknowledge_ticket, open_ticket, resolve_ticket
from centrex.store.access import OperatorData
from centrex.store.errors import NotFound
from centrex.store.models.alarms import TicketRow
from centrex.store.policy import Action, Resource

router = APIRouter(tags=["tickets"], route_class=ProblemRoute, dependencies=[Depends(remember_session)])

Status = Literal["open", "acknowledged", "resolved"]


class TicketIn(BaseModel):
    subject: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=10_000)
    priority: Literal[1, 2] = Field(
        2, description="1: respond within 8 hours; 2: within 24 business hours (hosted-pbx.txt Monitoring 2)"
    )


class TicketOut(Out):
    id: uuid.UUID
    tenant_id: uuid.UUID | None
    alarm_id: uuid.UUID | None
    priority: int
    subject: str
    description: str
    status: Status
    opened_by: str
    opened_at: datetime
    due_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    escalated_at: datetime | None
    resolved_at: datetime | None
    resolution: str


class ResolveIn(BaseModel):
    resolution: str = Field(min_length=1, max_length=10_000)


def _page(session: Any, stmt: Any, paging: Any) -> dict[str, Any]:
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    rows = list(session.scalars(stmt.limit(paging.limit).offset(paging.offset)))
    return page_of(rows, total, paging.limit, paging.offset)


# --- a tenant's tickets --------------------------------------------------------------------------


@router.post("/tenants/{tenant_id}/tickets", response_model=TicketOut, status_code=201)
def report_a_ticket(body: TicketIn, data: TenantDep) -> Any:
    """Report a fault (office administrator or back-up only); the response clock starts now."""
    data.require(Resource.TICKET, Action.CREATE)
    return open_ticket(
        data.session,
        subject=body.subject,
        description=body.description,
        priority=body.priority,
        opened_by=data.principal.label,
        tenant_id=data.tenant_id,
    )


@router.get("/tenants/{tenant_id}/tickets", response_model=Page[TicketOut])
def tenant_tickets(data: TenantDep, paging: PagingDep, status: Status | None = None) -> Any:
    stmt = data.select(TicketRow, Resource.TICKET).order_by(TicketRow.opened_at.desc(), TicketRow.id)
    if status is not None:
        stmt = stmt.where(TicketRow.status == status)
    return _page(data.session, stmt, paging)


@router.get("/tenants/{tenant_id}/tickets/{ticket_id}", response_model=TicketOut)
def tenant_ticket(ticket_id: uuid.UUID, data: TenantDep) -> Any:
    return data.get(TicketRow, ticket_id, Resource.TICKET)


# --- the operator's desk -----------------------------------------------------------------------


@router.get("/tickets", response_model=Page[TicketOut])
def all_tickets(ops: OperatorDep, paging: PagingDep, status: Status | None = None) -> Any:
    """Every ticket, the earliest due first."""
    ops.require_operator()
    stmt = select(TicketRow).order_by(TicketRow.due_at, TicketRow.id)
    if status is not None:
        stmt = stmt.where(TicketRow.status == status)
    return _page(ops.session, stmt, paging)


def _ticket(ops: OperatorData, ticket_id: uuid.UUID) -> TicketRow:
    ops.require_operator()
    row = ops.session.get(TicketRow, ticket_id)
    if row is None:
        raise NotFound(f"no ticket {ticket_id}", field="ticket_id")
    return row


@router.get("/tickets/{ticket_id}", response_model=TicketOut)
def get_ticket(ticket_id: uuid.UUID, ops: OperatorDep) -> Any:
    return _ticket(ops, ticket_id)


@router.post("/tickets/{ticket_id}/acknowledge", response_model=TicketOut)
def acknowledge_a_ticket(ticket_id: uuid.UUID, ops: OperatorDep) -> Any:
    return acknowledge_ticket(ops.session, _ticket(ops, ticket_id), by=ops.principal.label)


@router.post("/tickets/{ticket_id}/resolve", response_model=TicketOut)
def resolve_a_ticket(ticket_id: uuid.UUID, body: ResolveIn, ops: OperatorDep) -> Any:
    return resolve_ticket(
        ops.session, _ticket(ops, ticket_id), by=ops.principal.label, resolution=body.resolution
    )
