"""Insights tests: a tenant with two sites on a real database, and a real event bus (no webhook
subscribed, so only the insights tap sees the events)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy.orm import Session, sessionmaker

from centrex.cpaas.events import EventBus
from centrex.store.db import make_engine, make_sessionmaker, transaction
from centrex.store.models import Site, Tenant


@dataclass
class World:
    sessions: sessionmaker[Session]
    tenant_id: uuid.UUID
    other_id: uuid.UUID
    boston: uuid.UUID
    denver: uuid.UUID
    bus: EventBus


def site(tenant_id: uuid.UUID, name: str) -> Site:
    return Site(
        tenant_id=tenant_id,
        name=name,
        street="1 Main St",
        city=name,
        state="MA",
        postal_code="02110",
        npa_nxx="617555",
    )


@pytest.fixture
def world(db_url: str) -> Iterator[World]:
    engine = make_engine(db_url)
    sessions = make_sessionmaker(engine)
    with transaction(sessions) as s:
        tenant = Tenant(name="Insight Co", sip_domain="insight.example.com")
        other = Tenant(name="Other Co", sip_domain="other-insight.example.com")
        s.add_all([tenant, other])
        s.flush()
        boston, denver = site(tenant.id, "Boston"), site(tenant.id, "Denver")
        s.add_all([boston, denver])
        s.flush()
        ids = tenant.id, other.id, boston.id, denver.id
    bus = EventBus(sessions)  # not started: no webhook thread; the tap runs on the emitter
    try:
        yield World(sessions, *ids, bus)
    finally:
        engine.dispose()
