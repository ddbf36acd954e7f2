"""Billing storage on SQLite and PostgreSQL: gap-free numbers, money round trips, rating runs."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from dataclasses import asdict
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from centrex.billing import cdr_service, days, deck_service, invoice_service, plan_service, rating_service
from centrex.billing.cdr import CallRecord
from centrex.billing.money import stored_amount
from centrex.billing.rating import rate_period
from centrex.store.access import OperatorData, Principal, TenantData
from centrex.store.db import make_engine, make_sessionmaker, transaction
from centrex.store.errors import Invalid
from centrex.store.models import DocumentCounter, Operator, RateDeckRow, Role, Tenant, TokenKind
from centrex.store.sequences import next_number
from tests.billing.demo import PLAN, march_cdrs
from tests.billing.helpers import DECK_CSV, demo_deck


def operator() -> Principal:
    return Principal(TokenKind.OPERATOR, uuid.uuid4(), frozenset({Role.OPERATOR}), "operator:test")


@pytest.fixture
def factory(db_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(db_url)
    yield make_sessionmaker(engine)
    engine.dispose()


def test_migration_starts_the_invoice_series(factory: sessionmaker[Session]) -> None:
    with factory() as s:
        assert s.scalar(select(DocumentCounter.last_value).where(DocumentCounter.series == "invoice")) == 0


def test_a_rolled_back_issue_gives_its_number_back(factory: sessionmaker[Session]) -> None:
    with transaction(factory) as s:
        assert next_number(s, "invoice") == 1
    s = factory()
    with s.begin():
        assert next_number(s, "invoice") == 2
        s.rollback()
    s.close()
    with transaction(factory) as s:
        assert next_number(s, "invoice") == 2
        assert next_number(s, "credit") == 1  # a new series starts at 1


def test_concurrent_issuers_get_distinct_consecutive_numbers(factory: sessionmaker[Session]) -> None:
    got: list[int] = []
    lock = threading.Lock()

    def issue() -> None:
        for _ in range(10):
            with transaction(factory) as s:
                n = next_number(s, "invoice")
            with lock:
                got.append(n)

    threads = [threading.Thread(target=issue) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert sorted(got) == list(range(1, 41))


def test_deck_money_round_trips_exactly_and_rating_is_idempotent(factory: sessionmaker[Session]) -> None:
    with transaction(factory) as s:
        tenant = Tenant(name="Acme Dental", sip_domain="acme.example.com")
        s.add_all([tenant, Operator(name="o", email="o@example.com")])
        s.flush()
        made = deck_service.import_deck(
            OperatorData(s, operator()), "demo", DECK_CSV.splitlines(keepends=True)
        )
        data = TenantData(s, operator(), tenant.id)
        plan_service.set_plan(
            data,
            {
                "code": "pbx-100",
                "deck_name": "demo",
                "increment_minimum_s": 60,
                "increment_step_s": 60,
                "pool_minutes": 100,
                "overage_per_minute": Decimal("0.05"),
                "local_per_minute": Decimal(0),
                "directory_assistance_per_call": Decimal("1.99"),
                "conference_per_minute": Decimal("0.10"),
                "seat_monthly": Decimal("24.95"),
                "seats": 10,
                "tax_jurisdictions": [],
                "tax_lines": None,
            },
            [],
        )
        assert cdr_service.store_cdrs(data, [_json(c) for c in march_cdrs()]) == (12, 0)
        tenant_id, version_id = tenant.id, made.version.id
    deck_service._DECKS.clear()  # read the deck back from the database, not the cache
    with transaction(factory) as s:
        stored = s.scalars(select(RateDeckRow).where(RateDeckRow.version_id == version_id))
        rates = sorted(stored_amount(r.rate_per_minute) for r in stored)
        assert rates == [Decimal(x) for x in ("0.01", "0.015", "0.02", "0.025", "0.095")]
        data = TenantData(s, operator(), tenant_id)
        first, rated = rating_service.rate_month(data, date(2025, 3, 1))
        second, _ = rating_service.rate_month(data, date(2025, 3, 1))
    assert first.fingerprint == second.fingerprint and first.id != second.id
    assert rated.total == rate_period(march_cdrs(), PLAN, demo_deck()).total
    assert rated.deck_ref == "demo@1"
    with transaction(factory) as s:
        invoice = invoice_service.issue_invoice(TenantData(s, operator(), tenant_id), date(2025, 3, 1))
        assert (invoice.number, invoice.sequence, invoice.invoice_date) == ("INV-000001", 1, date(2025, 4, 1))
    with pytest.raises(Invalid) as refused:
        days.parse_period("2025-13")
    assert refused.value.field == "period" and refused.value.rule == "period"


def _json(c: CallRecord) -> dict[str, object]:
    d = asdict(c)
    return {**d, "start": d["start"].isoformat()}
