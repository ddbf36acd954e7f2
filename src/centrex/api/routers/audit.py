"""The operator's view of the whole audit log (issue 18 §1): every tenant's changes and log-ins, and
the operators' own (which belong to no tenant). A tenant's people read their tenant's log at
GET /tenants/{id}/audit (api/routers/access_admin.py); to anyone but an operator this route does not
exist (404, as every operator route).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from fastapi import APIRouter

from centrex.api.deps import OperatorDep, PagingDep
from centrex.api.fields import Page, page_of
from centrex.api.routers.access_admin import AuditOut
from centrex.store.models import AuditEntry

router = APIRouter(prefix="/audit", tags=["access"])


class OperatorAuditOut(AuditOut):
    tenant_id: uuid.UUID | None


@router.get("", response_model=Page[OperatorAuditOut])
def operator_audit_log(
    data: OperatorDep,
    paging: PagingDep,
    tenant_id: uuid.UUID | None = None,
    operators_only: bool = False,
    action: str | None = None,
    since: datetime | None = None,
) -> Any:
    data.require_operator()
    stmt = data.session.query(AuditEntry).order_by(AuditEntry.at.desc())
    if operators_only:
        stmt = stmt.filter(AuditEntry.tenant_id.is_(None))
    elif tenant_id is not None:
        stmt = stmt.filter(AuditEntry.tenant_id == tenant_id)
    if action:
        stmt = stmt.filter(AuditEntry.action == action)
    if since:
        stmt = stmt.filter(AuditEntry.at >= since)
    total = stmt.count()
    rows = stmt.limit(paging.limit).offset(paging.offset).all()
    return page_of(rows, total, paging.limit, paging.offset)
