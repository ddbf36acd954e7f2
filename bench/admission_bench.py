"""Admission decision latency (prints figures; never a timed test).

    .venv/bin/python bench/admission_bench.py [--sites 1000] [--calls 10000] [--tenants 1]

Loads the capacity service (capacity/admission.py) with ``--calls`` calls up across ``--sites``
metered à-la-carte sites (spread over ``--tenants`` enterprises; one enterprise is the worst case,
every site in one sharing pool), then times single admission decisions of one more call at a random
site (each admitted call ended again, so the load stays at ``--calls``) and prints p50/p99 in µs.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
import uuid
from types import SimpleNamespace
from typing import Any, cast

from centrex.calls.model import Call
from centrex.capacity.admission import Blocked, CapacityAdmission
from centrex.capacity.rules import Enterprise, SiteCapacity
from centrex.numbers.classes import CallClass
from centrex.numbers.classify import Classification, DestinationKind


class Source:
    def __init__(self, enterprises: dict[uuid.UUID, Enterprise]) -> None:
        self.enterprises = enterprises

    def enterprise(self, tenant_id: uuid.UUID, now: float) -> Enterprise | None:
        return self.enterprises.get(tenant_id)

    def record_blocked(self, blocked: list[Blocked]) -> None:
        pass


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sites", type=int, default=1000)
    parser.add_argument("--calls", type=int, default=10_000)
    parser.add_argument("--tenants", type=int, default=1)
    parser.add_argument("--decisions", type=int, default=50_000)
    args = parser.parse_args()
    rng = random.Random(15)
    tenants = [uuid.uuid4() for _ in range(args.tenants)]
    sites_of: dict[uuid.UUID, list[SiteCapacity]] = {t: [] for t in tenants}
    for i in range(args.sites):
        # 20 units on a T1 or 60 on a DS3 (the contract's examples), metered: every site bursts.
        units, kbps = (20, 1536) if i % 2 else (60, 44_736)
        sites_of[tenants[i % len(tenants)]].append(SiteCapacity(uuid.uuid4(), units, kbps, metered=True))
    enterprises = {t: Enterprise(t, True, {s.id: s for s in sites_of[t]}) for t in tenants}
    service = CapacityAdmission(Source(enterprises))
    service.core = cast(Any, SimpleNamespace(directory=SimpleNamespace(user_by_number=lambda t, n: None)))
    tenant_info = {t: SimpleNamespace(id=t) for t in tenants}
    classification = Classification(
        "2125550199", CallClass.LD_INTERSTATE, "+12125550199", DestinationKind.E164
    )
    all_sites = [(t, s.id) for t in tenants for s in sites_of[t]]

    def call(tenant: uuid.UUID, site: uuid.UUID) -> Call:
        c = SimpleNamespace(
            id=uuid.uuid4(),
            tenant=tenant_info[tenant],
            device=True,
            site_id=site,
            classification=classification,
        )
        return cast(Call, c)

    up = 0
    while up < args.calls:  # spread the load evenly, within each site's units
        t, s = all_sites[up % len(all_sites)]
        if service.admit(call(t, s), 0.0) is None:
            up += 1
    times: list[float] = []
    refused = 0
    for _ in range(args.decisions):
        t, s = rng.choice(all_sites)
        c = call(t, s)
        t0 = time.perf_counter_ns()
        verdict = service.admit(c, 0.0)
        times.append((time.perf_counter_ns() - t0) / 1000)
        if verdict is None:
            service.ended(c, 0.0)
        else:
            refused += 1
    times.sort()
    p50, p99 = times[len(times) // 2], times[int(len(times) * 0.99)]
    print(
        f"admission: {args.calls:,} calls up across {args.sites:,} sites in {args.tenants} enterprise(s): "
        f"{args.decisions:,} decisions p50 {p50:.1f} µs, p99 {p99:.1f} µs, "
        f"mean {statistics.fmean(times):.1f} µs ({refused:,} refused)"
    )


if __name__ == "__main__":
    main()
