"""The deleting jobs on SQLite and PostgreSQL with seeded data: a dry run that names what would go and
changes nothing, an audit of what went, a second run that deletes nothing more, and a crash midway
that leaves every batch whole or untouched.

cpaas.txt §2.4.2 (iv): call detail records are retained "for no longer than three (3) years";
hosted-pbx.txt, data protection 2.f: recordings are deleted when the tenant's period (default 12
months) expires."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from centrex.ops.jobs import builtin_registry, retention
from centrex.ops.scheduler import run_job
from centrex.store.access import AccessBase
from centrex.store.db import make_engine, make_sessionmaker, transaction
from centrex.store.models import AuditEntry, CallDetail, CdrLeg, CdrOutcome, Tenant
from centrex.store.models.jobs import JobRun
from centrex.store.models.recordings import CallRecording, RecordingTrigger

NOW = datetime(2026, 12, 6, 3, 30, tzinfo=UTC)
CUTOFF = datetime(2023, 12, 6, 3, 30, tzinfo=UTC)  # 36 calendar months before NOW


def tenant(s: Session, label: str) -> uuid.UUID:
    t = Tenant(name=f"{label} Co", sip_domain=f"{label}.retention.example")
    s.add(t)
    s.flush()
    return t.id


def cdr(s: Session, tenant_id: uuid.UUID, call_id: str, start: datetime, *, legs: bool = False) -> None:
    row = CallDetail(
        tenant_id=tenant_id,
        call_id=call_id,
        caller="+12175550100",
        callee="+12175550199",
        call_class="local",
        direction="outbound",
        start=start,
        duration_ms=60_000,
    )
    s.add(row)
    s.flush()
    if legs:
        end = start + timedelta(minutes=1)
        s.add(
            CdrOutcome(
                tenant_id=tenant_id,
                cdr_id=row.id,
                end=end,
                hangup_cause="normal",
                sip_code=200,
                outcome="answered",
            )
        )
        s.add(
            CdrLeg(
                tenant_id=tenant_id,
                cdr_id=row.id,
                position=0,
                extension="1001",
                contact="sip:1001@192.0.2.10",
                start=start,
                end=end,
                disposition="answered",
            )
        )


def seed_cdrs(sessions: sessionmaker[Session]) -> tuple[uuid.UUID, uuid.UUID]:
    with transaction(sessions) as s:
        a, b = tenant(s, "alpha"), tenant(s, "beta")
        cdr(s, a, "a-old-1", CUTOFF - timedelta(days=400), legs=True)
        cdr(s, a, "a-old-2", CUTOFF - timedelta(days=30), legs=True)
        cdr(s, a, "a-old-3", CUTOFF - timedelta(seconds=1))
        cdr(s, a, "a-at-cutoff", CUTOFF, legs=True)  # exactly three years: not yet "longer than"
        cdr(s, a, "a-recent", NOW - timedelta(days=1))
        cdr(s, b, "b-old-1", CUTOFF - timedelta(days=2))
    return a, b


def call_ids(sessions: sessionmaker[Session]) -> set[str]:
    with sessions() as s:
        return set(s.scalars(select(CallDetail.call_id)))


def count(sessions: sessionmaker[Session], model: Any) -> int:
    with sessions() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def audits(sessions: sessionmaker[Session], action: str) -> list[AuditEntry]:
    with sessions() as s:
        return list(s.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.at)))


@pytest.fixture
def sessions(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setattr(retention, "BATCH", 2)  # several batches out of a few rows
    engine = make_engine(db_url)
    yield make_sessionmaker(engine)
    engine.dispose()


def test_cdrs_older_than_three_years_go_once_with_an_audit(sessions: sessionmaker[Session]) -> None:
    a, b = seed_cdrs(sessions)
    job = builtin_registry().get("cdr-retention")
    dry = run_job(sessions, job, NOW, dry_run=True)
    assert dry.status == "ok" and dry.report is not None
    assert dry.report.summary == "4 CDRs would be deleted (started before 2023-12-06)"
    assert {(r["tenant"], r["cdrs"]) for r in dry.report.rows} == {(str(a), "3"), (str(b), "1")}
    assert len(call_ids(sessions)) == 6 and audits(sessions, "cdr.retention_delete") == []

    done = run_job(sessions, job, NOW)
    assert done.report is not None and done.report.summary == "4 CDRs deleted (started before 2023-12-06)"
    assert done.report.counts == {"cdrs": 4, "batches": 3}
    assert call_ids(sessions) == {"a-at-cutoff", "a-recent"}
    assert (count(sessions, CdrLeg), count(sessions, CdrOutcome)) == (1, 1)  # those of a-at-cutoff
    entries = audits(sessions, "cdr.retention_delete")
    assert sorted((str(e.tenant_id), tuple(e.before["call_ids"])) for e in entries if e.before) == sorted(
        [(str(a), ("a-old-1", "a-old-2")), (str(a), ("a-old-3",)), (str(b), ("b-old-1",))]
    )
    assert {e.actor for e in entries} == {"system:cdr-retention"}
    assert all(e.after and e.after["rule"] == "cpaas.txt §2.4.2 (iv)" for e in entries)

    again = run_job(sessions, job, NOW)
    assert again.report is not None and again.report.counts == {"cdrs": 0, "batches": 0}
    assert len(audits(sessions, "cdr.retention_delete")) == 3
    with sessions() as s:
        recorded = [(r.dry_run, r.status) for r in s.scalars(select(JobRun).order_by(JobRun.started_at))]
    assert recorded == [(True, "ok"), (False, "ok"), (False, "ok")]


def test_a_crash_midway_leaves_whole_batches(
    sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_cdrs(sessions)
    real_audit = AccessBase.audit
    calls = 0

    def audit_then_die(self: AccessBase, *args: Any) -> None:
        nonlocal calls
        calls += 1
        if calls == 2:  # the second batch: its deletes are already flushed when this fails
            raise OSError("the process is killed here")
        real_audit(self, *args)

    monkeypatch.setattr(AccessBase, "audit", audit_then_die)
    job = builtin_registry().get("cdr-retention")
    crashed = run_job(sessions, job, NOW)
    assert crashed.status == "failed" and crashed.error == "OSError: the process is killed here"
    left = call_ids(sessions)
    # The first batch went with its audit entry; the second is all still there, legs and outcome too.
    deleted = {"a-old-1", "a-old-2", "a-old-3", "b-old-1"} - left
    audited = {c for e in audits(sessions, "cdr.retention_delete") if e.before for c in e.before["call_ids"]}
    assert audited == deleted and len(deleted) in (1, 2) and len(left) == 6 - len(deleted)
    with_legs = len(left & {"a-old-1", "a-old-2", "a-at-cutoff"})
    assert (count(sessions, CdrLeg), count(sessions, CdrOutcome)) == (with_legs, with_legs)
    monkeypatch.setattr(AccessBase, "audit", real_audit)
    finished = run_job(sessions, job, NOW)
    assert finished.status == "ok" and call_ids(sessions) == {"a-at-cutoff", "a-recent"}
    assert (count(sessions, CdrLeg), count(sessions, CdrOutcome)) == (1, 1)


def test_recordings_past_their_period_go_with_their_files(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    old_file, new_file = tmp_path / "old.wav", tmp_path / "new.wav"
    old_file.write_bytes(b"RIFF" + b"\0" * 996)
    new_file.write_bytes(b"RIFF" + b"\0" * 96)
    with transaction(sessions) as s:
        t = tenant(s, "gamma")
        for name, started, path in (
            ("old", NOW - timedelta(days=400), old_file),
            ("new", NOW - timedelta(days=30), new_file),
        ):
            s.add(
                CallRecording(
                    tenant_id=t,
                    call_id=name,
                    trigger=RecordingTrigger.POLICY,
                    direction="outbound",
                    started_at=started,
                    file_path=str(path),
                )
            )
    job = builtin_registry().get("recording-retention")
    dry = run_job(sessions, job, NOW, dry_run=True)
    assert dry.report is not None and dry.report.summary == "1 recordings would be deleted"
    assert dry.report.counts == {"recordings": 1, "files_missing": 0, "bytes": 1000}
    assert old_file.exists()
    done = run_job(sessions, job, NOW)
    assert done.report is not None and done.report.summary == "1 recordings deleted"
    assert not old_file.exists() and new_file.exists()
    assert [e.entity for e in audits(sessions, "recording.retention_delete")] == ["call_recordings"]
    again = run_job(sessions, job, NOW)
    assert again.report is not None and again.report.counts["recordings"] == 0
