"""Durable call state: CDRs when calls end, the journal of calls in progress, and registrations.

DESIGN.md: "a CDR that was produced is never lost, even if the process is killed". The CDR of a
call is written in one transaction when the call ends: billing's ``cdrs`` row (what rating reads),
its ``cdr_outcomes`` row (end, hang-up cause, SIP code) and one ``cdr_legs`` row per device rung,
and the call's ``active_calls`` journal row is deleted in the same transaction. The journal row
is written when the call starts, so after a ``kill -9`` every call that had ended has its CDR
and every call that had not is found at the next start and closed as interrupted.

Writes are synchronous on the event loop: a committed row is on disk (SQLite synchronous=FULL)
before the next message is handled. A writer thread would take them off the loop later.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from centrex.calls.engine import CallAnswered, CallEnded, CallStarted
from centrex.calls.location import AorKey, Binding, LocationService, contact_key
from centrex.numbers.classes import CallClass, Direction
from centrex.store.db import transaction
from centrex.store.models import ActiveCall, CallDetail, CdrLeg, CdrOutcome, Registration

log = logging.getLogger(__name__)

# billing/cdr.py Disposition has these five; the engine's finer outcomes map onto them and are kept
# verbatim in cdr_outcomes.outcome.
BILLING_DISPOSITIONS = {"answered", "no_answer", "busy", "failed", "cancelled"}


def billing_disposition(outcome: str) -> str:
    return outcome if outcome in BILLING_DISPOSITIONS else "failed"


def _utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def write_cdr(s: Session, ev: CallEnded) -> uuid.UUID:
    """The one place a CDR is written: billing's ``cdrs`` row, its outcome and its legs, and the
    call's journal row removed, all in the caller's transaction. Returns the CDR's id."""
    cdr = CallDetail(
        tenant_id=ev.tenant_id,
        call_id=str(ev.call_id),
        caller=ev.from_[:32],
        callee=ev.to[:32],
        dialled=ev.dialled[:64],
        call_class=ev.call_class,
        direction=Direction.INTERNAL.value
        if ev.call_class == CallClass.ON_NET.value
        else Direction.OUTBOUND.value,
        start=ev.started_at,
        answer=ev.answered_at,
        duration_ms=ev.duration_ms,
        disposition=billing_disposition(ev.disposition),
        is_intra_enterprise=ev.call_class == CallClass.ON_NET.value,
        site_id=ev.site_id,
        user_id=ev.user_id,
    )
    s.add(cdr)
    s.flush()
    s.add(
        CdrOutcome(
            tenant_id=ev.tenant_id,
            cdr_id=cdr.id,
            device_id=ev.device_id,
            end=ev.ended_at,
            hangup_cause=ev.hangup_cause[:64],
            sip_code=ev.sip_code,
            outcome=ev.disposition,
        )
    )
    for i, leg in enumerate(ev.legs):
        s.add(
            CdrLeg(
                tenant_id=ev.tenant_id,
                cdr_id=cdr.id,
                position=i,
                user_id=leg.user_id,
                extension=leg.extension,
                device_id=leg.device_id,
                contact=leg.contact[:512],
                start=leg.started_at,
                answer=leg.answered_at,
                end=leg.ended_at,
                sip_code=leg.sip_code,
                disposition=leg.disposition,
            )
        )
    s.execute(delete(ActiveCall).where(ActiveCall.call_id == str(ev.call_id)))
    return cdr.id


