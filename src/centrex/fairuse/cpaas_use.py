"""CPaaS Prohibited Use found by the monthly fair-use review (cpaas.txt §2.5).

cpaas.txt §2.5: "IntelePeer will monitor usage of the Services and notify Customer of any usage that
appears to be a Prohibited Use … If Customer does not correct the Prohibited Use by the end of the
billing cycle following the notification by IntelePeer, or if Prohibited Use appears in any
subsequent billing cycles, IntelePeer reserves the right … to adjust the amounts invoiced … or
terminate the Services." The same words as voice-bundles.txt §3.3, so the same machinery carries
it: a finding here becomes a fair-use case (fairuse/cure.py: noticed in cycle C, listed to the
tenant; still seen at the review of C+1, or seen again after a cure → ``termination``: messaging
without consent has no price to re-rate at).

What code can see of a Prohibited Use in CPaaS: messages to recipients who opted out (STOP) —
"sending without consent". cpaas/messaging/checks.py refuses each one (21610) and
cpaas/messaging/service.py logs the refusal in ``sms_refusals``. One refused attempt can be a slip;
a sending number with ``MIN_ATTEMPTS`` or more in one cycle is messaging people who said no, and is
noticed. Reselling, the example the clause names, leaves no mark the platform can read; it stays the
operator's judgement.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from centrex.fairuse.detectors import Finding, Kind
from centrex.store.models.cpaas_refusals import SmsRefusal

UNSUBSCRIBED = 21610  # Twilio's code for a message to a recipient who opted out
MIN_ATTEMPTS = 10  # refused attempts of one sending number in one cycle that make a finding


def findings(session: Session, tenant_id: uuid.UUID, since: datetime, until: datetime) -> list[Finding]:
    """The cycle's CPaaS findings: per sending number, its attempts to opted-out recipients."""
    rows = session.execute(
        select(
            SmsRefusal.from_number,
            func.count(SmsRefusal.id),
            func.count(func.distinct(SmsRefusal.to_number)),
        )
        .where(
            SmsRefusal.tenant_id == tenant_id,
            SmsRefusal.code == UNSUBSCRIBED,
            SmsRefusal.at >= since,
            SmsRefusal.at < until,
        )
        .group_by(SmsRefusal.from_number)
        .order_by(SmsRefusal.from_number)
    ).all()
    return [
        Finding(
            Kind.CPAAS_NO_CONSENT,
            number,
            {
                "attempts_to_opted_out": int(attempts),
                "recipients": int(recipients),
                "threshold": MIN_ATTEMPTS,
                "rule": "cpaas.txt §2.5 (sending without consent after STOP; CTIA)",
            },
        )
        for number, attempts, recipients in rows
        if attempts >= MIN_ATTEMPTS
    ]
