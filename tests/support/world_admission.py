"""World rows of admission (issue 15): per tenant of the world one operator high-risk prefix, so the
route matrix can delete one (the prefixes are the operator's, not the tenant's)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from centrex.store.models.admission import HighRiskPrefix
from tests.support.world import TenantWorld

PREFIX = {"alpha.example.com": "+8811", "beta.example.com": "+8822"}


def extend(session: Session, tw: TenantWorld) -> None:
    row = HighRiskPrefix(prefix=PREFIX[tw.domain], note="matrix")
    session.add(row)
    session.flush()
    tw.ids["high_risk_prefix"] = row.id
