"""Call recording at the switch (issue 4 point 5; hosted-pbx.txt, "Hosted Call Recording").

``RecordingListener`` is one of the engine's ``listeners``. It keeps what ``CallStarted`` said (the
tenant, the calling user, where the call came from), and at ``CallAnswered`` decides from the policy
whether to record the call: the tenant's default mode, overridden per user (``recording_settings``,
``recording_user_policies``). At ``CallEnded`` it stops the recording and completes its row.

Whose policy counts is each party's that is a user of the tenant: the caller of an internal or
outbound call (a PBX trunk's calls: the tenant default), the callee of an internal or inbound call
(a DID routed to the tenant's PBX: the tenant default). The direction is the call's as answered: a
call from a carrier is inbound; otherwise it is internal when a user of the tenant answered (also
when dialled by DID) and outbound when a trunk did. Calls an app answered (voicemail, attendant) are
not recorded: the app keeps what it needs.

The media comes from the call's relay (media/relay.py ``start_recording``): a stereo WAV under
``<data dir>/recordings/<tenant>/<YYYY-MM>/<call id>.wav``. Rows are written by one worker thread,
off the event loop (the file's SHA-256 is read there too): inserted when the recording starts (so a
crash leaves a row for retention to find), completed when it stops.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import re
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_futures
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from centrex.calls.events import CallAnswered, CallEnded, CallStarted
from centrex.media.errors import MediaError
from centrex.media.recorder import CallRecorder, FeatureCodeWatch, RecordingResult
from centrex.media.relay import RelayManager, RtpRelay
from centrex.store import media_files
from centrex.store.db import transaction
from centrex.store.models import User
from centrex.store.models.recordings import (
    DEFAULT_FEATURE_CODE,
    CallRecording,
    RecordingMode,
    RecordingSettings,
    RecordingTrigger,
    RecordingUserPolicy,
)

log = logging.getLogger(__name__)

INTERNAL, INBOUND, OUTBOUND = "internal", "inbound", "outbound"
FEATURE_CODE_WINDOW_S = 2.0
_DIAL_STRING = re.compile(r"\+?[0-9*#]+")


# -- the policy (pure) ----------------------------------------------------------------------------


def covers(mode: RecordingMode, direction: str) -> bool:
    """Whether a party's mode records a call of ``direction`` from its answer.

    hosted-pbx.txt, definitions: "Hosted Call Recording – means the recording of external VoIP calls
    both inbound and outbound" — so ``inbound`` and ``outbound`` are calls to and from outside;
    ``all`` adds the internal calls (what a customer recording for compliance expects of "all").
    ``on_demand`` records nothing until the user keys the feature code.
    """
    if mode is RecordingMode.ALL:
        return True
    if mode is RecordingMode.INBOUND:
        return direction == INBOUND
    if mode is RecordingMode.OUTBOUND:
        return direction == OUTBOUND
    return False


@dataclass(frozen=True, slots=True)
class Party:
    """One side of a call whose policy counts: leg ``a`` the caller, ``b`` the callee."""

    leg: str
    user_id: uuid.UUID | None
    mode: RecordingMode


@dataclass(frozen=True, slots=True)
class Decision:
    record: Party | None  # whose policy records the call from its answer
    watch: tuple[Party, ...] = ()  # on-demand parties whose leg is watched for the feature code


def decide(direction: str, parties: tuple[Party, ...]) -> Decision:
    """Record when any party's mode covers the call (the caller's named first). Otherwise watch the
    legs of on-demand parties. A recording a policy started cannot be stopped by the feature code:
    the party whose policy it is did not choose to stop it."""
    for p in parties:
        if covers(p.mode, direction):
            return Decision(p)
    return Decision(None, tuple(p for p in parties if p.mode is RecordingMode.ON_DEMAND))


def call_direction(started: str, answered_by_user: bool) -> str:
    """The call's direction as answered (see the module docstring)."""
    if started == INBOUND:
        return INBOUND
    return INTERNAL if answered_by_user else OUTBOUND


def answered_by_app(label: str) -> bool:
    """The engine names an answering app by its Request-URI user (vm-deposit.<user>, vm-main, …);
    users and trunks by a dial string."""
    return not _DIAL_STRING.fullmatch(label)


@dataclass(frozen=True)
class TenantPolicy:
    mode: RecordingMode = RecordingMode.OFF
    feature_code: str = DEFAULT_FEATURE_CODE
    overrides: Mapping[uuid.UUID, RecordingMode] = field(default_factory=dict)

    @property
    def idle(self) -> bool:
        """Nobody of the tenant is ever recorded: a call costs no query."""
        return self.mode is RecordingMode.OFF and all(m is RecordingMode.OFF for m in self.overrides.values())

    def mode_for(self, user_id: uuid.UUID | None) -> RecordingMode:
        if user_id is None:
            return self.mode
        return self.overrides.get(user_id, self.mode)


