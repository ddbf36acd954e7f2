"""The fraud signals in one view (issue 15 §3: "the SIP core's bans feed the same view"): toll-guard
refusals and spend-limit cut-offs (from the calls' records: their hangup causes), toll-fraud spikes
(fairuse/spikes.py) and the SIP core's active bans (fairuse/ban_store.py), newest first.

The operator sees every tenant's; a tenant's administrators see their own calls and spikes, and the
bans whose last guessed username is one of their devices' (a ban is of an address, not a tenant:
the username is what ties it to one).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from centrex.store.models import CallDetail, CdrOutcome, Device
from centrex.store.models.bans import BanRow
from centrex.store.models.fraud import FraudSpike

# fairuse/toll_guard.py's causes: refusals of new calls, and (answered, then cut) the spend limit.
TOLL_CAUSES = ("toll_international", "toll_premium", "international_limit", "spend_limit")


@dataclass(frozen=True, slots=True)
class Signal:
    kind: str  # toll_refusal, spend_cutoff, spike, sip_ban
    at: datetime
    tenant_id: uuid.UUID | None
    subject: str  # the caller, the source address
    detail: str
    cause: str = ""


def call_signals(session: Session, calls: Select[Any], since: datetime, limit: int) -> list[Signal]:
    """``calls``: a select of CallDetail already scoped (a tenant's, or every tenant's)."""
    stmt = (
        calls.add_columns(CdrOutcome.hangup_cause)
        .join(CdrOutcome, CdrOutcome.cdr_id == CallDetail.id)
        .where(CdrOutcome.hangup_cause.in_(TOLL_CAUSES), CallDetail.start >= since)
        .order_by(CallDetail.start.desc())
        .limit(limit)
    )
    out = []
    for cdr, cause in session.execute(stmt):
        cut = cause == "spend_limit" and cdr.answer is not None
        out.append(
            Signal(
                "spend_cutoff" if cut else "toll_refusal",
                cdr.start,
                cdr.tenant_id,
                cdr.caller,
                f"{cdr.caller} to {cdr.callee} ({cdr.call_class})"
                + (f": cut off after {cdr.duration_ms // 1000} s" if cut else ": refused"),
                cause,
            )
        )
    return out


def spike_signals(session: Session, spikes: Select[Any], since: datetime, limit: int) -> list[Signal]:
    stmt = spikes.where(FraudSpike.window_end >= since).order_by(FraudSpike.window_end.desc()).limit(limit)
    return [
        Signal(
            "spike",
            x.window_end,
            x.tenant_id,
            x.top_destination,
            f"{x.minutes} international/premium minutes in the hour ({x.calls} calls, most to "
            f"{x.top_destination}); baseline {x.baseline_minutes} per hour",
            "spike",
        )
        for x in session.scalars(stmt)
    ]


def ban_signals(session: Session, now: datetime, tenant_id: uuid.UUID | None, limit: int) -> list[Signal]:
    """The active bans; for a tenant, those whose last guessed username is one of its devices'."""
    stmt = select(BanRow).where(BanRow.ended_at.is_(None), BanRow.until > now)
    if tenant_id is not None:
        usernames = select(Device.sip_username).where(Device.tenant_id == tenant_id)
        stmt = stmt.where(BanRow.last_username.in_(usernames))
    stmt = stmt.order_by(BanRow.started_at.desc()).limit(limit)
    return [
        Signal(
            "sip_ban",
            b.started_at,
            tenant_id,
            b.source,
            f"{b.realm} ban of {b.source} until {b.until:%Y-%m-%d %H:%M} UTC after {b.failures} failures"
            + (f" (last username {b.last_username})" if b.last_username else ""),
            "ban",
        )
        for b in session.scalars(stmt)
    ]


def signals(
    session: Session,
    *,
    calls: Select[Any],
    spikes: Select[Any],
    tenant_id: uuid.UUID | None,
    since: datetime,
    now: datetime,
    limit: int,
) -> list[Signal]:
    found = (
        call_signals(session, calls, since, limit)
        + spike_signals(session, spikes, since, limit)
        + ban_signals(session, now, tenant_id, limit)
    )
    found.sort(key=lambda x: x.at, reverse=True)
    return found[:limit]
