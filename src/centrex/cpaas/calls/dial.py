"""<Dial> on the app server (issue 16 §1, §2): a second leg through the switch, bridged to the caller.

Each target (a number, an extension, a SIP URI's user part) is an INVITE the app server places
through the switch (apps/outbound.py; the switch routes it like the tenant's own call and never to
911/933, cpaas.txt §2.4.4). All targets ring at once; the first to answer wins and the others are
cancelled (Twilio's simultaneous dialling). The two legs are bridged on the app server: every
G.711 frame one side sends is sent on to the other (both legs are G.711, 20 ms frames), so the
relay, recording and billing of the switch see two ordinary calls. The result is what the action
URL is told: DialCallStatus (completed, busy, no-answer, failed, canceled), DialCallDuration (s,
answer to hang-up) and DialCallSid (the dialled leg's cpaas_calls row, direction outbound-dial).

``record="record-from-answer"`` (and Twilio's other record-* values, all from answer here): both
parties are recorded while bridged, mixed to one 8 kHz channel by arrival time (BridgeRecorder), and
stored as a recording of the caller's call (source DialVerb, cpaas_recordings, kept 30 days: cpaas.txt
§2.4.2 (i)); its SID goes to the action URL as RecordingSid/RecordingUrl and it is served with the
Recordings resource (.wav, .mp3).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from sqlalchemy.orm import Session, sessionmaker

from centrex.cpaas.calls import rows
from centrex.cpaas.voice.control import DialRequest, DialResult, DialStatus, DialTarget, VoiceCall
from centrex.media.g711 import Pcm
from centrex.media.wav import RATE

if TYPE_CHECKING:
    from centrex.apps.media import CallMedia
    from centrex.apps.outbound import OutboundCalls, OutboundLeg
    from centrex.cpaas.voice.records import VoiceRecords

log = logging.getLogger(__name__)

_SIP_USER = re.compile(r"^sips?:([^@;>]+)@", re.I)
_EMERGENCY = {"911", "933", "+1911", "+1933", "1911", "1933", "112"}


@dataclass(frozen=True)
class DialParent:
    """The call a <Dial> runs on: its tenant, account, SID and numbers (the default caller ID is
    the caller's number for an inbound call, the From of an API call: Twilio's)."""

    tenant_id: uuid.UUID
    account_sid: str
    call_sid: str
    from_number: str
    to_number: str


@dataclass
class _Track:
    cursor: int = 0  # the sample where this party's next frame goes


@dataclass
class BridgeRecorder:
    """Both parties of a bridge, mixed to one channel. Each frame goes where its party's last one
    ended (a continuous stream stays seamless whatever the jitter), unless it arrives more than
    ``SLACK`` later than that — a pause in that party's RTP — when it goes at its arrival time."""

    SLACK = RATE // 10  # 100 ms
    started: float = field(default_factory=time.monotonic)
    chunks: list[tuple[int, Pcm]] = field(default_factory=list)

    def tap(self) -> Callable[[Pcm], None]:
        track = _Track()

        def add(pcm: Pcm) -> None:
            arrived = int((time.monotonic() - self.started) * RATE) - len(pcm)
            at = arrived if arrived - track.cursor > self.SLACK else track.cursor
            at = max(at, 0)
            self.chunks.append((at, pcm))
            track.cursor = at + len(pcm)

        return add

    def samples(self) -> Pcm:
        if not self.chunks:
            return np.zeros(0, dtype=np.int16)
        mix = np.zeros(max(at + len(p) for at, p in self.chunks), dtype=np.int32)
        for at, pcm in self.chunks:
            mix[at : at + len(pcm)] += pcm.astype(np.int32)
        return np.clip(mix, -32768, 32767).astype(np.int16)


def target_user(target: DialTarget) -> str | None:
    """The switch's target of a noun: a number or extension as is, a SIP URI's user part."""
    if target.kind in ("number", "extension"):
        return target.value.strip() or None
    if target.kind == "sip":
        m = _SIP_USER.match(target.value.strip())
        return m.group(1) if m else None
    return None  # conference, queue, client: the interpreter's (REFER) or not supported


def is_emergency(value: str) -> bool:
    digits = "".join(ch for ch in value if ch.isdigit() or ch == "+")
    return digits in _EMERGENCY


