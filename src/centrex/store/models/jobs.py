"""Scheduled jobs (ops/scheduler.py): the record of each run, and the lock that lets one node at a
time run a job when several share the database.

- ``job_runs``: one row per run — the job, the period it ran for ("2026-12-06" for a daily job,
  "2026-12" for a monthly one), who started it (``trigger``: schedule or manual, and the node), when
  it started and ended, the outcome and its report. A successful run that was not a dry run marks
  its period done, so a restarted service does not run it again.
- ``job_locks``: one row per job that has ever run; the node holding it and until when (a lease: a
  node that dies holding it is overtaken once ``until`` has passed).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Index, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from centrex.store.models.base import Base
from centrex.store.types import UTCDateTime


class JobRun(Base):
    __tablename__ = "job_runs"
    __table_args__ = (Index("ix_job_runs_job_period", "job", "period"),)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    job: Mapped[str] = mapped_column(String(64))
    period: Mapped[str] = mapped_column(String(32))
    trigger: Mapped[str] = mapped_column(String(16))  # schedule / manual
    dry_run: Mapped[bool] = mapped_column(Boolean, default=False)
    node: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))  # running / ok / failed
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    report: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    error: Mapped[str] = mapped_column(Text, default="")


class JobLock(Base):
    __tablename__ = "job_locks"
    job: Mapped[str] = mapped_column(String(64), primary_key=True)
    node: Mapped[str] = mapped_column(String(200))
    until: Mapped[datetime] = mapped_column(UTCDateTime)
