"""A finished API call of the tenant (cpaas_calls) for the native call-control routes."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from centrex.cpaas.accounts import ensure_account
from centrex.cpaas.calls.rows import new_row


def extend(session: Session, tw: object) -> None:
    ids: dict[str, uuid.UUID] = tw.ids  # type: ignore[attr-defined]
    tenant_id: uuid.UUID = tw.id  # type: ignore[attr-defined]
    account = ensure_account(session, tenant_id)
    row = new_row(
        session,
        tenant_id,
        account_sid=account.sid,
        direction="outbound-api",
        from_number="+12015550100",
        to_number="1001",
        status="completed",
        duration_s=3,
    )
    ids["cpaas_call"] = row.id
