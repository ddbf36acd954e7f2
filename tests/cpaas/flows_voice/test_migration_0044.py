"""Migration 0044: cpaas_applications.flow_id (a flow an application runs) matches the model, with
its foreign key to flows (SET NULL), and goes down to 0039 and up again."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from centrex.store.db import make_engine
from centrex.store.migrate import alembic_config, is_current, upgrade
from centrex.store.models import Base


def _columns(engine: object) -> set[str]:
    with engine.connect() as conn:  # type: ignore[attr-defined]
        return {c["name"] for c in inspect(conn).get_columns("cpaas_applications")}


def test_flow_id_matches_the_model_and_downgrades(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        assert is_current(engine)
        assert "flow_id" in _columns(engine)
        with engine.connect() as conn:
            fks = inspect(conn).get_foreign_keys("cpaas_applications")
            diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        assert any(fk["referred_table"] == "flows" and fk["constrained_columns"] == ["flow_id"] for fk in fks)
        assert [d for d in diffs if "cpaas_applications" in repr(d)] == []
        cfg = alembic_config(engine.url.render_as_string(hide_password=False))
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0039")
        assert "flow_id" not in _columns(engine)
        upgrade(engine)
        assert is_current(engine) and "flow_id" in _columns(engine)
    finally:
        engine.dispose()
