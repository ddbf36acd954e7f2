"""The relay keeps within the process's descriptor limit: past its budget a call is refused a relay
(PortsExhausted, so the engine leaves the call unanchored) instead of taking the descriptors the
database and SIP connections need; freeing a relay makes room again."""

from __future__ import annotations

import resource

import pytest

from centrex.media.errors import PortsExhausted
from centrex.media.ports import PortAllocator
from centrex.media.relay import FD_RESERVE, SOCKETS_PER_RELAY, RelayManager, relay_budget


def test_the_budget_follows_the_descriptor_limit() -> None:
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    budget = relay_budget()
    if soft == resource.RLIM_INFINITY:
        assert budget is None
    else:
        assert budget == max(0, (soft - FD_RESERVE) // SOCKETS_PER_RELAY)
    assert relay_budget(reserve=10**9) == 0 or soft == resource.RLIM_INFINITY


async def test_past_the_budget_calls_get_no_relay_until_one_ends() -> None:
    relays = RelayManager(PortAllocator(41000, 41100), bind_host="127.0.0.1", max_relays=2)
    relays.create_now("one")
    relays.create_now("two")
    with pytest.raises(PortsExhausted, match="descriptor limit"):
        relays.create_now("three")
    relays.destroy("one")
    assert relays.create_now("three").call_id == "three"
    relays.destroy("two")
    relays.destroy("three")
