"""World rows of flows (issue 20 §1): per tenant a published flow with one execution and its
step, and a spare flow (so it can be deleted)."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from centrex.cpaas.flows import store
from centrex.store.models.flows import FlowStep
from tests.support.world import TenantWorld


def extend(session: Session, tw: TenantWorld) -> None:
    tenant_id = uuid.UUID(str(tw.id))
    flow = store.create_flow(session, tenant_id, "World flow")
    store.publish(session, flow)
    spare = store.create_flow(session, tenant_id, "Spare flow")
    execution = store.create_execution(
        session,
        flow,
        1,
        store.starter_definition(),
        "rest",
        "+16175550111",
        "+16175550100",
        {"flow": {"variables": {}}},
    )
    execution.status = "ended"
    session.add(
        FlowStep(
            tenant_id=tenant_id,
            execution_id=execution.id,
            seq=1,
            state="Trigger",
            widget_type="trigger",
            event="incomingRequest",
            outputs={},
        )
    )
    session.flush()
    tw.ids.update(flow=flow.id, spare_flow=spare.id, flow_execution=execution.id)
