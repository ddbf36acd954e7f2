"""The check every migration that adds tables gets: on a migrated database its tables are there and
match the models, and one step down (``<revision>-1``, whatever the chain below it is) removes them,
and the schema comes back up to the head."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from centrex.store.db import make_engine
from centrex.store.migrate import alembic_config, is_current, upgrade
from centrex.store.models import Base


def assert_tables_round_trip(db_url: str, revision: str, tables: set[str]) -> None:
    engine = make_engine(db_url)
    try:
        assert is_current(engine)
        with engine.connect() as conn:
            assert set(inspect(conn).get_table_names()) >= tables
            diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        assert [d for d in diffs if any(t in repr(d) for t in tables)] == []
        cfg = alembic_config(engine.url.render_as_string(hide_password=False))
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, f"{revision}-1")
        with engine.connect() as conn:
            assert not tables & set(inspect(conn).get_table_names())
        upgrade(engine)
        assert is_current(engine)
    finally:
        engine.dispose()
