"""Operator tasks with progress (issue 18 §2; ops/portal_tasks.py): a rate-deck import and a
billing run answer 202 with a task at once; the portal polls ``GET /tasks/{id}`` for its progress
and, when it is done, its result (or the API's problem, naming the bad line and field of a deck).

- ``POST /rate-decks/imports`` (operator): the same upload as ``POST /rate-decks`` (``text/csv`` with
  ``?name=``, or JSON ``{name, csv}``), imported in the background.
- ``POST /billing/runs`` ``{"period": "2026-11", "dry_run": false}`` (operator): the billing run of
  the scheduler (ops/jobs/billing.py) for that usage month, every tenant with a billing plan.
- ``GET /tasks`` (operator; ``?kind=``), ``GET /tasks/{task_id}`` (operator).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import select

from centrex.api.deps import OperatorDep
from centrex.api.routers.rate_decks import deck_out, read_deck_upload
from centrex.billing.days import parse_period
from centrex.ops import portal_tasks
from centrex.store.errors import NotFound
from centrex.store.models.portal_tasks import PortalTask

router = APIRouter(tags=["tasks"])


class TaskProblem(BaseModel):
    message: str
    field: str | None = None
    rule: str | None = None


class TaskOut(BaseModel):
    id: uuid.UUID
    kind: str = Field(description="rate_deck_import or billing_run")
    status: str = Field(description="running, done or failed")
    phase: str = Field(description="what it is doing: queued, reading, storing, invoicing, done, failed")
    done: int
    total: int | None = Field(description="units of work (CSV rows, tenants); null while unknown")
    actor: str
    params: dict[str, Any]
    result: dict[str, Any] | None
    error: TaskProblem | None
    created_at: datetime
    finished_at: datetime | None


class BillingRunIn(BaseModel):
    period: str = Field(pattern=r"^[0-9]{4}-[0-9]{2}$", description="the usage month to close, YYYY-MM")
    dry_run: bool = Field(False, description="report what would be issued, keep nothing")


def _task(row: PortalTask) -> TaskOut:
    status, error = portal_tasks.shown_status(row)
    phase, done, total = row.phase, row.done, row.total
    running_here = portal_tasks.live(row.id) if row.status == portal_tasks.RUNNING else None
    if running_here is not None:
        phase, done, total = running_here
    return TaskOut(
        id=row.id,
        kind=row.kind,
        status=status,
        phase=phase,
        done=done,
        total=total,
        actor=row.actor,
        params=row.params,
        result=row.result,
        error=TaskProblem(**error) if error else None,
        created_at=row.created_at,
        finished_at=row.finished_at,
    )


@router.post(
    "/rate-decks/imports",
    response_model=TaskOut,
    status_code=202,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["name", "csv"],
                        "properties": {"name": {"type": "string"}, "csv": {"type": "string"}},
                    }
                },
            },
        }
    },
)
async def import_deck_task(
    request: Request, ops: OperatorDep, name: Annotated[str | None, Query(max_length=100)] = None
) -> Any:
    """Start importing a deck (columns as `POST /rate-decks`); poll the task for its progress."""
    ops.require_operator()
    name, text = await read_deck_upload(request, name)
    sessions = request.app.state.sessionmaker
    work = portal_tasks.rate_deck_import(sessions, ops.principal, name, text, deck_out)
    task_id = portal_tasks.start(sessions, "rate_deck_import", ops.principal.label, {"name": name}, work)
    return _read(sessions, task_id)


@router.post("/billing/runs", response_model=TaskOut, status_code=202)
def start_billing_run(body: BillingRunIn, request: Request, ops: OperatorDep) -> Any:
    """Start the billing run of a usage month for every tenant with a plan; poll the task."""
    ops.require_operator()
    month = parse_period(body.period)
    sessions = request.app.state.sessionmaker
    work = portal_tasks.billing_run(sessions, month, body.dry_run)
    params = {"period": body.period, "dry_run": body.dry_run}
    task_id = portal_tasks.start(sessions, "billing_run", ops.principal.label, params, work)
    return _read(sessions, task_id)


def _read(sessions: Any, task_id: uuid.UUID) -> TaskOut:
    with sessions() as s:
        row = s.get(PortalTask, task_id)
        assert row is not None
        return _task(row)


@router.get("/tasks", response_model=list[TaskOut])
def list_tasks(
    ops: OperatorDep,
    kind: Annotated[str | None, Query(max_length=32)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> Any:
    ops.require_operator()
    stmt = select(PortalTask).order_by(PortalTask.created_at.desc()).limit(limit)
    if kind:
        stmt = stmt.where(PortalTask.kind == kind)
    return [_task(row) for row in ops.session.scalars(stmt)]


@router.get("/tasks/{task_id}", response_model=TaskOut)
def get_task(task_id: uuid.UUID, ops: OperatorDep) -> Any:
    ops.require_operator()
    row = ops.session.get(PortalTask, task_id)
    if row is None:
        raise NotFound(f"task {task_id} not found", field="task_id")
    return _task(row)
