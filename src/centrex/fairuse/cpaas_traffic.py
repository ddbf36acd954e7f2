"""Campaign and other CPaaS traffic is not judged by the voice bundles' fair-use rules.

The Fair Usage Policy (voice-bundles.txt §3.1–§3.2) governs the Voice Services Bundles, "intended
to be used for general purpose enterprise UC usage ... in which all calls are placed via direct
human interaction"; it prohibits auto-dialers (§3.2(i)(a)). Campaigns (cpaas.txt §2.2.2
Atmosphere Engage) and every call the CPaaS app server places (the Calls API, a voice app's
<Dial>, a voice campaign) are a CPaaS product: billed under cpaas.txt (per message, per CPaaS
call) and judged under it — the customer's TCPA/DNC/CTIA duties (§2.3.4), Prohibited Use and
the provider's monitoring and suspension (§2.4.1) — with campaigns' own consent, do-not-call and
quiet-hour checks (cpaas/campaigns/scrub.py). So the fair-use review (review_store.py) leaves them
out: a campaign's calls never count as an auto-dialer on the tenant's bundle, and never re-rate it.

Which calls those are: each call the app server places has its ``cpaas_calls`` row (From, To,
when it was queued and when it ended); the switch's CDR of that call has the same caller and
callee and starts while the row is open (after it was queued, before it ended). A CDR matching a
row that way is CPaaS traffic. SMS never reaches the CDRs at all.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from centrex.billing.cdr import CallRecord
from centrex.store.models.cpaas_voice import CpaasCall

RULE = "cpaas.txt §2.2.2, §2.3.4, §2.4.1 — not voice-bundles.txt §3"
SLACK = timedelta(seconds=5)  # the switch's and the app server's clocks are one host's
LONGEST = timedelta(hours=4)  # a row never ended (a crash): Twilio's default TimeLimit

Spans = dict[tuple[str, str], list[tuple[datetime, datetime]]]


def cpaas_spans(session: Session, tenant_id: uuid.UUID, start: datetime, end: datetime) -> Spans:
    """(From, To) → when each CPaaS call of the tenant was open, for calls queued in [start-4h, end)."""
    spans: Spans = defaultdict(list)
    rows = session.execute(
        select(CpaasCall.from_number, CpaasCall.to_number, CpaasCall.start_time, CpaasCall.end_time).where(
            CpaasCall.tenant_id == tenant_id,
            CpaasCall.direction != "inbound",
            CpaasCall.start_time >= start - LONGEST,
            CpaasCall.start_time < end,
        )
    )
    for caller, callee, opened, closed in rows:
        spans[(caller, callee)].append((opened - SLACK, (closed or opened + LONGEST) + SLACK))
    return spans


def is_cpaas_traffic(record: CallRecord, spans: Spans) -> bool:
    """A call the CPaaS app server placed (campaigns, Calls API, <Dial>): CPaaS, not a bundle's."""
    return any(lo <= record.start <= hi for lo, hi in spans.get((record.caller, record.callee), ()))


def voice_bundle_records(records: Iterable[CallRecord], spans: Spans) -> list[CallRecord]:
    """The calls the voice bundles' Fair Usage Policy judges: everything but CPaaS traffic."""
    return [r for r in records if not is_cpaas_traffic(r, spans)]
