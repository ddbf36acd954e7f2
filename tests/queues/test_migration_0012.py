"""Migration 0012: call_queues, queue_agents and queue_events on top of 0011, matching the models,
an extension unique per tenant, one agent row per user and queue, and back down to 0011."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.exc import IntegrityError

from centrex.store.db import make_engine, make_sessionmaker, transaction
from centrex.store.migrate import alembic_config, is_current, upgrade
from centrex.store.models import Base, Tenant, User
from centrex.store.models.queues import CallQueue, QueueAgent, QueueEventRow

TABLES = ("call_queues", "queue_agents", "queue_events")


def test_one_head_and_0012_follows_0011() -> None:
    script = ScriptDirectory.from_config(alembic_config(""))
    assert len(script.get_heads()) == 1
    assert script.get_revision("0012").down_revision == "0011"


def test_tables_match_the_models_constraints_and_downgrade(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        assert is_current(engine)
        with engine.connect() as conn:
            diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
            indexes = {ix["name"]: ix["column_names"] for ix in inspect(conn).get_indexes("queue_events")}
        assert [d for d in diffs if any(t in repr(d) for t in TABLES)] == []
        assert indexes["ix_queue_events_range"] == ["tenant_id", "queue_id", "at"]
        factory = make_sessionmaker(engine)
        with transaction(factory) as s:
            tenant = Tenant(name="Queue Co", sip_domain="queue.example.com")
            other = Tenant(name="Other Co", sip_domain="other.example.com")
            s.add_all([tenant, other])
            s.flush()
            user = User(tenant_id=tenant.id, name="Agent", extension="2001")
            queue = CallQueue(tenant_id=tenant.id, name="Support", extension="4000")
            s.add_all([user, queue, CallQueue(tenant_id=other.id, name="Support", extension="4000")])
            s.flush()
            s.add(QueueAgent(tenant_id=tenant.id, queue_id=queue.id, user_id=user.id))
            s.add(
                QueueEventRow(
                    tenant_id=tenant.id,
                    queue_id=queue.id,
                    kind="entered",
                    at=datetime(2026, 1, 5, tzinfo=UTC),
                )
            )
            ids = (tenant.id, queue.id, user.id)
        with factory() as s:
            row = s.get(CallQueue, ids[1])
            assert row is not None
            assert (row.max_wait_s, row.wrap_up_s, row.agent_ring_s, row.overflow_destination) == (
                300,
                10,
                15,
                None,
            )
            agent = s.query(QueueAgent).one()
            assert (agent.position, agent.logged_in, agent.logged_in_at) == (0, False, None)
            assert s.query(QueueEventRow).one().at == datetime(2026, 1, 5, tzinfo=UTC)
        with pytest.raises(IntegrityError), transaction(factory) as s:
            s.add(CallQueue(tenant_id=ids[0], name="Dup", extension="4000"))
        with pytest.raises(IntegrityError), transaction(factory) as s:
            s.add(QueueAgent(tenant_id=ids[0], queue_id=ids[1], user_id=ids[2], position=1))
        with transaction(factory) as s:  # a queue deleted takes its agents and history with it
            s.delete(s.get(CallQueue, ids[1]))
        with factory() as s:
            assert (s.query(QueueAgent).count(), s.query(QueueEventRow).count()) == (0, 0)
        cfg = alembic_config(engine.url.render_as_string(hide_password=False))
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0011")
        with engine.begin() as conn:
            assert not set(TABLES) & set(inspect(conn).get_table_names())
        upgrade(engine)
        assert is_current(engine)
    finally:
        engine.dispose()
