"""cpaas.txt §2.4.2 (i): a voice app's recording keeps its content thirty days; the
cpaas-recording-retention job then deletes the WAV and stamps the row, which stays."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import select

from centrex.cpaas.accounts import ensure_account
from centrex.cpaas.sids import new_sid
from centrex.cpaas.voice.control import VoiceCall
from centrex.cpaas.voice.records import VoiceRecords
from centrex.ops.jobs import builtin_registry
from centrex.ops.scheduler import run_job
from centrex.store import media_files
from centrex.store.db import make_engine, make_sessionmaker, transaction
from centrex.store.models import Tenant
from centrex.store.models.cpaas_voice import Application, CpaasRecording

NOW = datetime(2026, 12, 6, 3, 45, tzinfo=UTC)


@pytest.fixture
def sessions(db_url: str) -> Any:
    engine = make_engine(db_url)
    yield make_sessionmaker(engine)
    engine.dispose()


def test_content_goes_after_30_days_and_the_record_stays(sessions: Any, tmp_path: Path) -> None:
    with transaction(sessions) as s:
        t = Tenant(name="Rec Co", sip_domain=f"rec-{uuid.uuid4().hex[:6]}.example")
        s.add(t)
        s.flush()
        ensure_account(s, t.id)
        app = Application(tenant_id=t.id, sid=new_sid("AP"), voice_url="http://127.0.0.1:9/x")
        s.add(app)
        s.flush()
        tenant_id, app_id = t.id, app.id
    records = VoiceRecords(sessions, tmp_path)
    started = records.start_inbound(tenant_id, app_id, "+15551230000", "+15557650000", None, None)
    assert started is not None
    call: VoiceCall = started[0]
    tone = (3000 * np.sin(np.arange(16000) / 8000 * 2 * np.pi * 440)).astype(np.int16)
    old = records.save_recording(call, tone, NOW - timedelta(days=30, minutes=1), "RecordVerb")
    new = records.save_recording(call, tone, NOW - timedelta(days=29, hours=23), "RecordVerb")
    assert old.duration_s == 2 and old.path.exists() and new.path.exists()
    assert old.sid.startswith("RE") and str(old.path).startswith(str(tmp_path / "cpaas" / "recordings"))

    job = builtin_registry().get("cpaas-recording-retention")
    dry = run_job(sessions, job, NOW, dry_run=True)
    assert dry.report is not None and dry.report.counts == {"recordings": 1}
    assert old.path.exists()
    done = run_job(sessions, job, NOW)
    assert done.report is not None and done.report.counts["recordings"] == 1
    assert done.report.counts["bytes"] > 30000
    assert not old.path.exists() and new.path.exists()
    with sessions() as s:
        rows = {r.sid: r for r in s.scalars(select(CpaasRecording))}
    assert rows[old.sid].path is None and rows[old.sid].content_deleted_at is not None
    assert rows[old.sid].duration_s == 2 and rows[old.sid].call_sid == call.sid  # the record stays
    assert rows[new.sid].path == media_files.key_of(new.path) and rows[new.sid].content_deleted_at is None
    again = run_job(sessions, job, NOW)
    assert again.report is not None and again.report.counts["recordings"] == 0
