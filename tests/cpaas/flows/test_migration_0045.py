"""Migration 0045: flow_executions.one_per_contact and the unique partial index on active executions
match the model on SQLite and PostgreSQL — the index refuses a second active one-per-contact
execution of a contact and nothing else — and the migration goes down to 0043 and up again."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.exc import IntegrityError

from centrex.cpaas.flows import store
from centrex.ops.demo import seed_demo
from centrex.store.db import make_engine, make_sessionmaker, transaction
from centrex.store.migrate import alembic_config, is_current, upgrade
from centrex.store.models import Base
from centrex.store.models.flows import FlowExecution

INDEX = "uq_flow_executions_active_contact"


def _schema(engine: object) -> tuple[set[str], set[str]]:
    with engine.connect() as conn:  # type: ignore[attr-defined]
        found = inspect(conn)
        columns = {c["name"] for c in found.get_columns("flow_executions")}
        return columns, {i["name"] for i in found.get_indexes("flow_executions")}


def _row(flow_id: uuid.UUID, tenant_id: uuid.UUID, status: str, one: bool) -> FlowExecution:
    return FlowExecution(
        tenant_id=tenant_id,
        flow_id=flow_id,
        revision=1,
        channel="rest",
        contact_address="+15551230001",
        status=status,
        one_per_contact=one,
    )


def test_the_index_matches_the_model_and_downgrades(db_url: str, tmp_path: Path) -> None:
    engine = make_engine(db_url)
    sessions = make_sessionmaker(engine)
    try:
        assert is_current(engine)
        columns, indexes = _schema(engine)
        assert "one_per_contact" in columns and INDEX in indexes
        with engine.connect() as conn:
            diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        assert [d for d in diffs if "flow_executions" in repr(d)] == []

        with transaction(sessions) as s:
            tenant = uuid.UUID(str(seed_demo(s, tmp_path).tenant_id))
            flow_id = store.create_flow(s, tenant, "indexed").id
            # Not covered: ended ones, and active ones of a flow that allows concurrent calls.
            s.add_all([_row(flow_id, tenant, "ended", True), _row(flow_id, tenant, "ended", True)])
            s.add_all([_row(flow_id, tenant, "active", False), _row(flow_id, tenant, "active", False)])
            s.add(_row(flow_id, tenant, "active", True))
        with pytest.raises(IntegrityError), transaction(sessions) as s:
            s.add(_row(flow_id, tenant, "active", True))

        cfg = alembic_config(engine.url.render_as_string(hide_password=False))
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0043")
        columns, indexes = _schema(engine)
        assert "one_per_contact" not in columns and INDEX not in indexes
        upgrade(engine)
        assert is_current(engine)
        assert _schema(engine) == ({*columns, "one_per_contact"}, {*indexes, INDEX})
    finally:
        engine.dispose()
