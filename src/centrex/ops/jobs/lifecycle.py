"""Lifecycle jobs: voicemail past its tenant's policy, accounts inactive for 120 days, and the deletion
of a terminated tenant once its 30-day export window has closed. Periods: ops/retention_periods.py.

Each has a dry run (``ctx.dry_run``: the report of what would go, nothing changed), an audit entry
for what it deleted or changed, finds nothing more on a second run, and leaves nothing half-done when
it crashes:

- voicemail-retention: one transaction per batch deletes the rows and writes the batch's audit entry;
  the files are unlinked inside that transaction, after the rows are flushed and before the commit.
  A crash before the commit rolls the rows back: they are still past the policy and the next run
  deletes them again (a file already gone is no error).
- inactive-accounts: a report of accounts idle for over 120 days (cpaas.txt §3.2 "reserves the
  right"); with the operator setting ``inactive_deactivate`` the job terminates them (one
  transaction per tenant), which opens their 30-day export window like any termination.
- tenant-deletion: two phases. First a tombstone (``tenant_lifecycle.purge_started_at`` and an audit
  entry naming what will go) is committed; from then on the tenant can no longer export and every
  run resumes the deletion. Then the audio files are unlinked, then one transaction releases the
  tenant's numbers (aging, as any released number), deletes every row of every tenant table and the
  tenant, and audits the counts. A crash leaves either the tombstone (resumed next run) or the whole
  tenant deleted, never rows half gone.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from centrex.ops.lifecycle import export_until, mark_terminated
from centrex.ops.retention_periods import EXPORT_WINDOW, INACTIVE_ACCOUNT
from centrex.ops.scheduler import JobContext, JobReport
from centrex.ops.tenant_export import tenant_tables
from centrex.store import media_files
from centrex.store.access import AccessBase, Principal
from centrex.store.db import transaction
from centrex.store.models import (
    AuditEntry,
    CallDetail,
    NumberStatus,
    PhoneNumber,
    Role,
    Tenant,
    TenantStatus,
    TokenKind,
)
from centrex.store.models.e911_nomadic import DeviceNetwork
from centrex.store.models.lifecycle import TenantLifecycle
from centrex.store.models.numbering import NumberUsage
from centrex.store.models.recordings import CallRecording
from centrex.store.models.voicemail import VoicemailMessage

log = logging.getLogger(__name__)
BATCH = 200


def _system(job: str) -> Principal:
    return Principal(TokenKind.OPERATOR, uuid.UUID(int=0), frozenset({Role.OPERATOR}), f"system:{job}")


def _unlink(path: str) -> int:
    """Bytes freed; 0 when the file was already gone."""
    p = media_files.path_of(path)
    try:
        size = p.stat().st_size
        p.unlink()
        return size
    except FileNotFoundError:
        return 0


# -- voicemail-retention ----------------------------------------------------------------------------


def voicemail_retention(ctx: JobContext) -> JobReport:
    """Voicemail has no contract period: each tenant's policy (tenant_lifecycle.voicemail_retention_days;
    none: kept until the owner deletes it). A message older than its tenant's days is deleted."""
    with ctx.sessions() as s:
        policies = list(
            s.execute(
                select(TenantLifecycle.tenant_id, TenantLifecycle.voicemail_retention_days).where(
                    TenantLifecycle.voicemail_retention_days.is_not(None)
                )
            )
        )
        plans = []
        for tenant_id, days in policies:
            if days is None:
                continue
            cutoff = ctx.now - timedelta(days=days)
            n, size = s.execute(
                select(func.count(), func.coalesce(func.sum(VoicemailMessage.size_bytes), 0)).where(
                    VoicemailMessage.tenant_id == tenant_id, VoicemailMessage.received_at < cutoff
                )
            ).one()
            if n:
                plans.append((tenant_id, days, cutoff, n, int(size)))
    rows = [
        {
            "tenant": str(t),
            "retention_days": str(d),
            "received_before": c.isoformat(),
            "messages": str(n),
            "bytes": str(b),
        }
        for t, d, c, n, b in plans
    ]
    total = sum(p[3] for p in plans)
    if ctx.dry_run:
        return JobReport(f"{total} voicemail messages would be deleted", {"messages": total}, rows)
    done = freed = 0
    principal = _system("voicemail-retention")
    for tenant_id, days, cutoff, _, _ in plans:
        while True:
            n, size = _voicemail_batch(ctx.sessions, principal, tenant_id, days, cutoff)
            if not n:
                break
            done += n
            freed += size
            ctx.progress(done, total)
            ctx.check_stop()
    return JobReport(f"{done} voicemail messages deleted", {"messages": done, "bytes": freed}, rows)


