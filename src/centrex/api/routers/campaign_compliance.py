"""What campaigns are scrubbed against (issue 20 §2; cpaas.txt §2.3.4 (ii)): the tenant's consent
records and do-not-call list (Resource.CAMPAIGN: its administrators and developers, the
operator), and the operator's local copies of the National Do-Not-Call Registry and the
Reassigned Numbers Database (operator only; 404 to anyone else).

- ``/tenants/{t}/consent-records`` GET (``number`` filter), POST ``{number, channel, purpose,
  granted, obtained_at, method, evidence, name}``: one consent event, kept as given (who, when, how,
  which channel, marketing or informational); the latest of a number's channel and purpose decides.
- ``/tenants/{t}/dnc`` GET, POST ``{number, reason}``; ``/tenants/{t}/dnc/{number}`` DELETE.
- ``/dnc-registry/{kind}`` POST ``{csv, source, replace}`` (kind ``national-dnc`` | ``reassigned``),
  ``/dnc-registry/imports`` GET: what was imported, when, by whom, how many lines were rejected.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from sqlalchemy import func, select

from centrex.api.deps import OperatorDep, TenantDep
from centrex.cpaas.campaigns.location import BadNumber, e164
from centrex.cpaas.campaigns.registries import BadFile, import_csv
from centrex.store.errors import Invalid, NotFound
from centrex.store.models.campaigns import (
    ConsentRecord,
    DncEntry,
    NationalDncNumber,
    ReassignedNumber,
    RegistryImport,
)
from centrex.store.policy import Action, Resource

router = APIRouter(tags=["campaigns"])
CAMPAIGN = Resource.CAMPAIGN
MAX_CSV = 50_000_000  # characters: the registry's full download of one area code set fits


class ConsentIn(BaseModel):
    number: str = Field(min_length=3, max_length=32)
    name: str = Field("", max_length=200)
    channel: Literal["sms", "voice"]
    purpose: Literal["marketing", "informational"]
    granted: bool = True
    obtained_at: datetime | None = None
    method: Literal["web-form", "paper", "verbal", "keyword", "api", "import", "other"]
    evidence: str = Field("", max_length=5000)


class DncIn(BaseModel):
    number: str = Field(min_length=3, max_length=32)
    reason: str = Field("", max_length=300)


class RegistryIn(BaseModel):
    csv: str = Field(min_length=1, max_length=MAX_CSV)
    source: str = Field("", max_length=200)
    replace: bool = False


def _e164(number: str, field: str = "number") -> str:
    try:
        return e164(number)
    except BadNumber as exc:
        raise Invalid(str(exc), field=field, rule="e164") from None


def _consent_out(r: ConsentRecord) -> dict[str, Any]:
    return {
        "id": str(r.id),
        "number": r.number,
        "name": r.name,
        "channel": r.channel,
        "purpose": r.purpose,
        "granted": r.granted,
        "obtained_at": r.obtained_at.isoformat(),
        "method": r.method,
        "evidence": r.evidence,
        "recorded_by": r.recorded_by,
    }


@router.get("/tenants/{tenant_id}/consent-records")
def list_consent_records(
    data: TenantDep,
    number: Annotated[str | None, Query(max_length=32)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> dict[str, Any]:
    stmt = data.select(ConsentRecord, CAMPAIGN)
    if number:
        stmt = stmt.where(ConsentRecord.number == _e164(number))
    rows, total = data.page(stmt.order_by(ConsentRecord.obtained_at.desc(), ConsentRecord.id), limit, offset)
    return {"items": [_consent_out(r) for r in rows], "total": total, "limit": limit, "offset": offset}


@router.post("/tenants/{tenant_id}/consent-records", status_code=201)
def record_consent(data: TenantDep, body: ConsentIn) -> dict[str, Any]:
    when = body.obtained_at or datetime.now(UTC)
    if when.tzinfo is None:
        raise Invalid("obtained_at must carry its time zone", field="obtained_at")
    if when.year < 1990:
        raise Invalid("obtained_at is before 1990", field="obtained_at")
    if when > datetime.now(UTC):
        raise Invalid("obtained_at is in the future", field="obtained_at")
    row = data.create(
        ConsentRecord,
        "consent.record",
        CAMPAIGN,
        number=_e164(body.number),
        name=body.name,
        channel=body.channel,
        purpose=body.purpose,
        granted=body.granted,
        obtained_at=when.astimezone(UTC),
        method=body.method,
        evidence=body.evidence,
        recorded_by=data.principal.label,
    )
    return _consent_out(row)


def _dnc_out(r: DncEntry) -> dict[str, Any]:
    return {
        "number": r.number,
        "reason": r.reason,
        "added_by": r.added_by,
        "added_at": r.created_at.isoformat(),
    }


@router.get("/tenants/{tenant_id}/dnc")
def list_dnc(
    data: TenantDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> dict[str, Any]:
    rows, total = data.page(data.select(DncEntry, CAMPAIGN).order_by(DncEntry.number), limit, offset)
    return {"items": [_dnc_out(r) for r in rows], "total": total, "limit": limit, "offset": offset}


@router.post("/tenants/{tenant_id}/dnc", status_code=201)
def add_dnc(data: TenantDep, body: DncIn) -> dict[str, Any]:
    data.require(CAMPAIGN, Action.CREATE)
    number = _e164(body.number)
    row = data.session.scalar(data.select(DncEntry, CAMPAIGN).where(DncEntry.number == number))
    if row is None:
        row = data.create(
            DncEntry, "dnc.add", CAMPAIGN, number=number, reason=body.reason, added_by=data.principal.label
        )
    return _dnc_out(row)


@router.delete("/tenants/{tenant_id}/dnc/{number}", status_code=204)
def remove_dnc(data: TenantDep, number: str) -> None:
    data.require(CAMPAIGN, Action.DELETE)
    try:
        normalized = e164(number)
    except BadNumber:
        raise NotFound(f"{number} is not on the list", field="number") from None
    row = data.session.scalar(data.select(DncEntry, CAMPAIGN).where(DncEntry.number == normalized))
    if row is None:
        raise NotFound(f"{number} is not on the list", field="number")
    data.delete(row, "dnc.remove", CAMPAIGN)


# -- the operator's registry copies -------------------------------------------------------------
def _import_out(row: RegistryImport) -> dict[str, Any]:
    return {
        "id": str(row.id),
        "kind": row.kind,
        "source": row.source,
        "rows": row.rows,
        "rejected": row.rejected,
        "imported_by": row.imported_by,
        "imported_at": row.created_at.isoformat(),
    }


@router.get("/dnc-registry/imports")
def list_imports(ops: OperatorDep) -> dict[str, Any]:
    ops.require_operator()
    s = ops.session
    rows = s.scalars(select(RegistryImport).order_by(RegistryImport.created_at.desc()).limit(100))
    return {
        "imports": [_import_out(r) for r in rows],
        "national_dnc_numbers": s.scalar(select(func.count()).select_from(NationalDncNumber)) or 0,
        "reassigned_numbers": s.scalar(select(func.count()).select_from(ReassignedNumber)) or 0,
    }


@router.post("/dnc-registry/{kind}", status_code=201)
def import_registry(
    ops: OperatorDep, kind: Literal["national-dnc", "reassigned"], body: RegistryIn
) -> dict[str, Any]:
    ops.require_operator()
    try:
        result = import_csv(
            ops.session, kind, body.csv, source=body.source, by=ops.principal.label, replace=body.replace
        )
    except BadFile as exc:
        raise Invalid(str(exc), field="csv", rule="csv") from None
    ops.audit(
        f"registry.import.{kind}",
        "registry_imports",
        result.row.id,
        None,
        {"rows": result.row.rows, "rejected": result.row.rejected, "replace": body.replace},
        None,
    )
    return {**_import_out(result.row), "errors": result.errors}