class CallRecords:
    """Writes CDRs and the call journal; restores and mirrors registrations."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions
        # What the store holds per contact: (source, transport, user, expires_at). A refresh from
        # the same flow is written only when the stored expiry no longer covers half of the new
        # lifetime: phones refresh every few minutes and each write is an fsync.
        self._stored: dict[tuple[object, ...], tuple[object, ...]] = {}

    def _needs_write(self, b: Binding) -> bool:
        k = (b.tenant_id, b.username, contact_key(b.contact))
        flow = (b.source, b.transport, b.user_id)
        prev = self._stored.get(k)
        if prev is not None and prev[:3] == flow and b.registered_at is not None:
            stored_expiry = prev[3]
            assert isinstance(stored_expiry, float)
            if stored_expiry >= b.registered_at + (b.expires_at - b.registered_at) / 2:
                return False
        return True

    # -- calls -----------------------------------------------------------------------------
    def call_started(self, ev: CallStarted) -> None:
        with transaction(self.sessions) as s:
            s.add(
                ActiveCall(
                    tenant_id=ev.tenant_id,
                    call_id=str(ev.call_id),
                    caller=ev.from_,
                    dialled=ev.dialled[:64],
                    call_class=ev.call_class,
                    site_id=ev.site_id,
                    user_id=ev.user_id,
                    device_id=ev.device_id,
                    started_at=ev.started_at,
                )
            )

    def call_answered(self, ev: CallAnswered) -> None:
        with transaction(self.sessions) as s:
            row = s.scalar(select(ActiveCall).where(ActiveCall.call_id == str(ev.call_id)))
            if row is not None:
                row.answered_at = ev.answered_at
                row.callee = ev.to[:32]

    def call_ended(self, ev: CallEnded) -> None:
        with transaction(self.sessions) as s:
            write_cdr(s, ev)

    def close_interrupted(self, now: datetime | None = None) -> int:
        """At start-up: every journalled call a crash cut short gets its CDR, as interrupted.

        How long an answered call went on after the crash is unknown, so it is recorded with
        its answer time but a duration of 0: nothing is billed for time nobody measured.
        """
        ended = now or datetime.now(UTC)
        count = 0
        with transaction(self.sessions) as s:
            for row in s.scalars(select(ActiveCall)).all():
                cdr = CallDetail(
                    tenant_id=row.tenant_id,
                    call_id=row.call_id,
                    caller=row.caller,
                    callee=row.callee or row.dialled[:32],
                    dialled=row.dialled,
                    call_class=row.call_class,
                    direction=Direction.INTERNAL.value
                    if row.call_class == CallClass.ON_NET.value
                    else Direction.OUTBOUND.value,
                    start=row.started_at,
                    answer=row.answered_at,
                    duration_ms=0,
                    disposition="failed",
                    is_intra_enterprise=row.call_class == CallClass.ON_NET.value,
                    site_id=row.site_id,
                    user_id=row.user_id,
                )
                s.add(cdr)
                s.flush()
                s.add(
                    CdrOutcome(
                        tenant_id=row.tenant_id,
                        cdr_id=cdr.id,
                        device_id=row.device_id,
                        end=ended,
                        hangup_cause="interrupted",
                        sip_code=0,
                        outcome="interrupted",
                    )
                )
                s.delete(row)
                count += 1
        if count:
            log.warning("sip.calls.interrupted closed=%d (in progress when the last process stopped)", count)
        return count

    # -- registrations ---------------------------------------------------------------------
    def load_registrations(self, location: LocationService, now: float) -> int:
        """Fill the location service with the registrations that have not expired."""
        with self.sessions() as s:
            rows = s.scalars(select(Registration).where(Registration.expires_at > _utc(now))).all()
        for r in rows:
            self._stored[(r.tenant_id, r.username, r.contact_key)] = (
                (r.source_host, r.source_port),
                r.transport,
                r.user_id,
                r.expires_at.timestamp(),
            )
            location.save(
                notify=False,
                binding=Binding(
                    r.tenant_id,
                    r.username,
                    r.device_id,
                    r.user_id,
                    r.contact,
                    r.expires_at.timestamp(),
                    r.call_id,
                    r.cseq,
                    (r.source_host, r.source_port),
                    r.transport,
                    r.q,
                ),
            )
        return len(rows)

    def saved(self, b: Binding) -> None:
        if not self._needs_write(b):
            return
        try:
            self._saved(b)
            self._stored[(b.tenant_id, b.username, contact_key(b.contact))] = (
                b.source,
                b.transport,
                b.user_id,
                float(b.expires_at),
            )
        except Exception:
            # The registration holds in memory; the phone's next refresh writes it again.
            log.exception("sip.registration.persist_failed device=%s", b.username)

    def _saved(self, b: Binding) -> None:
        key = contact_key(b.contact)
        with transaction(self.sessions) as s:
            s.execute(
                delete(Registration).where(
                    Registration.tenant_id == b.tenant_id,
                    Registration.username == b.username,
                    Registration.contact_key == key,
                )
            )
            s.add(
                Registration(
                    tenant_id=b.tenant_id,
                    device_id=b.device_id,
                    user_id=b.user_id,
                    username=b.username,
                    contact=b.contact[:512],
                    contact_key=key[:512],
                    expires_at=_utc(b.expires_at),
                    call_id=b.call_id[:200],
                    cseq=b.cseq,
                    source_host=b.source[0],
                    source_port=b.source[1],
                    transport=b.transport,
                    q=b.q,
                )
            )

    def removed(self, aor: AorKey, contact: str | None) -> None:
        """One contact of a device unregistered, or all of them (``contact`` None)."""
        tenant_id, username = aor
        where = [Registration.tenant_id == tenant_id, Registration.username == username]
        if contact is not None:
            where.append(Registration.contact_key == contact_key(contact))
        for k in [k for k in self._stored if k[0] == tenant_id and k[1] == username]:
            if contact is None or k[2] == contact_key(contact):
                del self._stored[k]
        try:
            with transaction(self.sessions) as s:
                s.execute(delete(Registration).where(*where))
        except Exception:
            log.exception("sip.registration.delete_failed username=%s", username)

    def purge_registrations(self, now: float) -> None:
        for k in [k for k, v in self._stored.items() if isinstance(v[3], float) and v[3] <= now]:
            del self._stored[k]
        with transaction(self.sessions) as s:
            s.execute(delete(Registration).where(Registration.expires_at <= _utc(now)))
