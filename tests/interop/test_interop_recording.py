"""Call recording with real SIPp peers over 127.0.0.1 (issue 4 points 5 and 7): a recorded call's
WAV lasts as long as the call and holds the speech SIPp sent (g711a.pcap), sample for sample; the
policy decides which calls are recorded (off, outbound only through a carrier trunk); on demand,
the caller keys *1 as RFC 4733 events (SIPp's dtmf_2833 pcaps) to start and again to stop."""

from __future__ import annotations

import asyncio
import struct
import uuid
import wave
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from sqlalchemy import select

from centrex.adapters.recording import RecordingListener
from centrex.calls.media import RelayAnchor
from centrex.media.g711 import alaw_decode
from centrex.media.ports import PortAllocator
from centrex.media.relay import RelayManager
from centrex.ops.demo import DEMO_DOMAIN
from centrex.routing.storage import StoreRoutes
from centrex.routing.trunk_calls import TrunkCalls
from centrex.store.db import transaction
from centrex.store.models import Tenant, User
from centrex.store.models.recordings import (
    CallRecording,
    RecordingMode,
    RecordingSettings,
    RecordingTrigger,
    RecordingUserPolicy,
)
from centrex.store.models.trunks import GatewayRole, OutboundRouteRow, TrunkGatewayRow, TrunkKind, TrunkRow

from .conftest import Server, free_udp_port
from .test_interop_media import sipp_echo_callee

pytestmark = pytest.mark.interop

PCAP = Path("/usr/share/sip-tester/g711a.pcap")


def pcap_speech() -> npt.NDArray[np.int16]:
    """The audio of SIPp's g711a.pcap (classic pcap, Ethernet/IPv4/UDP/RTP), decoded."""
    data = PCAP.read_bytes()
    off, payloads = 24, []
    while off < len(data):
        incl = struct.unpack_from("<I", data, off + 8)[0]
        payloads.append(data[off + 16 + 42 + 12 : off + 16 + incl])
        off += 16 + incl
    return alaw_decode(b"".join(payloads))


def stereo(path: Path) -> npt.NDArray[np.int16]:
    with wave.open(str(path), "rb") as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (2, 2, 8000)
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").reshape(-1, 2)


def rms(x: npt.NDArray[np.int16]) -> float:
    return float(np.sqrt(np.mean(x.astype(np.float64) ** 2)))


@dataclass
class Rig:
    server: Server
    listener: RecordingListener
    tenant_id: uuid.UUID
    users: dict[str, uuid.UUID]

    def policy(self, mode: RecordingMode, users: dict[str, RecordingMode] | None = None) -> None:
        with transaction(self.server.sessions) as s:
            s.add(RecordingSettings(tenant_id=self.tenant_id, mode=mode))
            for ext, m in (users or {}).items():
                s.add(RecordingUserPolicy(tenant_id=self.tenant_id, user_id=self.users[ext], mode=m))

    def recordings(self) -> list[CallRecording]:
        assert self.listener.drain()
        with self.server.sessions() as s:
            return list(s.scalars(select(CallRecording).order_by(CallRecording.started_at)))


@pytest.fixture
async def rig(server: Server, tmp_path: Path) -> AsyncIterator[Rig]:
    """The service wired as `centrex serve` would be: media anchored on a relay, the recording
    listener on the engine's listeners."""
    relays = RelayManager(PortAllocator(43000, 43999), bind_host="127.0.0.1")
    server.service.engine.media = RelayAnchor(relays)
    listener = RecordingListener(server.sessions, relays, tmp_path / "data", policy_ttl_s=0)
    server.service.engine.listeners.append(listener)
    with server.sessions() as s:
        tenant = s.scalars(select(Tenant).where(Tenant.sip_domain == DEMO_DOMAIN)).one()
        users = {u.extension: u.id for u in s.scalars(select(User).where(User.tenant_id == tenant.id))}
    yield Rig(server, listener, tenant.id, users)
    listener.close()
    relays.close()


async def call(
    rig: Rig, scenario: str, callee: str, callee_port: int, callee_user: str | None = None
) -> tuple[int, int]:
    """1001 calls ``callee`` with ``scenario``; an echoing SIPp answers at ``callee_port``."""
    a = free_udp_port()
    await rig.server.register("1001", a)
    answering = await sipp_echo_callee(rig.server, callee_user or callee, callee_port)
    await asyncio.sleep(0.3)
    caller = await rig.server.sipp(scenario, "1001", port=a, callee=callee, timeout_s=20)
    out, _ = await asyncio.wait_for(answering.communicate(), 30)
    assert caller.returncode == 0, caller.output[-3000:]
    assert answering.returncode == 0, out.decode(errors="replace")[-3000:]
    return a, callee_port


