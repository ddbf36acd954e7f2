"""CDRs, the call journal and registrations on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from centrex.adapters.call_records import CallRecords
from centrex.calls.events import CallAnswered, CallEnded, CallStarted
from centrex.calls.location import Binding, LocationService
from centrex.calls.model import LegRecord
from centrex.ops.demo import seed_demo
from centrex.store.db import make_engine, make_sessionmaker, transaction
from centrex.store.models import ActiveCall, CallDetail, CdrLeg, CdrOutcome, Device, Registration, User

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def setup(db_url: str, tmp_path: Path) -> tuple[CallRecords, User, Device]:
    engine = make_engine(db_url)
    sessions = make_sessionmaker(engine)
    with transaction(sessions) as s:
        seed_demo(s, tmp_path)
    with sessions() as s:
        user = s.scalars(select(User).where(User.extension == "1001")).one()
        device = s.scalars(select(Device).where(Device.sip_username == "1001")).one()
    return CallRecords(sessions), user, device


def started(user: User, device: Device, call_id: uuid.UUID) -> CallStarted:
    return CallStarted(
        call_id, user.tenant_id, user.site_id, user.id, device.id, "1001", "1002", "on_net", T0
    )


def test_a_finished_call_writes_its_cdr_outcome_and_legs_and_leaves_the_journal(
    db_url: str, tmp_path: Path
) -> None:
    records, user, device = setup(db_url, tmp_path)
    call_id = uuid.uuid4()
    records.call_started(started(user, device, call_id))
    records.call_answered(CallAnswered(call_id, user.tenant_id, "1002", T0 + timedelta(seconds=3)))
    leg = LegRecord(
        user.id,
        "1002",
        device.id,
        "sip:1002@127.0.0.1:5062",
        T0,
        T0 + timedelta(seconds=3),
        T0 + timedelta(seconds=63),
        200,
        "answered",
    )
    records.call_ended(
        CallEnded(
            call_id,
            user.tenant_id,
            user.site_id,
            user.id,
            device.id,
            "1001",
            "1002",
            "1002",
            "on_net",
            T0,
            T0 + timedelta(seconds=3),
            T0 + timedelta(seconds=63),
            60000,
            "answered",
            "caller_bye",
            200,
            (leg,),
        )
    )
    with records.sessions() as s:
        cdr = s.scalars(select(CallDetail)).one()
        assert (cdr.call_id, cdr.caller, cdr.callee, cdr.duration_ms, cdr.disposition) == (
            str(call_id),
            "1001",
            "1002",
            60000,
            "answered",
        )
        assert (
            cdr.direction == "internal"
            and cdr.is_intra_enterprise
            and cdr.answer == T0 + timedelta(seconds=3)
        )
        outcome = s.scalars(select(CdrOutcome)).one()
        assert (outcome.cdr_id, outcome.hangup_cause, outcome.sip_code, outcome.end) == (
            cdr.id,
            "caller_bye",
            200,
            T0 + timedelta(seconds=63),
        )
        assert [(lg.extension, lg.disposition) for lg in s.scalars(select(CdrLeg))] == [("1002", "answered")]
        assert s.scalars(select(ActiveCall)).all() == []


def test_calls_in_progress_at_a_crash_are_closed_as_interrupted(db_url: str, tmp_path: Path) -> None:
    records, user, device = setup(db_url, tmp_path)
    ringing, talking = uuid.uuid4(), uuid.uuid4()
    records.call_started(started(user, device, ringing))
    records.call_started(started(user, device, talking))
    records.call_answered(CallAnswered(talking, user.tenant_id, "1002", T0 + timedelta(seconds=2)))
    # ... the process is killed here; the next start:
    assert records.close_interrupted(T0 + timedelta(hours=1)) == 2
    with records.sessions() as s:
        rows = {c.call_id: c for c in s.scalars(select(CallDetail))}
        assert set(rows) == {str(ringing), str(talking)}
        assert rows[str(talking)].answer == T0 + timedelta(seconds=2)
        assert all(c.duration_ms == 0 and c.disposition == "failed" for c in rows.values())
        assert {o.hangup_cause for o in s.scalars(select(CdrOutcome))} == {"interrupted"}
        assert s.scalars(select(ActiveCall)).all() == []
    assert records.close_interrupted() == 0


def test_registrations_survive_a_restart(db_url: str, tmp_path: Path) -> None:
    records, user, device = setup(db_url, tmp_path)
    loc = LocationService(listener=records)
    now = T0.timestamp()
    for port in (5062, 5072):
        loc.save(
            Binding(
                user.tenant_id,
                "1001",
                device.id,
                user.id,
                f"sip:1001@10.0.0.5:{port}",
                now + 600,
                "c",
                1,
                ("10.0.0.5", port),
                "UDP",
            )
        )
    loc.save(
        Binding(
            user.tenant_id,
            "1001",
            device.id,
            user.id,
            "sip:1001@10.0.0.5:5062",
            now + 900,
            "c",
            2,
            ("10.0.0.5", 5062),
            "UDP",
        )
    )
    restarted = LocationService()
    assert records.load_registrations(restarted, now) == 2
    assert sorted(b.expires_at - now for b in restarted.of_user(user.id, now)) == [600, 900]
    assert records.load_registrations(LocationService(), now + 700) == 1  # expired ones are not restored
    loc.remove((user.tenant_id, "1001"), "sip:1001@10.0.0.5:5072")
    assert records.load_registrations(LocationService(), now) == 1
    loc.remove_all((user.tenant_id, "1001"))
    with records.sessions() as s:
        assert s.scalars(select(Registration)).all() == []


def test_refreshes_from_the_same_flow_are_written_at_half_life(db_url: str, tmp_path: Path) -> None:
    records, user, device = setup(db_url, tmp_path)
    loc = LocationService(listener=records)
    t = T0.timestamp()

    def refresh(at: float, port: int = 5062) -> None:
        loc.save(
            Binding(
                user.tenant_id,
                "1001",
                device.id,
                user.id,
                "sip:1001@10.0.0.5:5062",
                at + 600,
                "c",
                1,
                ("10.0.0.5", port),
                "UDP",
                registered_at=at,
            )
        )

    def stored() -> float:
        with records.sessions() as s:
            return s.scalars(select(Registration)).one().expires_at.timestamp() - t

    refresh(t)
    assert stored() == 600
    refresh(t + 200)  # the stored row still covers half of the new lifetime: no write
    assert stored() == 600
    refresh(t + 400)
    assert stored() == 1000
    refresh(t + 410, port=6000)  # the phone moved (NAT rebinding): written at once
    assert stored() == 1010
