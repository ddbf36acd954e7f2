"""Aggregation lag of the Insights real-time tier under a steady event rate (prints figures; never a
timed test).

    .venv/bin/python bench/insights_bench.py [--rate 1000] [--seconds 20] [--flush 1.0]
                                             [--parties 200] [--tenants 5] [--db sqlite|<url>]

Emits ``--rate`` events per second for ``--seconds`` through a real event bus (cpaas/events.py),
tapped by the insights aggregator (insights/aggregator.py) that flushes every ``--flush`` seconds
into the minute, hour and day tiers (one upsert transaction per flush). The mix is what a busy
switch emits: call.started / call.answered / call.ended for calls between ``--parties`` parties at
a few sites, and message status events, over ``--tenants`` tenants. No tenant has a webhook, so the
bus's webhook queue is skipped and only the tap runs (as for most tenants).

The aggregation lag of an event is the time from its emission (the tap) to the commit of the flush
that wrote its count into the real-time tier; each flush reports its oldest event's lag (max) and
its events' mean. Printed: the lag's median and 95th percentile over flushes, its maximum, the
flush's own duration, and the tap's cost per event on the emitting thread.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select

from centrex.cpaas.events import EventBus
from centrex.insights.aggregator import Aggregator
from centrex.store import secretbox
from centrex.store.db import make_engine, make_sessionmaker, transaction
from centrex.store.migrate import upgrade
from centrex.store.models import Tenant
from centrex.store.models.insights import InsightsAggregate


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rate", type=int, default=1000, help="events per second")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--flush", type=float, default=1.0, help="the aggregator's flush interval (s)")
    parser.add_argument("--parties", type=int, default=200)
    parser.add_argument("--tenants", type=int, default=5)
    parser.add_argument("--db", default="sqlite")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp())
    secretbox.configure(str(tmp / "secret.key"))
    url = f"sqlite:///{tmp / 'bench.sqlite3'}" if args.db == "sqlite" else args.db
    engine = make_engine(url)
    upgrade(engine)
    sessions = make_sessionmaker(engine)
    with transaction(sessions) as s:
        tenants = [
            Tenant(name=f"Bench {i}", sip_domain=f"bench-{uuid.uuid4().hex[:8]}.example.com")
            for i in range(args.tenants)
        ]
        s.add_all(tenants)
        s.flush()
        tenant_ids = [t.id for t in tenants]
    sites = [str(uuid.uuid4()) for _ in range(4)]

    bus = EventBus(sessions)
    agg = Aggregator(sessions, flush_s=args.flush)
    bus.add_tap(agg.tap)
    agg.start()

    total = int(args.rate * args.seconds)
    tap_s = 0.0
    started = time.monotonic()
    for i in range(total):
        due = started + i / args.rate
        wait = due - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        tenant = tenant_ids[i % len(tenant_ids)]
        caller = f"+1617555{(i * 7) % args.parties:04d}"
        callee = f"+1212555{(i * 13) % args.parties:04d}"
        call_id = f"c{i // 3}"
        kind = i % 5
        t0 = time.perf_counter()
        if kind == 0:
            bus.emit(
                tenant,
                "call.started",
                {"call_id": call_id, "from": caller, "dialled": callee, "site_id": sites[i % 4]},
            )
        elif kind == 1:
            bus.emit(tenant, "call.answered", {"call_id": call_id, "to": callee})
        elif kind == 2:
            bus.emit(
                tenant,
                "call.ended",
                {
                    "call_id": call_id,
                    "from": caller,
                    "dialled": callee,
                    "disposition": "answered",
                    "duration_ms": 61_000,
                },
            )
        elif kind == 3:
            bus.emit(tenant, "message.delivered", {"from": caller, "to": callee, "segments": 1})
        else:
            bus.emit(tenant, "message.received", {"from": callee, "to": caller, "segments": 2})
        tap_s += time.perf_counter() - t0
    elapsed = time.monotonic() - started
    agg.stop()  # the last flush

    flushes = [f for f in agg.lag if f.events]
    max_lags = sorted(f.max_lag_s for f in flushes)
    mean_lags = [f.mean_lag_s for f in flushes]
    with sessions() as s:
        counted = s.scalar(
            select(func.sum(InsightsAggregate.count)).where(InsightsAggregate.tier == "minute")
        )
        rows = s.scalar(select(func.count()).select_from(InsightsAggregate))
    p95 = max_lags[max(0, int(len(max_lags) * 0.95) - 1)]
    print(f"database: {engine.dialect.name}; {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(f"events emitted: {total} in {elapsed:.1f} s ({total / elapsed:,.0f}/s)")
    print(f"counted in the minute tier: {counted}")
    print(f"flushes: {len(flushes)} (every {args.flush} s); aggregate rows: {rows}")
    print(
        f"aggregation lag, oldest event of a flush: median {statistics.median(max_lags) * 1000:.0f} ms, "
        f"p95 {p95 * 1000:.0f} ms, max {max_lags[-1] * 1000:.0f} ms"
    )
    print(f"aggregation lag, mean event: {statistics.mean(mean_lags) * 1000:.0f} ms")
    print(f"tap on the emitting thread: {tap_s / total * 1e6:.1f} µs per event")
    engine.dispose()


if __name__ == "__main__":
    main()
