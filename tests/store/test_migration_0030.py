"""Migration 0030: the verified caller IDs table matches its model, and goes down and up again."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from centrex.store.db import make_engine
from centrex.store.migrate import alembic_config, is_current, upgrade
from centrex.store.models import Base

TABLE = "verified_caller_ids"


def test_table_matches_the_model_and_downgrade(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        assert is_current(engine)
        with engine.connect() as conn:
            assert TABLE in inspect(conn).get_table_names()
            diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        assert [d for d in diffs if TABLE in repr(d)] == []
        cfg = alembic_config(engine.url.render_as_string(hide_password=False))
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0030-1")
            assert TABLE not in inspect(conn).get_table_names()
        upgrade(engine)
        assert is_current(engine)
    finally:
        engine.dispose()
