"""The lifecycle jobs on seeded data, on SQLite and PostgreSQL: voicemail past its tenant's policy,
accounts inactive for 120 days (cpaas.txt §3.2), and terminated tenants deleted once their 30-day
export window closed (cpaas.txt §2.3.8). Each: a dry run that changes nothing, a real run with an
audit, a second run that deletes nothing more, and a crash midway that leaves nothing half-deleted."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from centrex.config import Settings
from centrex.ops.jobs import builtin_registry
from centrex.ops.jobs import lifecycle as jobs
from centrex.ops.lifecycle import lifecycle_of, mark_terminated
from centrex.ops.scheduler import run_job
from centrex.ops.tenant_export import tenant_tables
from centrex.store.access import AccessBase
from centrex.store.db import make_engine, make_sessionmaker, transaction
from centrex.store.models import AuditEntry, NumberStatus, PhoneNumber, Tenant, TenantStatus, User
from centrex.store.models.voicemail import VoicemailMessage
from tests.lifecycle.seed import Seeded, seed

NOW = datetime(2026, 12, 6, 4, 0, tzinfo=UTC)


@pytest.fixture
def sessions(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[sessionmaker[Session]]:
    monkeypatch.setattr(jobs, "BATCH", 1)  # one message per batch: several batches from a few rows
    engine = make_engine(db_url)
    yield make_sessionmaker(engine)
    engine.dispose()


@pytest.fixture
def seeded(sessions: sessionmaker[Session], tmp_path: Path) -> Seeded:
    with transaction(sessions) as s:
        return seed(s, tmp_path / "data", NOW)


def audits(sessions: sessionmaker[Session], action: str) -> list[AuditEntry]:
    with sessions() as s:
        return list(s.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.at)))


def voicemail_ages(sessions: sessionmaker[Session], tenant_id: Any) -> list[int]:
    with sessions() as s:
        rows = s.scalars(select(VoicemailMessage.received_at).where(VoicemailMessage.tenant_id == tenant_id))
        return sorted((NOW - r).days for r in rows)


def set_policy(sessions: sessionmaker[Session], tenant_id: Any, days: int) -> None:
    with transaction(sessions) as s:
        row = lifecycle_of(s, tenant_id, create=True)
        assert row is not None
        row.voicemail_retention_days = days


# -- voicemail-retention ----------------------------------------------------------------------------


def test_voicemail_past_the_tenant_policy_goes_with_its_files(
    sessions: sessionmaker[Session], seeded: Seeded
) -> None:
    job = builtin_registry().get("voicemail-retention")
    nothing = run_job(sessions, job, NOW)  # no tenant has a policy: voicemail is kept
    assert nothing.report is not None and nothing.report.summary == "0 voicemail messages deleted"
    set_policy(sessions, seeded.tenant_id, 30)

    dry = run_job(sessions, job, NOW, dry_run=True)
    assert dry.report is not None and dry.report.summary == "2 voicemail messages would be deleted"
    assert dry.report.rows[0]["retention_days"] == "30" and dry.report.rows[0]["messages"] == "2"
    assert voicemail_ages(sessions, seeded.tenant_id) == [10, 45, 400]
    assert all(f.exists() for f in seeded.files)

    done = run_job(sessions, job, NOW)
    assert done.report is not None and done.report.summary == "2 voicemail messages deleted"
    assert done.report.counts == {"messages": 2, "bytes": 2000}
    assert voicemail_ages(sessions, seeded.tenant_id) == [10]
    assert voicemail_ages(sessions, seeded.other_id) == [400]  # the other tenant has no policy
    assert [f.exists() for f in seeded.files[:4]] == [False, False, True, True]
    entries = audits(sessions, "voicemail.retention_delete")
    assert len(entries) == 2 and {e.actor for e in entries} == {"system:voicemail-retention"}
    assert sorted(f for e in entries if e.before for f in e.before["files"]) == sorted(
        str(f) for f in seeded.files[:2]
    )

    again = run_job(sessions, job, NOW)
    assert again.report is not None and again.report.summary == "0 voicemail messages deleted"
    assert len(audits(sessions, "voicemail.retention_delete")) == 2


def test_a_voicemail_crash_leaves_the_row_to_the_next_run(
    sessions: sessionmaker[Session], seeded: Seeded, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_policy(sessions, seeded.tenant_id, 30)
    real_unlink = jobs._unlink

    def die_on_second(path: str) -> int:
        if path == str(seeded.files[1]):
            raise OSError("the process is killed here")
        return real_unlink(path)

    monkeypatch.setattr(jobs, "_unlink", die_on_second)
    job = builtin_registry().get("voicemail-retention")
    crashed = run_job(sessions, job, NOW)
    assert crashed.status == "failed" and "killed here" in crashed.error
    assert voicemail_ages(sessions, seeded.tenant_id) == [
        10,
        45,
    ]  # the first batch whole; the second untouched
    assert len(audits(sessions, "voicemail.retention_delete")) == 1
    monkeypatch.setattr(jobs, "_unlink", real_unlink)
    again = run_job(sessions, job, NOW)
    assert again.report is not None and again.report.summary == "1 voicemail messages deleted"
    assert voicemail_ages(sessions, seeded.tenant_id) == [10]


# -- inactive-accounts ------------------------------------------------------------------------------


def test_inactive_accounts_are_reported_and_deactivated_only_when_the_operator_says(
    sessions: sessionmaker[Session], seeded: Seeded
) -> None:
    # The seeded tenants were made "now" (their created_at); 121 days on, the demo tenant's last
    # call is 122 days old and the other tenant never did anything since it was made.
    later = datetime.now(UTC) + timedelta(days=121)
    report_only = builtin_registry().get("inactive-accounts")
    dry = run_job(sessions, report_only, later, dry_run=True)
    assert dry.report is not None
    assert (
        dry.report.summary
        == "2 accounts inactive over 120 days may be deactivated (inactive_deactivate is off)"
    )
    assert {r["tenant"] for r in dry.report.rows} == {"Demo Dental Group", "Other Co"}
    ran = run_job(sessions, report_only, later)
    assert ran.report is not None and ran.report.counts == {"inactive": 2}
    with sessions() as s:
        assert {t.status for t in s.scalars(select(Tenant))} == {TenantStatus.ACTIVE}

    # A person's change to the demo tenant (an audit entry that is not the system's) is activity.
    with transaction(sessions) as s:
        s.add(
            AuditEntry(
                tenant_id=seeded.tenant_id,
                actor="office admin",
                actor_role="office_admin",
                action="user.update",
                entity="users",
                at=later - timedelta(days=5),
            )
        )
    deactivating = builtin_registry(Settings(inactive_deactivate=True)).get("inactive-accounts")
    dry = run_job(sessions, deactivating, later, dry_run=True)
    assert (
        dry.report is not None
        and dry.report.summary == "1 accounts inactive over 120 days would be deactivated"
    )
    done = run_job(sessions, deactivating, later)
    assert done.report is not None and done.report.counts == {"deactivated": 1}
    with sessions() as s:
        other = s.get(Tenant, seeded.other_id)
        demo = s.get(Tenant, seeded.tenant_id)
        assert other is not None and demo is not None
        assert (other.status, demo.status) == (TenantStatus.TERMINATED, TenantStatus.ACTIVE)
        lc = lifecycle_of(s, seeded.other_id)
        assert lc is not None and lc.terminated_reason == "inactive" and lc.terminated_at == later
    [entry] = audits(sessions, "tenant.deactivate_inactive")
    assert entry.tenant_id == seeded.other_id and entry.after and entry.after["rule"] == "cpaas.txt §3.2"
    again = run_job(sessions, deactivating, later)
    assert again.report is not None and again.report.counts == {"deactivated": 0}


# -- tenant-deletion --------------------------------------------------------------------------------


def tenant_rows(sessions: sessionmaker[Session], tenant_id: Any) -> dict[str, int]:
    with sessions() as s:
        counts = {}
        for table in tenant_tables():
            if table.name == "audit_log":
                continue
            n = s.scalar(select(func.count()).select_from(table).where(table.c.tenant_id == tenant_id))
            if n:
                counts[table.name] = int(n)
        return counts


def terminate(sessions: sessionmaker[Session], tenant_id: Any, when: datetime) -> None:
    with transaction(sessions) as s:
        tenant = s.get(Tenant, tenant_id)
        assert tenant is not None
        tenant.status = TenantStatus.TERMINATED
        mark_terminated(s, tenant_id, when)


def test_a_terminated_tenant_is_deleted_after_its_export_window(
    sessions: sessionmaker[Session], seeded: Seeded
) -> None:
    terminate(sessions, seeded.tenant_id, NOW)
    before = tenant_rows(sessions, seeded.tenant_id)
    assert {"users", "devices", "voicemail_messages", "cdrs", "call_recordings", "numbers"} <= set(before)
    with sessions() as s:
        numbers = list(s.scalars(select(PhoneNumber.id).where(PhoneNumber.tenant_id == seeded.tenant_id)))
    job = builtin_registry().get("tenant-deletion")

    within = run_job(sessions, job, NOW + timedelta(days=29, hours=23))  # the window is still open
    assert within.report is not None and within.report.summary == "0 terminated tenants deleted"
    dry = run_job(sessions, job, NOW + timedelta(days=30), dry_run=True)
    assert dry.report is not None and dry.report.summary == "1 terminated tenants would be deleted"
    [row] = dry.report.rows
    assert row["tenant"] == "Demo Dental Group" and row["files"] == "4" and row["resumed"] == "no"
    assert tenant_rows(sessions, seeded.tenant_id) == before

    done = run_job(sessions, job, NOW + timedelta(days=30))
    assert done.report is not None and done.report.summary == "1 terminated tenants deleted"
    assert tenant_rows(sessions, seeded.tenant_id) == {}
    with sessions() as s:
        assert s.get(Tenant, seeded.tenant_id) is None
        assert s.get(Tenant, seeded.other_id) is not None  # the other tenant is untouched
        assert s.scalar(select(func.count()).select_from(User).where(User.tenant_id == seeded.other_id)) == 1
        released = s.scalars(select(PhoneNumber).where(PhoneNumber.id.in_(numbers))).all()
        assert len(released) == len(numbers) > 0 and all(
            n.tenant_id is None and n.status is NumberStatus.AGING for n in released
        )
    assert [f.exists() for f in seeded.files] == [False, False, False, True, False]
    [start] = audits(sessions, "tenant.purge_start")
    [purge] = audits(sessions, "tenant.purge")
    assert start.tenant_id == purge.tenant_id == seeded.tenant_id
    assert purge.before and purge.before["counts"]["users"] == before["users"]
    assert purge.after and purge.after["files"] == 4 and purge.after["rule"] == "cpaas.txt §2.3.8"

    again = run_job(sessions, job, NOW + timedelta(days=31))
    assert again.report is not None and again.report.summary == "0 terminated tenants deleted"


def test_a_deletion_that_crashes_leaves_the_tombstone_and_every_row(
    sessions: sessionmaker[Session], seeded: Seeded, monkeypatch: pytest.MonkeyPatch
) -> None:
    terminate(sessions, seeded.tenant_id, NOW)
    before = tenant_rows(sessions, seeded.tenant_id)
    real_audit = AccessBase.audit

    def die_at_the_end(self: AccessBase, action: str, *args: Any) -> None:
        if action == "tenant.purge":
            raise OSError("the process is killed here")
        real_audit(self, action, *args)

    monkeypatch.setattr(AccessBase, "audit", die_at_the_end)
    job = builtin_registry().get("tenant-deletion")
    crashed = run_job(sessions, job, NOW + timedelta(days=31))
    assert crashed.status == "failed" and "killed here" in crashed.error
    assert tenant_rows(sessions, seeded.tenant_id) == before  # not one row went
    with sessions() as s:
        lc = lifecycle_of(s, seeded.tenant_id)
        assert lc is not None and lc.purge_started_at is not None  # the tombstone: the run resumes
    monkeypatch.setattr(AccessBase, "audit", real_audit)
    dry = run_job(sessions, job, NOW + timedelta(days=32), dry_run=True)
    assert dry.report is not None and dry.report.rows[0]["resumed"] == "yes"
    done = run_job(sessions, job, NOW + timedelta(days=32))
    assert done.report is not None and done.report.counts["tenants"] == 1
    assert tenant_rows(sessions, seeded.tenant_id) == {}
    assert len(audits(sessions, "tenant.purge_start")) == 1  # the tombstone was written once


def test_the_jobs_command_lists_and_dry_runs_the_lifecycle_jobs(tmp_path: Path) -> None:
    """`centrex jobs list` and `centrex jobs run NAME --dry-run --as-of` as an operator types them."""
    import os
    import subprocess
    import sys

    db = tmp_path / "data" / "centrex.sqlite3"
    engine = make_engine(f"sqlite:///{db}")
    from centrex.store.migrate import upgrade

    upgrade(engine)
    sessions = make_sessionmaker(engine)
    with transaction(sessions) as s:
        seeded = seed(s, tmp_path / "data", NOW)
    set_policy(sessions, seeded.tenant_id, 30)
    engine.dispose()
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root / "src"), "CENTREX_SECRETS_KEY_FILE": str(tmp_path / "k")}

    def centrex(*args: str) -> str:
        cmd = [sys.executable, "-m", "centrex.cli", *args, "--data-dir", str(tmp_path / "data")]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env={**env, "COLUMNS": "200"})
        assert done.returncode == 0, done.stderr
        return done.stdout

    listed = centrex("jobs", "list")
    for name in ("voicemail-retention", "inactive-accounts", "tenant-deletion"):
        assert name in listed
    out = centrex("jobs", "run", "voicemail-retention", "--dry-run", "--as-of", NOW.isoformat())
    assert "dry run: nothing changed" in out and "2 voicemail messages would be deleted" in out
    check = make_engine(f"sqlite:///{db}")
    assert voicemail_ages(make_sessionmaker(check), seeded.tenant_id) == [10, 45, 400]
    check.dispose()
    out = centrex("jobs", "run", "voicemail-retention", "--as-of", NOW.isoformat())
    assert "2 voicemail messages deleted" in out
