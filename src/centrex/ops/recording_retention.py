"""The retention job of call recordings.

hosted-pbx.txt, data protection 2.f: "For Customers using either the Hosted Call Recording Service,
all call records will be deleted on expiration of the retention period (i.e. default of 12 months)".
A recording's period runs from the start of the recording; the months are the tenant's
(``recording_settings.retention_months``, 12 without a row). Deleting one removes the WAV file
first and then marks the row (``deleted_at``) with an audit entry in the same transaction, so a
crash in between leaves a row that the next run deletes again (a missing file is no error), never a
file that the database claims is gone.

Run by ``centrex recordings purge [--as-of DATE]``, and by the service as the scheduled job
``recording-retention`` (ops/jobs/retention.py, daily at 03:00 UTC; ``centrex jobs run
recording-retention --dry-run`` lists what would go). ``retention_daily`` is the loop the service ran
before the scheduler existed.
"""

from __future__ import annotations

import asyncio
import calendar
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, sessionmaker

from centrex.store import media_files
from centrex.store.access import AccessBase, Principal
from centrex.store.db import transaction
from centrex.store.models import Role, TokenKind
from centrex.store.models.recordings import DEFAULT_RETENTION_MONTHS, CallRecording, RecordingSettings

log = logging.getLogger(__name__)

SYSTEM = Principal(
    TokenKind.OPERATOR, uuid.UUID(int=0), frozenset({Role.OPERATOR}), "system:recording-retention"
)
BATCH = 200  # rows per transaction: files are deleted as we go, so commit often


def add_months(when: datetime, months: int) -> datetime:
    """``when`` moved by whole calendar months (negative: back), the day clamped to the month's end
    (31 March less one month is 28 or 29 February)."""
    index = when.year * 12 + (when.month - 1) + months
    year, month = divmod(index, 12)
    day = min(when.day, calendar.monthrange(year, month + 1)[1])
    return when.replace(year=year, month=month + 1, day=day)


def retention_cutoff(as_of: datetime, months: int = DEFAULT_RETENTION_MONTHS) -> datetime:
    """Recordings started before this instant are past their period on ``as_of``."""
    if months < 1:
        raise ValueError(f"retention_months: {months}, must be at least 1")
    return add_months(as_of.astimezone(UTC), -months)


@dataclass(frozen=True, slots=True)
class TenantPurge:
    tenant_id: uuid.UUID
    retention_months: int
    cutoff: datetime
    deleted: int
    missing_files: int  # rows whose file was already gone
    bytes_freed: int


def purge_recordings(
    sessions: sessionmaker[Session],
    as_of: datetime | None = None,
    *,
    principal: Principal = SYSTEM,
    tenant_id: uuid.UUID | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    dry_run: bool = False,
) -> list[TenantPurge]:
    """Delete every recording past its tenant's period on ``as_of`` (default now). ``on_progress``
    gets (done, total) as rows are deleted. ``dry_run``: delete nothing, report what would go."""
    as_of = as_of or datetime.now(UTC)
    if as_of.tzinfo is None:
        raise ValueError("as_of: a naive datetime; give a UTC time")
    with sessions() as s:
        settings = s.execute(select(RecordingSettings.tenant_id, RecordingSettings.retention_months))
        months_of = {t: months for t, months in settings}
        stmt = select(CallRecording.tenant_id).where(CallRecording.deleted_at.is_(None)).distinct()
        if tenant_id is not None:
            stmt = stmt.where(CallRecording.tenant_id == tenant_id)
        tenants = list(s.scalars(stmt))
        plans = []
        for t in tenants:
            months = months_of.get(t, DEFAULT_RETENTION_MONTHS)
            cutoff = retention_cutoff(as_of, months)
            ids = list(s.scalars(_expired(t, cutoff)))
            plans.append((t, months, cutoff, ids))
    total = sum(len(ids) for *_, ids in plans)
    done = 0
    report = []
    if dry_run:
        return [_would_delete(sessions, t, months, cutoff, ids) for t, months, cutoff, ids in plans]
    for t, months, cutoff, ids in plans:
        deleted = missing = freed = 0
        for i in range(0, len(ids), BATCH):
            with transaction(sessions) as s:
                audit = AccessBase(s, principal)
                rows = s.scalars(
                    select(CallRecording).where(
                        CallRecording.id.in_(ids[i : i + BATCH]), CallRecording.deleted_at.is_(None)
                    )
                ).all()
                for row in rows:
                    path = media_files.path_of(row.file_path)
                    try:
                        size = path.stat().st_size
                        path.unlink()
                        freed += size
                    except FileNotFoundError:
                        missing += 1
                    now = datetime.now(UTC)
                    row.deleted_at = now
                    audit.audit(
                        "recording.retention_delete",
                        "call_recordings",
                        row.id,
                        {
                            "file_path": row.file_path,
                            "started_at": row.started_at.isoformat(),
                            "sha256": row.sha256,
                        },
                        {
                            "deleted_at": now.isoformat(),
                            "retention_months": months,
                            "cutoff": cutoff.isoformat(),
                        },
                        row.tenant_id,
                    )
                    deleted += 1
            done += len(ids[i : i + BATCH])
            if on_progress is not None:
                on_progress(done, total)
        report.append(TenantPurge(t, months, cutoff, deleted, missing, freed))
        if deleted:
            log.info(
                "recording.retention tenant=%s months=%d cutoff=%s deleted=%d missing=%d bytes=%d",
                t,
                months,
                cutoff.isoformat(),
                deleted,
                missing,
                freed,
            )
    return report


def _would_delete(
    sessions: sessionmaker[Session], tenant_id: uuid.UUID, months: int, cutoff: datetime, ids: list[Any]
) -> TenantPurge:
    missing = size = 0
    with sessions() as s:
        for i in range(0, len(ids), BATCH):
            for path in s.scalars(
                select(CallRecording.file_path).where(CallRecording.id.in_(ids[i : i + BATCH]))
            ):
                try:
                    size += media_files.path_of(path).stat().st_size
                except FileNotFoundError:
                    missing += 1
    return TenantPurge(tenant_id, months, cutoff, len(ids), missing, size)


def _expired(tenant_id: uuid.UUID, cutoff: datetime) -> Select[tuple[uuid.UUID]]:
    return (
        select(CallRecording.id)
        .where(
            CallRecording.tenant_id == tenant_id,
            CallRecording.deleted_at.is_(None),
            CallRecording.started_at < cutoff,
        )
        .order_by(CallRecording.started_at)
    )


def next_run(now: datetime, hour_utc: int) -> datetime:
    """The next ``hour_utc``:00 UTC after ``now``."""
    at = now.astimezone(UTC).replace(hour=hour_utc, minute=0, second=0, microsecond=0)
    return at if at > now else at + timedelta(days=1)


async def retention_daily(sessions: sessionmaker[Session], hour_utc: int = 3) -> None:
    """The service's daily housekeeping: purge once at start, then every day at ``hour_utc``
    (a quiet hour). Runs in a worker thread; a failure is logged and tried again the next day."""
    while True:
        try:
            await asyncio.to_thread(purge_recordings, sessions)
        except Exception:
            log.exception("recording.retention failed")
        now = datetime.now(UTC)
        await asyncio.sleep((next_run(now, hour_utc) - now).total_seconds())
