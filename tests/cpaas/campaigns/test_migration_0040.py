"""Migration 0040: the campaign tables match their models, and go down and up again."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from centrex.store.db import make_engine
from centrex.store.migrate import alembic_config, is_current, upgrade
from centrex.store.models import Base

TABLES = (
    "contact_lists",
    "contacts",
    "consent_records",
    "dnc_entries",
    "registry_imports",
    "national_dnc_numbers",
    "reassigned_numbers",
    "campaigns",
    "campaign_recipients",
)


def test_tables_match_the_models_and_downgrade(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        assert is_current(engine)
        with engine.connect() as conn:
            assert set(TABLES) <= set(inspect(conn).get_table_names())
            diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        assert [d for d in diffs if any(t in repr(d) for t in TABLES)] == []
        cfg = alembic_config(engine.url.render_as_string(hide_password=False))
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0040-1")
            assert "campaigns" not in inspect(conn).get_table_names()
        upgrade(engine)
        assert is_current(engine)
    finally:
        engine.dispose()
