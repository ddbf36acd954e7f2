"""One definition of emergency and test numbers (e911/numbers.py, issue 15 §4): admission,
collections and routing agree on it — 911 in every dialled form is never refused and goes to the
emergency provider; 933 goes to the emergency provider too (as 933, with the caller's location, no
911 notices) and passes only suspension, credit and the restriction class."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from centrex.billing.collections import Standing, call_allowed, check_credit
from centrex.calls.admission import admission
from centrex.calls.dialling import restriction_allows
from centrex.calls.directory import Restriction, TenantInfo
from centrex.calls.features import is_emergency_like
from centrex.e911 import numbers
from centrex.e911.emergency_calls import EmergencyCalls
from centrex.e911.numbers import RefusalGround, may_refuse
from centrex.e911.policy import EMERGENCY_CLASSES
from centrex.e911.policy import may_refuse as policy_may_refuse
from centrex.numbers.classes import CallClass
from centrex.numbers.classify import classify
from centrex.numbers.dialplan import CallerSite, DialPlan
from centrex.routing.model import EmergencyRoute, OutboundRoute, TrunkKind

from .engine_harness import SDP
from .helpers import DOMAIN_A
from .test_calls_trunks import DID_1001, LOCATION, Emergency, final_to_caller, gw, out_invites, setup, trunk

NOTHING_ALLOWED = Restriction(
    "none",
    allow_local=False,
    allow_long_distance=False,
    allow_toll_free=False,
    allow_directory_assistance=False,
)


@pytest.mark.parametrize("cls", list(CallClass))
def test_admission_collections_and_restrictions_read_the_one_definition(cls: CallClass) -> None:
    suspended = TenantInfo(uuid.uuid4(), "x.example.com", "suspended")
    # Admission of a suspended tenant's call and collections' rule say the same.
    assert (admission(suspended, cls) is None) == (not may_refuse(cls, RefusalGround.SUSPENSION))
    assert call_allowed(Standing.SUSPENDED, cls) == (not may_refuse(cls, RefusalGround.SUSPENSION))
    over = check_credit(Decimal("500"), Decimal("10"), Decimal("100"), cls)
    assert over.allowed == (not may_refuse(cls, RefusalGround.CREDIT))
    if not may_refuse(cls, RefusalGround.RESTRICTION):
        assert restriction_allows(NOTHING_ALLOWED, cls)
    for ground in RefusalGround:
        assert policy_may_refuse(cls, ground) == may_refuse(cls, ground)
    assert (cls in EMERGENCY_CLASSES) == (cls is CallClass.EMERGENCY)


def test_911_passes_every_ground_and_933_only_suspension_credit_and_restriction() -> None:
    assert not any(may_refuse(CallClass.EMERGENCY, g) for g in RefusalGround)
    passes = {g for g in RefusalGround if not may_refuse(CallClass.EMERGENCY_TEST, g)}
    assert passes == {RefusalGround.SUSPENSION, RefusalGround.CREDIT, RefusalGround.RESTRICTION}
    assert all(may_refuse(CallClass.INTERNATIONAL, g) for g in RefusalGround)
    assert numbers.to_emergency_provider(CallClass.EMERGENCY_TEST)
    assert not numbers.to_emergency_provider(CallClass.N11)


@pytest.mark.parametrize(
    ("dialled", "plan", "cls"),
    [
        ("911", DialPlan(), CallClass.EMERGENCY),
        ("9911", DialPlan(outside_line_prefix=None), CallClass.EMERGENCY),
        ("8911", DialPlan(outside_line_prefix="8"), CallClass.EMERGENCY),
        ("+1911", DialPlan(), CallClass.EMERGENCY),
        ("933", DialPlan(), CallClass.EMERGENCY_TEST),
        ("9933", DialPlan(), CallClass.EMERGENCY_TEST),
    ],
)
def test_the_dialled_forms_classify_from_the_same_codes(dialled: str, plan: DialPlan, cls: CallClass) -> None:
    got = classify(dialled, CallerSite("212555", "NY"), plan)
    assert got.call_class is cls and got.to_emergency_provider
    assert got.destination == numbers.provider_number(cls)
    assert is_emergency_like("*" + dialled[-3:])  # no feature code may hide either


@pytest.mark.parametrize(
    ("dialled", "sent", "notified"), [("9911", "911", 1), ("933", "933", 0), ("9933", "933", 0)]
)
def test_routing_sends_911_and_933_to_the_emergency_provider_with_the_location_even_when_suspended(
    dialled: str, sent: str, notified: int
) -> None:
    carrier = trunk("carrier", gw("192.0.2.10"))
    provider = trunk("911-provider", gw("192.0.2.91"), kind=TrunkKind.EMERGENCY)
    b, _ = setup(
        carrier,
        provider,
        routes=(OutboundRoute(uuid.uuid4(), carrier.id, ""),),
        emergency=(EmergencyRoute(uuid.uuid4(), provider.id, None),),
    )
    em = Emergency({b.user("1001").id: LOCATION})
    b.engine.service(EmergencyCalls).emergency = em
    tenant = b.org.tenant_a
    b.org.directory.tenants[DOMAIN_A] = TenantInfo(tenant.id, DOMAIN_A, "suspended")
    b.call("1001", dialled)
    assert out_invites(b, "192.0.2.10") == []  # never to a carrier as a number
    [to_provider] = out_invites(b, "192.0.2.91")
    inv = to_provider.message
    assert str(inv.uri).startswith(f"sip:{sent}@192.0.2.91")  # type: ignore[union-attr]
    assert DID_1001 in inv.headers.get("P-Asserted-Identity")  # type: ignore[union-attr]
    assert "Springfield" in inv.body.decode()  # type: ignore[union-attr]
    assert len(em.placed_calls) == notified  # the test call sends no "911 was called" notices
    b.respond(to_provider, 200, to_tag="psap", body=SDP)
    assert final_to_caller(b).status == 200
