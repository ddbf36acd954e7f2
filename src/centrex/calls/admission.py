"""Whether a call of a tenant's phone may start: the tenant's standing, with the 911 exception.

cpaas.txt §3.4 (i): the provider may suspend the Service for non-payment; DESIGN.md and e911/policy.py:
an emergency call is never refused, also not while suspended. The tenant's status (tenants.status,
set by the operator or by collections) is read as billing's Standing; billing/collections.py
``call_allowed`` decides, and e911/policy.py ``may_refuse`` is asked as well so that neither rule
can be changed alone into refusing 911. A terminated tenant's phones are treated like suspended
ones: they may still reach 911 for as long as they can register. The 933 address test passes
when call_allowed lets it (billing counts it with the emergency classes).
"""

from __future__ import annotations

from dataclasses import dataclass

from centrex.billing.collections import Standing, call_allowed
from centrex.calls.directory import TenantInfo
from centrex.e911.policy import RefusalGround, may_refuse
from centrex.numbers.classes import CallClass


@dataclass(frozen=True, slots=True)
class Refusal:
    status: int
    cause: str  # cdr_outcomes.hangup_cause
    reason: str  # SIP reason phrase and RFC 3326 Reason text the phone shows


SUSPENDED = Refusal(403, "tenant_suspended", "Service Suspended")


def standing_of(tenant: TenantInfo) -> Standing:
    return Standing.GOOD if tenant.status == "active" else Standing.SUSPENDED


def admission(tenant: TenantInfo, call_class: CallClass) -> Refusal | None:
    """None: the call goes on to routing. A Refusal: answer it with that status and reason."""
    if not may_refuse(call_class, RefusalGround.SUSPENSION):
        return None
    if not call_allowed(standing_of(tenant), call_class):
        return SUSPENDED
    return None
