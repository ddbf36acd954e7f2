"""Migration 0013: the tenant dial plan columns on top of 0012 — tenants that existed before get
the defaults (4-digit extensions, 9 for an outside line, 7- and 10-digit dialling), the columns
match the model, and back down to 0012."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from centrex.store.db import make_engine
from centrex.store.migrate import alembic_config, is_current, upgrade
from centrex.store.models import Base

COLUMNS = {"dial_extension_length", "dial_outside_prefix", "dial_seven_digit", "dial_ten_digit"}


def test_0013_follows_0012() -> None:
    script = ScriptDirectory.from_config(alembic_config(""))
    assert script.get_revision("0013").down_revision == "0012"


def test_existing_tenants_get_the_default_plan_and_downgrade(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        assert is_current(engine)
        cfg = alembic_config(engine.url.render_as_string(hide_password=False))
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0012")
        with engine.begin() as conn:
            assert not COLUMNS & {c["name"] for c in inspect(conn).get_columns("tenants")}
            conn.execute(
                text(
                    "INSERT INTO tenants (id, name, sip_domain, status, service_type, pricing_plan,"
                    " created_at, updated_at) VALUES ('00000000000000000000000000000abc', 'Old Co',"
                    " 'old.example.com', 'active', 'hosted-centrex', 'bundled', '2026-01-01', '2026-01-01')"
                )
            )
        upgrade(engine)
        assert is_current(engine)
        with engine.connect() as conn:
            row = conn.execute(
                text(
                    "SELECT dial_extension_length, dial_outside_prefix, dial_seven_digit, dial_ten_digit"
                    " FROM tenants WHERE sip_domain = 'old.example.com'"
                )
            ).one()
            diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        assert (row[0], row[1], bool(row[2]), bool(row[3])) == (4, "9", True, True)
        assert [d for d in diffs if any(c in repr(d) for c in COLUMNS)] == []
    finally:
        engine.dispose()
