"""Reclaiming unused telephone numbers, and the notice owed before doing so.

cpaas.txt §2.4.5: the provider may "reclaim, without liability, any phone number associated with the
Customer account to return the number to the relevant numbering plan, if Customer does not have
adequate usage of that phone number or the phone number is otherwise deemed unutilized or
underutilized ... If such reclamation occurs for any number on an account that is not otherwise
suspended, [the provider] will use commercially reasonable efforts to ... (ii) provide Customer
written notice prior to any reclamation ... [and] will not provide any notice for reclamation of any
numbers associated with a suspended account. ... the rights ... do not apply to any toll free routing
only numbers over which Customer has RESPORG control, or any Customer-provided Short Codes."

The contract gives no period: how long "unused" is, and how long before reclamation the notice goes,
are operator settings (`ReclamationPolicy`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

__all__ = ["NumberUsage", "ReclamationFlag", "ReclamationPolicy", "reclamation_flags"]


@dataclass(frozen=True, slots=True)
class ReclamationPolicy:
    unused_for: timedelta = timedelta(days=90)
    notice_lead: timedelta = timedelta(days=30)

    def __post_init__(self) -> None:
        if self.unused_for <= timedelta(0) or self.notice_lead < timedelta(0):
            raise ValueError("unused_for must be positive and notice_lead not negative")


@dataclass(frozen=True, slots=True)
class NumberUsage:
    number: str  # E.164, or the short code
    assigned_at: datetime
    last_used_at: datetime | None = None
    account_suspended: bool = False
    resporg_controlled_toll_free: bool = False  # toll-free routing-only number, Customer is RESPORG
    customer_short_code: bool = False  # a Customer-provided Short Code


@dataclass(frozen=True, slots=True)
class ReclamationFlag:
    """A number that may be reclaimed, and what must happen first."""

    number: str
    idle_since: datetime
    notice_required: bool
    earliest_reclaim_at: datetime  # now + notice lead when a notice is owed, else now
    reason: str


def reclamation_flags(
    usages: Iterable[NumberUsage], now: datetime, policy: ReclamationPolicy | None = None
) -> list[ReclamationFlag]:
    """Numbers unused for `policy.unused_for` or longer, with the notice rule of cpaas.txt §2.4.5:
    a written notice before reclamation unless the account is suspended; numbers the Customer
    controls as RESPORG (toll-free) and Customer-provided Short Codes are never flagged."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware (UTC)")
    policy = policy or ReclamationPolicy()
    flags: list[ReclamationFlag] = []
    for usage in usages:
        if usage.resporg_controlled_toll_free or usage.customer_short_code:
            continue
        idle_since = usage.last_used_at or usage.assigned_at
        if now - idle_since < policy.unused_for:
            continue
        days = (now - idle_since).days
        if usage.account_suspended:
            flags.append(
                ReclamationFlag(
                    usage.number,
                    idle_since,
                    False,
                    now,
                    f"unused for {days} days; account suspended, so no notice (cpaas.txt §2.4.5)",
                )
            )
        else:
            flags.append(
                ReclamationFlag(
                    usage.number,
                    idle_since,
                    True,
                    now + policy.notice_lead,
                    f"unused for {days} days; written notice owed before reclamation (cpaas.txt §2.4.5)",
                )
            )
    return flags
