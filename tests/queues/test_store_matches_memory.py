"""StoreQueues answers as MemoryQueues does (the engine is tested against the latter): the same
script of logins, logouts and events gives the same agents, members and settings."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from centrex.calls.directory import QueueInfo
from centrex.pbx.queue_model import MemoryQueues, QueueEvent, QueueStore
from centrex.pbx.queue_store import StoreQueues
from centrex.store.db import make_engine, make_sessionmaker, transaction
from centrex.store.models import Tenant, User
from centrex.store.models.queues import CallQueue, QueueAgent, QueueEventRow


@pytest.fixture
def stores(db_url: str) -> Iterator[tuple[MemoryQueues, StoreQueues, QueueInfo, list[uuid.UUID]]]:
    engine = make_engine(db_url)
    factory = make_sessionmaker(engine)
    with transaction(factory) as s:
        tenant = Tenant(name="Same Co", sip_domain="same.example.com")
        s.add(tenant)
        s.flush()
        users = [User(tenant_id=tenant.id, name=f"A{i}", extension=f"21{i:02d}") for i in range(4)]
        queue = CallQueue(tenant_id=tenant.id, name="Help", extension="4500", overflow_destination="2100")
        s.add_all([*users, queue])
        s.flush()
        for position, user in enumerate(users):
            s.add(QueueAgent(tenant_id=tenant.id, queue_id=queue.id, user_id=user.id, position=position))
        info = QueueInfo(queue.id, tenant.id, "Help", "4500", 300, 10, 15, "2100")
        ids = [u.id for u in users]
    ticks = iter(datetime(2026, 1, 5, 9, tzinfo=UTC) + timedelta(seconds=i) for i in range(100))
    memory = MemoryQueues({info.id: info}, {info.id: list(ids)})
    yield memory, StoreQueues(factory, wall=lambda: next(ticks)), info, ids
    with factory() as s:
        assert len(s.scalars(select(QueueEventRow)).all()) == 3
    engine.dispose()


def test_the_same_script_gives_the_same_answers(
    stores: tuple[MemoryQueues, StoreQueues, QueueInfo, list[uuid.UUID]],
) -> None:
    memory, store, info, (a, b, c, d) = stores
    both: tuple[QueueStore, QueueStore] = (memory, store)
    script = [(c, True), (a, True), (d, True), (a, False), (b, True), (a, True), (c, True), (d, False)]
    for user, on in script:
        for q in both:
            q.set_logged_in(info.id, user, on)
        assert store.agents(info.id) == memory.agents(info.id), (user, on)
    assert store.agents(info.id) == [c, b, a]
    for q in both:
        assert q.queue(info.id) == info
        assert q.queue_by_extension(info.tenant_id, "4500") == info
        assert q.queue_by_extension(info.tenant_id, "4501") is None
        assert q.members(info.id) == [a, b, c, d]
        call = uuid.uuid4()
        at = datetime(2026, 1, 5, 10, tzinfo=UTC)
        q.record(QueueEvent("entered", info.id, info.tenant_id, at, call))
        q.record(QueueEvent("answered", info.id, info.tenant_id, at + timedelta(seconds=3), call, c, 3000))
        q.record(QueueEvent("agent_logout", info.id, info.tenant_id, at + timedelta(seconds=9), None, c))
    assert len(memory.events) == 3
