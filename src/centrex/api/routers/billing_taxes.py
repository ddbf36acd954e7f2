"""Operator-wide billing: the tax and surcharge table with effective dates (cpaas.txt §4.7, §4.8) —
CRUD and CSV import — and the collections job over every tenant (cpaas.txt §3.4)."""

from __future__ import annotations

import io
import json
import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from centrex.api.deps import OperatorDep
from centrex.api.fields import Out
from centrex.api.routers.billing_accounts import CollectionActionOut
from centrex.billing import collections_service as collections
from centrex.billing import days
from centrex.billing import tax_service as taxes
from centrex.billing.tax_table import TaxEntry
from centrex.billing.taxes import TaxKind
from centrex.store.errors import Invalid
from centrex.store.models.billing_accounts import TaxBasis

router = APIRouter(tags=["billing"])

MAX_TAX_CSV_BYTES = 4 * 1024 * 1024


class TaxRateIn(BaseModel):
    kind: TaxKind
    basis: TaxBasis
    jurisdiction: str = Field(
        min_length=1, max_length=64, pattern=r"^(\*|US|[A-Z]{2}(-[A-Z0-9]{1,20}){1,2})$"
    )
    name: str = Field(min_length=1, max_length=200)
    rate: Decimal = Field(ge=0, max_digits=18, decimal_places=6)
    effective_from: date
    effective_to: date | None = None
    source: str = Field("", max_length=200)


class TaxRatePatch(BaseModel):
    name: str | None = Field(None, min_length=1, max_length=200)
    rate: Decimal | None = Field(None, ge=0, max_digits=18, decimal_places=6)
    effective_to: date | None = None
    source: str | None = Field(None, max_length=200)


class TaxRateOut(Out):
    id: uuid.UUID
    kind: str
    basis: TaxBasis
    jurisdiction: str
    name: str
    rate: Decimal
    effective_from: date
    effective_to: date | None
    source: str
    created_at: datetime


@router.get("/tax-rates", response_model=list[TaxRateOut])
def list_tax_rates(
    ops: OperatorDep, on: Annotated[date | None, Query(description="only entries in force that day")] = None
) -> Any:
    return taxes.list_rates(ops, on)


@router.post("/tax-rates", response_model=TaxRateOut, status_code=201)
def add_tax_rate(body: TaxRateIn, ops: OperatorDep) -> Any:
    entry = TaxEntry(
        kind=body.kind,
        basis=body.basis.value,
        jurisdiction=body.jurisdiction,
        name=body.name,
        rate=body.rate,
        effective_from=body.effective_from,
        effective_to=body.effective_to,
        source=body.source,
    )
    return taxes.add_rate(ops, entry)


@router.post("/tax-rates/import", response_model=list[TaxRateOut], status_code=201)
async def import_tax_rates(request: Request, ops: OperatorDep) -> Any:
    """`Content-Type: text/csv`, or JSON `{"csv": ...}`; columns kind, basis, jurisdiction, name, rate,
    effective_from [, effective_to, source]. All lines or none; a bad line is named."""
    ops.require_operator()
    raw = await request.body()
    if len(raw) > MAX_TAX_CSV_BYTES:
        raise Invalid(f"at most {MAX_TAX_CSV_BYTES} bytes", field="csv", rule="size")
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            text = str(json.loads(raw)["csv"])
        except (ValueError, KeyError, TypeError):
            raise Invalid('JSON body must be {"csv": ...}', field="body", rule="json") from None
    else:
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise Invalid("the CSV must be UTF-8", field="csv", rule="utf-8") from None
    return taxes.import_rates(ops, io.StringIO(text, newline=""))


@router.patch("/tax-rates/{tax_rate_id}", response_model=TaxRateOut)
def patch_tax_rate(tax_rate_id: uuid.UUID, body: TaxRatePatch, ops: OperatorDep) -> Any:
    """Name, source and effective_to change; a new rate is a new entry (409 tax_table.effective_dates)."""
    row = taxes.find_rate(ops, tax_rate_id)
    return taxes.update_rate(ops, row, body.model_dump(exclude_unset=True))


@router.delete("/tax-rates/{tax_rate_id}", status_code=204)
def delete_tax_rate(tax_rate_id: uuid.UUID, ops: OperatorDep) -> None:
    taxes.delete_rate(ops, taxes.find_rate(ops, tax_rate_id))


class CollectionsIn(BaseModel):
    as_of: date | None = Field(None, description="default today")
    notify: bool = Field(True, description="record notices of non-payment for overdue undisputed amounts")


@router.post("/billing/collections", response_model=list[CollectionActionOut])
def run_collections(body: CollectionsIn, ops: OperatorDep) -> Any:
    """The collections job over every tenant (also `centrex billing collections --as-of`)."""
    return collections.run_collections(
        ops.session, ops.principal, body.as_of or days.today(), notify=body.notify
    )
