"""`centrex billing ...` as an operator uses it, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

from centrex.billing.plan_service import set_plan
from centrex.billing.rating import rate_period
from centrex.store.access import Principal, TenantData
from centrex.store.db import make_engine, make_sessionmaker, transaction
from centrex.store.models import AuditEntry, InvoiceRow, RatingRun, Role, Tenant, TokenKind
from tests.billing.demo import PLAN, march_cdrs
from tests.billing.helpers import DECK_CSV, demo_deck

CDR_HEADER = "id,caller,callee,call_class,direction,start,duration_ms,disposition,is_intra_enterprise\n"


def centrex(*args: str, data: Path, db: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "centrex.cli", *args, "--data-dir", str(data), "--db", db]
    env = {**os.environ, "COLUMNS": "240"}
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=check, env=env)


def set_demo_plan(db_url: str, domain: str) -> uuid.UUID:
    engine = make_engine(db_url)
    principal = Principal(TokenKind.OPERATOR, uuid.uuid4(), frozenset({Role.OPERATOR}), "operator:test")
    with transaction(make_sessionmaker(engine)) as s:
        tenant = s.scalars(select(Tenant).where(Tenant.sip_domain == domain)).one()
        values = {
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
        }
        set_plan(TenantData(s, principal, tenant.id), values, [])
        tenant_id = tenant.id
    engine.dispose()
    return tenant_id


def test_import_rate_run_and_rerate(tmp_path: Path, db_url: str) -> None:
    demo = json.loads(centrex("demo", "--json", data=tmp_path, db=db_url).stdout)
    deck = tmp_path / "deck.csv"
    deck.write_text(DECK_CSV)
    first = centrex("billing", "import-deck", str(deck), "--name", "demo", data=tmp_path, db=db_url)
    assert "deck demo version 1: 5 rows" in first.stdout
    assert "storing" in first.stderr  # the progress bar
    tenant_id = set_demo_plan(db_url, demo["sip_domain"])

    cdrs = tmp_path / "march.csv"
    cdrs.write_text(
        CDR_HEADER
        + "".join(
            f"{c.id},{c.caller},{c.callee},{c.call_class.value},{c.direction.value},{c.start.isoformat()},"
            f"{c.duration_ms},{c.disposition.value},{c.is_intra_enterprise}\n"
            for c in march_cdrs()
        )
    )
    rated = centrex(
        "billing", "rate", str(cdrs), "--tenant", demo["sip_domain"], "--store", data=tmp_path, db=db_url
    )
    expected = rate_period(march_cdrs(), PLAN, demo_deck()).total
    assert f"total: {expected:,.6f} USD" in rated.stdout
    assert "stored 12 CDR(s), 0 already stored" in rated.stdout
    assert "international" in rated.stdout and "2025-03" in rated.stdout

    run = centrex("billing", "run", "--period", "2025-03", data=tmp_path, db=db_url)
    assert "INV-000001" in run.stdout and "issued" in run.stdout
    again = centrex(
        "billing", "run", "--period", "2025-03", "--tenant", str(tenant_id), data=tmp_path, db=db_url
    )
    assert "skipped" in again.stdout and again.returncode == 0

    for _ in range(2):
        centrex("billing", "rerate", "--period", "2025-03", data=tmp_path, db=db_url)
    engine = make_engine(db_url)
    with make_sessionmaker(engine)() as s:
        runs = list(s.scalars(select(RatingRun).where(RatingRun.tenant_id == tenant_id)))
        invoice = s.scalars(select(InvoiceRow).where(InvoiceRow.tenant_id == tenant_id)).one()
        actors = set(s.scalars(select(AuditEntry.actor).where(AuditEntry.action == "billing.rating_run")))
    engine.dispose()
    assert len(runs) == 3  # the invoice's rating and two re-ratings
    assert {r.fingerprint for r in runs} == {invoice.usage_fingerprint}
    assert {Decimal(r.total).quantize(Decimal("0.000001")) for r in runs} == {expected}
    assert all(a.startswith("cli:") for a in actors)


def test_bad_deck_and_bad_period_are_one_line_errors(tmp_path: Path, sqlite_url: str) -> None:
    deck = tmp_path / "bad.csv"
    deck.write_text("prefix,rate_per_minute,effective_from\n44,abc,2025-01-01\n")
    bad = centrex(
        "billing", "import-deck", str(deck), "--name", "x", data=tmp_path, db=sqlite_url, check=False
    )
    assert bad.returncode == 2
    assert "line 2, field 'rate_per_minute'" in bad.stderr
    period = centrex("billing", "run", "--period", "2025-13", data=tmp_path, db=sqlite_url, check=False)
    assert period.returncode == 2 and "period must be a month as YYYY-MM" in period.stderr
