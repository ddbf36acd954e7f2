"""The record writer (group commit on its own thread) and the output gate that holds messages until
the writes they follow are committed: on SQLite and PostgreSQL, and with real SIPp calls."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, select, update
from sqlalchemy.orm import Session

from centrex.adapters.call_records import CallRecords
from centrex.calls.events import CallAnswered, CallEnded, CallStarted
from centrex.calls.location import Binding, LocationService
from centrex.ops.demo import seed_demo
from centrex.sip.events import Address
from centrex.store.db import make_engine, make_sessionmaker, transaction
from centrex.store.models import ActiveCall, CallDetail, CdrOutcome, Device, Registration, User
from centrex.transport.base import OutputGate, SipTransport

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def setup(db_url: str, tmp_path: Path) -> tuple[CallRecords, User, Device]:
    sessions = make_sessionmaker(make_engine(db_url))
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


def ended(user: User, device: Device, call_id: uuid.UUID, tenant_id: uuid.UUID | None = None) -> CallEnded:
    return CallEnded(
        call_id,
        tenant_id or user.tenant_id,
        user.site_id,
        user.id,
        device.id,
        "1001",
        "1002",
        "1002",
        "on_net",
        T0,
        T0 + timedelta(seconds=2),
        T0 + timedelta(seconds=62),
        60_000,
        "answered",
        "caller_bye",
        200,
    )


class Gate:
    """The writer's reports, as the SIP service's gate receives them on the loop."""

    def __init__(self) -> None:
        self.durable: list[int] = []
        self.changed = asyncio.Event()

    def __call__(self, seq: int) -> None:
        self.durable.append(seq)
        self.changed.set()

    async def until(self, seq: int) -> None:
        while not self.durable or self.durable[-1] < seq:
            self.changed.clear()
            await asyncio.wait_for(self.changed.wait(), 10)


def count(records: CallRecords, model: Any) -> int:
    with records.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


async def test_writes_queued_during_a_commit_share_the_next_one(db_url: str, tmp_path: Path) -> None:
    """Group commit: while the first transaction commits, 200 calls start, are answered and end;
    they all go into the next transaction, and the journal rows they no longer need are never
    written."""
    records, user, device = setup(db_url, tmp_path)
    committing, release = threading.Event(), threading.Event()

    def slow_first_commit(conn: object) -> None:
        committing.set()
        release.wait(10)

    # The writer commits on its own Core connection: hook the engine's commit.
    event.listen(records.sessions.kw["bind"], "commit", slow_first_commit)
    reports = Gate()
    records.start(asyncio.get_running_loop(), reports)
    assert records.writer is not None
    first = records.call_started(started(user, device, uuid.uuid4()))  # the slow commit
    await asyncio.sleep(0)  # the loop hands it to the writer...
    assert await asyncio.to_thread(committing.wait, 10)  # ... which is committing it alone
    calls = [uuid.uuid4() for _ in range(200)]
    last = 0
    for call_id in calls:
        records.call_started(started(user, device, call_id))
        records.call_answered(CallAnswered(call_id, user.tenant_id, "1002", T0 + timedelta(seconds=2)))
        last = records.call_ended(ended(user, device, call_id))
    assert (first, last) == (1, 601)
    assert count(records, CallDetail) == 0  # nothing is durable yet...
    release.set()
    await reports.until(last)
    assert records.writer.commits == 2  # ... then two transactions held everything
    assert count(records, CallDetail) == 200
    assert count(records, ActiveCall) == 1  # the first call is still in progress
    await records.stop()
    assert records.writer is None
    assert reports.durable == [1, 601]


async def test_a_call_started_in_one_batch_and_ended_in_the_next(db_url: str, tmp_path: Path) -> None:
    records, user, device = setup(db_url, tmp_path)
    reports = Gate()
    records.start(asyncio.get_running_loop(), reports)
    call_id = uuid.uuid4()
    await reports.until(records.call_started(started(user, device, call_id)))
    await reports.until(
        records.call_answered(CallAnswered(call_id, user.tenant_id, "1002", T0 + timedelta(seconds=2)))
    )
    with records.sessions() as s:
        row = s.scalars(select(ActiveCall)).one()
        assert (row.callee, row.answered_at) == ("1002", T0 + timedelta(seconds=2))
    await reports.until(records.call_ended(ended(user, device, call_id)))
    assert count(records, ActiveCall) == 0
    with records.sessions() as s:
        cdr = s.scalars(select(CallDetail)).one()
        assert (cdr.call_id, cdr.direction, cdr.duration_ms) == (str(call_id), "internal", 60_000)
    await records.stop()


async def test_a_write_the_store_refuses_does_not_take_its_batch_down(db_url: str, tmp_path: Path) -> None:
    records, user, device = setup(db_url, tmp_path)
    release = threading.Event()
    event.listen(records.sessions, "before_commit", lambda s: release.wait(10))
    reports = Gate()
    records.start(asyncio.get_running_loop(), reports)
    assert records.writer is not None
    records.call_started(started(user, device, uuid.uuid4()))
    await asyncio.sleep(0.1)  # the writer is in the slow commit of this one
    good = [uuid.uuid4(), uuid.uuid4()]
    records.call_ended(ended(user, device, good[0]))
    records.call_ended(ended(user, device, uuid.uuid4(), tenant_id=uuid.uuid4()))  # no such tenant
    last = records.call_ended(ended(user, device, good[1]))
    release.set()
    await reports.until(last)  # reported done all the same: signalling never waits for ever
    with records.sessions() as s:
        assert set(s.scalars(select(CallDetail.call_id))) == {str(c) for c in good}
        assert s.scalar(select(func.count()).select_from(CdrOutcome)) == 2
    assert records.writer.lost == 1
    await records.stop()


async def test_registrations_are_batched_in_order(db_url: str, tmp_path: Path) -> None:
    records, user, device = setup(db_url, tmp_path)
    reports = Gate()
    records.start(asyncio.get_running_loop(), reports)
    loc = LocationService(listener=records)
    now = T0.timestamp()

    def binding(port: int, expires: float) -> Binding:
        return Binding(
            user.tenant_id,
            "1001",
            device.id,
            user.id,
            f"sip:1001@10.0.0.5:{port}",
            now + expires,
            "c",
            1,
            ("10.0.0.5", port),
            "UDP",
        )

    loc.save(binding(5062, 600))
    loc.save(binding(5072, 600))
    loc.save(binding(5062, 900))  # a refresh of the first: the last one counts
    loc.remove((user.tenant_id, "1001"), "sip:1001@10.0.0.5:5072")
    loc.save(binding(5072, 300))  # back again after its removal
    await records.stop()  # commits what is queued
    with records.sessions() as s:
        rows = {r.source_port: r.expires_at.timestamp() - now for r in s.scalars(select(Registration))}
    assert rows == {5062: 900, 5072: 300}


async def test_other_writes_of_the_switch_go_through_the_writer_in_order(db_url: str, tmp_path: Path) -> None:
    records, user, _device = setup(db_url, tmp_path)
    reports = Gate()
    records.start(asyncio.get_running_loop(), reports)
    seen: list[str] = []

    def rename(name: str) -> Any:
        def apply(s: Session) -> None:
            s.execute(update(User).where(User.id == user.id).values(name=name))
            seen.append(name)

        return apply

    records.write_later(rename("First"), "rename user")
    last = records.write_later(rename("Second"), "rename user")
    await reports.until(last)
    with records.sessions() as s:
        assert s.get(User, user.id).name == "Second"  # type: ignore[union-attr]
    # From another thread (an API worker): queued directly, nothing on the loop waits for it.
    assert await asyncio.to_thread(records.write_later, rename("Third"), "rename user") == 0
    await records.stop()
    assert seen == ["First", "Second", "Third"]


# -- the output gate -------------------------------------------------------------------------------
class Wire(SipTransport):
    def __init__(self, sent: list[tuple[str, bytes]], name: str) -> None:
        self.sent = sent
        self.label = name
        self._closed = False

    def _write(self, data: bytes, addr: Address) -> None:
        self.sent.append((self.label, data))


def test_the_gate_holds_what_follows_a_pending_write_in_order() -> None:
    sent: list[tuple[str, bytes]] = []
    udp, tcp = Wire(sent, "udp"), Wire(sent, "tcp")
    gate = OutputGate()
    addr = ("127.0.0.1", 5060)
    gate.send(udp, b"100 Trying", addr)  # nothing pending: out at once
    assert sent == [("udp", b"100 Trying")]
    with gate.corked():  # one step: the 200 to a BYE, the BYE to the other side, then the CDR
        gate.send(udp, b"200 OK (BYE)", addr)
        gate.send(tcp, b"BYE", addr)
        gate.depend(1)
    gate.send(udp, b"401 (another phone)", addr)
    gate.depend(2)
    gate.send(tcp, b"180 Ringing", addr)
    gate.send(tcp, b"180 Ringing", addr)  # retransmitted while still held: it would leave twice
    assert sent == [("udp", b"100 Trying")] and gate.held == 4
    gate.committed(1)
    assert sent[1:] == [("udp", b"200 OK (BYE)"), ("tcp", b"BYE"), ("udp", b"401 (another phone)")]
    gate.committed(2)
    assert sent[-1] == ("tcp", b"180 Ringing") and gate.held == 0
    gate.send(udp, b"OPTIONS", addr)
    assert sent[-1] == ("udp", b"OPTIONS")


# -- with SIPp ---------------------------------------------------------------------------------------
@pytest.mark.interop
async def test_the_bye_is_answered_only_once_the_cdr_is_committed(sqlite_url: str, tmp_path: Path) -> None:
    """The writer is made slow (each commit waits 0.4 s): when the caller's SIPp has its 200 OK to
    the BYE, the CDR is already in the store, so a crash after the caller heard the end cannot
    lose it."""
    from tests.interop.conftest import SIPP, Server, free_udp_port, make_service

    if SIPP is None:
        pytest.skip("SIPp is not installed (Debian package sip-tester)")
    sessions = make_sessionmaker(make_engine(sqlite_url))
    with transaction(sessions) as s:
        demo = seed_demo(s, tmp_path)
    ended_calls: list[CallEnded] = []
    committed: list[float] = []
    slow_commits = threading.Event()

    def slow(session: Session) -> None:
        if slow_commits.is_set():
            time.sleep(0.4)  # under SIP's T1 (500 ms): no retransmission is provoked

    # Listeners go in before the writer thread exists (adding one while it commits would race).
    event.listen(sessions, "before_commit", slow)
    event.listen(sessions, "after_commit", lambda s: committed.append(time.monotonic()))
    server = Server(
        make_service(sessions, ended_calls), {ln.extension: ln.sip_password for ln in demo.lines}, sessions
    )
    await server.service.start()
    try:
        a, b = free_udp_port(), free_udp_port()
        await server.register("1001", a)
        await server.register("1002", b)
        slow_commits.set()
        callee = asyncio.create_task(
            server.sipp("uas_answer.xml", "1002", port=b, client=False, timeout_s=20)
        )
        await asyncio.sleep(0.3)
        caller = await server.sipp("uac_call.xml", "1001", port=a, callee="1002", timeout_s=20)
        heard_end = time.monotonic()
        assert caller.returncode == 0, caller.output[-3000:]
        assert (await callee).returncode == 0
        with sessions() as s:
            cdr = s.scalars(select(CallDetail)).one()  # read at once: no waiting here
            assert (cdr.caller, cdr.callee, cdr.disposition) == ("1001", "1002", "answered")
            assert s.scalars(select(ActiveCall)).all() == []
        assert committed and committed[-1] <= heard_end
        assert ended_calls[-1].hangup_cause == "caller_bye"
    finally:
        await server.service.stop()
