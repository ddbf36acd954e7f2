"""Call recordings for the recording routes: a recording of a call of the tenant with its WAV file,
linked to the CDR of world_cdrs.py, and the tenant's recording policy with one user's own mode."""

from __future__ import annotations

import tempfile
import uuid
from datetime import timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from centrex.media.wav import write_wav
from centrex.store.models import CallDetail
from centrex.store.models.recordings import (
    CallRecording,
    RecordingMode,
    RecordingSettings,
    RecordingTrigger,
    RecordingUserPolicy,
)

FILES = Path(tempfile.mkdtemp(prefix="centrex-world-recordings-"))


def extend(session: Session, tw: object) -> None:
    ids: dict[str, uuid.UUID] = tw.ids  # type: ignore[attr-defined]
    tenant_id: uuid.UUID = tw.id  # type: ignore[attr-defined]
    cdr = session.get(CallDetail, ids["cdr"])
    assert cdr is not None, "world_cdrs.py makes the call this recording is of"
    path = FILES / str(tenant_id) / f"{cdr.call_id}.wav"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_wav(path, [0, 1000, -1000, 0] * 2000)
    rec = CallRecording(
        tenant_id=tenant_id,
        call_id=cdr.call_id,
        user_id=ids["end_user"],
        trigger=RecordingTrigger.POLICY,
        direction="internal",
        caller=cdr.caller,
        callee=cdr.callee,
        started_at=cdr.start + timedelta(seconds=4),
        ended_at=cdr.start + timedelta(seconds=65),
        duration_ms=1000,
        file_path=str(path),
        size_bytes=path.stat().st_size,
    )
    session.add_all(
        [
            rec,
            RecordingSettings(tenant_id=tenant_id, mode=RecordingMode.OUTBOUND),
            RecordingUserPolicy(tenant_id=tenant_id, user_id=ids["end_user"], mode=RecordingMode.ALL),
        ]
    )
    session.flush()
    ids["recording"] = rec.id
