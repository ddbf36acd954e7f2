"""Numbers and 911 storage on SQLite and PostgreSQL: the stored rate-center table feeds the pure
rules, a failed port completion leaves nothing half-done, usage only moves forward, and the
database itself keeps one registered location per user or device."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from centrex.numbers import port_storage, storage
from centrex.numbers.ratecenters import is_local_call
from centrex.store.access import OperatorData, Principal, TenantData
from centrex.store.db import make_engine, make_sessionmaker, transaction
from centrex.store.errors import Conflict
from centrex.store.models import PhoneNumber, Role, TokenKind
from centrex.store.models.numbering import LocationSubject, NumberUsage, PortOrder, RegisteredLocation
from tests.support.world import World, build_world
from tests.support.world_numbers import main_number

RATE_CENTERS = """npa,nxx,rate_center,lata,state
201,222,JERSEY CITY,224,NJ
201,555,JERSEY CITY,224,NJ
973,222,NEWARK,224,NJ
609,222,TRENTON,222,NJ
"""


def operator() -> Principal:
    return Principal(TokenKind.OPERATOR, uuid.uuid4(), frozenset({Role.OPERATOR}), "operator:test")


@pytest.fixture
def factory(db_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(db_url)
    yield make_sessionmaker(engine)
    engine.dispose()


@pytest.fixture
def world(factory: sessionmaker[Session]) -> World:
    with transaction(factory) as s:
        return build_world(s)


def test_stored_rate_centers_feed_the_local_call_rule(factory: sessionmaker[Session]) -> None:
    with transaction(factory) as s:
        assert storage.import_rate_centers(OperatorData(s, operator()), RATE_CENTERS) == 4
    with factory() as s:
        table = storage.rate_center_table(s)
        assert is_local_call(table, "201222", "201555") is True
        assert is_local_call(table, "201222", "609222") is False
        assert is_local_call(table, "201222", "415222") is None
    with transaction(factory) as s:  # a re-import replaces, never appends
        storage.import_rate_centers(
            OperatorData(s, operator()), "npa_nxx,rate_center,lata,state\n415222,SF,722,CA\n"
        )
    with factory() as s:
        assert list(storage.rate_center_table(s).by_npa_nxx) == ["415222"]


def test_a_port_completion_that_fails_changes_nothing(factory: sessionmaker[Session], world: World) -> None:
    """Tenant B already holds the second number: completing A's order is refused, and the first
    number, already added in the same transaction, is rolled back with it."""
    with transaction(factory) as s:
        data = TenantData(s, operator(), world.a.id)
        order = s.get(PortOrder, world.a.ids["port_foc"])
        assert order is not None
        order.numbers = [order.numbers[0], main_number(world.b)]
        first = order.numbers[0]
    with pytest.raises(Conflict) as refused, transaction(factory) as s:
        data = TenantData(s, operator(), world.a.id)
        order = s.get(PortOrder, world.a.ids["port_foc"])
        assert order is not None
        port_storage.complete_port_order(data, order, datetime.now(UTC).date() + timedelta(days=1))
    assert "belongs to another account" in refused.value.message
    with factory() as s:
        order = s.get(PortOrder, world.a.ids["port_foc"])
        assert order is not None and order.status == "foc"
        assert s.scalar(select(PhoneNumber).where(PhoneNumber.e164 == first)) is None


def test_number_use_only_moves_forward(factory: sessionmaker[Session], world: World) -> None:
    now = datetime.now(UTC)
    e164 = main_number(world.a)
    with transaction(factory) as s:
        assert storage.record_number_use(s, e164, now) is True
        assert storage.record_number_use(s, e164, now - timedelta(days=5)) is True
        assert storage.record_number_use(s, "+19995550000", now) is False
    with factory() as s:
        usage = s.scalar(select(NumberUsage).where(NumberUsage.number_id == world.a.ids["number"]))
        assert usage is not None and usage.last_used_at == now.replace(
            microsecond=usage.last_used_at.microsecond
        )
        assert usage.last_used_at is not None and abs(usage.last_used_at - now) < timedelta(seconds=1)


def test_one_registered_location_per_user_is_a_database_rule(
    factory: sessionmaker[Session], world: World
) -> None:
    values = dict(
        tenant_id=world.a.id,
        subject_type=LocationSubject.USER,
        subject_id=world.a.ids["end_user"],
        house_number="2",
        street="Main St",
        city="Springfield",
        state="IL",
        postal_code="62701",
    )
    with pytest.raises(IntegrityError), transaction(factory) as s:
        s.add(RegisteredLocation(**values))
        s.flush()


def test_did_limit_counts_only_assigned_dids_of_the_tenant(
    factory: sessionmaker[Session], world: World
) -> None:
    with factory() as s:
        status = storage.did_limit_status(TenantData(s, operator(), world.a.id))
        # world.py: one site of 4 calling units, hosted centrex, unmetered; its numbers reserved.
        assert (status.calling_units, status.assigned_dids, status.limit) == (4, 0, 32)