async def test_a_recorded_call_holds_the_callers_speech_for_the_calls_duration(rig: Rig) -> None:
    rig.policy(RecordingMode.ALL)
    b = free_udp_port()
    await rig.server.register("1002", b)
    await call(rig, "rec_uac_speech.xml", "1002", b)
    cdr = rig.server.ended[-1]
    [rec] = rig.recordings()
    assert (rec.call_id, rec.trigger, rec.direction, rec.user_id, rec.caller, rec.callee) == (
        str(cdr.call_id),
        RecordingTrigger.POLICY,
        "internal",
        rig.users["1001"],
        "1001",
        "1002",
    )
    path = Path(rec.file_path)
    pcm = stereo(path)
    # The WAV lasts as long as the call was answered (from the 200 OK to the BYE).
    assert abs(len(pcm) / 8 - cdr.duration_ms) < 300, (len(pcm) / 8, cdr.duration_ms)
    assert rec.duration_ms == len(pcm) // 8 and rec.size_bytes == path.stat().st_size
    # The caller's channel is SIPp's speech, sample for sample from its first packet on.
    left, right = pcm[:, 0], pcm[:, 1]
    speech = pcap_speech()
    start = int(np.argmax(left != 0))
    heard = min(len(left) - start, len(speech)) - 800  # the last 100 ms may be cut by the BYE
    assert heard > 3 * 8000
    assert np.array_equal(left[start : start + heard], speech[:heard])
    assert rms(left[start + 12000 : start + heard]) > 1000  # the pcap talks from 1.5 s on
    # The callee's channel is its echo of the same speech (SIPp -rtp_echo), a little later.
    echo_start = int(np.argmax(right != 0))
    assert start <= echo_start < start + 800 and rms(right) > 500

    def dominant_hz(x: npt.NDArray[np.int16]) -> float:
        y = x.astype(np.float64)
        spectrum = np.abs(np.fft.rfft(y - y.mean()))  # A-law's idle code decodes to +8: no DC
        return float(np.fft.rfftfreq(len(y), 1 / 8000)[np.argmax(spectrum)])

    # The same dominant frequency as the pcap's own audio over that stretch: a voice's, below 800 Hz.
    peak = dominant_hz(left[start + 12000 : start + heard])
    assert peak == dominant_hz(speech[12000:heard]) and 80 < peak < 800


async def test_policy_off_records_nothing(rig: Rig) -> None:
    rig.policy(RecordingMode.OFF)
    b = free_udp_port()
    await rig.server.register("1002", b)
    await call(rig, "rec_uac_speech.xml", "1002", b)
    assert rig.server.ended[-1].disposition == "answered"
    assert rig.recordings() == []
    assert not (rig.listener.data_dir / "recordings").exists()


async def test_outbound_only_records_the_trunk_call_and_not_the_internal_one(rig: Rig) -> None:
    gw = free_udp_port()
    with transaction(rig.server.sessions) as s:
        trunk = TrunkRow(name="carrier", kind=TrunkKind.CARRIER)
        s.add(trunk)
        s.flush()
        s.add(
            TrunkGatewayRow(
                trunk_id=trunk.id, host="127.0.0.1", port=gw, role=GatewayRole.PRIMARY, position=0
            )
        )
        s.add(OutboundRouteRow(trunk_id=trunk.id, prefix="1"))
    routes = StoreRoutes(rig.server.sessions)
    routes.ttl_s = 0.0
    rig.server.service.engine.service(TrunkCalls).routes = routes
    rig.policy(RecordingMode.OFF, {"1001": RecordingMode.OUTBOUND})
    b = free_udp_port()
    await rig.server.register("1002", b)
    await call(rig, "rec_uac_speech.xml", "1002", b)
    internal = rig.server.ended[-1]
    await call(rig, "rec_uac_speech.xml", "2125550199", gw, callee_user="gw")
    outbound = rig.server.ended[-1]
    assert (internal.direction, outbound.direction, outbound.trunk) == ("internal", "outbound", "carrier")
    [rec] = rig.recordings()
    assert (rec.call_id, rec.direction, rec.user_id, rec.callee) == (
        str(outbound.call_id),
        "outbound",
        rig.users["1001"],
        "+12125550199",
    )
    assert rms(stereo(Path(rec.file_path))[:, 0]) > 500


async def test_on_demand_star_one_starts_and_stops_the_recording(rig: Rig) -> None:
    rig.policy(RecordingMode.OFF, {"1001": RecordingMode.ON_DEMAND})
    b = free_udp_port()
    await rig.server.register("1002", b)
    await call(rig, "rec_uac_on_demand.xml", "1002", b)
    cdr = rig.server.ended[-1]
    [rec] = rig.recordings()
    assert (rec.call_id, rec.trigger, rec.user_id) == (
        str(cdr.call_id),
        RecordingTrigger.ON_DEMAND,
        rig.users["1001"],
    )
    pcm = stereo(Path(rec.file_path))
    # Started by the first *1 (0.8 s in), stopped by the second (about 3.3 s later), well before the
    # BYE: the recording is the part of the call between the two.
    assert 2800 < rec.duration_ms < 4200 and cdr.duration_ms - rec.duration_ms > 1500, (rec.duration_ms, cdr)
    assert rms(pcm[:, 0]) > 300  # the speech played between the two key presses
    assert rec.ended_at is not None and rec.ended_at < cdr.ended_at
