"""Issue 16 gap 5: per-account calls-per-second pacing of API calls holds across nodes.

Two nodes are two processes with their own engine and connection pool on one database; here two
engines and two ``SharedPacer``s (the pacer every node's call desk asks before a call leaves),
reserving slots for one account at once from two threads. Whatever the interleaving, the account's
slots are ``1/cps`` apart — never two in one gap — on SQLite and on PostgreSQL (row lock). Another
account is paced on its own."""

from __future__ import annotations

import itertools
import threading
import uuid
from datetime import UTC, datetime, timedelta

from centrex.cpaas.calls.pacing import SharedPacer
from centrex.store.db import make_engine, make_sessionmaker, transaction
from centrex.store.models import Tenant


def test_two_nodes_share_one_accounts_rate(db_url: str) -> None:
    engines = [make_engine(db_url), make_engine(db_url)]
    try:
        sessions = [make_sessionmaker(e) for e in engines]
        with transaction(sessions[0]) as s:
            ids = []
            for name in ("Pace Co", "Other Co"):
                t = Tenant(name=name, sip_domain=f"pace-{uuid.uuid4().hex[:6]}.example")
                s.add(t)
                s.flush()
                ids.append(t.id)
        tenant, other = ids
        gap = 0.5  # cps 2
        now = datetime(2026, 12, 7, 0, 0, tzinfo=UTC)
        slots: list[datetime] = []
        lock = threading.Lock()

        def node(pacer: SharedPacer) -> None:
            for _ in range(15):
                slot = pacer.reserve(tenant, gap, now=now)
                with lock:
                    slots.append(slot)

        threads = [threading.Thread(target=node, args=(SharedPacer(s),)) for s in sessions]
        for th in threads:
            th.start()
        for th in threads:
            th.join(60)
        assert len(slots) == 30
        ordered = sorted(slots)
        assert ordered[0] == now
        assert [b - a for a, b in itertools.pairwise(ordered)] == [timedelta(seconds=gap)] * 29
        # Another account is not held up by this one; a slot past is not given again.
        assert SharedPacer(sessions[1]).reserve(other, gap, now=now) == now
        later = now + timedelta(seconds=60)
        assert SharedPacer(sessions[0]).reserve(tenant, gap, now=later) == later
    finally:
        for e in engines:
            e.dispose()