async def dial(
    outbound: OutboundCalls,
    sessions: sessionmaker[Session],
    caller: CallMedia,
    parent: DialParent,
    request: DialRequest,
    recorder: VoiceRecords | None = None,
) -> DialResult:
    """Ring the targets, bridge the first that answers to ``caller`` until one side hangs up or
    the time limit; the caller's leg stays up (Twilio's <Dial>: the document goes on after it).
    ``recorder``: where a ``record`` Dial's recording is stored."""
    users = [(t, u) for t in request.targets if (u := target_user(t)) is not None]
    if not users:
        return DialResult("failed")
    caller_id = request.caller_id or parent.from_number
    placed: list[tuple[OutboundLeg, str]] = []
    for target, user in users:
        if is_emergency(user):
            # cpaas.txt §2.4.4: CPaaS is not for emergency calls (the switch refuses them too).
            await asyncio.to_thread(
                rows.notice,
                sessions,
                parent.call_sid,
                "Dial to an emergency number refused (cpaas.txt 2.4.4)",
            )
            continue
        sid = await asyncio.to_thread(
            rows.create_child,
            sessions,
            parent.tenant_id,
            account_sid=parent.account_sid,
            direction="outbound-dial",
            from_number=caller_id,
            to_number=target.value,
            status="queued",
            parent_call_sid=parent.call_sid,
        )
        try:
            leg = await outbound.place(parent.tenant_id, user, caller_id=caller_id)
        except Exception:
            log.exception("cpaas.dial.place_failed parent=%s target=%s", parent.call_sid, user)
            await asyncio.to_thread(rows.ended, sessions, sid, "failed", None)
            continue
        await asyncio.to_thread(rows.update, sessions, sid, status="ringing")
        placed.append((leg, sid))
    if not placed:
        return DialResult("failed")
    winner, outcomes = await _first_answer(placed, caller, request.timeout_s)
    for leg, sid in placed:
        if winner is None or leg is not winner[0]:
            leg.hangup()
            status = outcomes.get(sid, "canceled")
            await asyncio.to_thread(rows.ended, sessions, sid, status, None)
    if winner is None:
        status = _overall([outcomes.get(sid, "no-answer") for _, sid in placed], caller)
        return DialResult(status, 0, placed[0][1] if len(placed) == 1 else None)
    leg, sid = winner
    answered_at = rows.now()
    await asyncio.to_thread(rows.update, sessions, sid, status="in-progress", answer_time=answered_at)
    recording = BridgeRecorder() if request.record.startswith("record-") and recorder else None
    taps = [(m, recording.tap()) for m in (caller, leg.media)] if recording else []
    for media, tap in taps:
        media.taps.append(tap)
    try:
        await bridge(caller, leg.media, request.time_limit_s)
    finally:
        for media, tap in taps:
            with contextlib.suppress(ValueError):
                media.taps.remove(tap)
    leg.hangup()
    duration = int((rows.now() - answered_at).total_seconds())
    await asyncio.to_thread(rows.ended, sessions, sid, "completed", answered_at)
    recording_sid = None
    if recording is not None and recorder is not None:
        samples = recording.samples()
        if len(samples):
            owner = VoiceCall(
                sid=parent.call_sid,
                account_sid=parent.account_sid,
                tenant_id=parent.tenant_id,
                from_number=parent.from_number,
                to_number=parent.to_number,
            )
            saved = await asyncio.to_thread(recorder.save_recording, owner, samples, answered_at, "DialVerb")
            recording_sid = saved.sid
    return DialResult("completed", duration, sid, recording_sid)


async def _first_answer(
    placed: list[tuple[OutboundLeg, str]], caller: CallMedia, timeout_s: int
) -> tuple[tuple[OutboundLeg, str] | None, dict[str, DialStatus]]:
    waits: dict[asyncio.Future[object], tuple[OutboundLeg, str]] = {
        asyncio.ensure_future(leg.wait_answer(max(1, timeout_s))): (leg, sid) for leg, sid in placed
    }
    gone: asyncio.Future[object] = asyncio.ensure_future(caller.closed.wait())
    outcomes: dict[str, DialStatus] = {}
    pending: set[asyncio.Future[object]] = set(waits)
    winner = None
    try:
        while pending and winner is None:
            done, pending = await asyncio.wait(pending | {gone}, return_when=asyncio.FIRST_COMPLETED)
            pending.discard(gone)
            if gone in done:
                outcomes.update({waits[t][1]: "canceled" for t in pending})
                break
            for task in done:
                leg, sid = waits[task]
                outcome = task.result()
                if outcome == "answered" and winner is None:
                    winner = (leg, sid)
                elif outcome == "answered":
                    leg.hangup()
                    outcomes[sid] = "canceled"
                else:
                    outcomes[sid] = outcome  # type: ignore[assignment]
    finally:
        gone.cancel()
        for task in pending:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
    return winner, outcomes


def _overall(statuses: list[DialStatus], caller: CallMedia) -> DialStatus:
    if caller.closed.is_set():
        return "canceled"
    for status in ("busy", "no-answer"):  # type: DialStatus
        if status in statuses:
            return status
    return "failed"


async def bridge(a: CallMedia, b: CallMedia, time_limit_s: int) -> None:
    """Each side's audio to the other until either hangs up or ``time_limit_s`` passes."""
    a.end_stream()
    b.end_stream()
    a.on_audio = b.send_stream_frame
    b.on_audio = a.send_stream_frame
    ends = [asyncio.ensure_future(a.closed.wait()), asyncio.ensure_future(b.closed.wait())]
    try:
        await asyncio.wait(ends, timeout=max(1, time_limit_s), return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in ends:
            task.cancel()
        a.on_audio = None
        b.on_audio = None
        a.end_stream()
        b.end_stream()