def _voicemail_batch(
    sessions: sessionmaker[Session], principal: Principal, tenant_id: uuid.UUID, days: int, cutoff: datetime
) -> tuple[int, int]:
    with transaction(sessions) as s:
        found = s.execute(
            select(VoicemailMessage.id, VoicemailMessage.file_path, VoicemailMessage.received_at)
            .where(VoicemailMessage.tenant_id == tenant_id, VoicemailMessage.received_at < cutoff)
            .order_by(VoicemailMessage.received_at, VoicemailMessage.id)
            .limit(BATCH)
        ).all()
        if not found:
            return 0, 0
        ids = [r.id for r in found]
        s.execute(delete(VoicemailMessage).where(VoicemailMessage.id.in_(ids)))
        AccessBase(s, principal).audit(
            "voicemail.retention_delete",
            "voicemail_messages",
            None,
            {"count": len(found), "ids": [str(i) for i in ids], "files": [r.file_path for r in found]},
            {"retention_days": days, "cutoff": cutoff.isoformat(), "rule": "tenant voicemail policy"},
            tenant_id,
        )
        s.flush()
        freed = sum(_unlink(r.file_path) for r in found)  # after the rows are gone in this transaction
        return len(found), freed


# -- inactive-accounts ------------------------------------------------------------------------------


def last_activity(s: Session, tenant: Tenant) -> datetime:
    """The latest sign of use of a tenant's account: a call (CDR), a number carrying a call, a phone
    registering (e911 network sightings), or a change made by a person (the audit log, not the
    system's jobs); the account's creation when there is none."""
    t = tenant.id
    candidates = [
        tenant.created_at,
        s.scalar(select(func.max(CallDetail.start)).where(CallDetail.tenant_id == t)),
        s.scalar(
            select(func.max(NumberUsage.last_used_at))
            .join(PhoneNumber, PhoneNumber.id == NumberUsage.number_id)
            .where(PhoneNumber.tenant_id == t)
        ),
        s.scalar(select(func.max(DeviceNetwork.last_seen)).where(DeviceNetwork.tenant_id == t)),
        s.scalar(
            select(func.max(AuditEntry.at)).where(
                AuditEntry.tenant_id == t, ~AuditEntry.actor.like("system:%")
            )
        ),
    ]
    return max(c.astimezone(UTC) if c.tzinfo else c.replace(tzinfo=UTC) for c in candidates if c is not None)


def inactive_accounts(ctx: JobContext, *, deactivate: bool = False) -> JobReport:
    """cpaas.txt §3.2: an account "inactive for over one hundred and twenty (120) consecutive calendar
    days" may be permanently deactivated. Reports them; terminates them when ``deactivate``."""
    cutoff = ctx.now - INACTIVE_ACCOUNT
    with ctx.sessions() as s:
        found = []
        for tenant in s.scalars(select(Tenant).where(Tenant.status != TenantStatus.TERMINATED)):
            last = last_activity(s, tenant)
            if last < cutoff:
                found.append((tenant.id, tenant.name, last))
    rows = [
        {
            "tenant": name,
            "id": str(t),
            "last_activity": last.isoformat(),
            "idle_days": str((ctx.now - last).days),
        }
        for t, name, last in found
    ]
    if ctx.dry_run or not deactivate:
        verb = "would be deactivated" if deactivate else "may be deactivated (inactive_deactivate is off)"
        return JobReport(
            f"{len(found)} accounts inactive over 120 days {verb}", {"inactive": len(found)}, rows
        )
    principal = _system("inactive-accounts")
    for tenant_id, _, last in found:
        with transaction(ctx.sessions) as s:
            row = s.get(Tenant, tenant_id)
            if row is None or row.status is TenantStatus.TERMINATED:
                continue
            before = {"status": row.status.value, "last_activity": last.isoformat()}
            row.status = TenantStatus.TERMINATED
            mark_terminated(s, tenant_id, ctx.now, reason="inactive")
            AccessBase(s, principal).audit(
                "tenant.deactivate_inactive",
                "tenants",
                tenant_id,
                before,
                {
                    "status": "terminated",
                    "rule": "cpaas.txt §3.2",
                    "export_until": (ctx.now + EXPORT_WINDOW).isoformat(),
                },
                tenant_id,
            )
        ctx.check_stop()
    return JobReport(
        f"{len(found)} accounts inactive over 120 days deactivated", {"deactivated": len(found)}, rows
    )


# -- tenant-deletion --------------------------------------------------------------------------------


