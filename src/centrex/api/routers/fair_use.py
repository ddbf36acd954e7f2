"""Fair use of the voice bundles (issue 15 §2; voice-bundles.txt §3.2, §3.3): the findings, each with
its evidence and where it stands (noticed, cured, re-rated with the adjustment, flagged for
termination), for the tenant's administrators and the operator; the operator reviews a cycle and
imports the NPA-NXX carrier-type table.

- ``GET /tenants/{id}/fair-use/findings`` (office administrator, back-up, operator): the notices.
- ``POST /tenants/{id}/fair-use/reviews`` ``{"cycle": "2026-01"}`` (operator): review a billing cycle
  (each once, in order; 409 otherwise).
- ``GET /fair-use/findings`` (operator): every tenant's findings, optionally by ``state``.
- ``PUT /fair-use/carrier-types`` (operator): ``{"csv": "npa_nxx,carrier_type\\n212555,RBOC\\n..."}``
  replaces the table; a bad row is a 422 naming its line.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field
from sqlalchemy import delete, select

from centrex.api.deps import OperatorDep, TenantDep
from centrex.api.routers.numbering import ProblemRoute, remember_session
from centrex.fairuse.review_store import review_cycle
from centrex.store.errors import Invalid
from centrex.store.models.admission import CarrierType, FairUseCase
from centrex.store.policy import Resource

router = APIRouter(tags=["fair use"], route_class=ProblemRoute, dependencies=[Depends(remember_session)])

CARRIER_TYPES = frozenset({"RBOC", "ILEC", "CLEC", "WIRELESS"})


class FindingOut(BaseModel):
    id: uuid.UUID
    tenant_id: uuid.UUID
    kind: str
    subject: str = Field(description="the user, site or 'tenant' the finding is about")
    state: str = Field(description="noticed, cured, rerated or termination")
    noticed_cycle: str
    cycles: list[str] = Field(description="the billing cycles it was seen in (re-rated ones: affected)")
    evidence: dict[str, Any]
    adjustment: Decimal | None = Field(description="re-rated amount over the affected cycles")

    model_config = {"from_attributes": True}


class ReviewIn(BaseModel):
    cycle: str = Field(pattern=r"^20[0-9]{2}-(0[1-9]|1[0-2])$", description="YYYY-MM")


class CarrierTypesIn(BaseModel):
    csv: str = Field(min_length=1, max_length=20_000_000)


@router.get("/tenants/{tenant_id}/fair-use/findings", response_model=list[FindingOut])
def tenant_findings(data: TenantDep) -> Any:
    stmt = data.select(FairUseCase, Resource.BILLING).order_by(FairUseCase.noticed_cycle, FairUseCase.kind)
    return list(data.session.scalars(stmt))


@router.post("/tenants/{tenant_id}/fair-use/reviews", response_model=list[FindingOut])
def post_review(body: ReviewIn, data: TenantDep) -> Any:
    return review_cycle(data, body.cycle)  # billing's create right: the operator's


@router.get("/fair-use/findings", response_model=list[FindingOut])
def all_findings(ops: OperatorDep, state: str | None = None) -> Any:
    ops.require_operator()
    stmt = select(FairUseCase).order_by(FairUseCase.tenant_id, FairUseCase.noticed_cycle)
    if state is not None:
        stmt = stmt.where(FairUseCase.state == state)
    return list(ops.session.scalars(stmt))


@router.put("/fair-use/carrier-types", response_model=dict[str, int])
def put_carrier_types(body: CarrierTypesIn, ops: OperatorDep) -> Any:
    ops.require_operator()
    lines = body.csv.strip().splitlines()
    if not lines or lines[0].replace(" ", "").lower() != "npa_nxx,carrier_type":
        raise Invalid("the first line must be 'npa_nxx,carrier_type'", field="csv", rule="header")
    rows: dict[str, str] = {}
    for n, line in enumerate(lines[1:], start=2):
        npa_nxx, _, kind = (part.strip() for part in line.partition(","))
        if len(npa_nxx) != 6 or not npa_nxx.isdigit() or kind.upper() not in CARRIER_TYPES:
            raise Invalid(
                f"line {n}: want a six-digit NPA-NXX and one of {sorted(CARRIER_TYPES)}, got {line!r}",
                field=f"csv.line{n}",
                rule="carrier_type_row",
            )
        rows[npa_nxx] = kind.upper()
    ops.session.execute(delete(CarrierType))
    ops.session.add_all(CarrierType(npa_nxx=k, carrier_type=v) for k, v in rows.items())
    ops.audit("fair_use.carrier_types", "carrier_types", None, None, {"rows": len(rows)}, None)
    return {"rows": len(rows)}
