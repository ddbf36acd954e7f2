"""The recording listener between the engine's call events, a real relay over loopback UDP and a
real database (SQLite and PostgreSQL): who is recorded under each mode, the row of each recording
and its file, and on-demand recording by the feature code keyed on the user's own leg."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from centrex.adapters.recording import (
    INBOUND,
    INTERNAL,
    OUTBOUND,
    Party,
    RecordingListener,
    call_direction,
    covers,
    decide,
)
from centrex.media.dtmf import encode_digits
from centrex.media.ports import PortAllocator
from centrex.media.relay import RelayManager
from centrex.media.rtp import RtpPacket
from centrex.store.db import make_engine, make_sessionmaker
from centrex.store.models.recordings import CallRecording, RecordingMode, RecordingTrigger
from tests.media.test_relay import free_range, phone

from .helpers import Office, answered, ended, office, set_policy, started
from .test_recorder import read_stereo

M = RecordingMode


# -- the policy, as a table ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "internal", "inbound", "outbound"),
    [
        (M.OFF, False, False, False),
        (M.ALL, True, True, True),
        (M.INBOUND, False, True, False),
        (M.OUTBOUND, False, False, True),
        (M.ON_DEMAND, False, False, False),
    ],
)
def test_what_each_mode_records_from_the_answer(
    mode: M, internal: bool, inbound: bool, outbound: bool
) -> None:
    assert (covers(mode, INTERNAL), covers(mode, INBOUND), covers(mode, OUTBOUND)) == (
        internal,
        inbound,
        outbound,
    )


def test_the_caller_named_first_and_on_demand_only_without_a_policy_recording() -> None:
    a, b = uuid.uuid4(), uuid.uuid4()
    both = (Party("a", a, M.ON_DEMAND), Party("b", b, M.ALL))
    assert decide(INTERNAL, both).record == Party("b", b, M.ALL) and decide(INTERNAL, both).watch == ()
    demand = (Party("a", a, M.ON_DEMAND), Party("b", b, M.INBOUND))
    assert decide(INTERNAL, demand).record is None and decide(INTERNAL, demand).watch == (demand[0],)
    assert call_direction("outbound", answered_by_user=True) == INTERNAL  # a DID of the tenant
    assert call_direction("inbound", answered_by_user=True) == INBOUND
    assert call_direction("internal", answered_by_user=False) == OUTBOUND  # forwarded off-net


# -- the listener ----------------------------------------------------------------------------------


@dataclass
class Rig:
    sessions: sessionmaker[Session]
    relays: RelayManager
    listener: RecordingListener
    office: Office
    data_dir: Path

    def rows(self) -> list[CallRecording]:
        assert self.listener.drain()
        with self.sessions() as s:
            return list(s.scalars(select(CallRecording).order_by(CallRecording.started_at)))


@pytest.fixture
def sessions(db_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(db_url)
    yield make_sessionmaker(engine)
    engine.dispose()


@pytest.fixture
async def rig(sessions: sessionmaker[Session], tmp_path: Path) -> AsyncIterator[Rig]:
    relays = RelayManager(PortAllocator(*free_range(16)), bind_host="127.0.0.1")
    listener = RecordingListener(sessions, relays, tmp_path / "data", policy_ttl_s=0)
    yield Rig(sessions, relays, listener, office(sessions), tmp_path / "data")
    listener.close()
    relays.close()


async def talk(rig: Rig, call_id: uuid.UUID, seconds: float = 0.4) -> None:
    """Both phones send G.711 to the call's relay for ``seconds``."""
    ta, _ = await phone()
    tb, _ = await phone()
    key = str(call_id)
    try:
        for k in range(int(seconds / 0.02)):
            ta.sendto(
                RtpPacket(8, k, 160 * k, 1, b"\x55" * 160).pack(),
                ("127.0.0.1", rig.relays.sdp_address(key, "a").port),
            )
            tb.sendto(
                RtpPacket(0, k, 160 * k, 2, b"\x10" * 160).pack(),
                ("127.0.0.1", rig.relays.sdp_address(key, "b").port),
            )
            await asyncio.sleep(0.02)
    finally:
        ta.close()
        tb.close()


async def a_call(rig: Rig, caller: str | None, to: str, direction: str, seconds: float = 0.4) -> uuid.UUID:
    """A call as the engine reports it: started, relay opened, answered by ``to``, media, ended."""
    call_id = uuid.uuid4()
    rig.listener(started(rig.office, call_id, caller, to, direction))
    await rig.relays.create(str(call_id))
    rig.listener(answered(rig.office, call_id, to))
    await talk(rig, call_id, seconds)
    rig.relays.destroy(str(call_id))  # the engine closes the relay before it reports the end
    rig.listener(ended(rig.office, call_id, caller, to, direction))
    return call_id


async def test_policy_all_records_the_call_with_its_row_and_file(rig: Rig) -> None:
    set_policy(rig.sessions, rig.office, M.ALL)
    call_id = await a_call(rig, "1001", "1002", "internal")
    [row] = rig.rows()
    assert (row.call_id, row.user_id, row.trigger, row.direction, row.caller, row.callee) == (
        str(call_id),
        rig.office.users["1001"],
        RecordingTrigger.POLICY,
        "internal",
        "1001",
        "1002",
    )
    path = Path(row.file_path)
    assert path.is_relative_to(rig.data_dir.resolve() / "recordings" / str(rig.office.tenant_id))
    assert path.name == f"{call_id}.wav"
    assert row.ended_at is not None and abs(row.duration_ms - 400) < 150
    assert (
        row.size_bytes == path.stat().st_size and row.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    )
    pcm = read_stereo(path)
    assert pcm[:, 0].any() and pcm[:, 1].any()


