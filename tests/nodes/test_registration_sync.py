"""Registrations made through one node are known to the others (adapters/registration_sync.py):
PostgreSQL's NOTIFY, sent in the transaction that stores the change, reaches the other nodes'
location services when it commits."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from centrex.adapters.call_records import CallRecords
from centrex.adapters.registration_sync import RegistrationSync, payloads
from centrex.calls.location import Binding, LocationService
from centrex.ops.demo import seed_demo
from centrex.store.db import make_engine, make_sessionmaker, transaction
from centrex.store.models import Device, Registration


async def until(check: object, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return True
        await asyncio.sleep(0.05)
    return False


async def test_a_phone_registered_through_one_node_is_found_by_the_other(db_url: str, tmp_path: Path) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("one node per SQLite store: nothing to share")
    engine = make_engine(db_url)
    sessions = make_sessionmaker(engine)
    with transaction(sessions) as s:
        seed_demo(s, tmp_path)
    with sessions() as s:
        device = s.scalars(select(Device).where(Device.sip_username == "1002")).one()
    records_a, records_b = CallRecords(sessions, name="a"), CallRecords(sessions, name="b")
    here = LocationService(listener=records_a)
    there = LocationService(listener=records_b)
    sync = RegistrationSync(engine, records_b, there)
    sync.start(asyncio.get_running_loop())
    try:
        assert await asyncio.to_thread(sync.listening.wait, 10.0)
        now = time.time()
        aor = (device.tenant_id, "1002")
        binding = Binding(
            device.tenant_id, "1002", device.id, device.user_id, "sip:1002@192.0.2.7:5070",
            now + 600, "reg-1", 2, ("127.0.0.1", 5090), "UDP",
        )  # fmt: skip
        here.save(binding)  # a REGISTER through node a, stored (and announced) at once
        assert await until(lambda: there.of_user(device.user_id, time.time()) != [])  # type: ignore[arg-type]
        [seen] = there.of_user(device.user_id, time.time())  # type: ignore[arg-type]
        assert (seen.contact, seen.source, seen.transport, seen.device_id) == (
            "sip:1002@192.0.2.7:5070",
            ("127.0.0.1", 5090),
            "UDP",
            device.id,
        )
        assert abs(seen.expires_at - (now + 600)) < 0.01
        # The other node learnt it without storing it again: one row, node a's.
        with sessions() as s:
            assert [r.call_id for r in s.scalars(select(Registration))] == ["reg-1"]
        # An unregistration through node a removes it there too.
        here.remove(aor, "sip:1002@192.0.2.7:5070")
        assert await until(lambda: there.bindings(aor, time.time()) == [])
        # Node b's own changes are not applied twice (it ignores its own notifications).
        applied = sync.applied
        there.save(binding)
        await asyncio.sleep(0.5)
        assert sync.applied == applied
    finally:
        await asyncio.to_thread(sync.stop)
        engine.dispose()


def test_many_changes_are_split_under_postgresqls_payload_limit() -> None:
    import uuid

    b = Binding(
        uuid.uuid4(), "1001", uuid.uuid4(), None, "sip:1001@" + "x" * 400, 1.0, "c" * 200, 1,
        ("127.0.0.1", 5060), "UDP",
    )  # fmt: skip
    out = payloads(uuid.uuid4(), [("s", b)] * 50 + [("r", (b.tenant_id, "1001", None))])
    assert len(out) > 1
    assert all(len(p.encode()) < 8000 for p in out)
    assert sum(p.count('["s"') + p.count('["r"') for p in out) == 51
