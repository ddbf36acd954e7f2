"""store/types.py Money: an amount of 18 significant digits comes back digit for digit on SQLite and
PostgreSQL (SQLite's NUMERIC would keep a REAL, exact to 15 digits only)."""

from __future__ import annotations

import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select, text

from centrex.store.db import make_engine, make_sessionmaker, transaction
from centrex.store.migrate import upgrade
from centrex.store.models import BillingPlan, Tenant
from centrex.store.models.billing_accounts import TaxBasis, TaxRateRow
from centrex.store.types import money_value

EIGHTEEN_DIGITS = Decimal("123456789012.345678")


def _tenant(session: object) -> uuid.UUID:
    tenant = Tenant(name="Money Co", sip_domain=f"m{uuid.uuid4().hex[:8]}.example.com")
    session.add(tenant)  # type: ignore[attr-defined]
    session.flush()  # type: ignore[attr-defined]
    return tenant.id


def test_eighteen_significant_digits_round_trip_exactly(db_url: str) -> None:
    engine = make_engine(db_url)
    sessions = make_sessionmaker(engine)
    with transaction(sessions) as session:
        tenant_id = _tenant(session)
        session.add(BillingPlan(tenant_id=tenant_id, code="p", seat_monthly=EIGHTEEN_DIGITS))
        session.add(
            TaxRateRow(
                kind="state",
                basis=TaxBasis.PERCENT,
                jurisdiction="US-TX",
                name="t",
                rate=Decimal("0.000001"),
                effective_from=__import__("datetime").date(2026, 1, 1),
            )
        )
    with transaction(sessions) as session:
        plan = session.scalar(select(BillingPlan).where(BillingPlan.tenant_id == tenant_id))
        assert plan is not None
        assert plan.seat_monthly == EIGHTEEN_DIGITS
        assert str(plan.seat_monthly) == "123456789012.345678"
        rate = session.scalar(select(TaxRateRow.rate))
        assert rate == Decimal("0.000001")
        # what the database itself holds: the same digits, no binary rounding
        raw = session.execute(text("SELECT seat_monthly FROM billing_plans")).scalar_one()
        assert Decimal(str(raw)) == EIGHTEEN_DIGITS
    engine.dispose()


def test_money_refuses_floats_and_overflow_and_rounds_half_up() -> None:
    with pytest.raises(TypeError):
        money_value(0.1)
    with pytest.raises(ValueError):
        money_value(Decimal("1000000000000.000000"))
    assert money_value(Decimal("0.0000005")) == Decimal("0.000001")
    assert money_value("24.95") == Decimal("24.950000")


def test_sqlite_migration_keeps_existing_amounts(tmp_path: Path) -> None:
    """Rows written before migration 0005 (REAL on SQLite) read back as the same decimal."""
    engine = make_engine(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    upgrade(engine, "0003")
    tenant_id = uuid.uuid4()
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO tenants (id, name, sip_domain, status, service_type, pricing_plan, created_at,"
                " updated_at) VALUES (:id, 'Old Co', 'old.example.com', 'active', 'hosted-centrex',"
                " 'a-la-carte', '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
            ),
            {"id": tenant_id.hex},
        )
        conn.execute(
            text(
                "INSERT INTO billing_plans (id, tenant_id, code, increment_minimum_s, increment_step_s,"
                " pool_minutes, overage_per_minute, local_per_minute, directory_assistance_per_call,"
                " conference_per_minute, seat_monthly, seats, tax_jurisdictions, created_at, updated_at)"
                " VALUES (:id, :t, 'old', 60, 60, 0, 0.05, 0, 1.99, 0.1, 24.95, 3, '[]',"
                " '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
            ),
            {"id": uuid.uuid4().hex, "t": tenant_id.hex},
        )
    upgrade(engine)
    with transaction(make_sessionmaker(engine)) as session:
        plan = session.scalar(select(BillingPlan))
        assert plan is not None
        assert (plan.seat_monthly, plan.overage_per_minute, plan.conference_per_minute) == (
            Decimal("24.95"),
            Decimal("0.05"),
            Decimal("0.1"),
        )
    engine.dispose()
