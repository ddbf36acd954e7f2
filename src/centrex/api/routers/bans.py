"""Brute-force bans and the ban allowlist (issue 13 point 4; fairuse/bans.py), the operator's alone
(404 to anyone else, as for every operator-wide route).

A ban is lifted in the store; every SIP node applies it within its sync period (calls/service.py
BAN_SYNC_S, 5 s). Trunk gateways and inbound networks are always allowed and are not listed here:
the allowlist rows are the operator's own networks (offices, monitoring hosts). A network added
here ends the bans of its addresses at the next sync too. Every change is audited.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy import func, select

from centrex.api.deps import OperatorDep, PagingDep
from centrex.api.fields import Out, Page, page_of
from centrex.api.routers.numbering import ProblemRoute, remember_session
from centrex.fairuse.bans import Realm, parse_network
from centrex.store.access import OperatorData, snapshot
from centrex.store.errors import Conflict, Invalid, NotFound
from centrex.store.models.bans import BanAllowRow, BanRow
from centrex.store.types import utcnow

router = APIRouter(tags=["bans"], route_class=ProblemRoute, dependencies=[Depends(remember_session)])


class BanOut(Out):
    id: uuid.UUID
    realm: Realm
    source: str = Field(description="an IPv4 address, or the /64 of an IPv6 one")
    started_at: datetime
    until: datetime
    failures: int
    last_username: str | None
    ended_at: datetime | None
    lifted_by: str | None
    active: bool


def ban_out(row: BanRow, now: datetime) -> BanOut:
    return BanOut(
        id=row.id,
        realm=Realm(row.realm),
        source=row.source,
        started_at=row.started_at,
        until=row.until,
        failures=row.failures,
        last_username=row.last_username,
        ended_at=row.ended_at,
        lifted_by=row.lifted_by,
        active=row.ended_at is None and row.until > now,
    )


def _page(ops: OperatorData, stmt: Any, paging: Any) -> tuple[list[Any], int]:
    total = ops.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    return list(ops.session.scalars(stmt.limit(paging.limit).offset(paging.offset))), total


@router.get("/bans", response_model=Page[BanOut])
def list_bans(
    ops: OperatorDep,
    paging: PagingDep,
    realm: Realm | None = None,
    source: str | None = None,
    include_ended: bool = False,
) -> Any:
    """Active bans, newest first; ``include_ended`` for the record of past ones."""
    ops.require_operator()
    now = utcnow()
    stmt = select(BanRow).order_by(BanRow.started_at.desc(), BanRow.id)
    if not include_ended:
        stmt = stmt.where(BanRow.ended_at.is_(None), BanRow.until > now)
    if realm is not None:
        stmt = stmt.where(BanRow.realm == realm.value)
    if source is not None:
        stmt = stmt.where(BanRow.source == source)
    rows, total = _page(ops, stmt, paging)
    return page_of([ban_out(r, now) for r in rows], total, paging.limit, paging.offset)


def _find_ban(ops: OperatorData, ban_id: uuid.UUID) -> BanRow:
    ops.require_operator()
    row = ops.session.get(BanRow, ban_id)
    if row is None:
        raise NotFound(f"no ban {ban_id}")
    return row


@router.get("/bans/{ban_id}", response_model=BanOut)
def get_ban(ban_id: uuid.UUID, ops: OperatorDep) -> Any:
    return ban_out(_find_ban(ops, ban_id), utcnow())


@router.delete("/bans/{ban_id}", status_code=204)
def lift_ban(ban_id: uuid.UUID, ops: OperatorDep) -> Response:
    """Lift a ban now: the source is heard again on every node within the sync period."""
    row = _find_ban(ops, ban_id)
    now = utcnow()
    if row.ended_at is not None or row.until <= now:
        raise Conflict(f"ban {ban_id} has already ended", field="ban_id", rule="ban_not_active")
    before = snapshot(row)
    row.ended_at = now
    row.lifted_by = ops.principal.label[:200]
    ops.session.flush()
    ops.audit("ban.lift", BanRow.__tablename__, row.id, before, snapshot(row), None)
    return Response(status_code=204)


# --- the allowlist ---------------------------------------------------------------------------------


class AllowIn(BaseModel):
    network: str = Field(max_length=64, description="an IP address or CIDR network, never banned")
    note: str = Field("", max_length=200)


class AllowOut(Out):
    id: uuid.UUID
    network: str
    note: str
    created_at: datetime


@router.get("/ban-allowlist", response_model=Page[AllowOut])
def list_allowlist(ops: OperatorDep, paging: PagingDep) -> Any:
    ops.require_operator()
    rows, total = _page(ops, select(BanAllowRow).order_by(BanAllowRow.network), paging)
    return page_of(rows, total, paging.limit, paging.offset)


@router.post("/ban-allowlist", response_model=AllowOut, status_code=201)
def add_allowlist(body: AllowIn, ops: OperatorDep) -> Any:
    ops.require_operator()
    try:
        network = str(parse_network(body.network))
    except ValueError as exc:
        raise Invalid(str(exc), field="network", rule="ip_network") from None
    if ops.session.scalar(select(BanAllowRow.id).where(BanAllowRow.network == network)) is not None:
        raise Conflict(f"{network} is already on the allowlist", field="network", rule="unique")
    return ops.create(BanAllowRow, "ban_allowlist.add", network=network, note=body.note)


@router.delete("/ban-allowlist/{entry_id}", status_code=204)
def remove_allowlist(entry_id: uuid.UUID, ops: OperatorDep) -> Response:
    ops.require_operator()
    row = ops.session.get(BanAllowRow, entry_id)
    if row is None:
        raise NotFound(f"no allowlist entry {entry_id}")
    ops.audit("ban_allowlist.remove", BanAllowRow.__tablename__, row.id, snapshot(row), None, None)
    ops.session.delete(row)
    ops.session.flush()
    return Response(status_code=204)