async def test_policy_off_or_no_settings_records_nothing(rig: Rig) -> None:
    await a_call(rig, "1001", "1002", "internal")
    set_policy(rig.sessions, rig.office, M.OFF)
    await a_call(rig, "1001", "+12125550199", "outbound")
    assert rig.rows() == []
    assert not (rig.data_dir / "recordings").exists()


async def test_outbound_only_records_calls_to_outside_not_internal_ones(rig: Rig) -> None:
    set_policy(rig.sessions, rig.office, M.OFF, users={"1001": M.OUTBOUND})
    await a_call(rig, "1001", "1002", "internal")
    out = await a_call(rig, "1001", "+12125550199", "outbound")
    await a_call(rig, "1002", "+12125550198", "outbound")  # 1002 follows the tenant: off
    [row] = rig.rows()
    assert (row.call_id, row.direction, row.user_id) == (str(out), "outbound", rig.office.users["1001"])


async def test_inbound_records_the_callees_calls_from_outside(rig: Rig) -> None:
    set_policy(rig.sessions, rig.office, None, users={"1002": M.INBOUND})
    inbound = await a_call(rig, None, "1002", "inbound")
    await a_call(rig, None, "1003", "inbound")
    await a_call(rig, "1001", "1002", "internal")
    [row] = rig.rows()
    assert (row.call_id, row.direction, row.user_id, row.caller) == (
        str(inbound),
        "inbound",
        rig.office.users["1002"],
        "+13125550777",
    )


async def test_calls_an_app_answered_are_not_recorded(rig: Rig) -> None:
    set_policy(rig.sessions, rig.office, M.ALL)
    await a_call(rig, "1001", "vm-deposit.1002", "internal")
    assert rig.rows() == []


async def test_on_demand_star_one_starts_and_stops_segments_on_the_users_own_leg(rig: Rig) -> None:
    set_policy(rig.sessions, rig.office, M.OFF, users={"1002": M.ON_DEMAND})
    call_id = uuid.uuid4()
    key = str(call_id)
    rig.listener(started(rig.office, call_id, "1001", "1002", "internal"))
    await rig.relays.create(key)
    rig.listener(answered(rig.office, call_id, "1002"))
    ta, _ = await phone()
    tb, _ = await phone()
    a_port, b_port = rig.relays.sdp_address(key, "a").port, rig.relays.sdp_address(key, "b").port

    async def keys(t: asyncio.DatagramTransport, port: int, ts: int) -> None:
        for p in encode_digits("*1", sequence=ts, timestamp=ts, ssrc=9):
            t.sendto(p.pack(), ("127.0.0.1", port))
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)

    try:
        await keys(ta, a_port, 1000)  # the caller is not on demand: its *1 is just DTMF
        assert rig.relays.get(key).recorder is None  # type: ignore[union-attr]
        await keys(tb, b_port, 2000)  # the callee starts a recording ...
        assert rig.relays.get(key).recorder is not None  # type: ignore[union-attr]
        await talk(rig, call_id, 0.3)
        await keys(tb, b_port, 30000)  # ... and stops it
        assert rig.relays.get(key).recorder is None  # type: ignore[union-attr]
        await keys(tb, b_port, 60000)  # a second segment, still running at hang-up
    finally:
        ta.close()
        tb.close()
    rig.relays.destroy(key)
    rig.listener(ended(rig.office, call_id, "1001", "1002", "internal"))
    first, second = rig.rows()
    assert {first.trigger, second.trigger} == {RecordingTrigger.ON_DEMAND}
    assert first.user_id == second.user_id == rig.office.users["1002"]
    assert (
        Path(first.file_path).name == f"{call_id}.wav" and Path(second.file_path).name == f"{call_id}-2.wav"
    )
    assert first.duration_ms >= 300 and first.ended_at is not None and second.ended_at is not None


async def test_a_policy_change_counts_from_the_next_call_after_the_cache(rig: Rig) -> None:
    rig.listener.policy_ttl_s = 60
    await a_call(rig, "1001", "1002", "internal")
    set_policy(rig.sessions, rig.office, M.ALL)
    await a_call(rig, "1001", "1002", "internal")  # the cached "off" still holds
    assert rig.rows() == []
    rig.listener.policy_ttl_s = 0
    await a_call(rig, "1001", "1002", "internal")
    assert len(rig.rows()) == 1


async def test_stopping_the_service_completes_the_recordings_still_running(rig: Rig) -> None:
    set_policy(rig.sessions, rig.office, M.ALL)
    call_id = uuid.uuid4()
    rig.listener(started(rig.office, call_id, "1001", "1002", "internal"))
    await rig.relays.create(str(call_id))
    rig.listener(answered(rig.office, call_id, "1002"))
    await talk(rig, call_id, 0.3)
    rig.listener.close()  # the service stops before the call ends
    with rig.sessions() as s:
        [row] = s.scalars(select(CallRecording)).all()
    assert row.ended_at is not None and row.duration_ms >= 300 and row.sha256 is not None
    assert rig.relays.get(str(call_id)).recorder is None  # type: ignore[union-attr]
