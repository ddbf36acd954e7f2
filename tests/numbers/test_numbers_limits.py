"""voip-service-guide.txt §V.2: no more than eight DIDs per simultaneous call (8:1) on Hosted IP
Centrex with the unlimited local and LD pricing option."""

from __future__ import annotations

import pytest

from centrex.numbers.limits import DIDS_PER_SIMULTANEOUS_CALL, check_did_count, max_dids
from centrex.numbers.service import CallingPlan, ServiceType

HIPC, UNLIMITED = ServiceType.HOSTED_IP_CENTREX, CallingPlan.UNLIMITED_LOCAL_LD


def test_eight_dids_per_simultaneous_call() -> None:
    assert DIDS_PER_SIMULTANEOUS_CALL == 8
    assert max_dids(1, HIPC, UNLIMITED) == 8
    assert max_dids(41, HIPC, UNLIMITED) == 328  # a T1's 41 simultaneous calls (§I.2.2)
    assert max_dids(0, HIPC, UNLIMITED) == 0


@pytest.mark.parametrize(
    ("service", "plan"),
    [
        (ServiceType.HOSTED_IP_CENTREX, CallingPlan.METERED),
        (ServiceType.IP_TRUNKING, CallingPlan.UNLIMITED_LOCAL_LD),
        (ServiceType.IP_INTEGRATED_ACCESS, CallingPlan.UNLIMITED_LOCAL_LD),
    ],
)
def test_no_limit_outside_the_rule(service: ServiceType, plan: CallingPlan) -> None:
    assert max_dids(5, service, plan) is None
    assert check_did_count(1000, 5, service, plan) is None


def test_at_the_limit_is_fine_one_over_is_not() -> None:
    assert check_did_count(80, 10, HIPC, UNLIMITED) is None
    violation = check_did_count(81, 10, HIPC, UNLIMITED)
    assert violation is not None
    assert (violation.limit, violation.excess, violation.units_needed) == (80, 1, 11)
    message = str(violation)
    assert message.startswith("81 DIDs on 10 simultaneous calling unit(s) exceeds the limit of 80")
    assert "raise simultaneous calling to 11 unit(s)" in message
    assert (
        "voip-service-guide.txt §V.2" in message
        and "no more than eight DIDs per simultaneous call" in message
    )


def test_negative_inputs_refused() -> None:
    with pytest.raises(ValueError, match="calling_units -1"):
        max_dids(-1, HIPC, UNLIMITED)
    with pytest.raises(ValueError, match="did_count -1"):
        check_did_count(-1, 1, HIPC, UNLIMITED)
