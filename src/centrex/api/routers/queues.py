"""Call-center queues (issue 4 point 4): settings and members, agents logged in and out by an
administrator (agents themselves dial *45/*46 + the queue's extension), live and historical
statistics (calls/queue_stats.py over queue_events).

Set up like hunt groups (hosted-pbx.txt MAC 5) by the office administrator, back-up or operator,
audited. An agent may read their own queue's live figures.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy import select

from centrex.api.checks import extension_free
from centrex.api.deps import Listing, TenantDep, listing
from centrex.api.fields import Destination, Extension, Out, Page, page_of
from centrex.api.routers.cdrs import _instant
from centrex.pbx.queue_model import QueueEvent
from centrex.pbx.queue_stats import (
    AGENT_LOGIN,
    AGENT_LOGOUT,
    DEFAULT_SERVICE_LEVEL_S,
    live_stats,
    live_window,
    period_stats,
    period_window,
)
from centrex.pbx.queue_store import event_values, login_changes
from centrex.store.access import TenantData, jsonable
from centrex.store.errors import Conflict, Forbidden, Invalid
from centrex.store.models import User
from centrex.store.models.queues import CallQueue, QueueAgent, QueueEventRow
from centrex.store.policy import Action, Resource, may

router = APIRouter(prefix="/tenants/{tenant_id}", tags=["call-center queues"])

MAX_PERIOD = timedelta(days=92)  # a quarter: one report reads every event of the period
_SETTINGS = (
    "name",
    "extension",
    "max_wait_s",
    "wrap_up_s",
    "agent_ring_s",
    "overflow_destination",
    "announce_position_s",
)
# A waiting caller is told their place this often; more often than every 10 s the announcement
# would take most of the wait (it lasts 2-3 s), so 1-9 is refused.
ANNOUNCE_MIN_S, ANNOUNCE_MAX_S = 10, 600


class QueueIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    extension: Extension
    max_wait_s: int = Field(
        300, ge=10, le=3600, description="then the caller goes to the overflow destination"
    )
    wrap_up_s: int = Field(10, ge=0, le=600, description="an agent's pause after each queue call")
    agent_ring_s: int = Field(15, ge=5, le=120, description="how long one agent is rung")
    overflow_destination: Destination | None = Field(None, description="none: the caller is hung up on")
    announce_position_s: int = Field(
        30,
        ge=0,
        le=ANNOUNCE_MAX_S,
        description='"you are caller number N" this often while waiting (0: never, else 10-600 s)',
    )
    member_ids: list[uuid.UUID] = Field(default_factory=list, max_length=200, description="who may log in")


class QueuePatch(BaseModel):
    name: str | None = Field(None, min_length=1, max_length=100)
    extension: Extension | None = None
    max_wait_s: int | None = Field(None, ge=10, le=3600)
    wrap_up_s: int | None = Field(None, ge=0, le=600)
    agent_ring_s: int | None = Field(None, ge=5, le=120)
    overflow_destination: Destination | None = None
    announce_position_s: int | None = Field(None, ge=0, le=ANNOUNCE_MAX_S)
    member_ids: list[uuid.UUID] | None = Field(
        None, max_length=200, description="replaces the members, in order; those staying keep their login"
    )


class QueueOut(Out):
    id: uuid.UUID
    name: str
    extension: str
    max_wait_s: int
    wrap_up_s: int
    agent_ring_s: int
    overflow_destination: str | None
    announce_position_s: int
    member_ids: list[uuid.UUID]
    logged_in_ids: list[uuid.UUID]  # in the order they logged in


class AgentOut(Out):
    queue_id: uuid.UUID
    user_id: uuid.UUID
    logged_in: bool
    logged_in_at: datetime | None


class LiveOut(BaseModel):
    queue_id: uuid.UUID
    at: datetime
    waiting: int
    longest_wait_ms: int
    agents_logged_in: int
    logged_in_ids: list[uuid.UUID]


class AgentCount(BaseModel):
    user_id: uuid.UUID
    answered: int


class PeriodOut(BaseModel):
    queue_id: uuid.UUID
    start: datetime = Field(serialization_alias="from")
    end: datetime = Field(serialization_alias="to")
    offered: int
    answered: int
    abandoned: int
    overflowed: int
    waiting: int
    average_wait_ms: int | None
    p90_wait_ms: int | None
    service_level_s: int
    service_level_pct: float | None
    agents: list[AgentCount]


def _agents(data: TenantData, queue_id: uuid.UUID, resource: Resource = Resource.QUEUE) -> list[QueueAgent]:
    stmt = data.select(QueueAgent, resource).where(QueueAgent.queue_id == queue_id)
    return list(data.session.scalars(stmt.order_by(QueueAgent.position, QueueAgent.id)))


def _out(data: TenantData, queue: CallQueue) -> dict[str, Any]:
    agents = _agents(data, queue.id)
    logged_in = sorted((a for a in agents if a.logged_in), key=lambda a: (a.logged_in_at, a.position))
    return {
        "id": queue.id,
        **{c: getattr(queue, c) for c in _SETTINGS},
        "member_ids": [a.user_id for a in agents],
        "logged_in_ids": [a.user_id for a in logged_in],
    }


def _check_overflow(extension: str, overflow: str | None) -> None:
    if overflow is not None and overflow == extension:
        raise Invalid(
            "overflow_destination may not be the queue itself (a caller would wait forever)",
            field="overflow_destination",
            rule="not_self",
        )


def _check_announce(seconds: int | None) -> None:
    if seconds is not None and 0 < seconds < ANNOUNCE_MIN_S:
        raise Invalid(
            f"announce_position_s must be 0 (never) or {ANNOUNCE_MIN_S}-{ANNOUNCE_MAX_S} seconds",
            field="announce_position_s",
            rule="zero_or_at_least_10",
        )


def _record(data: TenantData, kind: str, queue: CallQueue, user_id: uuid.UUID, now: datetime) -> None:
    data.session.add(
        QueueEventRow(**event_values(QueueEvent(kind, queue.id, data.tenant_id, now, None, user_id)))
    )


def _set_members(data: TenantData, queue: CallQueue, member_ids: list[uuid.UUID]) -> None:
    """Members in the given order; those staying keep their login, a logged-in agent removed is
    logged out (with the event, so the statistics' history stays whole)."""
    if len(member_ids) != len(set(member_ids)):
        raise Invalid("a user is listed twice", field="member_ids", rule="unique")
    for user_id in member_ids:
        user = data.session.get(User, user_id)
        if user is None or user.tenant_id != data.tenant_id:
            raise Invalid(
                f"member {user_id} is not a user of this tenant", field="member_ids", rule="exists_in_tenant"
            )
    now = datetime.now(UTC)
    existing = {a.user_id: a for a in _agents(data, queue.id)}
    for user_id, agent in existing.items():
        if user_id not in member_ids:
            if agent.logged_in:
                _record(data, AGENT_LOGOUT, queue, user_id, now)
            data.session.delete(agent)
    data.session.flush()
    for position, user_id in enumerate(member_ids):
        if user_id in existing:
            existing[user_id].position = position
        else:
            data.session.add(
                QueueAgent(tenant_id=data.tenant_id, queue_id=queue.id, user_id=user_id, position=position)
            )
    data.session.flush()


def _audit_ids(values: dict[str, Any]) -> dict[str, Any]:
    return {k: [str(i) for i in v] if isinstance(v, list) else jsonable(v) for k, v in values.items()}


QueueListing = Annotated[
    Listing,
    Depends(
        listing(
            {"name": CallQueue.name, "extension": CallQueue.extension, "created_at": CallQueue.created_at},
            (CallQueue.name, CallQueue.extension),
        )
    ),
]


@router.get("/queues", response_model=Page[QueueOut])
def list_queues(data: TenantDep, paging: QueueListing) -> Any:
    stmt = paging.apply(data.select(CallQueue, Resource.QUEUE).order_by(CallQueue.extension))
    rows, total = data.page(stmt, paging.limit, paging.offset)
    return page_of([_out(data, q) for q in rows], total, paging.limit, paging.offset)


@router.post("/queues", response_model=QueueOut, status_code=201)
def create_queue(body: QueueIn, data: TenantDep) -> Any:
    data.require(Resource.QUEUE, Action.CREATE)
    extension_free(data, body.extension)
    _check_overflow(body.extension, body.overflow_destination)
    _check_announce(body.announce_position_s)
    queue = data.create(
        CallQueue, "mac.call_queue", Resource.QUEUE, **body.model_dump(exclude={"member_ids"})
    )
    _set_members(data, queue, body.member_ids)
    return _out(data, queue)


@router.get("/queues/{queue_id}", response_model=QueueOut)
def get_queue(queue_id: uuid.UUID, data: TenantDep) -> Any:
    return _out(data, data.get(CallQueue, queue_id, Resource.QUEUE))


@router.patch("/queues/{queue_id}", response_model=QueueOut)
def patch_queue(queue_id: uuid.UUID, body: QueuePatch, data: TenantDep) -> Any:
    """Settings and members change in one transaction, audited as one entry."""
    data.require(Resource.QUEUE, Action.UPDATE)
    queue = data.get(CallQueue, queue_id, Resource.QUEUE)
    changes = body.model_dump(exclude_unset=True)
    members = changes.pop("member_ids", None)
    for required in ("name", "extension", "max_wait_s", "wrap_up_s", "agent_ring_s", "announce_position_s"):
        if required in changes and changes[required] is None:
            changes.pop(required)
    if changes.get("extension"):
        extension_free(data, changes["extension"], exclude=queue.id)
    _check_overflow(
        changes.get("extension", queue.extension),
        changes.get("overflow_destination", queue.overflow_destination),
    )
    _check_announce(changes.get("announce_position_s"))
    before = _out(data, queue)
    for key, value in changes.items():
        setattr(queue, key, value)
    if members is not None:
        _set_members(data, queue, members)
    data.session.flush()
    after = _out(data, queue)
    diff = {k for k in after if before[k] != after[k] and k != "logged_in_ids"}
    if diff:
        data.audit(
            "mac.call_queue",
            "call_queues",
            queue.id,
            _audit_ids({k: before[k] for k in diff}),
            _audit_ids({k: after[k] for k in diff}),
            data.tenant_id,
        )
    return after


@router.delete("/queues/{queue_id}", status_code=204)
def delete_queue(queue_id: uuid.UUID, data: TenantDep) -> None:
    """The queue's members and its statistics' history go with it."""
    data.delete(data.get(CallQueue, queue_id, Resource.QUEUE), "mac.call_queue", Resource.QUEUE)


def _login(queue_id: uuid.UUID, user_id: uuid.UUID, data: TenantData, on: bool) -> dict[str, Any]:
    """As the agent's own *45/*46 would: only a member, the event recorded for the statistics;
    logging in again (or out again) changes nothing."""
    data.require(Resource.QUEUE, Action.UPDATE)
    queue = data.get(CallQueue, queue_id, Resource.QUEUE)
    user = data.get(User, user_id, Resource.QUEUE)
    agent = data.session.scalar(
        select(QueueAgent).where(QueueAgent.queue_id == queue.id, QueueAgent.user_id == user.id)
    )
    if agent is None:
        raise Conflict(
            f"user {user.extension} is not a member of queue {queue.extension}",
            field="user_id",
            rule="queue_member",
        )
    if agent.logged_in != on:
        now = datetime.now(UTC)
        data.update(
            agent, "queue.agent_login" if on else "queue.agent_logout", login_changes(on, now), Resource.QUEUE
        )
        _record(data, AGENT_LOGIN if on else AGENT_LOGOUT, queue, user.id, now)
        data.session.flush()
    return {c: getattr(agent, c) for c in ("queue_id", "user_id", "logged_in", "logged_in_at")}


@router.post("/queues/{queue_id}/agents/{user_id}/login", response_model=AgentOut)
def login_agent(queue_id: uuid.UUID, user_id: uuid.UUID, data: TenantDep) -> Any:
    return _login(queue_id, user_id, data, True)


@router.post("/queues/{queue_id}/agents/{user_id}/logout", response_model=AgentOut)
def logout_agent(queue_id: uuid.UUID, user_id: uuid.UUID, data: TenantDep) -> Any:
    return _login(queue_id, user_id, data, False)


def _events(
    data: TenantData, queue: CallQueue, start: datetime, end: datetime, resource: Resource
) -> list[QueueEvent]:
    stmt = data.select(QueueEventRow, resource).where(
        QueueEventRow.queue_id == queue.id, QueueEventRow.at >= start, QueueEventRow.at < end
    )
    return [
        QueueEvent(r.kind, r.queue_id, r.tenant_id, r.at, r.call_id, r.agent_id, r.wait_ms)
        for r in data.session.scalars(stmt)
    ]


@router.get("/queues/{queue_id}/stats/live", response_model=LiveOut)
def live(queue_id: uuid.UUID, data: TenantDep) -> Any:
    """Callers waiting now, the longest wait, agents logged in. Administrators see every queue; any
    other user only a queue they are a member of."""
    queue = data.get(CallQueue, queue_id, Resource.QUEUE_LIVE)
    agents = _agents(data, queue.id, Resource.QUEUE_LIVE)
    if not may(data.principal.roles, Resource.QUEUE, Action.READ) and data.principal.user_id not in {
        a.user_id for a in agents
    }:
        raise Forbidden(
            "only the queue's own agents and administrators see its live figures", rule="queue_member"
        )
    now = datetime.now(UTC)
    events = _events(
        data, queue, live_window(now, queue.max_wait_s), now + timedelta(seconds=1), Resource.QUEUE_LIVE
    )
    logged_in = sorted((a for a in agents if a.logged_in), key=lambda a: (a.logged_in_at, a.position))
    stats = live_stats(events, now, len(logged_in), queue.max_wait_s)
    return {
        "queue_id": queue.id,
        "at": now,
        "waiting": stats.waiting,
        "longest_wait_ms": stats.longest_wait_ms,
        "agents_logged_in": stats.agents_logged_in,
        "logged_in_ids": [a.user_id for a in logged_in],
    }


class Period:
    """?from=&to= as a bare UTC date (to: through that day) or an ISO 8601 date-time with its offset;
    by default the last 24 hours."""

    def __init__(
        self,
        from_: Annotated[str | None, Query(alias="from", max_length=40)] = None,
        to: Annotated[str | None, Query(max_length=40)] = None,
        service_level_s: Annotated[int, Query(ge=1, le=3600)] = DEFAULT_SERVICE_LEVEL_S,
    ) -> None:
        self.end = _instant(to, "to", end_of_day=True) or datetime.now(UTC)
        self.start = _instant(from_, "from", end_of_day=False) or self.end - timedelta(days=1)
        if self.end <= self.start:
            raise Invalid("to must be after from", field="to", rule="date_range")
        if self.end - self.start > MAX_PERIOD:
            raise Invalid(f"a period is at most {MAX_PERIOD.days} days", field="from", rule="max_period")
        self.service_level_s = service_level_s


@router.get("/queues/{queue_id}/stats", response_model=PeriodOut, response_model_by_alias=True)
def history(queue_id: uuid.UUID, data: TenantDep, period: Annotated[Period, Depends()]) -> Any:
    """Calls that entered the queue in [from, to): offered, answered, abandoned, overflowed, still
    waiting, average and p90 wait of answered calls, service level, answered per agent."""
    queue = data.get(CallQueue, queue_id, Resource.QUEUE)
    events = _events(data, queue, *period_window(period.start, period.end, queue.max_wait_s), Resource.QUEUE)
    s = period_stats(events, period.start, period.end, period.service_level_s)
    return PeriodOut(
        queue_id=queue.id,
        start=s.start,
        end=s.end,
        offered=s.offered,
        answered=s.answered,
        abandoned=s.abandoned,
        overflowed=s.overflowed,
        waiting=s.waiting,
        average_wait_ms=s.average_wait_ms,
        p90_wait_ms=s.p90_wait_ms,
        service_level_s=s.service_level_s,
        service_level_pct=s.service_level_pct,
        agents=[AgentCount(user_id=u, answered=n) for u, n in s.answered_by_agent.items()],
    )
