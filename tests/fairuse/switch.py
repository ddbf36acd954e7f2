"""A Centrex SIP service on 127.0.0.1 (port 0) over the demo tenant and a real SQLite store, that
a test can restart on the same database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from centrex.adapters.call_records import CallRecords
from centrex.adapters.directory_store import StoreDirectory
from centrex.calls.guard import GuardConfig
from centrex.calls.service import SipConfig, SipService
from centrex.ops.demo import DEMO_DOMAIN, seed_demo
from centrex.store.db import make_engine, make_sessionmaker, transaction
from centrex.transport.stream import StreamLimits


@dataclass
class Switch:
    service: SipService
    sessions: sessionmaker[Session]
    passwords: dict[str, str]
    config: SipConfig
    domain: str = DEMO_DOMAIN

    @property
    def port(self) -> int:
        return self.service.port

    async def restart(self) -> None:
        await self.service.stop()
        self.service = make_service(self.sessions, self.config)
        await self.service.start()


def make_service(sessions: sessionmaker[Session], config: SipConfig) -> SipService:
    return SipService(StoreDirectory(sessions), config, records=CallRecords(sessions))


def base_config() -> SipConfig:
    # The scanner filter and the rate limit are not what these tests are about.
    return SipConfig(
        host="127.0.0.1",
        port=0,
        digest_algorithms=("MD5", "SHA-256"),
        guard=GuardConfig(rate_per_s=1000, burst=1000),
        stream=StreamLimits(),
        directory_cache_s=0,
    )


@pytest.fixture
def seeded(sqlite_url: str, tmp_path: Path) -> tuple[sessionmaker[Session], dict[str, str]]:
    engine = make_engine(sqlite_url)
    sessions = make_sessionmaker(engine)
    with transaction(sessions) as session:
        demo = seed_demo(session, tmp_path)
    return sessions, {ln.extension: ln.sip_password for ln in demo.lines}


async def running(
    seeded: tuple[sessionmaker[Session], dict[str, str]], config: SipConfig
) -> AsyncIterator[Switch]:
    sessions, passwords = seeded
    switch = Switch(make_service(sessions, config), sessions, passwords, config)
    await switch.service.start()
    try:
        yield switch
    finally:
        await switch.service.stop()


@pytest.fixture
async def switch(seeded: tuple[sessionmaker[Session], dict[str, str]]) -> AsyncIterator[Switch]:
    async for s in running(seeded, base_config()):
        yield s


@pytest.fixture
async def short_idle_switch(seeded: tuple[sessionmaker[Session], dict[str, str]]) -> AsyncIterator[Switch]:
    config = replace(base_config(), stream=StreamLimits(idle_s=1.0, per_source=50, total=1000))
    async for s in running(seeded, config):
        yield s
