"""A campaign's report (issue 20 §2 "per-campaign reporting"; cpaas.txt §2.2.2 "schedule, distribute
and report"): how many contacts, and of them pending, deferred (quiet hours, waiting), sent (left
for the carrier or the switch), delivered and failed, and skipped by reason.

Delivery is read from what the send left: the message's status (sms_messages: ``delivered`` from
the carrier's receipt; ``undelivered``/``failed`` are failures) or the call's (cpaas_calls:
``completed`` is delivered — answered; busy, no-answer, failed and canceled are failures). What the
engagement-retention job deleted (older than a year, cpaas.txt §2.4.2 (ii)) is no longer counted.
"""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from centrex.store.models.campaigns import Campaign, CampaignRecipient
from centrex.store.models.cpaas_voice import CpaasCall
from centrex.store.models.messaging import SmsMessage

SMS_FAILED = frozenset({"undelivered", "failed"})
CALL_FAILED = frozenset({"busy", "no-answer", "failed", "canceled"})


def report(session: Session, campaign: Campaign) -> dict[str, Any]:
    cid: uuid.UUID = campaign.id
    by_status: Counter[str] = Counter()
    skipped: Counter[str] = Counter()
    failed_by: Counter[str] = Counter()
    deferred_by: Counter[str] = Counter()
    for status, reason, n in session.execute(
        select(CampaignRecipient.status, CampaignRecipient.reason, func.count())
        .where(CampaignRecipient.tenant_id == campaign.tenant_id, CampaignRecipient.campaign_id == cid)
        .group_by(CampaignRecipient.status, CampaignRecipient.reason)
    ):
        by_status[status] += n
        if status == "skipped":
            skipped[reason or "unknown"] += n
        elif status == "failed":
            failed_by[reason or "unknown"] += n
        elif status == "deferred":
            deferred_by[reason or "unknown"] += n
    delivered = 0
    if campaign.channel == "sms":
        outcomes = session.execute(
            select(SmsMessage.status, func.count())
            .join(CampaignRecipient, CampaignRecipient.message_sid == SmsMessage.sid)
            .where(CampaignRecipient.campaign_id == cid, SmsMessage.tenant_id == campaign.tenant_id)
            .group_by(SmsMessage.status)
        ).all()
        delivered = sum(n for s, n in outcomes if s == "delivered")
        carrier_failed = {f"carrier_{s}": n for s, n in outcomes if s in SMS_FAILED}
    else:
        outcomes = session.execute(
            select(CpaasCall.status, func.count())
            .join(CampaignRecipient, CampaignRecipient.call_sid == CpaasCall.sid)
            .where(CampaignRecipient.campaign_id == cid, CpaasCall.tenant_id == campaign.tenant_id)
            .group_by(CpaasCall.status)
        ).all()
        delivered = sum(n for s, n in outcomes if s == "completed")
        carrier_failed = {f"call_{s}": n for s, n in outcomes if s in CALL_FAILED}
    failed_by.update(carrier_failed)
    sent = by_status["sent"]
    return {
        "campaign_id": str(cid),
        "status": campaign.status,
        "channel": campaign.channel,
        "purpose": campaign.purpose,
        "total": sum(by_status.values()),
        "pending": by_status["pending"] + by_status["sending"],
        "deferred": by_status["deferred"],
        "deferred_by_reason": dict(deferred_by),
        "sent": sent,
        "delivered": delivered,
        "failed": by_status["failed"] + sum(carrier_failed.values()),
        "failed_by_reason": dict(failed_by),
        "skipped": by_status["skipped"],
        "skipped_by_reason": dict(skipped),
        "awaiting_receipt": sent - delivered - sum(carrier_failed.values()),
    }
