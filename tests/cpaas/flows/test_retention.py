"""flow-retention (cpaas.txt §2.4.2): an execution's content (context, steps' outputs: message
bodies, HTTP answers) emptied after 30 days, the execution and its steps deleted after 3 years;
a dry run changes nothing and a second run finds nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from centrex.cpaas.flows import store
from centrex.ops.jobs import builtin_registry
from centrex.ops.scheduler import JobContext
from centrex.store.db import make_engine, make_sessionmaker, transaction
from centrex.store.models import AuditEntry, Tenant
from centrex.store.models.flows import FlowExecution, FlowStep

NOW = datetime(2026, 12, 6, 4, 0, tzinfo=UTC)


def test_content_after_30_days_records_after_3_years(db_url: str) -> None:
    engine = make_engine(db_url)
    sessions = make_sessionmaker(engine)
    try:
        with transaction(sessions) as s:
            tenant = Tenant(name="Flow Retain Co", sip_domain="flowretain.example.com")
            s.add(tenant)
            s.flush()
            flow = store.create_flow(s, tenant.id, "kept")
            ages = {
                "fresh": timedelta(days=29),
                "month": timedelta(days=31),
                "old": timedelta(days=3 * 366 + 2),
            }
            ids = {}
            for name, age in ages.items():
                row = store.create_execution(
                    s,
                    flow,
                    1,
                    store.starter_definition(),
                    "message",
                    "+16175550111",
                    "+16175550100",
                    {"trigger": {"message": {"Body": f"{name} secret"}}},
                )
                row.created_at = row.updated_at = NOW - age
                s.add(
                    FlowStep(
                        tenant_id=tenant.id,
                        execution_id=row.id,
                        seq=1,
                        state="ask",
                        widget_type="send-and-wait-for-reply",
                        event="incomingMessage",
                        outputs={"inbound": {"Body": f"{name} reply"}},
                    )
                )
                ids[name] = row.id
        job = builtin_registry().get("flow-retention")
        dry = job.run(JobContext(sessions=sessions, now=NOW, dry_run=True))
        assert dry.counts == {"records": 1, "contents": 2}
        assert job.run(JobContext(sessions=sessions, now=NOW)).counts == {"records": 1, "contents": 1}
        with sessions() as s:
            rows = {r.id: r for r in s.scalars(select(FlowExecution))}
            assert set(rows) == {ids["fresh"], ids["month"]}
            assert rows[ids["fresh"]].context["trigger"]["message"]["Body"] == "fresh secret"
            assert rows[ids["month"]].context == {} and rows[ids["month"]].content_erased_at is not None
            steps = {st.execution_id: st for st in s.scalars(select(FlowStep))}
            assert set(steps) == {ids["fresh"], ids["month"]}  # the old one's step went with it
            assert steps[ids["month"]].outputs == {} and steps[ids["month"]].event == "incomingMessage"
            assert steps[ids["fresh"]].outputs == {"inbound": {"Body": "fresh reply"}}
            actions = sorted(
                a.action
                for a in s.scalars(select(AuditEntry).where(AuditEntry.tenant_id == tenant.id))
                if a.action.startswith("flow.")
            )
            assert actions == ["flow.content_erased", "flow.retention_delete"]
        again = job.run(JobContext(sessions=sessions, now=NOW))
        assert again.counts == {"records": 0, "contents": 0}
    finally:
        engine.dispose()
