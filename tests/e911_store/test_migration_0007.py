"""Migration 0007 on an existing 0006 database: 911 contacts kept (webhooks made before it have no
signing secret and are sent unsigned until one is made), device_networks added; and back."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, select

from centrex.store.db import make_engine, make_sessionmaker, transaction
from centrex.store.migrate import alembic_config, is_current, upgrade
from centrex.store.models import Tenant
from centrex.store.models.numbering import EmergencyContact

OLD_CONTACTS = sa.table(
    "e911_contacts",
    sa.column("id", sa.Uuid()),
    sa.column("tenant_id", sa.Uuid()),
    sa.column("kind", sa.String()),
    sa.column("address", sa.String()),
    sa.column("name", sa.String()),
    sa.column("created_at", sa.DateTime()),
    sa.column("updated_at", sa.DateTime()),
)


def test_one_head_and_0007_follows_0006() -> None:
    script = ScriptDirectory.from_config(alembic_config(""))
    assert len(script.get_heads()) == 1
    assert script.get_revision("0007").down_revision == "0006"


def test_upgrade_from_0006_keeps_contacts_and_downgrade_takes_only_what_it_added(empty_db_url: str) -> None:
    engine = make_engine(empty_db_url)
    try:
        upgrade(engine, "0006")
        factory = make_sessionmaker(engine)
        with transaction(factory) as s:
            tenant = Tenant(name="Old Co", sip_domain="old.example.com")
            s.add(tenant)
            s.flush()
            tenant_id, contact_id = tenant.id, uuid.uuid4()
            stamp = datetime(2026, 1, 1, tzinfo=UTC).replace(tzinfo=None)
            s.execute(
                OLD_CONTACTS.insert().values(
                    id=contact_id,
                    tenant_id=tenant_id,
                    kind="webhook",
                    address="https://soc.old.example.com/911",
                    name="SOC",
                    created_at=stamp,
                    updated_at=stamp,
                )
            )
        upgrade(engine)
        assert is_current(engine)
        with engine.begin() as conn:
            assert "device_networks" in inspect(conn).get_table_names()
        with factory() as s:
            row = s.get(EmergencyContact, contact_id)
            assert row is not None and row.address == "https://soc.old.example.com/911"
            assert row.signing_secret is None
        cfg = alembic_config(engine.url.render_as_string(hide_password=False))
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0006")
        with engine.begin() as conn:
            insp = inspect(conn)
            assert "device_networks" not in insp.get_table_names()
            assert "signing_secret" not in {c["name"] for c in insp.get_columns("e911_contacts")}
            assert conn.scalar(select(OLD_CONTACTS.c.name).where(OLD_CONTACTS.c.id == contact_id)) == "SOC"
    finally:
        engine.dispose()
