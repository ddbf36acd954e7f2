"""The CPaaS Monthly Platform Fee on a plan (cpaas.txt §4.3), and a billing run through the numpy batch
path giving the same invoice as the scalar reference — on SQLite and PostgreSQL."""

from __future__ import annotations

import random
import uuid
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from centrex.billing.batch_period import BATCH_THRESHOLD
from centrex.billing.cdr_service import records_of_month
from centrex.billing.deck_service import deck_for_plan
from centrex.billing.invoice import InvoiceInputs, assemble_invoice
from centrex.billing.plan_service import rating_plan, require_plan
from centrex.billing.rating_service import rate_records
from centrex.store.access import TenantData
from centrex.store.db import transaction
from tests.api.conftest import Api
from tests.billing.helpers import DECK_CSV
from tests.billing_terms.helpers import b, invoice, lines_by_source, money, new_tenant, op, put_plan


def test_platform_fee_first_invoice_initial_month_in_arrears_and_next_in_advance(api: Api) -> None:
    tenant = new_tenant(api)
    put_plan(api, tenant, platform_fee_monthly="500.00", platform_fee_accepted_on="2025-03-15")
    assert lines_by_source(invoice(api, tenant, "2025-02"), "cpaas.txt §4.3") == []  # 1 March: before
    first = lines_by_source(invoice(api, tenant, "2025-03"), "cpaas.txt §4.3")  # 1 April
    assert [(x["period_start"], x["period_end"], money(x["amount"])) for x in first] == [
        ("2025-03-01", "2025-03-31", Decimal("500.00")),
        ("2025-04-01", "2025-04-30", Decimal("500.00")),
    ]
    then = lines_by_source(invoice(api, tenant, "2025-04"), "cpaas.txt §4.3")  # 1 May: May in advance
    assert [(x["period_start"], money(x["amount"])) for x in then] == [("2025-05-01", Decimal("500.00"))]
    plan = api.call("GET", f"{b(tenant)}/plan", op(api)).json()
    assert plan["platform_fee_accepted_on"] == "2025-03-15"


CLASSES = [
    ("ld_interstate", "+1303555{:04d}"),
    ("ld_intrastate", "+1512555{:04d}"),
    ("local", "+1214555{:04d}"),
    ("international", "+4420{:07d}"),
    ("international", "+33{:09d}"),
    ("directory_assistance", "+1214555{:04d}"),
    ("toll_free", "+1800555{:04d}"),
]


def many_cdrs(n: int) -> list[dict[str, Any]]:
    rng = random.Random(7)
    start = datetime(2025, 3, 1, tzinfo=UTC)
    out = []
    for i in range(n):
        call_class, pattern = CLASSES[rng.randrange(len(CLASSES))]
        out.append(
            {
                "id": f"b{i}",
                "caller": "+12145550100",
                "callee": pattern.format(rng.randrange(10_000)),
                "call_class": call_class,
                "direction": "outbound",
                "start": (start + timedelta(seconds=rng.randrange(30 * 86400))).isoformat(),
                "duration_ms": rng.choice([0, 500, 59_000, 61_000, 125_000, 3_600_000]),
            }
        )
    return out


def test_batch_billing_run_gives_the_scalar_invoice(api: Api) -> None:
    r = api.client.post(
        "/api/v1/rate-decks?name=demo",
        content=DECK_CSV,
        headers={**api.as_(op(api)), "Content-Type": "text/csv"},
    )
    assert r.status_code == 201, r.text
    tenant = new_tenant(api)
    put_plan(
        api,
        tenant,
        deck_name="demo",
        pool_minutes=2000,
        overage_per_minute="0.05",
        directory_assistance_per_call="1.99",
        seats=10,
        seat_monthly="24.95",
    )
    cdrs = many_cdrs(BATCH_THRESHOLD + 500)
    r = api.call("POST", f"{b(tenant)}/cdrs", op(api), json={"cdrs": cdrs})
    assert r.status_code == 201, r.text

    # both paths over the stored month: same charges (but the reason texts) and fingerprint
    with transaction(api.app.state.sessionmaker) as session:
        from centrex.store.access import Principal
        from centrex.store.models import Role, TokenKind

        principal = Principal(TokenKind.OPERATOR, uuid.uuid4(), frozenset({Role.OPERATOR}), "operator:test")
        data = TenantData(session, principal, uuid.UUID(tenant))
        plan = require_plan(data)
        deck, _ = deck_for_plan(session, plan)
        records = records_of_month(data, date(2025, 3, 1))
        rating = rating_plan(plan)
        scalar = rate_records(records, rating, deck, batch=False)
        batch = rate_records(records, rating, deck, batch=True)
        assert batch.fingerprint == scalar.fingerprint
        assert [replace(c, reasons=()) for c in scalar.charges] == list(batch.charges)
        assert scalar.total > 0 and scalar.unrated == ()
        expected = assemble_invoice(
            InvoiceInputs(tenant_id=tenant, invoice_date=date(2025, 4, 1), recurring=[], usage=scalar)
        )

    # the billing run (many CDRs: the batch path) issues the invoice the scalar path would
    inv = invoice(api, tenant, "2025-03")
    usage = [x for x in inv["lines"] if x["kind"] in ("usage", "overage")]
    assert [(x["description"], x["amount"], len(x["cdr_ids"])) for x in usage] == [
        (x.description, str(x.amount), len(x.cdr_ids))
        for x in expected.lines
        if x.kind.value in ("usage", "overage")
    ]
    run = api.call("GET", f"{b(tenant)}/rating-runs", op(api)).json()["items"][-1]
    assert run["fingerprint"] == scalar.fingerprint and run["cdr_count"] == len(cdrs)
    assert money(inv["subtotal"]) == Decimal("249.50") + sum((money(x["amount"]) for x in usage), Decimal(0))
