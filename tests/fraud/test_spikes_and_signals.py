"""Toll-fraud spikes and the fraud signals in one view (issue 15 §3), on SQLite and PostgreSQL:
a tenant's international minutes of the last hour far over its baseline are a spike, stored once and
handed to ``on_spike`` (the alarm hook), by the scheduler job too; an office's usual international
calls are not. The operator sees refusals, cut-offs, spikes and the SIP core's bans together; a
tenant sees its own."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete

from centrex.fairuse.spikes import Spike, SpikeThresholds, detect_spikes
from centrex.ops.jobs import builtin_registry
from centrex.ops.scheduler import JobContext
from centrex.store.db import transaction
from centrex.store.models import CallDetail, CdrOutcome
from centrex.store.models.bans import BanRow
from tests.api.conftest import Api
from tests.api.conftest import api as api

NOW = datetime(2026, 12, 6, 3, 0, tzinfo=UTC)


def cdr(
    tenant_id: uuid.UUID, start: datetime, seconds: int, callee: str, call_class: str = "international"
) -> CallDetail:
    return CallDetail(
        tenant_id=tenant_id,
        call_id=f"c-{uuid.uuid4().hex[:12]}",
        caller="+12175281001",
        callee=callee,
        call_class=call_class,
        direction="outbound",
        start=start,
        answer=start + timedelta(seconds=2) if seconds else None,
        duration_ms=seconds * 1000,
        disposition="answered" if seconds else "rejected",
    )


def usual_week(tenant_id: uuid.UUID) -> list[CallDetail]:
    """An office calling London for 20 minutes each working hour of the last week."""
    out = []
    for day in range(1, 8):
        for hour in range(9, 17):
            start = (NOW - timedelta(days=day)).replace(hour=hour)
            out.append(cdr(tenant_id, start, 1200, "+442079460000"))
    return out


def test_a_burst_of_premium_international_minutes_is_a_spike_and_an_office_hour_is_not(api: Api) -> None:
    a, b = api.world.a.id, api.world.b.id
    sessions = api.app.state.sessionmaker
    with transaction(sessions) as s:
        s.add_all(usual_week(a) + usual_week(b))
        # Tenant a, 02:00-03:00: ten 20-minute calls to Somalia at once (a hijacked PBX).
        s.add_all(cdr(a, NOW - timedelta(minutes=55), 1200, f"+25261000{i:04d}") for i in range(10))
        # Tenant b: its usual 20 minutes in the hour.
        s.add(cdr(b, NOW - timedelta(minutes=30), 1200, "+442079460000"))
    raised: list[Spike] = []
    [spike] = detect_spikes(sessions, NOW, on_spike=raised.append)
    assert raised == [spike]
    assert (spike.tenant_id, spike.minutes, spike.calls, spike.top_destination) == (a, 200, 10, "+2526")
    assert spike.baseline_minutes == 7  # 8 × 20 min a day for 7 days over 168 hours: 6.7, rounded up
    assert "200 international/premium minutes" in spike.describe()
    # Not raised twice for the same hour; the job finds nothing new either.
    assert detect_spikes(sessions, NOW + timedelta(minutes=15), on_spike=raised.append) == []
    job = builtin_registry().get("fraud-spikes")
    report = job.run(JobContext(sessions, NOW + timedelta(minutes=15)))
    assert report.counts == {"spikes": 0}
    # A tighter operator threshold makes b's hour no spike either (20 < 30 minutes).
    assert detect_spikes(sessions, NOW, thresholds=SpikeThresholds(min_minutes=10), dry_run=True) == []


def test_the_scheduler_job_stores_a_spike_and_hands_it_to_on_spike(api: Api) -> None:
    from centrex.ops.jobs.fraud import fraud_spikes_job

    a = api.world.a.id
    sessions = api.app.state.sessionmaker
    with transaction(sessions) as s:
        s.execute(delete(BanRow))  # the world's bans (tests/support/world_bans.py): only spikes here
        s.add_all(cdr(a, NOW - timedelta(minutes=40), 900, f"+88216{i:06d}", "premium") for i in range(4))
    raised: list[Spike] = []
    report = fraud_spikes_job(on_spike=raised.append)(JobContext(sessions, NOW, dry_run=True))
    assert report.counts == {"spikes": 1} and raised == []  # a dry run stores and raises nothing
    report = fraud_spikes_job(on_spike=raised.append)(JobContext(sessions, NOW))
    assert report.counts == {"spikes": 1} and report.rows[0]["minutes"] == "60"
    assert [x.tenant_id for x in raised] == [a]
    r = api.call(
        "GET", "/api/v1/fraud/signals", api.world.operator_token, params={"since": "2026-12-01T00:00:00Z"}
    )
    assert [x["kind"] for x in r.json()] == ["spike"], r.json()


def test_the_builtin_job_raises_one_priority_1_alarm_per_tenant_for_its_spikes(api: Api) -> None:
    from centrex.ops.alarms import open_alarm

    a = api.world.a.id
    sessions = api.app.state.sessionmaker
    with transaction(sessions) as s:
        s.add_all(cdr(a, NOW - timedelta(minutes=40), 900, f"+88216{i:06d}", "premium") for i in range(4))
    job = builtin_registry().get("fraud-spikes")
    assert job.run(JobContext(sessions, NOW, dry_run=True)).counts == {"spikes": 1}
    with sessions() as s:
        assert open_alarm(s, f"fraud-spike:{a}") is None  # a dry run raises nothing
    assert job.run(JobContext(sessions, NOW)).counts == {"spikes": 1}
    with sessions() as s:
        alarm = open_alarm(s, f"fraud-spike:{a}")
        assert alarm is not None
        assert (alarm.priority, alarm.component, alarm.tenant_id) == (1, "fraud", a)
        assert "60 international/premium minutes" in alarm.summary
    # The next hour's spike counts on the same open alarm instead of opening another.
    with transaction(sessions) as s:
        s.add_all(cdr(a, NOW + timedelta(minutes=30), 900, f"+88216{i:06d}", "premium") for i in range(4, 8))
    assert job.run(JobContext(sessions, NOW + timedelta(hours=1))).counts == {"spikes": 1}
    with sessions() as s:
        again = open_alarm(s, f"fraud-spike:{a}")
        assert again is not None and again.id == alarm.id


def test_the_operator_sees_every_signal_together_and_a_tenant_its_own(api: Api) -> None:
    a, b = api.world.a.id, api.world.b.id
    sessions = api.app.state.sessionmaker
    now = datetime.now(UTC).replace(microsecond=0)
    with transaction(sessions) as s:
        s.execute(delete(BanRow))  # the world's bans (tests/support/world_bans.py): ours only
        refused = cdr(a, now - timedelta(minutes=30), 0, "+25261000001")
        cut = cdr(a, now - timedelta(minutes=20), 150, "+19005550100", "premium")
        other = cdr(b, now - timedelta(minutes=10), 0, "+447700900000")
        usual = cdr(a, now - timedelta(minutes=5), 60, "+442079460000")
        s.add_all([refused, cut, other, usual])
        s.flush()
        for row, cause, outcome in (
            (refused, "toll_international", "rejected"),
            (cut, "spend_limit", "answered"),
            (other, "spend_limit", "rejected"),
            (usual, "normal", "answered"),
        ):
            s.add(
                CdrOutcome(
                    tenant_id=row.tenant_id,
                    cdr_id=row.id,
                    end=now,
                    hangup_cause=cause,
                    sip_code=403,
                    outcome=outcome,
                )
            )
        s.add_all(
            [
                BanRow(
                    realm="sip",
                    source="198.51.100.7",
                    started_at=now - timedelta(minutes=1),
                    until=now + timedelta(hours=1),
                    failures=10,
                    last_username="2001",
                ),
                BanRow(
                    realm="sip",
                    source="198.51.100.8",
                    started_at=now - timedelta(minutes=2),
                    until=now + timedelta(hours=1),
                    failures=10,
                    last_username="nobody",
                ),
                BanRow(
                    realm="sip",
                    source="198.51.100.9",
                    started_at=now - timedelta(hours=3),
                    until=now - timedelta(hours=2),
                    failures=10,
                    last_username="2001",
                ),  # over
            ]
        )
    op = api.world.operator_token
    everything = api.call("GET", "/api/v1/fraud/signals", op)
    assert everything.status_code == 200, everything.text
    kinds = [(x["kind"], x["subject"], x["cause"]) for x in everything.json()]
    assert kinds == [
        ("sip_ban", "198.51.100.7", "ban"),
        ("sip_ban", "198.51.100.8", "ban"),
        ("toll_refusal", "+12175281001", "spend_limit"),  # b's
        ("spend_cutoff", "+12175281001", "spend_limit"),
        ("toll_refusal", "+12175281001", "toll_international"),
    ]
    assert "cut off after 150 s" in everything.json()[3]["detail"]
    only_a = api.call("GET", "/api/v1/fraud/signals", op, params={"tenant_id": str(a)}).json()
    assert [x["kind"] for x in only_a] == ["sip_ban", "spend_cutoff", "toll_refusal"]
    # The tenant's call-record reader sees its own: its calls, and the ban that guessed its device.
    mine = api.call("GET", f"/api/v1/tenants/{a}/fraud/signals", api.world.a.tokens["cpni_admin"])
    assert mine.status_code == 200, mine.text
    assert [(x["kind"], x["tenant_id"]) for x in mine.json()] == [
        ("sip_ban", str(a)),
        ("spend_cutoff", str(a)),
        ("toll_refusal", str(a)),
    ]
    assert (
        api.call("GET", f"/api/v1/tenants/{a}/fraud/signals", api.world.a.tokens["end_user"]).status_code
        == 403
    )
    assert api.call("GET", "/api/v1/fraud/signals", api.world.a.tokens["office_admin"]).status_code in (
        403,
        404,
    )
    assert api.call("GET", "/api/v1/fraud/signals", op, params={"limit": 0}).status_code == 422
