"""CachedDirectory in front of the real store (SQLite and PostgreSQL): the switch reads a user once,
a change made in this process (the API, an ORM or Core write) applies to the very next read, and
a change made by another process (here: a second engine, as the CLI or another switch would be)
is seen once the TTL has passed; the switch's own CDR and registration writes keep the cache."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text, update

from centrex.adapters.directory_store import StoreDirectory
from centrex.calls.directory import CachedDirectory
from centrex.ops.demo import DEMO_DOMAIN, seed_demo
from centrex.store import changes
from centrex.store.db import make_engine, make_sessionmaker, transaction
from centrex.store.models import User


class CountingStore(StoreDirectory):
    reads = 0

    def user_by_extension(self, tenant_id, extension):  # type: ignore[no-untyped-def]
        self.reads += 1
        return super().user_by_extension(tenant_id, extension)


def test_users_are_cached_until_a_write_or_the_ttl(db_url: str, tmp_path: Path) -> None:
    engine = make_engine(db_url)
    sessions = make_sessionmaker(engine)
    with transaction(sessions) as s:
        seed_demo(s, tmp_path)
    now = [0.0]
    store = CountingStore(sessions)
    cached = CachedDirectory(store, ttl=2.0, clock=lambda: now[0])
    tenant = cached.tenant_by_domain(DEMO_DOMAIN)
    assert tenant is not None
    first = cached.user_by_extension(tenant.id, "1002")
    assert first is not None and first.forward_always is None
    assert cached.user_by_extension(tenant.id, "1002") == first and store.reads == 1  # kept

    # The switch's own writes (CDRs, registrations, the call journal) don't empty it.
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM registrations WHERE username = 'nobody'"))
    assert cached.user_by_extension(tenant.id, "1002") == first and store.reads == 1

    # An ORM write in this process (what the API does) applies to the next read.
    with transaction(sessions) as s:
        user = s.get(User, first.id)
        assert user is not None
        user.forward_always = "1003"
    again = cached.user_by_extension(tenant.id, "1002")
    assert again is not None and again.forward_always == "1003" and store.reads == 2

    # So does a Core UPDATE.
    with transaction(sessions) as s:
        s.execute(update(User).where(User.id == first.id).values(do_not_disturb=True))
    dnd = cached.user_by_extension(tenant.id, "1002")
    assert dnd is not None and dnd.do_not_disturb

    # Another process's write: invisible to this process's counter, seen after the TTL.
    other = make_engine(db_url)
    gen = changes.generation()
    try:
        with other.begin() as conn:
            # The listener is per process, not per engine: pretend the write came from elsewhere.
            conn.execute(text("UPDATE users SET forward_always = NULL WHERE extension = '1002'"))
        changes._generation = gen  # simulate a process that never saw the write
        stale = cached.user_by_extension(tenant.id, "1002")
        assert stale is not None and stale.forward_always == "1003"
        now[0] = 2.5
        fresh = cached.user_by_extension(tenant.id, "1002")
        assert fresh is not None and fresh.forward_always is None
    finally:
        other.dispose()
        engine.dispose()