def load_policy(session: Session, tenant_id: uuid.UUID) -> TenantPolicy:
    settings = session.scalar(select(RecordingSettings).where(RecordingSettings.tenant_id == tenant_id))
    rows = session.execute(
        select(RecordingUserPolicy.user_id, RecordingUserPolicy.mode).where(
            RecordingUserPolicy.tenant_id == tenant_id
        )
    )
    overrides = {user_id: mode for user_id, mode in rows}
    if settings is None:
        return TenantPolicy(overrides=overrides)
    return TenantPolicy(settings.mode, settings.feature_code, overrides)


def recording_path(
    data_dir: Path, tenant_id: uuid.UUID, call_id: str, started: datetime, segment: int
) -> Path:
    suffix = "" if segment == 1 else f"-{segment}"
    return data_dir / "recordings" / str(tenant_id) / started.strftime("%Y-%m") / f"{call_id}{suffix}.wav"


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# -- the listener ---------------------------------------------------------------------------------


@dataclass
class _Active:
    row_id: uuid.UUID
    recorder: CallRecorder
    trigger: RecordingTrigger


@dataclass
class _Call:
    tenant_id: uuid.UUID
    caller_id: uuid.UUID | None
    caller: str
    direction: str
    callee: str = ""
    active: _Active | None = None
    segments: int = 0
    parties: tuple[Party, ...] = ()


