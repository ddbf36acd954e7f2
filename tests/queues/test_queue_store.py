"""StoreQueues on SQLite and PostgreSQL: what the engine reads (settings cached, logged-in agents
fresh), logging in and out, and events written one row each (at once or through a writer)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session, sessionmaker

from centrex.calls.directory import QueueInfo
from centrex.pbx.queue_model import QueueEvent
from centrex.pbx.queue_store import StoreQueues
from centrex.store.db import make_engine, make_sessionmaker, transaction
from centrex.store.models import Tenant, User
from centrex.store.models.queues import CallQueue, QueueAgent, QueueEventRow


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


World = tuple[sessionmaker[Session], dict[str, uuid.UUID]]


def _setup(db_url: str) -> tuple[Engine, dict[str, uuid.UUID]]:
    engine = make_engine(db_url)
    factory = make_sessionmaker(engine)
    with transaction(factory) as s:
        tenant = Tenant(name="Queue Co", sip_domain="queue.example.com")
        s.add(tenant)
        s.flush()
        users = [User(tenant_id=tenant.id, name=f"Agent {i}", extension=f"20{i:02d}") for i in range(3)]
        queue = CallQueue(
            tenant_id=tenant.id,
            name="Support",
            extension="4000",
            max_wait_s=120,
            wrap_up_s=5,
            agent_ring_s=12,
            overflow_destination="2000",
        )
        s.add_all([*users, queue])
        s.flush()
        # Members in the administrator's order: user 2 first, then 0, then 1.
        for position, user in enumerate((users[2], users[0], users[1])):
            s.add(QueueAgent(tenant_id=tenant.id, queue_id=queue.id, user_id=user.id, position=position))
        ids = {"tenant": tenant.id, "queue": queue.id, **{f"u{i}": u.id for i, u in enumerate(users)}}
    return engine, ids


@pytest.fixture
def world(db_url: str) -> Iterator[World]:
    engine, ids = _setup(db_url)
    yield make_sessionmaker(engine), ids
    engine.dispose()


def test_settings_and_members_cached_for_ttl(world: World) -> None:
    factory, ids = world
    clock = Clock()
    store = StoreQueues(factory, ttl=2.0, clock=clock)
    expected = QueueInfo(ids["queue"], ids["tenant"], "Support", "4000", 120, 5, 12, "2000")
    assert store.queue(ids["queue"]) == expected
    assert store.queue_by_extension(ids["tenant"], "4000") == expected
    assert store.queue_by_extension(ids["tenant"], "4001") is None
    assert store.queue(uuid.uuid4()) is None
    assert store.members(ids["queue"]) == [ids["u2"], ids["u0"], ids["u1"]]
    with transaction(factory) as s:
        s.execute(update(CallQueue).values(max_wait_s=60))
        s.add(CallQueue(tenant_id=ids["tenant"], name="Sales", extension="4001"))
        s.execute(update(QueueAgent).where(QueueAgent.user_id == ids["u1"]).values(position=-1))
    # Within the ttl the engine sees what it saw (the unknown extension too) ...
    clock.t += 1.9
    assert store.queue(ids["queue"]).max_wait_s == 120  # type: ignore[union-attr]
    assert store.queue_by_extension(ids["tenant"], "4001") is None
    assert store.members(ids["queue"])[0] == ids["u2"]
    # ... and the change after it.
    clock.t += 0.2
    assert store.queue(ids["queue"]).max_wait_s == 60  # type: ignore[union-attr]
    assert store.queue_by_extension(ids["tenant"], "4001").name == "Sales"  # type: ignore[union-attr]
    assert store.members(ids["queue"]) == [ids["u1"], ids["u2"], ids["u0"]]
    # Another tenant's extension is not this tenant's queue.
    assert store.queue_by_extension(uuid.uuid4(), "4000") is None


def test_login_order_logout_and_fresh_reads(world: World) -> None:
    factory, ids = world
    times = iter(datetime(2026, 1, 5, 9, m, tzinfo=UTC) for m in range(10))
    store = StoreQueues(factory, wall=lambda: next(times))
    other = StoreQueues(factory)  # another node, or the API: no cache between them
    q = ids["queue"]
    assert store.agents(q) == []
    store.set_logged_in(q, ids["u0"], True)  # 9:00
    store.set_logged_in(q, ids["u1"], True)  # 9:01
    store.set_logged_in(q, ids["u2"], True)  # 9:02
    assert other.agents(q) == [ids["u0"], ids["u1"], ids["u2"]]  # login order, as MemoryQueues
    store.set_logged_in(q, ids["u0"], True)  # again: keeps 9:00 and its place
    store.set_logged_in(q, ids["u1"], False)
    assert other.agents(q) == [ids["u0"], ids["u2"]]
    store.set_logged_in(q, ids["u1"], True)  # back at the end
    assert store.agents(q) == [ids["u0"], ids["u2"], ids["u1"]]
    with factory() as s:
        row = s.scalars(select(QueueAgent).where(QueueAgent.user_id == ids["u0"])).one()
        assert (row.logged_in, row.logged_in_at) == (True, datetime(2026, 1, 5, 9, 0, tzinfo=UTC))
    store.set_logged_in(q, ids["u0"], False)
    with factory() as s:
        row = s.scalars(select(QueueAgent).where(QueueAgent.user_id == ids["u0"])).one()
        assert (row.logged_in, row.logged_in_at) == (False, None)
    # Not a member: nothing changes (the engine refuses such a caller before asking).
    store.set_logged_in(q, uuid.uuid4(), True)
    assert store.agents(q) == [ids["u2"], ids["u1"]]


def _events(factory: Callable[[], Session]) -> list[tuple[object, ...]]:
    with factory() as s:
        return [
            (r.kind, r.at, r.call_id, r.agent_id, r.wait_ms)
            for r in s.scalars(select(QueueEventRow).order_by(QueueEventRow.at))
        ]


def test_record_writes_one_row_per_event(world: World) -> None:
    factory, ids = world
    store = StoreQueues(factory)
    call = uuid.uuid4()
    t0, t1 = datetime(2026, 1, 5, 10, 0, tzinfo=UTC), datetime(2026, 1, 5, 10, 0, 7, tzinfo=UTC)
    store.record(QueueEvent("entered", ids["queue"], ids["tenant"], t0, call))
    store.record(QueueEvent("answered", ids["queue"], ids["tenant"], t1, call, ids["u2"], 7000))
    assert _events(factory) == [
        ("entered", t0, call, None, None),
        ("answered", t1, call, ids["u2"], 7000),
    ]
    with pytest.raises(ValueError, match="'ringing' is not one of"):
        store.record(QueueEvent("ringing", ids["queue"], ids["tenant"], t1, call))


def test_record_through_the_switchs_writer(world: World) -> None:
    """With write_later the insert waits for the writer thread: nothing is written on the caller's
    turn; the writer applies it in its own transaction."""
    factory, ids = world
    pending: list[tuple[Callable[[Session], None], str]] = []
    store = StoreQueues(factory, write_later=lambda apply, what: pending.append((apply, what)))
    at = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
    store.record(QueueEvent("agent_login", ids["queue"], ids["tenant"], at, None, ids["u0"]))
    assert _events(factory) == [] and [w for _, w in pending] == ["queue event agent_login"]
    with transaction(factory) as s:
        pending[0][0](s)
    assert _events(factory) == [("agent_login", at, None, ids["u0"], None)]
