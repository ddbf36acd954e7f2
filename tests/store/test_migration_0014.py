"""Migration 0014: the PBX settings on top of 0013 — tenants and queues that existed before get the
defaults (every default feature code, no direct media, a 120 s park timeout, the position told every
30 s), the columns match the model, and back down to 0013."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from centrex.store.db import make_engine
from centrex.store.migrate import alembic_config, is_current, upgrade
from centrex.store.models import Base

TENANT_COLUMNS = {"feature_codes", "direct_media", "park_timeout_s"}
QUEUE_COLUMNS = {"announce_position_s"}


def test_one_head_and_0014_follows_0013() -> None:
    script = ScriptDirectory.from_config(alembic_config(""))
    assert len(script.get_heads()) == 1
    assert script.get_revision("0014").down_revision == "0013"


def test_existing_rows_get_the_defaults_and_downgrade(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        assert is_current(engine)
        cfg = alembic_config(engine.url.render_as_string(hide_password=False))
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0013")
        with engine.begin() as conn:
            assert not TENANT_COLUMNS & {c["name"] for c in inspect(conn).get_columns("tenants")}
            assert not QUEUE_COLUMNS & {c["name"] for c in inspect(conn).get_columns("call_queues")}
            conn.execute(
                text(
                    "INSERT INTO tenants (id, name, sip_domain, status, service_type, pricing_plan,"
                    " created_at, updated_at) VALUES ('00000000000000000000000000000abc', 'Old Co',"
                    " 'old.example.com', 'active', 'hosted-centrex', 'bundled', '2026-01-01', '2026-01-01')"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO call_queues (id, tenant_id, name, extension, max_wait_s, wrap_up_s,"
                    " agent_ring_s, created_at, updated_at) VALUES ('00000000000000000000000000000def',"
                    " '00000000000000000000000000000abc', 'Sales', '700', 300, 10, 15,"
                    " '2026-01-01', '2026-01-01')"
                )
            )
        upgrade(engine)
        assert is_current(engine)
        with engine.connect() as conn:
            tenant = conn.execute(
                text("SELECT feature_codes, direct_media, park_timeout_s FROM tenants WHERE name = 'Old Co'")
            ).one()
            queue = conn.execute(
                text("SELECT announce_position_s FROM call_queues WHERE name = 'Sales'")
            ).one()
            diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        assert (tenant[0], bool(tenant[1]), tenant[2]) == (None, False, 120)
        assert queue[0] == 30
        names = TENANT_COLUMNS | QUEUE_COLUMNS
        assert [d for d in diffs if any(c in repr(d) for c in names)] == []
    finally:
        engine.dispose()
