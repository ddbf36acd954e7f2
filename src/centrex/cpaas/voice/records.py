"""What the voice interpreter keeps in the store: the applications it runs, the cpaas_calls row of
each call (status, times, the status-callback sequence number), the call's notices (its log) and its
recordings (the WAV under ``<media>/cpaas/recordings/<tenant>/``, its key in the row: store/media_files.py).
Blocking: the app server calls these through ``asyncio.to_thread``. Every query is scoped by the
tenant.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from centrex.cpaas import outbox
from centrex.cpaas.accounts import ensure_account
from centrex.cpaas.sids import sid_of
from centrex.cpaas.voice.control import AppStart, VoiceCall
from centrex.media.g711 import Pcm
from centrex.media.wav import RATE, write_wav
from centrex.store import media_files
from centrex.store.models.cpaas_voice import Application, CpaasCall, CpaasCallNotice, CpaasRecording
from centrex.store.types import utcnow

RECORDINGS_DIR = Path("cpaas") / "recordings"
DEFAULT_EVENTS = frozenset({"completed"})  # Twilio: without StatusCallbackEvent, only completed


@dataclass(frozen=True, slots=True)
class SavedRecording:
    sid: str
    duration_s: int
    path: Path


def events_of(text: str | None) -> frozenset[str]:
    words = frozenset((text or "").replace(",", " ").split())
    return words or DEFAULT_EVENTS


class VoiceRecords:
    def __init__(self, sessions: sessionmaker[Session], media_dir: Path) -> None:
        self._sessions = sessions
        self.data_dir = Path(media_dir)  # the media directory (or the data dir without one)

    def application_exists(self, tenant_id: uuid.UUID, app_id: uuid.UUID) -> bool:
        with self._sessions() as s:
            row = s.get(Application, app_id)
            return row is not None and row.tenant_id == tenant_id

    def start_inbound(
        self,
        tenant_id: uuid.UUID,
        app_id: uuid.UUID,
        from_number: str,
        to_number: str,
        caller_name: str | None,
        switch_call_id: str | None,
    ) -> tuple[VoiceCall, AppStart] | None:
        """A call comes in to an application: its cpaas_calls row (status ringing) and where its
        first document comes from. None when the application is not the tenant's."""
        with self._sessions.begin() as s:
            app = s.get(Application, app_id)
            if app is None or app.tenant_id != tenant_id:
                return None
            account = ensure_account(s, tenant_id)
            row_id = uuid.uuid4()
            row = CpaasCall(
                id=row_id,
                tenant_id=tenant_id,
                sid=sid_of("CA", row_id),
                account_sid=account.sid,
                application_id=app.id,
                direction="inbound",
                from_number=from_number[:128],
                to_number=to_number[:128],
                caller_name=(caller_name or None) and caller_name[:64],
                status="ringing",
                switch_call_id=switch_call_id,
                url=app.voice_url,
                method=app.voice_method,
                fallback_url=app.voice_fallback_url,
                fallback_method=app.voice_fallback_method,
                status_callback=app.status_callback,
                status_callback_method=app.status_callback_method,
                # An application's status callback hears every progress event (as a number's
                # StatusCallback in Twilio's console: initiated, ringing, answered, completed).
                status_callback_event="initiated ringing answered completed",
            )
            s.add(row)
            call = VoiceCall(
                sid=row.sid,
                account_sid=account.sid,
                tenant_id=tenant_id,
                from_number=row.from_number,
                to_number=row.to_number,
                direction="inbound",
                caller_name=row.caller_name,
                auth_token=account.auth_token,
                status_callback=app.status_callback,
                status_callback_method=app.status_callback_method,
                status_callback_events=events_of(row.status_callback_event),
                row_id=row_id,
            )
            start = AppStart(
                url=app.voice_url,
                method=app.voice_method,
                fallback_url=app.voice_fallback_url,
                fallback_method=app.voice_fallback_method,
                document=app.document,
                flow_id=app.flow_id,
            )
        return call, start

    def set_status(
        self,
        call: VoiceCall,
        status: str,
        *,
        answered: datetime | None = None,
        ended: datetime | None = None,
        callback: Callable[[int], Mapping[str, str]] | None = None,
    ) -> int:
        """Record the call's status; returns the status callback's SequenceNumber (0, 1, 2 …).

        ``callback``: the status callback's parameters for that SequenceNumber. They are queued in
        the webhooks outbox (cpaas/outbox.py) in the same transaction as the status: signed
        X-Twilio-Signature at each attempt, retried with back-off, in the tenant's callback
        delivery log; one URL's deliveries leave in the order they were queued, so a call's
        SequenceNumbers arrive in order. Returns -1 when the call has no row (nothing queued)."""
        with self._sessions.begin() as s:
            row = self._row(s, call)
            if row is None:
                return -1 if callback is not None else 0
            row.status = status
            if answered is not None:
                row.answer_time = answered
            if ended is not None:
                row.end_time = ended
                base = row.answer_time
                row.duration_s = max(0, int((ended - base).total_seconds())) if base is not None else 0
            seq = row.sequence_number
            row.sequence_number = seq + 1
            if callback is not None and call.status_callback:
                try:
                    outbox.enqueue(
                        s,
                        tenant_id=row.tenant_id,
                        url=call.status_callback,
                        method=call.status_callback_method,
                        form=dict(callback(seq)),
                        signing="twilio",
                        kind="status_callback",
                        context={"call_sid": call.sid, "sequence": seq, "status": status},
                        lane=f"call:{call.sid}",
                        flush=False,
                    )
                except ValueError as exc:  # not an http(s) URL, a method not GET/POST: nothing sent
                    s.add(
                        CpaasCallNotice(
                            tenant_id=row.tenant_id,
                            call_id=row.id,
                            level="error",
                            code=11210,
                            message=f"status callback {call.status_callback!r} not sent: {exc}"[:1000],
                        )
                    )
            return seq

    def queue_callback(
        self, call: VoiceCall, url: str, method: str, params: dict[str, str], *, kind: str
    ) -> bool:
        """Queue one more signed request of the call (e.g. a recording's status callback) in the
        webhooks outbox, in the call's lane after its status callbacks: retried with back-off and
        in the callback delivery log. False when the call has no row or the URL is not http(s)."""
        with self._sessions.begin() as s:
            row = self._row(s, call)
            if row is None:
                return False
            try:
                outbox.enqueue(
                    s,
                    tenant_id=row.tenant_id,
                    url=url,
                    method=method,
                    form=params,
                    signing="twilio",
                    kind=kind,
                    context={"call_sid": call.sid, "kind": kind},
                    lane=f"call:{call.sid}",
                    flush=False,
                )
            except ValueError as exc:
                s.add(
                    CpaasCallNotice(
                        tenant_id=row.tenant_id,
                        call_id=row.id,
                        level="error",
                        code=11210,
                        message=f"{kind} {url!r} not sent: {exc}"[:1000],
                    )
                )
                return False
            return True

    def duration_s(self, call: VoiceCall) -> int:
        with self._sessions() as s:
            row = self._row(s, call)
            return (row.duration_s or 0) if row is not None else 0

    def notice(self, call: VoiceCall, message: str, *, level: str = "error", code: int | None = None) -> None:
        with self._sessions.begin() as s:
            row = self._row(s, call)
            if row is None:
                return
            s.add(
                CpaasCallNotice(
                    tenant_id=row.tenant_id, call_id=row.id, level=level, code=code, message=message[:1000]
                )
            )

    def notices(self, tenant_id: uuid.UUID, call_sid: str) -> list[CpaasCallNotice]:
        with self._sessions() as s:
            q = (
                select(CpaasCallNotice)
                .join(CpaasCall, CpaasCall.id == CpaasCallNotice.call_id)
                .where(CpaasCall.tenant_id == tenant_id, CpaasCall.sid == call_sid)
                .order_by(CpaasCallNotice.at)
            )
            return list(s.scalars(q))

    def save_recording(self, call: VoiceCall, samples: Pcm, started: datetime, source: str) -> SavedRecording:
        """The WAV under the data dir and its cpaas_recordings row (cpaas.txt §2.4.2 (i): the
        content is kept 30 days, ops/jobs cpaas-recording-retention deletes it)."""
        rec_id = uuid.uuid4()
        sid = sid_of("RE", rec_id)
        relative = RECORDINGS_DIR / str(call.tenant_id) / f"{sid}.wav"
        path = self.data_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        write_wav(path, samples)
        duration = -(-len(samples) // RATE) if len(samples) else 0
        with self._sessions.begin() as s:
            row = self._row(s, call)
            s.add(
                CpaasRecording(
                    id=rec_id,
                    tenant_id=call.tenant_id,
                    sid=sid,
                    account_sid=call.account_sid,
                    call_id=row.id if row is not None else None,
                    call_sid=call.sid,
                    status="completed",
                    source=source,
                    start_time=started,
                    duration_s=duration,
                    path=media_files.key_of(path),
                    size_bytes=path.stat().st_size,
                )
            )
        return SavedRecording(sid, duration, path)

    def _row(self, s: Session, call: VoiceCall) -> CpaasCall | None:
        if isinstance(call.row_id, uuid.UUID):
            row = s.get(CpaasCall, call.row_id)
        else:
            row = s.scalar(select(CpaasCall).where(CpaasCall.sid == call.sid))
        if row is None or row.tenant_id != call.tenant_id:
            return None
        return row


def now() -> datetime:
    return utcnow()
