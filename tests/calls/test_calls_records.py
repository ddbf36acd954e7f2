"""CDRs, the call journal and registrations on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from centrex.adapters.call_records import CallRecords
from centrex.calls.dialog_record import DialogRecord
from centrex.calls.events import CallAnswered, CallDialogs, CallEnded, CallStarted
from centrex.calls.location import Binding, LocationService
from centrex.calls.model import LegRecord
from centrex.ops.demo import seed_demo
from centrex.store.db import make_engine, make_sessionmaker, transaction
from centrex.store.models import (
    ActiveCall,
    CallDetail,
    CdrLeg,
    CdrOutcome,
    Device,
    Registration,
    SwitchNode,
    User,
)

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
        # No heartbeat was written: nothing is known of the talk time, so none is billed; the
        # call is still an answered one (issue 13 §3), the ringing one a failed one.
        assert (rows[str(talking)].disposition, rows[str(talking)].duration_ms) == ("answered", 0)
        assert (rows[str(ringing)].disposition, rows[str(ringing)].duration_ms) == ("failed", 0)
        assert {o.hangup_cause for o in s.scalars(select(CdrOutcome))} == {"interrupted"}
        assert s.scalars(select(ActiveCall)).all() == []
    assert records.close_interrupted() == 0


def dialog(call_id: str, port: int) -> DialogRecord:
    return DialogRecord(
        call_id,
        "ours",
        "theirs",
        "<sip:1001@demo>",
        "<sip:1002@demo>",
        f"sip:1002@127.0.0.1:{port}",
        ("<sip:sbc.example.net;lr>",),
        2,
        "UDP",
        "127.0.0.1",
        port,
    )


def test_an_answered_call_cut_short_is_billed_up_to_its_nodes_last_heartbeat(
    db_url: str, tmp_path: Path
) -> None:
    records, user, device = setup(db_url, tmp_path)
    records.register_node(T0)
    talking = uuid.uuid4()
    records.call_started(started(user, device, talking))
    records.call_answered(CallAnswered(talking, user.tenant_id, "1002", T0 + timedelta(seconds=2)))
    records.call_dialogs(CallDialogs(talking, user.tenant_id, (dialog("a-leg", 5061), dialog("b-leg", 5062))))
    records.heartbeat(T0 + timedelta(seconds=20))
    records.heartbeat(T0 + timedelta(seconds=30))
    # ... killed here; the next process (another node id) starts an hour later:
    restarted = CallRecords(records.sessions)
    recovered = restarted.recover(T0 + timedelta(hours=1))
    assert (recovered.calls, recovered.answered) == (1, 1)
    assert [d.call_id for d in recovered.dialogs] == ["a-leg", "b-leg"]
    assert recovered.dialogs[1].route_set == ("<sip:sbc.example.net;lr>",)
    with records.sessions() as s:
        cdr = s.scalars(select(CallDetail)).one()
        outcome = s.scalars(select(CdrOutcome)).one()
        assert (cdr.disposition, cdr.duration_ms, cdr.direction) == ("answered", 28_000, "internal")
        assert (outcome.hangup_cause, outcome.end) == ("interrupted", T0 + timedelta(seconds=30))
        assert s.scalars(select(ActiveCall)).all() == []
        assert s.scalars(select(SwitchNode)).all() == []  # the dead node is forgotten with its calls
    assert restarted.recover(T0 + timedelta(hours=2)).calls == 0  # twice closes nothing more


def test_a_live_nodes_calls_are_left_alone_and_a_stale_ones_are_closed(db_url: str, tmp_path: Path) -> None:
    first, user, device = setup(db_url, tmp_path)
    # Two nodes on one store have names of their own (CENTREX_NODE_NAME; the default, the host
    # name, would make each take the other for its own earlier life).
    node_a, node_b = CallRecords(first.sessions, name="a"), CallRecords(first.sessions, name="b")
    node_a.register_node(T0)
    node_b.register_node(T0)
    call = uuid.uuid4()
    node_b.call_started(replace_direction(started(user, device, call)))
    node_b.call_answered(CallAnswered(call, user.tenant_id, "+12025550100", T0 + timedelta(seconds=1)))
    node_b.heartbeat(T0 + timedelta(seconds=10))
    assert node_a.recover(T0 + timedelta(seconds=15), stale_s=30).calls == 0  # B is alive
    recovered = node_a.recover(T0 + timedelta(seconds=60), stale_s=30)  # B stopped beating
    assert recovered.calls == 1
    with node_a.sessions() as s:
        cdr = s.scalars(select(CallDetail)).one()
        assert (cdr.duration_ms, cdr.direction) == (9_000, "inbound")
        assert [n.id for n in s.scalars(select(SwitchNode))] == [node_a.node_id]


def replace_direction(ev: CallStarted) -> CallStarted:
    from dataclasses import replace

    return replace(ev, call_class="ld_interstate", direction="inbound")


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
