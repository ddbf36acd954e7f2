"""A suspended tenant's phones may still call 911; every other call is refused with 403 and a reason
(cpaas.txt §3.4 (i); DESIGN.md: emergency calls are never refused for suspension)."""

from __future__ import annotations

import uuid
from dataclasses import replace

import pytest

from centrex.calls.admission import SUSPENDED, admission
from centrex.calls.directory import TenantInfo
from centrex.numbers.classes import CallClass

from .engine_harness import Bench, make_bench
from .helpers import DOMAIN_A


@pytest.mark.parametrize("status", ["suspended", "terminated"])
def test_admission_refuses_everything_but_911_when_not_active(status: str) -> None:
    tenant = TenantInfo(uuid.uuid4(), "x.example.com", status)
    for cls in CallClass:
        decision = admission(tenant, cls)
        if cls is CallClass.EMERGENCY:
            assert decision is None, "911 must never be refused for suspension"
        elif cls is CallClass.EMERGENCY_TEST:
            # billing/collections.py call_allowed lets the 933 address test through too, so a
            # suspended customer can still check the location 911 would be given.
            assert decision is None
        else:
            assert decision == SUSPENDED, cls
    active = TenantInfo(uuid.uuid4(), "y.example.com")
    assert all(admission(active, cls) is None for cls in CallClass)


def suspended_bench() -> Bench:
    b = make_bench()
    b.register("1001", 5061)
    b.register("1002", 5062)
    tenants = b.org.directory.tenants
    tenants[DOMAIN_A] = replace(tenants[DOMAIN_A], status="suspended")
    return b


def test_a_suspended_tenants_call_to_a_colleague_is_refused_with_a_reason() -> None:
    b = suspended_bench()
    b.call("1001", "1002")
    final = b.responses()[-1]
    assert (final.status, final.reason) == (403, "Service Suspended")
    assert final.headers.get("Reason") == 'SIP;cause=403;text="Service Suspended"'
    assert b.invites() == []  # the colleague's phone never rang
    [ended] = b.ended
    assert (ended.disposition, ended.hangup_cause, ended.sip_code) == ("rejected", "tenant_suspended", 403)


@pytest.mark.parametrize("dialled", ["911", "9911"])
def test_a_suspended_tenants_911_call_is_not_refused_for_suspension(dialled: str) -> None:
    """Admission lets it through. This build has no emergency route yet, so the call then ends
    with 503 no_route (the same as for an active tenant) — never with the suspension's 403."""
    b = suspended_bench()
    b.call("1001", dialled)
    final = b.responses()[-1]
    assert final.status != 403 and final.headers.get("Reason") is None
    [ended] = b.ended
    assert ended.call_class == CallClass.EMERGENCY.value
    assert ended.hangup_cause != "tenant_suspended"
    assert (final.status, ended.hangup_cause) == (503, "no_route")
