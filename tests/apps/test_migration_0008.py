"""Migration 0008 on an existing 0007 database: mailboxes kept, voicemail_messages added (and its
rows go with their mailbox); and back."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, select
from sqlalchemy.exc import IntegrityError

from centrex.store.db import make_engine, make_sessionmaker, transaction
from centrex.store.migrate import alembic_config, is_current, upgrade
from centrex.store.models import Mailbox, Tenant, User
from centrex.store.models.voicemail import VoicemailMessage


def test_one_head_and_0008_follows_0007() -> None:
    script = ScriptDirectory.from_config(alembic_config(""))
    assert len(script.get_heads()) == 1
    assert script.get_revision("0008").down_revision == "0007"


def test_upgrade_from_0007_and_back(empty_db_url: str) -> None:
    engine = make_engine(empty_db_url)
    try:
        upgrade(engine, "0007")
        factory = make_sessionmaker(engine)
        with transaction(factory) as s:
            tenant = Tenant(name="Old Co", sip_domain="old.example.com")
            s.add(tenant)
            s.flush()
            user = User(tenant_id=tenant.id, name="Ann", extension="1001")
            s.add(user)
            s.flush()
            box = Mailbox(tenant_id=tenant.id, user_id=user.id)
            s.add(box)
            s.flush()
            ids = (tenant.id, user.id, box.id)
        upgrade(engine)
        assert is_current(engine)
        with transaction(factory) as s:
            assert s.get(Mailbox, ids[2]) is not None
            s.add(
                VoicemailMessage(
                    tenant_id=ids[0],
                    user_id=ids[1],
                    mailbox_id=ids[2],
                    caller="2001",
                    received_at=datetime(2026, 3, 1, 9, 30, tzinfo=UTC),
                    duration_ms=4200,
                    file_path="/tmp/x.wav",
                    size_bytes=67244,
                )
            )
        with factory() as s:
            row = s.scalars(select(VoicemailMessage)).one()
            assert row.received_at == datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
            assert row.folder.value == "new"
        with pytest.raises(IntegrityError), transaction(factory) as s:
            s.add(
                VoicemailMessage(
                    tenant_id=ids[0],
                    user_id=ids[1],
                    mailbox_id=uuid.uuid4(),  # no such mailbox
                    received_at=datetime.now(UTC),
                    duration_ms=1,
                    file_path="/tmp/y.wav",
                    size_bytes=1,
                )
            )
        cfg = alembic_config(engine.url.render_as_string(hide_password=False))
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0007")
        with engine.begin() as conn:
            assert "voicemail_messages" not in inspect(conn).get_table_names()
        with factory() as s:
            assert s.get(Mailbox, ids[2]) is not None
    finally:
        engine.dispose()
