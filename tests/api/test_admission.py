"""The admission gate on its own: places, the line, hand-over in arrival order, refusals."""

from __future__ import annotations

import asyncio

from centrex.api.admission import AdmissionConfig, Gate
from centrex.api.app import WORKER_THREADS, admission_config
from centrex.store.db import make_engine, pool_capacity


async def test_waiters_get_places_in_arrival_order_and_the_rest_are_refused() -> None:
    gate = Gate(AdmissionConfig(limit=2, queue=2, max_wait=5))
    assert await gate.enter() and await gate.enter()
    order: list[str] = []

    async def wait(name: str) -> None:
        if await gate.enter():
            order.append(name)

    first = asyncio.create_task(wait("first"))
    await asyncio.sleep(0)
    second = asyncio.create_task(wait("second"))
    await asyncio.sleep(0)
    assert len(gate.waiting) == 2
    assert not await gate.enter()  # the line is full: refused at once
    gate.leave()
    await first
    gate.leave()
    await second
    assert order == ["first", "second"] and gate.inside == 2


async def test_a_wait_longer_than_max_wait_is_refused_and_frees_its_place_in_line() -> None:
    gate = Gate(AdmissionConfig(limit=1, queue=5, max_wait=0.05))
    assert await gate.enter()
    assert not await gate.enter()
    assert len(gate.waiting) == 0 and gate.inside == 1
    gate.leave()
    assert gate.inside == 0 and await gate.enter()


def test_the_gate_stays_below_the_pool_and_the_threads(tmp_path: object) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/gate.sqlite3")
    asked = admission_config(engine, AdmissionConfig(limit=500))
    assert asked.limit <= pool_capacity(engine) - 2 and asked.limit < WORKER_THREADS
    engine.dispose()
