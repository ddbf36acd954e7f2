"""Taxes and surcharges from the stored table (cpaas.txt §4.7, §4.8), through the API on SQLite and
PostgreSQL: USF on the interstate share (64.9% safe harbor or a traffic study), E911 per line by
jurisdiction, state and local taxes, pass-through surcharges, effective dates and exemption
certificates with a jurisdiction and an expiry."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from centrex.billing.lines import LineKind, make_line
from centrex.billing.taxes import (
    Effective,
    PercentTax,
    PerLineFee,
    TaxKind,
    TaxProfile,
    TaxTable,
    UsfFactor,
    compute_taxes,
)
from tests.api.conftest import Api
from tests.billing_terms.helpers import b, invoice, money, new_tenant, op, put_plan

TABLE_CSV = """kind,basis,jurisdiction,name,rate,effective_from,effective_to,source
federal_usf,usf_factor,US,Federal USF,0.376,2026-01-01,2026-04-01,FCC DA 25-1026
e911,per_line,US-TX,E911 fee,0.50,2017-01-01,,demo figure
e911,per_line,US-IL,E911 fee,0.87,2017-01-01,,NENA 2017
state,percent,US-TX,Texas state sales tax,0.0625,2020-01-01,,
local,percent,US-TX-DALLAS,Dallas city sales tax,0.01,2020-01-01,,
carrier_surcharge,percent,*,Carrier cost recovery (pass-through),0.01862,2024-01-01,,cpaas.txt §4.8
"""
CSV = {"Content-Type": "text/csv"}


def load_table(api: Api) -> list[dict[str, Any]]:
    r = api.client.post("/api/v1/tax-rates/import", content=TABLE_CSV, headers={**api.as_(op(api)), **CSV})
    assert r.status_code == 201, r.text
    return list(r.json())


def texas_tenant(api: Api) -> str:
    tenant = new_tenant(api)
    put_plan(
        api, tenant, seats=10, seat_monthly="24.95", tax_jurisdictions=["US-TX", "US-TX-DALLAS"], tax_lines=10
    )
    return tenant


def taxes_of(inv: dict[str, Any]) -> dict[str, Decimal]:
    return {x["description"]: money(x["amount"]) for x in inv["lines"] if x["kind"] in ("tax", "surcharge")}


def test_invoice_taxes_come_from_the_stored_table(api: Api) -> None:
    load_table(api)
    tenant = texas_tenant(api)
    feb = invoice(api, tenant, "2026-01")  # dated 2026-02-01; base: 10 seats x $24.95 = $249.50
    got = taxes_of(feb)
    # USF: 249.50 x 64.9% x 37.6% = 60.88; E911 TX: 10 lines x 0.50; TX 6.25% = 15.59;
    # Dallas 1% = 2.50 (2.495 half up); carrier 1.862% = 4.65. Illinois' fee does not apply.
    assert got == {
        "Federal USF 37.6% of the 64.9% interstate share (VoIP safe harbor)": Decimal("60.88"),
        "E911 fee (US-TX)": Decimal("5.00"),
        "Texas state sales tax 6.25%": Decimal("15.59"),
        "Dallas city sales tax 1%": Decimal("2.50"),
        "Carrier cost recovery (pass-through) 1.862%": Decimal("4.65"),
    }
    # the same as the pure rule over the same table
    table = TaxTable(
        usf=(UsfFactor(Decimal("0.376"), Effective(date(2026, 1, 1), date(2026, 4, 1))),),
        per_line=(
            PerLineFee("US-TX", TaxKind.E911, "E911 fee", Decimal("0.50"), Effective(date(2017, 1, 1))),
        ),
        percent=(
            PercentTax(
                "US-TX",
                TaxKind.STATE,
                "Texas state sales tax",
                Decimal("0.0625"),
                Effective(date(2020, 1, 1)),
            ),
            PercentTax(
                "US-TX-DALLAS",
                TaxKind.LOCAL,
                "Dallas city sales tax",
                Decimal("0.01"),
                Effective(date(2020, 1, 1)),
            ),
            PercentTax(
                "*",
                TaxKind.CARRIER_SURCHARGE,
                "Carrier cost recovery (pass-through)",
                Decimal("0.01862"),
                Effective(date(2024, 1, 1)),
            ),
        ),
    )
    base = [make_line(LineKind.RECURRING, "seats", Decimal("249.50"))]
    pure = compute_taxes(base, TaxProfile(("US-TX", "US-TX-DALLAS"), 10), table, date(2026, 2, 1))
    assert sum(x.amount for x in pure) == money(feb["taxes_and_surcharges"]) == Decimal("88.62")
    # effective dates: no USF factor in the table for Q2 2026 -> no USF line on 1 May
    may = invoice(api, tenant, "2026-04")
    assert not any(d.startswith("Federal USF") for d in taxes_of(may))


def test_traffic_study_share_and_certificate_with_expiry(api: Api) -> None:
    load_table(api)
    tenant = texas_tenant(api)
    r = api.call("PUT", f"{b(tenant)}/account", op(api), json={"interstate_share": "0.25"})
    assert r.status_code == 422 and r.json()["field"] == "traffic_study"
    r = api.call(
        "PUT",
        f"{b(tenant)}/account",
        op(api),
        json={"interstate_share": "0.25", "traffic_study": "2025 study, 25% interstate"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["interstate_share_basis"] == "traffic study"
    r = api.call(
        "POST",
        f"{b(tenant)}/tax-exemptions",
        op(api),
        json={
            "number": "TX-01-123",
            "jurisdiction": "US-TX",
            "valid_from": "2025-01-01",
            "expires_on": "2026-02-28",
            "exempt_kinds": ["state", "local"],
        },
    )
    assert r.status_code == 201, r.text
    feb = taxes_of(invoice(api, tenant, "2026-01"))
    # USF on the study's 25%: 249.50 x 25% x 37.6% = 23.45; Texas and Dallas taxes exempt (and the
    # Dallas entry is inside Texas); E911 (not exempted) and the pass-through surcharge remain.
    assert feb == {
        "Federal USF 37.6% of the 25.0% interstate share (traffic study)": Decimal("23.45"),
        "E911 fee (US-TX)": Decimal("5.00"),
        "Carrier cost recovery (pass-through) 1.862%": Decimal("4.65"),
    }
    mar = taxes_of(invoice(api, tenant, "2026-02"))  # 1 March: the certificate expired on 28 February
    assert mar["Texas state sales tax 6.25%"] == Decimal("15.59")
    dup = api.call(
        "POST",
        f"{b(tenant)}/tax-exemptions",
        op(api),
        json={"number": "TX-01-123", "jurisdiction": "US-TX", "valid_from": "2025-01-01"},
    )
    assert dup.status_code == 409


def test_rates_change_by_effective_dates_not_in_place(api: Api) -> None:
    rows = load_table(api)
    state = next(x for x in rows if x["kind"] == "state")
    r = api.call("PATCH", f"/api/v1/tax-rates/{state['id']}", op(api), json={"rate": "0.07"})
    assert r.status_code == 409 and r.json()["rule"] == "tax_table.effective_dates"
    r = api.call("PATCH", f"/api/v1/tax-rates/{state['id']}", op(api), json={"effective_to": "2026-03-01"})
    assert r.status_code == 200, r.text
    r = api.call(
        "POST",
        "/api/v1/tax-rates",
        op(api),
        json={
            "kind": "state",
            "basis": "percent",
            "jurisdiction": "US-TX",
            "name": "Texas state sales tax",
            "rate": "0.07",
            "effective_from": "2026-03-01",
        },
    )
    assert r.status_code == 201, r.text
    tenant = texas_tenant(api)
    assert taxes_of(invoice(api, tenant, "2026-01"))["Texas state sales tax 6.25%"] == Decimal("15.59")
    assert taxes_of(invoice(api, tenant, "2026-02"))["Texas state sales tax 7%"] == Decimal("17.47")
    in_force = api.call("GET", "/api/v1/tax-rates", op(api), params={"on": "2026-03-15"}).json()
    assert [x["rate"] for x in in_force if x["kind"] == "state" and x["jurisdiction"] == "US-TX"] == [
        "0.070000"
    ]
    bad = api.client.post(
        "/api/v1/tax-rates/import",
        content="kind,basis,jurisdiction,name,rate,effective_from\nstate,percent,US-TX,x,6.25,2026-01-01\n",
        headers={**api.as_(op(api)), **CSV},
    )
    assert bad.status_code == 422 and bad.json()["field"] == "rate" and "line 2" in bad.json()["message"]
    assert taxes_of(invoice(api, texas_tenant(api), "2026-01"))  # a tenant without a certificate pays