class RecordingListener:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        relay_manager: RelayManager,
        data_dir: str | Path,
        *,
        policy_ttl_s: float = 5.0,
        feature_code_window_s: float = FEATURE_CODE_WINDOW_S,
        wall_clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.sessions = sessions
        self.relays = relay_manager
        self.data_dir = Path(data_dir)
        self.policy_ttl_s = policy_ttl_s
        self.window_s = feature_code_window_s
        self.wall = wall_clock or (lambda: datetime.now(UTC))
        self._calls: dict[uuid.UUID, _Call] = {}
        self._policies: dict[uuid.UUID, tuple[float, TenantPolicy]] = {}
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="recordings")
        self._pending: set[Future[None]] = set()
        self._lock = threading.Lock()

    # -- events (the engine's thread: the event loop) ------------------------------------------
    def __call__(self, event: object) -> None:
        if isinstance(event, CallStarted):
            self._calls[event.call_id] = _Call(event.tenant_id, event.user_id, event.from_, event.direction)
        elif isinstance(event, CallAnswered):
            self._answered(event)
        elif isinstance(event, CallEnded):
            call = self._calls.pop(event.call_id, None)
            if call is not None and call.active is not None:
                self._stop(event.call_id, call, event.ended_at)

    def policy(self, tenant_id: uuid.UUID) -> TenantPolicy:
        """The tenant's policy, read at most every ``policy_ttl_s`` (a change through the API
        counts from the next call after that, on every node)."""
        now = time.monotonic()
        cached = self._policies.get(tenant_id)
        if cached is not None and now - cached[0] < self.policy_ttl_s:
            return cached[1]
        with self.sessions() as s:
            policy = load_policy(s, tenant_id)
        if len(self._policies) > 10_000:
            self._policies.clear()
        self._policies[tenant_id] = (now, policy)
        return policy

    def may_record(self, tenant_id: uuid.UUID, user_ids: tuple[uuid.UUID, ...]) -> bool:
        """Whether a call between these users could be recorded, by policy or on demand: the switch
        keeps such calls on the relay, whose tap is the recorder (calls/engine.py direct media)."""
        policy = self.policy(tenant_id)
        return not policy.idle and any(policy.mode_for(u) is not RecordingMode.OFF for u in user_ids)

    def _user_by_extension(self, tenant_id: uuid.UUID, extension: str) -> uuid.UUID | None:
        with self.sessions() as s:
            return s.scalar(select(User.id).where(User.tenant_id == tenant_id, User.extension == extension))

    def _answered(self, ev: CallAnswered) -> None:
        call = self._calls.get(ev.call_id)
        if call is None or call.active is not None or answered_by_app(ev.to):
            return
        policy = self.policy(ev.tenant_id)
        if policy.idle:
            return
        callee_id = None if ev.to.startswith("+") else self._user_by_extension(ev.tenant_id, ev.to)
        direction = call_direction(call.direction, callee_id is not None)
        parties = []
        if direction != INBOUND:
            parties.append(Party("a", call.caller_id, policy.mode_for(call.caller_id)))
        if direction != OUTBOUND:
            parties.append(Party("b", callee_id, policy.mode_for(callee_id)))
        decision = decide(direction, tuple(parties))
        if decision.record is None and not decision.watch:
            return
        call.direction, call.callee, call.parties = direction, ev.to, tuple(parties)
        relay = self.relays.get(str(ev.call_id))
        if relay is None:  # no relay ports (the call is unanchored): its media never reaches us
            log.warning("recording.unanchored call=%s: the policy asks for a recording", ev.call_id)
            return
        if decision.record is not None:
            self._start(ev.call_id, call, relay, decision.record, RecordingTrigger.POLICY, ev.answered_at)
        for party in decision.watch:
            keyed = partial(self._keyed, ev.call_id, party)
            relay.watch(party.leg, FeatureCodeWatch(policy.feature_code, keyed, self.window_s))

    def _keyed(self, call_id: uuid.UUID, party: Party, _now: float) -> None:
        """The feature code on an on-demand party's leg: start a recording, or stop the one running."""
        call = self._calls.get(call_id)
        relay = self.relays.get(str(call_id))
        if call is None or relay is None:
            return
        if call.active is None:
            log.info("recording.on_demand.start call=%s leg=%s", call_id, party.leg)
            self._start(call_id, call, relay, party, RecordingTrigger.ON_DEMAND, self.wall())
        elif call.active.trigger is RecordingTrigger.ON_DEMAND:
            log.info("recording.on_demand.stop call=%s leg=%s", call_id, party.leg)
            self._stop(call_id, call, self.wall())

    def _start(
        self,
        call_id: uuid.UUID,
        call: _Call,
        relay: RtpRelay,
        party: Party,
        trigger: RecordingTrigger,
        started_at: datetime,
    ) -> None:
        call.segments += 1
        path = recording_path(self.data_dir, call.tenant_id, str(call_id), started_at, call.segments)
        try:
            recorder = relay.start_recording(path)
        except (MediaError, OSError) as exc:
            log.error("recording.start_failed call=%s path=%s: %s", call_id, path, exc)
            return
        row_id = uuid.uuid4()
        call.active = _Active(row_id, recorder, trigger)
        row = {
            "id": row_id,
            "tenant_id": call.tenant_id,
            "call_id": str(call_id),
            "user_id": party.user_id,
            "trigger": trigger,
            "direction": call.direction,
            "caller": call.caller[:64],
            "callee": call.callee[:64],
            "started_at": started_at,
            "file_path": media_files.key_of(path),
        }
        self._submit(self._insert, row)
        log.info("recording.start call=%s trigger=%s path=%s", call_id, trigger.value, path)

    def _stop(self, call_id: uuid.UUID, call: _Call, ended_at: datetime) -> None:
        active, call.active = call.active, None
        if active is None:
            return
        result = active.recorder.result
        if result is None:
            relay = self.relays.get(str(call_id))
            if relay is not None and relay.recorder is active.recorder:
                result = relay.stop_recording()
            if result is None:
                result = active.recorder.close(time.monotonic())
        self._submit(self._finish, active.row_id, result, ended_at)

    # -- rows (the worker thread) --------------------------------------------------------------
    def _submit(self, fn: Callable[..., None], *args: Any) -> None:
        future = self._pool.submit(self._guarded, fn, *args)
        with self._lock:
            self._pending.add(future)
        future.add_done_callback(self._done)

    def _done(self, future: Future[None]) -> None:
        with self._lock:
            self._pending.discard(future)

    @staticmethod
    def _guarded(fn: Callable[..., None], *args: Any) -> None:
        try:
            fn(*args)
        except Exception:
            log.exception("recording.row_failed %s", getattr(fn, "__name__", fn))

    def _insert(self, row: dict[str, Any]) -> None:
        with transaction(self.sessions) as s:
            s.add(CallRecording(**row))

    def _finish(self, row_id: uuid.UUID, result: RecordingResult, ended_at: datetime) -> None:
        size = sha = None
        with contextlib.suppress(OSError):
            size = result.path.stat().st_size
            sha = file_sha256(result.path)
        with transaction(self.sessions) as s:
            s.execute(
                update(CallRecording)
                .where(CallRecording.id == row_id)
                .values(ended_at=ended_at, duration_ms=result.duration_ms, size_bytes=size or 0, sha256=sha)
            )
        log.info(
            "recording.end id=%s duration_ms=%d packets=%d dropped=%d size=%s",
            row_id,
            result.duration_ms,
            result.packets,
            result.dropped,
            size,
        )

    def drain(self, timeout: float = 10.0) -> bool:
        """Wait until every row written so far is stored (tests, shutdown); False on timeout."""
        with self._lock:
            pending = set(self._pending)
        _, not_done = wait_futures(pending, timeout)
        return not not_done

    def close(self) -> None:
        """Stop the recordings still running (the service is stopping) and store their rows."""
        for call_id, call in list(self._calls.items()):
            if call.active is not None:
                self._stop(call_id, call, self.wall())
        self._calls.clear()
        self._pool.shutdown(wait=True)
