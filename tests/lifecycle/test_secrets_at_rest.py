"""Secrets at rest (issue 19 part 6): SQLite database files readable by their owner only, webhook
signing secrets encrypted with a key kept outside the database, and migration 0023 encrypting the
secrets stored before it (and decrypting them on the way down)."""

from __future__ import annotations

import logging
import os
import stat
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import String, inspect, select, text

from centrex.store import secretbox
from centrex.store.db import make_engine, make_sessionmaker, transaction
from centrex.store.migrate import alembic_config, is_current, upgrade
from centrex.store.models import Base, Tenant
from centrex.store.models.numbering import EmergencyContact, NotifyKind


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_sqlite_database_and_its_wal_files_are_0600(tmp_path: Path) -> None:
    db = tmp_path / "data" / "centrex.sqlite3"
    engine = make_engine(f"sqlite:///{db}")
    upgrade(engine)
    with transaction(make_sessionmaker(engine)) as s:  # a write: the -wal and -shm files exist now
        s.add(Tenant(name="Perm Co", sip_domain="perm.example"))
        with engine.connect() as conn:
            conn.execute(text("select 1"))
            wal, shm = db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")
            assert wal.exists() and shm.exists()
            assert (mode(db), mode(wal), mode(shm)) == (0o600, 0o600, 0o600)
    engine.dispose()


def test_an_older_0644_database_is_made_0600_when_opened(tmp_path: Path) -> None:
    db = tmp_path / "old.sqlite3"
    engine = make_engine(f"sqlite:///{db}")
    upgrade(engine)
    engine.dispose()
    db.chmod(0o644)
    make_engine(f"sqlite:///{db}").dispose()
    assert mode(db) == 0o600


def test_centrex_db_upgrade_makes_the_database_0600(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": "src", "CENTREX_SECRETS_KEY_FILE": str(tmp_path / "k" / "secret.key")}
    old = os.umask(0o022)  # an ordinary umask: the mode comes from the service, not the shell
    try:
        subprocess.run(
            [sys.executable, "-m", "centrex.cli", "db", "upgrade", "--data-dir", str(tmp_path)],
            check=True,
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
        )
    finally:
        os.umask(old)
    assert mode(tmp_path / "centrex.sqlite3") == 0o600


def test_a_webhook_signing_secret_is_encrypted_with_the_key_file(
    db_url: str, secret_key: Path, caplog: pytest.LogCaptureFixture
) -> None:
    engine = make_engine(db_url)
    sessions = make_sessionmaker(engine)
    with transaction(sessions) as s:
        tenant = Tenant(name="Hook Co", sip_domain="hook.example")
        s.add(tenant)
        s.flush()
        contact = EmergencyContact(
            tenant_id=tenant.id,
            kind=NotifyKind.WEBHOOK,
            address="https://h.example/911",
            signing_secret="whsec_plain-secret-value",
        )
        s.add(contact)
        s.flush()
        contact_id = contact.id
    with engine.connect() as conn:
        raw = conn.execute(
            select(Base.metadata.tables["e911_contacts"].c.signing_secret.cast(String)).where(
                Base.metadata.tables["e911_contacts"].c.id == contact_id
            )
        ).scalar_one()
    assert raw.startswith("enc:v1:") and "plain-secret-value" not in raw
    with sessions() as s:
        assert s.scalar(select(EmergencyContact.signing_secret)) == "whsec_plain-secret-value"
    assert secret_key.exists() and mode(secret_key) == 0o600  # made on first use, owner only

    # Another key (the database alone, stolen, or the key file lost): the secret does not open; the
    # contact reads as one without a secret (its 911 notices still go, unsigned) and the log says why.
    secretbox.configure(secret_key.parent / "other.key")
    with pytest.raises(secretbox.SecretKeyError, match="does not open with the key"):
        secretbox.decrypt(raw)
    with sessions() as s, caplog.at_level(logging.ERROR, "centrex.store.secretbox"):
        assert s.scalar(select(EmergencyContact.signing_secret)) is None
        assert s.scalar(select(EmergencyContact.address)) == "https://h.example/911"
    assert "other.key" in caplog.text and "does not open" in caplog.text
    engine.dispose()


def test_migration_0023_encrypts_the_secrets_stored_before_it(db_url: str) -> None:
    engine = make_engine(db_url)
    tenant_id, contact_id = uuid.uuid4(), uuid.uuid4()
    try:
        cfg = alembic_config(engine.url.render_as_string(hide_password=False))
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0019")
            assert "tenant_lifecycle" not in inspect(conn).get_table_names()
            conn.execute(
                text(
                    "insert into tenants (id, created_at, updated_at, name, sip_domain, status, service_type,"
                    " pricing_plan) values (:id, now, now, 'Old Co', 'old.example', 'active',"
                    " 'hosted_centrex', 'bundled')".replace("now", "CURRENT_TIMESTAMP")
                ),
                {"id": tenant_id if engine.dialect.name == "postgresql" else tenant_id.hex},
            )
            conn.execute(
                text(
                    "insert into e911_contacts (id, created_at, updated_at, tenant_id, kind, address, name,"
                    " signing_secret) values (:id, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, :t, 'webhook',"
                    " 'https://old.example/911', '', 'whsec_from-before')"
                ),
                {
                    "id": contact_id if engine.dialect.name == "postgresql" else contact_id.hex,
                    "t": tenant_id if engine.dialect.name == "postgresql" else tenant_id.hex,
                },
            )
        upgrade(engine)
        assert is_current(engine)
        with engine.connect() as conn:
            raw = conn.execute(text("select signing_secret from e911_contacts")).scalar_one()
            diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        assert raw.startswith("enc:v1:") and "from-before" not in raw
        assert [d for d in diffs if "tenant_lifecycle" in repr(d) or "e911_contacts" in repr(d)] == []
        with make_sessionmaker(engine)() as s:
            assert s.scalar(select(EmergencyContact.signing_secret)) == "whsec_from-before"
        with engine.begin() as conn:  # and down again: the plaintext back, as 0019 kept it
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0019")
            assert (
                conn.execute(text("select signing_secret from e911_contacts")).scalar_one()
                == "whsec_from-before"
            )
        upgrade(engine)
    finally:
        engine.dispose()