def _due_for_deletion(s: Session, now: datetime) -> list[tuple[Tenant, TenantLifecycle]]:
    stmt = (
        select(Tenant, TenantLifecycle)
        .join(TenantLifecycle, TenantLifecycle.tenant_id == Tenant.id)
        .where(Tenant.status == TenantStatus.TERMINATED, TenantLifecycle.terminated_at.is_not(None))
        .order_by(TenantLifecycle.terminated_at)
    )
    return [(t, lc) for t, lc in s.execute(stmt).all() if (export_until(lc) or now) <= now]


def _files(s: Session, tenant_id: uuid.UUID) -> list[str]:
    vm = s.scalars(select(VoicemailMessage.file_path).where(VoicemailMessage.tenant_id == tenant_id))
    rec = s.scalars(
        select(CallRecording.file_path).where(
            CallRecording.tenant_id == tenant_id, CallRecording.deleted_at.is_(None)
        )
    )
    return [*vm, *rec]


def _counts(s: Session, tenant_id: uuid.UUID) -> dict[str, int]:
    counts = {}
    for table in tenant_tables():
        if table.name == "audit_log":
            continue
        n = s.scalar(select(func.count()).select_from(table).where(table.c.tenant_id == tenant_id)) or 0
        if n:
            counts[table.name] = n
    return counts


def tenant_deletion(ctx: JobContext) -> JobReport:
    """cpaas.txt §2.3.8: after the thirty (30) days to obtain copies, the tenant's information goes."""
    with ctx.sessions() as s:
        due = [
            (
                t.id,
                t.name,
                lc.terminated_at,
                export_until(lc),
                lc.purge_started_at,
                _counts(s, t.id),
                len(_files(s, t.id)),
            )
            for t, lc in _due_for_deletion(s, ctx.now)
        ]
    rows = [
        {
            "tenant": name,
            "id": str(t),
            "terminated_at": str(term),
            "export_until": str(until),
            "resumed": "yes" if started else "no",
            "rows": str(sum(c.values())),
            "files": str(files),
        }
        for t, name, term, until, started, c, files in due
    ]
    if ctx.dry_run:
        return JobReport(f"{len(due)} terminated tenants would be deleted", {"tenants": len(due)}, rows)
    principal = _system("tenant-deletion")
    deleted_rows = 0
    for tenant_id, _, _, _, _, _, _ in due:
        deleted_rows += _purge_tenant(ctx, principal, tenant_id)
        ctx.check_stop()
    return JobReport(
        f"{len(due)} terminated tenants deleted", {"tenants": len(due), "rows": deleted_rows}, rows
    )


def _purge_tenant(ctx: JobContext, principal: Principal, tenant_id: uuid.UUID) -> int:
    # Phase 1: the tombstone, committed before anything goes.
    with transaction(ctx.sessions) as s:
        lc = s.scalar(select(TenantLifecycle).where(TenantLifecycle.tenant_id == tenant_id))
        if lc is None:
            return 0
        if lc.purge_started_at is None:
            lc.purge_started_at = ctx.now
            AccessBase(s, principal).audit(
                "tenant.purge_start",
                "tenants",
                tenant_id,
                {"counts": _counts(s, tenant_id)},
                {"terminated_at": str(lc.terminated_at), "rule": "cpaas.txt §2.3.8"},
                tenant_id,
            )
        files = _files(s, tenant_id)
    # Phase 2: the audio files (idempotent: a file already gone is skipped).
    freed = sum(_unlink(p) for p in files)
    # Phase 3: every row, in one transaction.
    with transaction(ctx.sessions) as s:
        counts = _counts(s, tenant_id)
        s.execute(
            update(PhoneNumber)
            .where(PhoneNumber.tenant_id == tenant_id)
            .values(tenant_id=None, status=NumberStatus.AGING, target_type=None, target_id=None, cnam=None)
        )
        counts.pop("numbers", None)
        for table in reversed(tenant_tables()):
            if table.name in ("audit_log", "numbers"):
                continue
            s.execute(delete(table).where(table.c.tenant_id == tenant_id))
        s.execute(delete(Tenant).where(Tenant.id == tenant_id))
        AccessBase(s, principal).audit(
            "tenant.purge",
            "tenants",
            tenant_id,
            {"counts": counts},
            {"files": len(files), "bytes": freed, "rule": "cpaas.txt §2.3.8"},
            tenant_id,
        )
    log.info("tenant.purged tenant=%s rows=%d files=%d", tenant_id, sum(counts.values()), len(files))
    return sum(counts.values())
