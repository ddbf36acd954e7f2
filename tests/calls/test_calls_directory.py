"""StoreDirectory reads what the call engine needs, within one tenant, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from pathlib import Path

from centrex.adapters.directory_store import StoreDirectory
from centrex.ops.demo import DEMO_DOMAIN, seed_demo
from centrex.sip.digest import compute_ha1
from centrex.store.db import make_engine, make_sessionmaker, transaction


def test_store_directory(db_url: str, tmp_path: Path) -> None:
    sessions = make_sessionmaker(make_engine(db_url))
    with transaction(sessions) as s:
        demo = seed_demo(s, tmp_path)
    d = StoreDirectory(sessions)
    tenant = d.tenant_by_domain(DEMO_DOMAIN.upper())
    assert tenant is not None and tenant.active and tenant.domain == DEMO_DOMAIN
    assert d.tenant_by_domain("nowhere.example.net") is None
    device = d.device(tenant.id, "1001")
    assert device is not None and device.ha1("MD5") == compute_ha1(
        "1001", DEMO_DOMAIN, demo.lines[0].sip_password, "MD5"
    )
    assert d.device(uuid.uuid4(), "1001") is None  # another tenant's id finds nothing
    user = d.user_by_extension(tenant.id, "1002")
    assert user is not None and user.name == "Grace Hopper" and user.restriction is not None
    assert d.user_by_number(tenant.id, demo.lines[1].number) == user
    assert d.user_by_number(uuid.uuid4(), demo.lines[1].number) is None
    assert user.site_id is not None and d.site(user.site_id) is not None


def test_cached_directory_keeps_tenants_and_devices_for_ttl_only() -> None:
    from centrex.calls.directory import CachedDirectory, TenantInfo

    from .helpers import make_org

    org = make_org()
    now = [0.0]
    cached = CachedDirectory(org.directory, ttl=2.0, clock=lambda: now[0], max_entries=100)
    assert cached.tenant_by_domain("new.example.com") is None
    org.directory.tenants["new.example.com"] = TenantInfo(uuid.uuid4(), "new.example.com")
    assert cached.tenant_by_domain("new.example.com") is None  # cached miss
    now[0] = 2.5
    assert cached.tenant_by_domain("NEW.example.com") is not None
    user = cached.user_by_extension(org.tenant_a.id, "1002")
    assert user is not None and cached.user(user.id) == user  # users are read live
