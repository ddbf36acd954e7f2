"""Emergency calls are never refused for capacity, credit, suspension, restriction, fair use, fraud
or a nomadic hold; every other call may be."""

from __future__ import annotations

import pytest

from centrex.e911.policy import RefusalGround, may_refuse
from centrex.numbers.classes import CallClass
from centrex.numbers.classify import classify
from centrex.numbers.dialplan import CallerSite, DialPlan


@pytest.mark.parametrize("ground", list(RefusalGround))
def test_emergency_is_never_refused(ground: RefusalGround) -> None:
    assert may_refuse(CallClass.EMERGENCY, ground) is False


@pytest.mark.parametrize("ground", list(RefusalGround))
@pytest.mark.parametrize(
    "call_class", [c for c in CallClass if c not in (CallClass.EMERGENCY, CallClass.EMERGENCY_TEST)]
)
def test_other_calls_may_be_refused(call_class: CallClass, ground: RefusalGround) -> None:
    assert may_refuse(call_class, ground) is True


@pytest.mark.parametrize("ground", list(RefusalGround))
def test_the_933_test_passes_only_suspension_credit_and_restriction(ground: RefusalGround) -> None:
    """e911/numbers.py: 933 is free and checks the address 911 would give; it is no emergency."""
    passes = ground in (RefusalGround.SUSPENSION, RefusalGround.CREDIT, RefusalGround.RESTRICTION)
    assert may_refuse(CallClass.EMERGENCY_TEST, ground) is not passes


def test_the_grounds_of_the_design() -> None:
    assert {g.value for g in RefusalGround} >= {
        "capacity",
        "credit",
        "suspension",
        "restriction",
        "fair_use",
        "fraud",
    }


@pytest.mark.parametrize("dialled", ["911", "9911", "1-911", "+1 911"])
def test_every_way_of_dialling_911_reaches_the_exemption(dialled: str) -> None:
    call = classify(dialled, CallerSite("212226", "NY"), DialPlan())
    assert not any(may_refuse(call.call_class, g) for g in RefusalGround)
