"""Migration 0042: the pacing and refusal tables and the outbox's lane match their models, and go
down one revision and up again."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from centrex.store.db import make_engine
from centrex.store.migrate import alembic_config, is_current, upgrade
from centrex.store.models import Base

TABLES = ("cpaas_call_pacing", "sms_refusals", "webhook_deliveries")


def test_tables_match_the_models_and_downgrade(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        assert is_current(engine)
        with engine.connect() as conn:
            names = set(inspect(conn).get_table_names())
            assert set(TABLES) <= names
            assert "lane" in {c["name"] for c in inspect(conn).get_columns("webhook_deliveries")}
            diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        assert [d for d in diffs if any(t in repr(d) for t in TABLES)] == []
        cfg = alembic_config(engine.url.render_as_string(hide_password=False))
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0042-1")
            assert "cpaas_call_pacing" not in inspect(conn).get_table_names()
            assert "lane" not in {c["name"] for c in inspect(conn).get_columns("webhook_deliveries")}
        upgrade(engine)
        assert is_current(engine)
    finally:
        engine.dispose()
