"""World rows of Insights (issue 20 §3): per tenant a saved dashboard and an alert rule, and spare
ones (so they can be deleted)."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy.orm import Session

from centrex.store.models.insights import InsightsAlertRule, InsightsDashboard
from tests.support.world import TenantWorld


def extend(session: Session, tw: TenantWorld) -> None:
    board = InsightsDashboard(tenant_id=tw.id, name="Calls", metrics=["calls.started"])
    spare_board = InsightsDashboard(tenant_id=tw.id, name="Spare", metrics=[])
    rules = [
        InsightsAlertRule(
            tenant_id=tw.id, name=name, kind="threshold", metric="calls.started", threshold=Decimal(5)
        )
        for name in ("Busy hour", "Spare rule")
    ]
    session.add_all([board, spare_board, *rules])
    session.flush()
    tw.ids.update(
        insights_dashboard=board.id,
        spare_insights_dashboard=spare_board.id,
        insights_rule=rules[0].id,
        spare_insights_rule=rules[1].id,
    )
