"""The messaging rows read and written, each query scoped by tenant (store/models/messaging.py)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from centrex.store.models import PhoneNumber
from centrex.store.models.messaging import A2pRegistration, SmsConsent, SmsNumberConfig


def now() -> datetime:
    return datetime.now(UTC)


def tenant_number(session: Session, tenant_id: uuid.UUID, e164: str) -> PhoneNumber | None:
    return session.scalar(
        select(PhoneNumber).where(PhoneNumber.e164 == e164, PhoneNumber.tenant_id == tenant_id)
    )


def number_owner(session: Session, e164: str) -> PhoneNumber | None:
    """Which tenant a number belongs to: where an incoming SMS goes."""
    return session.scalar(
        select(PhoneNumber).where(PhoneNumber.e164 == e164, PhoneNumber.tenant_id.is_not(None))
    )


def approved_registration(
    session: Session, tenant_id: uuid.UUID, kind: str, e164: str
) -> A2pRegistration | None:
    rows = session.scalars(
        select(A2pRegistration).where(
            A2pRegistration.tenant_id == tenant_id,
            A2pRegistration.kind == kind,
            A2pRegistration.status == "approved",
        )
    )
    return next((r for r in rows if e164 in (r.numbers or [])), None)


def registration_for(session: Session, tenant_id: uuid.UUID, e164: str) -> A2pRegistration | None:
    """The approved registration covering a number, else any (pending/rejected) one, for the reason."""
    rows = list(session.scalars(select(A2pRegistration).where(A2pRegistration.tenant_id == tenant_id)))
    covering = [r for r in rows if e164 in (r.numbers or [])]
    return next((r for r in covering if r.status == "approved"), covering[0] if covering else None)


def consent(session: Session, tenant_id: uuid.UUID, number: str, remote: str) -> SmsConsent | None:
    return session.scalar(
        select(SmsConsent).where(
            SmsConsent.tenant_id == tenant_id, SmsConsent.number == number, SmsConsent.remote == remote
        )
    )


def set_consent(
    session: Session, tenant_id: uuid.UUID, number: str, remote: str, opted_out: bool, keyword: str
) -> SmsConsent:
    row = consent(session, tenant_id, number, remote)
    if row is None:
        row = SmsConsent(tenant_id=tenant_id, number=number, remote=remote)
        session.add(row)
    row.opted_out = opted_out
    row.keyword = keyword
    row.changed_at = now()
    session.flush()
    return row


def number_config(session: Session, tenant_id: uuid.UUID, e164: str) -> SmsNumberConfig | None:
    return session.scalar(
        select(SmsNumberConfig).where(SmsNumberConfig.tenant_id == tenant_id, SmsNumberConfig.number == e164)
    )
