"""Migration 0017: the scheduler's tables (job_runs, job_locks) match the models, and go back down."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from centrex.store.db import make_engine
from centrex.store.migrate import alembic_config, is_current, upgrade
from centrex.store.models import Base


def test_0017_follows_0015() -> None:
    script = ScriptDirectory.from_config(alembic_config(""))
    assert script.get_revision("0017").down_revision == "0015"


def test_tables_match_the_models_and_downgrade(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        assert is_current(engine)
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        assert [d for d in diff if "job_" in repr(d)] == []
        cfg = alembic_config(engine.url.render_as_string(hide_password=False))
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0014")
        with engine.connect() as conn:
            assert not {"job_runs", "job_locks"} & set(inspect(conn).get_table_names())
        upgrade(engine)
        assert is_current(engine)
        with engine.connect() as conn:
            assert {"job_runs", "job_locks"} <= set(inspect(conn).get_table_names())
    finally:
        engine.dispose()
