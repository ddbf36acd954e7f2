"""The contract's bursting examples with real SIPp calls (voip-service-guide.txt §V.3.7, §2.2):
- Location A buys 20 simultaneous calling units on a T1 and Location B 40 on a DS3: A bursts up to
  41 calls, "the maximum simultaneous calls supportable on a T1" — 42 calls at once from A, 41
  answered, the 42nd refused with 503 naming the link;
- Location C buys 60 on a DS3 and D 60 on a DS3: C bursts to 110, "limited to bursting to an
  additional 50" — 111 calls at once from C, 110 answered, the 111th refused naming the burst.
Each refusal is counted at the bursting site."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest
from sqlalchemy import select, update

from centrex.capacity.admission import CapacityAdmission
from centrex.capacity.storage import StoreCapacity
from centrex.store.db import transaction
from centrex.store.models import Site, Tenant
from centrex.store.models.enums import PricingPlan
from centrex.store.models.trunks import GatewayRole, OutboundRouteRow, TrunkKind
from tests.interop.conftest import DEMO_DOMAIN, SCENARIOS, SIPP, Server, free_udp_port
from tests.interop.test_interop_trunks import add_trunk, use_store_routes

from .test_capacity_sipp import HERE

pytestmark = pytest.mark.interop

EXAMPLES = [
    pytest.param((20, 1536), (40, 44_736), 41, "link", id="A-20-on-T1-beside-40-on-DS3"),
    pytest.param((60, 44_736), (60, 44_736), 110, "burst", id="C-60-on-DS3-beside-60-on-DS3"),
]


async def sipp(args: list[str]) -> tuple[int, str]:
    assert SIPP is not None
    proc = await asyncio.create_subprocess_exec(
        SIPP, *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), 60)
    except TimeoutError:
        proc.kill()
        out, _ = await proc.communicate()
    return proc.returncode or 0, out.decode(errors="replace")


@pytest.mark.parametrize(("here", "there", "most", "limit"), EXAMPLES)
async def test_a_metered_site_bursts_as_the_contracts_examples(
    server: Server, here: tuple[int, int], there: tuple[int, int], most: int, limit: str
) -> None:
    calls = most + 1
    carrier = free_udp_port()
    trunk = add_trunk(server, "carrier", TrunkKind.CARRIER, [(carrier, GatewayRole.PRIMARY)])
    with transaction(server.sessions) as s:
        s.add(OutboundRouteRow(trunk_id=trunk, prefix="1"))
        s.execute(update(Tenant).values(pricing_plan=PricingPlan.A_LA_CARTE))
        s.execute(
            update(Site)
            .where(Site.name == "Main Office")
            .values(calling_units=here[0], bandwidth_kbps=here[1], metered=True)
        )
        s.execute(
            update(Site)
            .where(Site.name == "Chicago Branch")
            .values(calling_units=there[0], bandwidth_kbps=there[1], metered=True)
        )
    use_store_routes(server)
    engine = server.service.engine
    source = engine.service(CapacityAdmission).source
    assert isinstance(source, StoreCapacity)
    source.ttl_s = 0.0
    a = free_udp_port()
    await server.register("1001", a)

    common = [
        "-i",
        "127.0.0.1",
        "-nostdin",
        "-key",
        "domain",
        DEMO_DOMAIN,
        "-key",
        "server_port",
        str(server.port),
    ]
    gw = asyncio.create_task(
        sipp(
            [
                "-sf",
                str(SCENARIOS / "uas_answer.xml"),
                "-p",
                str(carrier),
                "-s",
                "gw",
                *common,
                "-m",
                str(calls - 1),
                "-timeout",
                "30s",
            ]
        )
    )
    await asyncio.sleep(0.3)
    rc, out = await sipp(
        [
            "-sf",
            str(HERE / "uac_call_held_long.xml"),
            f"127.0.0.1:{server.port}",
            "-p",
            str(a),
            "-s",
            "1001",
            *common,
            "-key",
            "callee",
            "2125550199",
            "-au",
            "1001",
            "-ap",
            server.passwords["1001"],
            "-m",
            str(calls),
            "-l",
            str(calls),
            "-r",
            "40",  # 40 new calls a second, each held 12 s: all up at once, without a burst of setups
            "-timeout",
            "45s",
        ]
    )
    _, gw_out = await gw
    seen = Counter(c.hangup_cause for c in server.ended)
    # On the shared test box the gateway SIPp may drop a call of the hundred (its leg then fails
    # over and ends): what is judged is the switch — exactly one refusal, for this limit.
    assert rc != 0  # one of the caller's calls was refused: SIPp counts it failed
    refused = {cause: n for cause, n in seen.items() if cause.startswith("capacity_")}
    assert refused == {f"capacity_{limit}": 1}, (seen, out[-1500:], gw_out[-1500:])
    answered = [c for c in server.ended if c.disposition == "answered"]
    # (Seen on this 2-core box under a full suite: up to 4 of 111 dropped by the gateway SIPp.)
    assert calls - 11 <= len(answered) <= calls - 1, seen
    with server.sessions() as s:
        main = s.scalars(select(Site).where(Site.name == "Main Office")).one()
    assert engine.service(CapacityAdmission).blocked[(main.tenant_id, main.id, limit)][0] == 1
