"""Who a campaign may reach: the scrub before any send (issue 20 §2; cpaas.txt §2.3.4 (ii)–(iii):
TCPA, the Do-Not-Call Implementation Act and CTIA guidelines are the customer's to comply with, and
Centrex enforces them for its campaigns). Each contact gets one decision: send, skip with a reason,
or defer to a time (quiet hours: deferred, never dropped).

In order, the first that applies:
1. ``tenant_dnc`` — on the tenant's own do-not-call list (47 CFR 64.1200(d)).
2. ``opted_out`` — the contact texted STOP (or another CTIA opt-out word) to any of the tenant's
   numbers and not START since (messaging's ledger, sms_consents). A revocation "by any reasonable
   means" reaches all of the sender's messages (47 CFR 64.1200(a)(10), FCC 24-24), so one STOP
   stops every campaign of the tenant, SMS and voice.
3. ``national_dnc`` — in the operator's local copy of the National Do-Not-Call Registry
   (47 CFR 64.1200(c)(2)); scrubbed before every campaign, informational ones too (conservative:
   Engage-style, the tenant need not argue the exemption per message).
4. ``reassigned`` — the Reassigned Numbers Database copy has a permanent disconnection of the
   number on or after the day its consent was given (or, without consent, the day the contact was
   added): the person who consented may not have the number any more (FCC 18-177; 47 CFR
   64.1200(m) safe harbor).
5. ``no_consent`` / ``consent_revoked`` — a marketing campaign needs the latest consent record of
   the number for the campaign's channel and purpose "marketing" to be a grant (TCPA prior express
   written consent, 47 CFR 64.1200(a)(2)); an informational campaign is stopped by a revocation
   for its channel (latest informational record a revocation).
6. quiet hours (quiet_hours.py) — deferred to the next allowed time in the contact's zones.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from centrex.cpaas.campaigns.quiet_hours import next_allowed
from centrex.store.models.campaigns import (
    ConsentRecord,
    Contact,
    DncEntry,
    NationalDncNumber,
    ReassignedNumber,
)
from centrex.store.models.messaging import SmsConsent

SKIP_REASONS = (
    "invalid_number",
    "tenant_dnc",
    "opted_out",
    "national_dnc",
    "reassigned",
    "no_consent",
    "consent_revoked",
)


@dataclass(frozen=True, slots=True)
class Decision:
    action: str  # send | skip | defer
    reason: str | None = None
    not_before: datetime | None = None
    detail: str | None = None


SEND = Decision("send")


@dataclass(frozen=True, slots=True)
class Target:
    number: str
    contact: Contact | None


class Scrub:
    """The lookups for one batch of numbers of one campaign, loaded with one query per source."""

    def __init__(
        self,
        session: Session,
        tenant_id: uuid.UUID,
        channel: str,
        purpose: str,
        numbers: Sequence[str],
    ) -> None:
        self.channel, self.purpose = channel, purpose
        wanted = list(set(numbers))
        self.tenant_dnc = set(
            session.scalars(
                select(DncEntry.number).where(DncEntry.tenant_id == tenant_id, DncEntry.number.in_(wanted))
            )
        )
        self.opted_out = set(
            session.scalars(
                select(SmsConsent.remote).where(
                    SmsConsent.tenant_id == tenant_id,
                    SmsConsent.remote.in_(wanted),
                    SmsConsent.opted_out.is_(True),
                )
            )
        )
        self.national = set(
            session.scalars(select(NationalDncNumber.number).where(NationalDncNumber.number.in_(wanted)))
        )
        self.disconnected: dict[str, date] = {}
        for number, day in session.execute(
            select(ReassignedNumber.number, ReassignedNumber.disconnected_on).where(
                ReassignedNumber.number.in_(wanted)
            )
        ):
            if number not in self.disconnected or day > self.disconnected[number]:
                self.disconnected[number] = day
        self.latest: dict[tuple[str, str], ConsentRecord] = {}  # (number, purpose) → latest record
        for rec in session.scalars(
            select(ConsentRecord)
            .where(
                ConsentRecord.tenant_id == tenant_id,
                ConsentRecord.number.in_(wanted),
                ConsentRecord.channel == channel,
            )
            .order_by(ConsentRecord.obtained_at, ConsentRecord.created_at)
        ):
            self.latest[(rec.number, rec.purpose)] = rec

    def consent_day(self, target: Target) -> date | None:
        rec = self.latest.get((target.number, self.purpose))
        if rec is not None and rec.granted:
            return rec.obtained_at.astimezone(UTC).date()
        if target.contact is not None:
            return target.contact.created_at.astimezone(UTC).date()
        return None

    def decide(self, target: Target, now: datetime) -> Decision:
        n = target.number
        if n in self.tenant_dnc:
            return Decision("skip", "tenant_dnc", detail="on the tenant's do-not-call list")
        if n in self.opted_out:
            return Decision("skip", "opted_out", detail="replied STOP to the tenant's messages")
        if n in self.national:
            return Decision("skip", "national_dnc", detail="in the National Do-Not-Call Registry")
        gone = self.disconnected.get(n)
        since = self.consent_day(target)
        if gone is not None and (since is None or gone >= since):
            return Decision(
                "skip",
                "reassigned",
                detail=f"permanently disconnected {gone.isoformat()}, after consent of "
                f"{since.isoformat() if since else 'unknown date'} (Reassigned Numbers Database)",
            )
        rec = self.latest.get((n, self.purpose))
        if self.purpose == "marketing":
            if rec is None:
                return Decision("skip", "no_consent", detail=f"no {self.channel} marketing consent on record")
            if not rec.granted:
                return Decision("skip", "consent_revoked", detail=f"consent revoked by {rec.method}")
        elif rec is not None and not rec.granted:
            return Decision("skip", "consent_revoked", detail=f"consent revoked by {rec.method}")
        contact = target.contact
        zones = list(contact.time_zones) if contact is not None else []
        state = contact.state if contact is not None else None
        when = next_allowed(now, zones, state)
        if when is None:  # every day of the next 8 closed: look again in a day, never drop
            when = now + timedelta(days=1)
        if when > now:
            return Decision(
                "defer",
                "quiet_hours",
                not_before=when,
                detail=f"local quiet hours until {when:%Y-%m-%d %H:%M}Z",
            )
        return SEND
