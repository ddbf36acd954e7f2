"""World rows of verified caller IDs (issue 17 §5): one per tenant of the world."""

from __future__ import annotations

from sqlalchemy.orm import Session

from centrex.store.models.caller_ids import VerifiedCallerId
from tests.support.world import TenantWorld

MOBILE = {"alpha.example.com": "+16465550110", "beta.example.com": "+16465550120"}


def extend(session: Session, tw: TenantWorld) -> None:
    row = VerifiedCallerId(tenant_id=tw.id, e164=MOBILE[tw.domain], label="CEO mobile", verified_by="LOA")
    session.add(row)
    session.flush()
    tw.ids["verified_caller_id"] = row.id
