"""What the call engine asks about attendants (calls/directory.py): the menu dialled by an
extension, and whether a DID's auto_attendant target is still a menu of the tenant, on SQLite and
PostgreSQL through StoreDirectory and CachedDirectory (read live), and in MemoryDirectory."""

from __future__ import annotations

import uuid

from centrex.adapters.directory_store import StoreDirectory
from centrex.calls.directory import CachedDirectory, MemoryDirectory
from centrex.store.db import make_engine, make_sessionmaker, transaction
from centrex.store.models import Tenant
from centrex.store.models.attendants import AttendantMenu
from tests.attendant.conftest import seed_attendant


def test_store_and_cached_directory(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        sessions = make_sessionmaker(engine)
        with transaction(sessions) as s:
            office = seed_attendant(s)
            other = Tenant(name="Other", sip_domain="other.example.com")
            s.add(other)
            s.flush()
            other_id = other.id
        for directory in (StoreDirectory(sessions), CachedDirectory(StoreDirectory(sessions))):
            assert directory.attendant_by_extension(office.tenant_id, "500") == office.main
            assert directory.attendant_by_extension(office.tenant_id, "501") is None
            assert directory.attendant_by_extension(other_id, "500") is None
            assert directory.attendant_menu(office.tenant_id, office.night) == office.night
            assert directory.attendant_menu(other_id, office.night) is None
            assert directory.attendant_menu(office.tenant_id, uuid.uuid4()) is None
        cached = CachedDirectory(StoreDirectory(sessions))
        assert cached.attendant_by_extension(office.tenant_id, "500") == office.main
        with transaction(sessions) as s:
            menu = s.get(AttendantMenu, office.main)
            assert menu is not None
            menu.extension = "501"
        assert cached.attendant_by_extension(office.tenant_id, "500") is None  # a change applies at once
        assert cached.attendant_by_extension(office.tenant_id, "501") == office.main
    finally:
        engine.dispose()


def test_memory_directory() -> None:
    tenant, menu, sub = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    directory = MemoryDirectory(attendants={menu: (tenant, "500"), sub: (tenant, None)})
    assert directory.attendant_by_extension(tenant, "500") == menu
    assert directory.attendant_by_extension(uuid.uuid4(), "500") is None
    assert directory.attendant_menu(tenant, sub) == sub
    assert directory.attendant_menu(uuid.uuid4(), sub) is None
