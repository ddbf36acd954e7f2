"""Retention (hosted-pbx.txt, data protection 2.f: "all call records will be deleted on expiration
of the retention period (i.e. default of 12 months)"): a recording made 13 months ago is deleted -
its file gone, its row marked, an audit entry - and one made 11 months ago stays; by the job and by
`centrex recordings purge --as-of`, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from centrex.ops.recording_retention import (
    add_months,
    next_run,
    purge_recordings,
    retention_cutoff,
    retention_daily,
)
from centrex.store.db import make_engine, make_sessionmaker, transaction
from centrex.store.models import AuditEntry
from centrex.store.models.recordings import CallRecording, RecordingMode, RecordingTrigger

from .helpers import Office, office, set_policy

AS_OF = datetime(2027, 6, 15, 12, 0, tzinfo=UTC)


def test_months_are_calendar_months_clamped_to_the_months_end() -> None:
    assert add_months(datetime(2027, 3, 31, tzinfo=UTC), -1) == datetime(2027, 2, 28, tzinfo=UTC)
    assert add_months(datetime(2024, 3, 31, tzinfo=UTC), -1) == datetime(2024, 2, 29, tzinfo=UTC)
    assert add_months(datetime(2027, 1, 15, 9, 30, tzinfo=UTC), -12) == datetime(
        2026, 1, 15, 9, 30, tzinfo=UTC
    )
    assert add_months(datetime(2026, 11, 30, tzinfo=UTC), 3) == datetime(2027, 2, 28, tzinfo=UTC)
    # the contract's default period
    assert retention_cutoff(AS_OF) == datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
    with pytest.raises(ValueError, match="at least 1"):
        retention_cutoff(AS_OF, 0)
    assert next_run(datetime(2027, 6, 15, 2, 0, tzinfo=UTC), 3) == datetime(2027, 6, 15, 3, tzinfo=UTC)
    assert next_run(datetime(2027, 6, 15, 3, 0, tzinfo=UTC), 3) == datetime(2027, 6, 16, 3, tzinfo=UTC)


@pytest.fixture
def sessions(db_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(db_url)
    yield make_sessionmaker(engine)
    engine.dispose()


def recording(sessions: sessionmaker[Session], o: Office, data: Path, started: datetime) -> uuid.UUID:
    """A finished recording row and its file, as the switch leaves them."""
    call_id = str(uuid.uuid4())
    path = data / "recordings" / str(o.tenant_id) / f"{started:%Y-%m}" / f"{call_id}.wav"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"RIFF" + bytes(1000))
    with transaction(sessions) as s:
        row = CallRecording(
            tenant_id=o.tenant_id,
            call_id=call_id,
            user_id=o.users["1001"],
            trigger=RecordingTrigger.POLICY,
            direction="outbound",
            started_at=started,
            ended_at=started + timedelta(minutes=3),
            duration_ms=180_000,
            file_path=str(path),
            size_bytes=1004,
            sha256="0" * 64,
        )
        s.add(row)
        s.flush()
        return row.id


def state(sessions: sessionmaker[Session], rec_id: uuid.UUID) -> tuple[bool, bool]:
    """(row marked deleted, file still there)"""
    with sessions() as s:
        row = s.get(CallRecording, rec_id)
        assert row is not None
        return row.deleted_at is not None, Path(row.file_path).exists()


def test_a_recording_past_its_period_is_deleted_and_a_younger_one_stays(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    o = office(sessions)
    set_policy(sessions, o, RecordingMode.ALL)  # retention: the default 12 months
    old = recording(sessions, o, tmp_path, add_months(AS_OF, -13))
    young = recording(sessions, o, tmp_path, add_months(AS_OF, -11))
    edge = recording(sessions, o, tmp_path, add_months(AS_OF, -12) + timedelta(minutes=1))
    # Another tenant keeps recordings 6 months (its own period), another uses none (default 12).
    short = office(sessions, "short.example.com")
    set_policy(sessions, short, RecordingMode.INBOUND, retention_months=6)
    seven = recording(sessions, short, tmp_path, add_months(AS_OF, -7))
    five = recording(sessions, short, tmp_path, add_months(AS_OF, -5))
    progress: list[tuple[int, int]] = []
    report = purge_recordings(sessions, AS_OF, on_progress=lambda done, total: progress.append((done, total)))
    assert state(sessions, old) == (True, False)
    assert state(sessions, young) == (False, True)
    assert state(sessions, edge) == (False, True)  # 12 months less a minute: not yet
    assert state(sessions, seven) == (True, False) and state(sessions, five) == (False, True)
    by_tenant = {r.tenant_id: r for r in report}
    assert (by_tenant[o.tenant_id].deleted, by_tenant[o.tenant_id].retention_months) == (1, 12)
    assert by_tenant[o.tenant_id].bytes_freed == 1004
    assert (by_tenant[short.tenant_id].deleted, by_tenant[short.tenant_id].retention_months) == (1, 6)
    assert progress[-1] == (2, 2)
    with sessions() as s:
        audit = s.scalars(select(AuditEntry).where(AuditEntry.entity_id == str(old))).one()
    assert (audit.action, audit.entity, audit.tenant_id, audit.actor) == (
        "recording.retention_delete",
        "call_recordings",
        o.tenant_id,
        "system:recording-retention",
    )
    assert audit.after is not None and audit.after["retention_months"] == 12
    # A second run finds nothing more; a row whose file someone already removed is still closed.
    assert sum(r.deleted for r in purge_recordings(sessions, AS_OF)) == 0
    gone = recording(sessions, o, tmp_path, add_months(AS_OF, -14))
    with sessions() as s:
        row = s.get(CallRecording, gone)
        assert row is not None
        Path(row.file_path).unlink()
    again = {r.tenant_id: r for r in purge_recordings(sessions, AS_OF)}[o.tenant_id]
    assert (again.deleted, again.missing_files) == (1, 1) and state(sessions, gone) == (True, False)


def test_the_purge_command(sessions: sessionmaker[Session], db_url: str, tmp_path: Path) -> None:
    o = office(sessions)
    old = recording(sessions, o, tmp_path, add_months(AS_OF, -13))
    young = recording(sessions, o, tmp_path, add_months(AS_OF, -11))
    cmd = [
        sys.executable,
        "-m",
        "centrex.cli",
        "recordings",
        "purge",
        "--data-dir",
        str(tmp_path),
        "--db",
        db_url,
    ]
    done = subprocess.run([*cmd, "--as-of", "2027-06-15"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "1 recordings deleted" in done.stdout
    assert state(sessions, old) == (True, False) and state(sessions, young) == (False, True)
    bad = subprocess.run([*cmd, "--as-of", "15/06/2027"], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and bad.stderr.strip().startswith("error: --as-of must be a date")
    assert len(bad.stderr.strip().splitlines()) == 1


async def test_the_services_daily_housekeeping_purges_at_start(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    o = office(sessions)
    old = recording(sessions, o, tmp_path, add_months(datetime.now(UTC), -13))
    young = recording(sessions, o, tmp_path, add_months(datetime.now(UTC), -11))
    task = asyncio.create_task(retention_daily(sessions))
    try:
        for _ in range(100):
            if state(sessions, old)[0]:
                break
            await asyncio.sleep(0.05)
        assert state(sessions, old) == (True, False) and state(sessions, young) == (False, True)
        assert not task.done()  # sleeping until tomorrow's run
    finally:
        task.cancel()
