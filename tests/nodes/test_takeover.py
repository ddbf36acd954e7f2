"""A dead node's calls are closed once however many survivors look, and a restarted node closes its
earlier life's calls at once (adapters/interrupted.py), on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from centrex.adapters.call_records import CallRecords
from centrex.adapters.interrupted import Recovered
from centrex.calls.events import CallAnswered, CallStarted
from centrex.ops.demo import seed_demo
from centrex.store.db import make_engine, make_sessionmaker, transaction
from centrex.store.models import ActiveCall, CallDetail, CdrOutcome, Device, SwitchNode, User

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def store(db_url: str, tmp_path: Path) -> tuple[CallRecords, User, Device]:
    sessions = make_sessionmaker(make_engine(db_url))
    with transaction(sessions) as s:
        seed_demo(s, tmp_path)
    with sessions() as s:
        user = s.scalars(select(User).where(User.extension == "1001")).one()
        device = s.scalars(select(Device).where(Device.sip_username == "1001")).one()
    return CallRecords(sessions, name="dead"), user, device


def answered_calls(node: CallRecords, user: User, device: Device, count: int) -> list[uuid.UUID]:
    ids = [uuid.uuid4() for _ in range(count)]
    for i, call_id in enumerate(ids):
        node.call_started(
            CallStarted(
                call_id, user.tenant_id, user.site_id, user.id, device.id, "1001", "1002", "on_net", T0
            )
        )
        node.call_answered(CallAnswered(call_id, user.tenant_id, "1002", T0 + timedelta(seconds=1 + i % 3)))
    return ids


def test_two_survivors_racing_close_each_dead_call_once(db_url: str, tmp_path: Path) -> None:
    dead, user, device = store(db_url, tmp_path)
    dead.register_node(T0)
    calls = answered_calls(dead, user, device, 40)
    dead.heartbeat(T0 + timedelta(seconds=30))
    survivors = [CallRecords(dead.sessions, name=f"survivor-{i}") for i in range(3)]
    for node in survivors:
        node.register_node(T0 + timedelta(seconds=60))
    results: list[Recovered] = []
    errors: list[BaseException] = []
    start = threading.Barrier(len(survivors))

    def look(node: CallRecords) -> None:
        start.wait()
        try:
            results.append(node.recover(T0 + timedelta(seconds=70), stale_s=30))
        except Exception as exc:  # SQLite: a writer that lost the race is refused, closes nothing
            errors.append(exc)

    threads = [threading.Thread(target=look, args=(n,)) for n in survivors]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    # Whoever took which, every call was closed by exactly one survivor...
    assert sum(r.calls for r in results) == len(calls), (results, errors)
    assert sum(len(r.dialogs) for r in results) == 0
    with dead.sessions() as s:
        cdrs = s.scalars(select(CallDetail)).all()
        assert sorted(c.call_id for c in cdrs) == sorted(str(c) for c in calls)  # ...once each
        assert {o.hangup_cause for o in s.scalars(select(CdrOutcome))} == {"interrupted"}
        # ...billed up to the dead node's last heartbeat (answered 1-3 s after T0, last beat at 30 s).
        assert {c.duration_ms for c in cdrs} == {27_000, 28_000, 29_000}
        assert s.scalars(select(ActiveCall)).all() == []
        names = sorted(n.name for n in s.scalars(select(SwitchNode)))
    assert names == ["survivor-0", "survivor-1", "survivor-2"]
    if db_url.startswith("postgresql"):
        assert errors == []  # row locks: the others pass over what one holds
    assert all(n.recover(T0 + timedelta(seconds=80), stale_s=30).calls == 0 for n in survivors)


def test_a_live_nodes_calls_wait_for_its_heartbeat_to_go_stale(db_url: str, tmp_path: Path) -> None:
    other, user, device = store(db_url, tmp_path)
    other.register_node(T0)
    answered_calls(other, user, device, 2)
    other.heartbeat(T0 + timedelta(seconds=10))
    me = CallRecords(other.sessions, name="me")
    me.register_node(T0)
    assert me.recover(T0 + timedelta(seconds=14), stale_s=5).calls == 0  # 4 s: alive
    assert me.recover(T0 + timedelta(seconds=16), stale_s=5).calls == 2  # 6 s: dead


def test_a_node_restarted_under_its_name_closes_its_earlier_calls_at_once(
    db_url: str, tmp_path: Path
) -> None:
    before, user, device = store(db_url, tmp_path)
    before.register_node(T0)
    answered_calls(before, user, device, 3)
    before.heartbeat(T0 + timedelta(seconds=20))
    # Killed at 21 s, back at 22 s: its heartbeat is 2 s old, far from stale, but it is its own.
    again = CallRecords(before.sessions, name="dead")
    recovered = again.recover(T0 + timedelta(seconds=22), stale_s=30)
    assert recovered.calls == 3
    other = CallRecords(before.sessions, name="someone-else")
    other.register_node(T0 + timedelta(seconds=22))
    answered_calls(other, user, device, 1)
    assert again.recover(T0 + timedelta(seconds=23), stale_s=30).calls == 0  # not its own, alive


def test_a_node_taken_for_dead_by_mistake_comes_back_on_its_next_heartbeat(
    db_url: str, tmp_path: Path
) -> None:
    slow, user, device = store(db_url, tmp_path)
    slow.register_node(T0)
    watcher = CallRecords(slow.sessions, name="watcher")
    watcher.register_node(T0)
    watcher.heartbeat(T0 + timedelta(seconds=60))
    # The slow node stalled 60 s: the watcher closes its (here: no) calls and forgets it.
    watcher.recover(T0 + timedelta(seconds=60), stale_s=30)
    with slow.sessions() as s:
        assert [n.name for n in s.scalars(select(SwitchNode))] == ["watcher"]
    slow.heartbeat(T0 + timedelta(seconds=61))  # it was alive after all
    with slow.sessions() as s:
        assert sorted(n.name for n in s.scalars(select(SwitchNode))) == ["dead", "watcher"]
    answered_calls(slow, user, device, 1)
    # Its new calls are a live node's: left alone.
    assert watcher.recover(T0 + timedelta(seconds=62), stale_s=30).calls == 0
