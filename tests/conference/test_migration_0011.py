"""Migration 0011: conference_bridges on top of 0010, matching the model, a number unique per tenant,
and back down to 0010."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.exc import IntegrityError

from centrex.store.db import make_engine, make_sessionmaker, transaction
from centrex.store.migrate import alembic_config, is_current, upgrade
from centrex.store.models import Base, Tenant
from centrex.store.models.conferences import ConferenceBridge


def test_one_head_and_0011_follows_0010() -> None:
    script = ScriptDirectory.from_config(alembic_config(""))
    assert len(script.get_heads()) == 1
    assert script.get_revision("0011").down_revision == "0010"


def test_table_matches_the_model_unique_number_and_downgrade(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        assert is_current(engine)
        with engine.connect() as conn:
            diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        assert [d for d in diffs if "conference_bridges" in repr(d)] == []
        factory = make_sessionmaker(engine)
        with transaction(factory) as s:
            tenant = Tenant(name="Conf Co", sip_domain="conf.example.com")
            other = Tenant(name="Other Co", sip_domain="other.example.com")
            s.add_all([tenant, other])
            s.flush()
            s.add(ConferenceBridge(tenant_id=tenant.id, name="Sales", extension="7000"))
            s.add(ConferenceBridge(tenant_id=other.id, name="Sales", extension="7000"))
            ids = (tenant.id,)
        with factory() as s:
            row = s.query(ConferenceBridge).filter_by(tenant_id=ids[0]).one()
            assert (row.max_parties, row.announce, row.pin_hash) == (10, True, None)
        with pytest.raises(IntegrityError), transaction(factory) as s:
            s.add(ConferenceBridge(tenant_id=ids[0], name="Dup", extension="7000"))
        cfg = alembic_config(engine.url.render_as_string(hide_password=False))
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0010")
        with engine.begin() as conn:
            assert "conference_bridges" not in inspect(conn).get_table_names()
        upgrade(engine)
        assert is_current(engine)
    finally:
        engine.dispose()
