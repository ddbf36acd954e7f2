"""Migration 0015: the bans, the ban allowlist and the service keys on top of 0014; the tables match
the models, and back down to 0014 (the tables gone, nothing else touched)."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from centrex.store.db import make_engine
from centrex.store.migrate import alembic_config, is_current, upgrade
from centrex.store.models import Base

TABLES = {"bans", "ban_allowlist", "service_keys"}


def test_0015_follows_0014() -> None:
    script = ScriptDirectory.from_config(alembic_config(""))
    assert len(script.get_heads()) == 1
    assert script.get_revision("0015").down_revision == "0014"


def test_tables_match_the_models_and_downgrade(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        assert is_current(engine)
        with engine.connect() as conn:
            assert set(inspect(conn).get_table_names()) >= TABLES
            diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        assert [d for d in diffs if any(t in repr(d) for t in TABLES)] == []
        cfg = alembic_config(engine.url.render_as_string(hide_password=False))
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0014")
        with engine.connect() as conn:
            assert not TABLES & set(inspect(conn).get_table_names())
        upgrade(engine)
        assert is_current(engine)
    finally:
        engine.dispose()
