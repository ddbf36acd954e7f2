"""Events emitted on the bus land in the real-time (minute) tier and roll up to the hourly and
daily tiers, by tenant, metric, site and party; flushing twice adds, never overwrites; another
tenant's figures stay its own. The dashboard query filters by site, party and time range."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from centrex.insights.aggregator import Aggregator
from centrex.insights.query import Filters, dashboard
from centrex.store.models.insights import InsightsAggregate

from .conftest import World

T0 = datetime(2026, 12, 6, 14, 59, 30, tzinfo=UTC)


def call(w: World, call_id: str, caller: str, callee: str, site: str, at: datetime, answered: bool) -> None:
    w.bus.emit(
        w.tenant_id,
        "call.started",
        {"call_id": call_id, "from": caller, "dialled": callee, "site_id": site},
        subject=call_id,
        at=at,
    )
    if answered:
        w.bus.emit(w.tenant_id, "call.answered", {"call_id": call_id, "to": callee}, at=at)
    w.bus.emit(
        w.tenant_id,
        "call.ended",
        {
            "call_id": call_id,
            "from": caller,
            "dialled": callee,
            "to": callee,
            "disposition": "answered" if answered else "busy",
            "duration_ms": 42_000 if answered else 0,
        },
        at=at + timedelta(seconds=42),
    )


def rows(w: World, tier: str) -> dict[tuple[str, str, str, str, str], tuple[int, int]]:
    with w.sessions() as s:
        got = s.scalars(
            select(InsightsAggregate).where(
                InsightsAggregate.tenant_id == w.tenant_id, InsightsAggregate.tier == tier
            )
        ).all()
    return {
        (r.bucket_start.isoformat(), r.metric, r.site, r.party_from, r.party_to): (r.count, r.total)
        for r in got
    }


def test_events_land_per_minute_and_roll_up_to_hours_and_days(world: World) -> None:
    agg = Aggregator(world.sessions)
    world.bus.add_tap(agg.tap)
    boston = str(world.boston)
    call(world, "c1", "1001", "+16175550100", boston, T0, answered=True)  # 14:59:30 → ends 15:00:12
    call(world, "c2", "1002", "+16175550100", str(world.denver), T0 + timedelta(minutes=1), answered=False)
    world.bus.emit(
        world.tenant_id,
        "message.delivered",
        {"from": "+16175550001", "to": "+16175550199", "segments": 2},
        at=T0 + timedelta(minutes=2),
    )
    world.bus.emit(world.other_id, "call.started", {"call_id": "x", "from": "1", "dialled": "2"}, at=T0)
    first = agg.flush()
    assert first.events == 7 and first.max_lag_s >= 0

    minute = rows(world, "minute")
    assert minute[("2026-12-06T14:59:00+00:00", "calls.started", boston, "1001", "+16175550100")] == (1, 0)
    assert minute[("2026-12-06T14:59:00+00:00", "calls.answered", boston, "1001", "+16175550100")] == (1, 0)
    # The end is counted in the minute it happened, under the site the call started at.
    assert minute[("2026-12-06T15:00:00+00:00", "calls.ended", boston, "1001", "+16175550100")] == (1, 42_000)
    assert minute[
        ("2026-12-06T15:01:00+00:00", "calls.unanswered", str(world.denver), "1002", "+16175550100")
    ] == (
        1,
        0,
    )
    assert minute[
        ("2026-12-06T15:01:00+00:00", "messages.delivered", "", "+16175550001", "+16175550199")
    ] == (1, 2)

    hour = rows(world, "hour")
    assert hour[("2026-12-06T14:00:00+00:00", "calls.started", boston, "1001", "+16175550100")] == (1, 0)
    assert hour[("2026-12-06T15:00:00+00:00", "calls.ended", boston, "1001", "+16175550100")] == (1, 42_000)
    day = rows(world, "day")
    assert sum(c for (_, m, *_), (c, _) in day.items() if m == "calls.started") == 2
    assert (
        sum(c for (_, m, *_), (c, _) in minute.items()) == sum(c for (_, m, *_), (c, _) in day.items()) == 7
    )

    # A second flush adds to the same buckets (another node, or the next second).
    call(world, "c3", "1001", "+16175550100", boston, T0 + timedelta(seconds=10), answered=True)
    agg.flush()
    assert rows(world, "minute")[
        ("2026-12-06T14:59:00+00:00", "calls.started", boston, "1001", "+16175550100")
    ] == (
        2,
        0,
    )
    assert rows(world, "day")[
        ("2026-12-06T00:00:00+00:00", "calls.ended", boston, "1001", "+16175550100")
    ] == (
        2,
        84_000,
    )
    assert agg.flush().events == 0  # nothing new: nothing written

    with world.sessions() as s:
        whole = Filters("hour", T0 - timedelta(hours=1), T0 + timedelta(hours=2))
        d = dashboard(s, world.tenant_id, whole)
        assert d.totals["calls.started"]["count"] == 3 and d.totals["messages.delivered"]["count"] == 1
        assert [(p["t"].hour, p["count"]) for p in d.series["calls.started"]] == [(14, 2), (15, 1)]
        at_denver = dashboard(
            s, world.tenant_id, Filters("hour", whole.start, whole.end, site=str(world.denver))
        )
        assert at_denver.totals["calls.started"]["count"] == 1
        assert at_denver.sites == [{"site": str(world.denver), "name": "Denver", "count": 3}]
        by_party = dashboard(s, world.tenant_id, Filters("minute", whole.start, whole.end, party="1002"))
        assert (
            by_party.totals["calls.started"]["count"] == 1
            and by_party.totals["messages.delivered"]["count"] == 0
        )
        callee = dashboard(
            s, world.tenant_id, Filters("minute", whole.start, whole.end, party="+16175550100")
        )
        assert callee.totals["calls.started"]["count"] == 3
        later = dashboard(s, world.tenant_id, Filters("minute", T0 + timedelta(minutes=2), whole.end))
        assert (
            later.totals["calls.started"]["count"] == 0 and later.totals["messages.delivered"]["count"] == 1
        )
        other = dashboard(s, world.other_id, whole)
        assert (
            other.totals["calls.started"]["count"] == 1 and other.totals["messages.delivered"]["count"] == 0
        )


def test_the_tap_sees_tenants_without_webhooks_and_a_flow_step(world: World) -> None:
    """The bus's webhook fast path returns for tenants with no webhook; the tap sees them all."""
    agg = Aggregator(world.sessions)
    world.bus.add_tap(agg.tap)
    assert world.tenant_id not in world.bus.tenants
    for i, event in enumerate(["success", "keypress", "failed"]):
        world.bus.emit(
            world.tenant_id,
            "flow.step",
            {
                "execution_id": "FN1",
                "flow_id": "FW1",
                "state": f"s{i}",
                "event": event,
                "contact": "+16175550123",
            },
            at=T0,
        )
    agg.flush()
    assert world.bus.emitted == 0  # nothing queued for webhooks
    minute = rows(world, "minute")
    assert minute[("2026-12-06T14:59:00+00:00", "flow.steps", "", "+16175550123", "")] == (3, 0)
    assert minute[("2026-12-06T14:59:00+00:00", "flow.steps.failed", "", "+16175550123", "")] == (1, 0)
    world.bus.remove_tap(agg.tap)
    world.bus.emit(world.tenant_id, "flow.step", {"contact": "+16175550123"}, at=T0)
    assert agg.flush().events == 0
