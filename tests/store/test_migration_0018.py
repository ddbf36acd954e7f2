"""Migration 0018: switch nodes and the journal's node, direction and dialogs; the tenant's longest
call. Tenants that existed get 4 h; journal rows written before it are still closed after a crash;
the columns match the model; and back down to 0014."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from centrex.adapters.interrupted import close_interrupted
from centrex.store.db import make_engine, make_sessionmaker
from centrex.store.migrate import alembic_config, is_current, upgrade
from centrex.store.models import Base

JOURNAL_COLUMNS = {"node_id", "direction", "dialogs"}


def test_existing_rows_get_the_defaults_and_downgrade(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        assert is_current(engine)
        cfg = alembic_config(engine.url.render_as_string(hide_password=False))
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0014")
        with engine.begin() as conn:
            insp = inspect(conn)
            assert "switch_nodes" not in insp.get_table_names()
            assert not JOURNAL_COLUMNS & {c["name"] for c in insp.get_columns("active_calls")}
            assert "max_call_s" not in {c["name"] for c in insp.get_columns("tenants")}
            conn.execute(
                text(
                    "INSERT INTO tenants (id, name, sip_domain, status, service_type, pricing_plan,"
                    " created_at, updated_at) VALUES ('00000000000000000000000000000abc', 'Old Co',"
                    " 'old.example.com', 'active', 'hosted-centrex', 'bundled', '2026-01-01', '2026-01-01')"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO active_calls (id, tenant_id, call_id, caller, callee, dialled, call_class,"
                    " started_at, answered_at, created_at, updated_at) VALUES"
                    " ('00000000000000000000000000000def', '00000000000000000000000000000abc', 'old-call',"
                    " '1001', '1002', '1002', 'on_net', '2026-01-01 10:00:00', '2026-01-01 10:00:05',"
                    " '2026-01-01', '2026-01-01')"
                )
            )
        upgrade(engine)
        assert is_current(engine)
        with engine.connect() as conn:
            max_call = conn.execute(text("SELECT max_call_s FROM tenants WHERE name = 'Old Co'")).scalar()
            assert max_call == 14400
            diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        names = JOURNAL_COLUMNS | {"max_call_s", "switch_nodes"}
        assert [d for d in diffs if any(c in repr(d) for c in names)] == []
        # A call journalled before the upgrade is closed like any other: answered, no known talk time.
        recovered = close_interrupted(make_sessionmaker(engine))
        assert (recovered.calls, recovered.answered, recovered.dialogs) == (1, 1, [])
    finally:
        engine.dispose()
