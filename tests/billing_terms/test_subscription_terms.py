"""Bundle subscriptions during the term, through the API on SQLite and PostgreSQL, with the numbers of
voice-bundles.txt §2.3-§2.6: added bundles prorated on the next invoice, no decrease but the §2.4
exceptions, termination notice 30 days before the term ends, rate-increase notice for the next term."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tests.api.conftest import Api
from tests.billing_terms.helpers import b, invoice, lines_by_source, money, new_tenant, op, put_plan


def subscribe(api: Api, tenant: str, start: str = "2025-01-01", quantity: int = 10) -> str:
    r = api.call(
        "POST",
        f"{b(tenant)}/subscriptions",
        op(api),
        json={"start": start, "quantity": quantity, "rate": "30.00"},
    )
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def change(api: Api, tenant: str, sub: str, **body: Any) -> Any:
    return api.call("POST", f"{b(tenant)}/subscriptions/{sub}/quantity", op(api), json=body)


def bundles(inv: dict[str, Any]) -> Decimal:
    return sum((money(x["amount"]) for x in lines_by_source(inv, "voice-bundles.txt §2.2")), Decimal(0))


def test_added_bundles_are_prorated_on_the_next_invoice(api: Api) -> None:
    tenant = new_tenant(api)
    put_plan(api, tenant)
    sub = subscribe(api, tenant)
    jan = invoice(api, tenant, "2024-12")  # dated 2025-01-01: January in advance
    assert bundles(jan) == Decimal("300.00")

    # §2.3: two more bundles from 15 January: 2 x $30 x 17/31 days = $32.90 for the rest of January
    r = change(api, tenant, sub, quantity=12, effective_on="2025-01-15")
    assert r.status_code == 201, r.text
    assert money(r.json()["prorated_amount"]) == Decimal("32.90")
    assert r.json()["old_quantity"] == 10 and r.json()["new_quantity"] == 12

    feb = invoice(api, tenant, "2025-01")
    prorated = lines_by_source(feb, "voice-bundles.txt §2.3")
    assert [(money(x["amount"]), x["period_start"], x["period_end"]) for x in prorated] == [
        (Decimal("32.90"), "2025-01-15", "2025-01-31")
    ]
    assert bundles(feb) == Decimal("360.00")  # February in advance with 12 bundles
    # + the late charge on January's unpaid $300.00 (cpaas.txt §4.5: 1.5% for the month begun) = 4.50
    assert money(feb["total"]) == Decimal("392.90") + Decimal("4.50")

    mar = invoice(api, tenant, "2025-02")  # billed once only
    assert lines_by_source(mar, "voice-bundles.txt §2.3") == []
    assert bundles(mar) == Decimal("360.00")
    changes = api.call("GET", f"{b(tenant)}/subscriptions/{sub}/changes", op(api)).json()
    assert changes[0]["billed_invoice_id"] == feb["id"]


def test_decrease_refused_except_for_the_exceptions_of_2_4(api: Api) -> None:
    tenant = new_tenant(api)
    put_plan(api, tenant)
    sub = subscribe(api, tenant)
    invoice(api, tenant, "2024-12")
    r = change(api, tenant, sub, quantity=8, effective_on="2025-01-20")
    assert r.status_code == 409, r.text
    assert r.json()["rule"] == "voice-bundles.txt §2.4" and r.json()["field"] == "quantity"
    assert "§2.4" in r.json()["message"]
    r = change(api, tenant, sub, quantity=8, effective_on="2025-01-20", exception="not_a_reason")
    assert r.status_code == 422
    r = change(api, tenant, sub, quantity=8, effective_on="2025-01-20", exception="force_majeure")
    assert r.status_code == 201, r.text
    assert r.json()["prorated_amount"] is None and r.json()["exception"] == "force_majeure"
    assert bundles(invoice(api, tenant, "2025-01")) == Decimal("240.00")


def test_each_invoice_bills_the_quantity_in_force_on_its_date(api: Api) -> None:
    """A change recorded before the invoice of its month is run does not leak into that month."""
    tenant = new_tenant(api)
    put_plan(api, tenant)
    sub = subscribe(api, tenant)
    invoice(api, tenant, "2024-12")
    assert change(api, tenant, sub, quantity=13, effective_on="2025-02-10").status_code == 201
    feb = invoice(api, tenant, "2025-01")
    assert bundles(feb) == Decimal("300.00")  # 10 bundles on 1 February
    assert lines_by_source(feb, "voice-bundles.txt §2.3") == []  # the change is after this date
    mar = invoice(api, tenant, "2025-02")
    assert bundles(mar) == Decimal("390.00")
    # 3 x $30 x 19/28 days = $61.07
    assert [money(x["amount"]) for x in lines_by_source(mar, "voice-bundles.txt §2.3")] == [Decimal("61.07")]
    # on the 1st of a month whose invoice is still to come: that invoice bills it, no proration
    r = change(api, tenant, sub, quantity=14, effective_on="2025-04-01")
    assert r.status_code == 201 and r.json()["prorated_amount"] is None
    apr = invoice(api, tenant, "2025-03")
    assert bundles(apr) == Decimal("420.00")
    assert lines_by_source(apr, "voice-bundles.txt §2.3") == []
    # a change in a month already followed by an issued invoice is refused
    r = change(api, tenant, sub, quantity=15, effective_on="2025-03-20")
    assert r.status_code == 422 and r.json()["field"] == "effective_on"


def test_termination_notice_30_days_before_the_term_ends(api: Api) -> None:
    """§2.5: term 1 Jan-31 Dec 2025; notice on 1 Dec ends service on 31 Dec; a notice on 2 Dec
    is too late: the term renews and service ends on 31 Dec 2026."""
    tenant = new_tenant(api)
    put_plan(api, tenant)
    on_time = subscribe(api, tenant)
    late = subscribe(api, tenant)
    r = api.call(
        "POST",
        f"{b(tenant)}/subscriptions/{on_time}/termination-notice",
        op(api),
        json={"notice_on": "2025-12-01"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["terminates_on"] == "2025-12-31"
    assert r.json()["renewal_notice_by"] == "2025-12-01"
    r = api.call(
        "POST",
        f"{b(tenant)}/subscriptions/{late}/termination-notice",
        op(api),
        json={"notice_on": "2025-12-02"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["terminates_on"] == "2026-12-31"
    again = api.call(
        "POST",
        f"{b(tenant)}/subscriptions/{late}/termination-notice",
        op(api),
        json={"notice_on": "2025-12-03"},
    )
    assert again.status_code == 409 and again.json()["rule"] == "voice-bundles.txt §2.5"
    dec = invoice(api, tenant, "2025-11")
    assert bundles(dec) == Decimal("600.00")  # both still billed in December
    jan = invoice(api, tenant, "2025-12")
    assert bundles(jan) == Decimal("300.00")  # only the renewed one in January 2026
    actions = [e["action"] for e in api.audit(tenant="a")]  # tenant A untouched
    assert "billing.subscription.termination_notice" not in actions


def test_rate_increase_notice_for_the_next_term(api: Api) -> None:
    """§2.6: an increase noticed by 1 Dec applies from the next term (1 Jan 2026); 2 Dec is late (422)."""
    tenant = new_tenant(api)
    put_plan(api, tenant)
    sub = subscribe(api, tenant)
    late = api.call(
        "POST",
        f"{b(tenant)}/subscriptions/{sub}/rate-increase-notice",
        op(api),
        json={"notice_on": "2025-12-02", "rate": "35.00"},
    )
    assert late.status_code == 422, late.text
    assert late.json()["rule"] == "voice-bundles.txt §2.6" and late.json()["field"] == "notice_on"
    r = api.call(
        "POST",
        f"{b(tenant)}/subscriptions/{sub}/rate-increase-notice",
        op(api),
        json={"notice_on": "2025-12-01", "rate": "35.00"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["next_rate_from"] == "2026-01-01" and money(r.json()["next_rate"]) == Decimal("35")
    assert bundles(invoice(api, tenant, "2025-11")) == Decimal("300.00")  # December at $30
    assert bundles(invoice(api, tenant, "2025-12")) == Decimal("350.00")  # January 2026 at $35
