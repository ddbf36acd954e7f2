"""StoreDirectory reads what the call engine needs, within one tenant, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from pathlib import Path

from centrex.calls.directory import StoreDirectory
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
