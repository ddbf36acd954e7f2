"""Billing through the API, as the operator and the tenant's administrators use it, on SQLite and
PostgreSQL: the demo tenant's month (tests/billing/demo.py) stored, rated, invoiced and paid."""

from __future__ import annotations

import zlib
from datetime import date
from decimal import Decimal
from typing import Any

from centrex.billing.collections import late_charge
from centrex.billing.invoice import InvoiceInputs, assemble_invoice
from centrex.billing.plans import Feature
from centrex.billing.rating import rate_period
from centrex.billing.subscriptions import recurring_lines
from centrex.billing.tax_table import demo_entries, to_csv
from centrex.billing.taxes import DEMO_TAX_TABLE, TaxProfile
from tests.api.conftest import Api
from tests.billing.demo import PLAN, PRICES, march_cdrs
from tests.billing.helpers import DECK_CSV, demo_deck

CSV_HEADERS = {"Content-Type": "text/csv"}


def upload(api: Api, name: str, text: str, token: str | None = None) -> Any:
    headers = {**api.as_(token or op(api)), **CSV_HEADERS}
    return api.client.post(f"/api/v1/rate-decks?name={name}", content=text, headers=headers)


def t(api: Api, tenant: str = "a") -> str:
    return f"/api/v1/tenants/{getattr(api.world, tenant).id}/billing"


def op(api: Api) -> str:
    return api.world.operator_token


def cdr_json() -> list[dict[str, Any]]:
    return [
        {
            "id": c.id,
            "caller": c.caller,
            "callee": c.callee,
            "call_class": c.call_class.value,
            "direction": c.direction.value,
            "start": c.start.isoformat(),
            "duration_ms": c.duration_ms,
            "disposition": c.disposition.value,
            "is_intra_enterprise": c.is_intra_enterprise,
        }
        for c in march_cdrs()
    ]


def demo_plan() -> dict[str, Any]:
    return {
        "code": "pbx-100",
        "deck_name": "demo",
        "pool_minutes": 100,
        "overage_per_minute": "0.05",
        "directory_assistance_per_call": "1.99",
        "conference_per_minute": "0.10",
        "seat_monthly": "24.95",
        "seats": 10,
        "features": [
            {"feature": "auto_attendant", "monthly_price": "15.00", "quantity": 1},
            {"feature": "call_center_agent", "monthly_price": "20.00", "quantity": 2},
            {"feature": "voicemail", "monthly_price": "3.00", "quantity": 3},
        ],
        "tax_jurisdictions": ["US-TX", "US-TX-DALLAS"],
        "tax_lines": 10,
    }


def setup_demo(api: Api) -> None:
    """Deck, tax table (DEMO_TAX_TABLE, the demo's seed data), plan and March's calls of the demo
    tenant, on tenant A."""
    r = upload(api, "demo", DECK_CSV)
    assert r.status_code == 201, r.text
    r = api.client.post(
        "/api/v1/tax-rates/import",
        content=to_csv(demo_entries()),
        headers={**api.as_(op(api)), **CSV_HEADERS},
    )
    assert r.status_code == 201, r.text
    r = api.call("PUT", f"{t(api)}/plan", op(api), json=demo_plan())
    assert r.status_code == 200, r.text
    r = api.call("POST", f"{t(api)}/cdrs", op(api), json={"cdrs": cdr_json()})
    assert r.status_code == 201, r.text
    assert r.json() == {"received": 12, "stored": 12, "duplicates": 0}


def expected_april_total() -> Decimal:
    """The same month through the pure engine (no outage credit: none was recorded)."""
    invoice = assemble_invoice(
        InvoiceInputs(
            tenant_id="acme",
            invoice_date=date(2025, 4, 1),
            recurring=recurring_lines(
                PRICES,
                seats=10,
                features={Feature.AUTO_ATTENDANT: 1, Feature.CALL_CENTER_AGENT: 2, Feature.VOICEMAIL: 3},
                month=date(2025, 4, 1),
            ),
            usage=rate_period(march_cdrs(), PLAN, demo_deck()),
            tax_profile=TaxProfile(jurisdictions=("US-TX", "US-TX-DALLAS"), lines=10),
            tax_table=DEMO_TAX_TABLE,
        )
    )
    return invoice.total


def run(api: Api, period: str, tenant: str = "a") -> dict[str, Any]:
    r = api.call("POST", f"{t(api, tenant)}/invoices", op(api), json={"period": period})
    assert r.status_code == 201, r.text
    return dict(r.json())


def test_deck_import_versions_and_errors(api: Api) -> None:
    first = upload(api, "intl", DECK_CSV)
    assert first.status_code == 201, first.text
    assert first.json()["version"] == 1 and first.json()["rows"] == 5
    again = api.call(
        "POST",
        "/api/v1/rate-decks",
        op(api),
        json={"name": "intl", "csv": DECK_CSV.replace("0.0200", "0.0210")},
    )
    assert again.json()["version"] == 2
    assert again.json()["fingerprint"] != first.json()["fingerprint"]
    decks = api.call("GET", "/api/v1/rate-decks", op(api)).json()
    assert [(d["name"], d["version"]) for d in decks] == [("intl", 2)]
    bad = upload(api, "bad", "prefix,rate_per_minute,effective_from\n44,abc,2025-01-01\n")
    assert bad.status_code == 422
    assert bad.json()["field"] == "line 2: rate_per_minute" and bad.json()["rule"] == "rate_deck"
    admin = api.world.a.tokens["office_admin"]
    assert upload(api, "x", DECK_CSV, admin).status_code == 404


def test_demo_month_invoice_total_lines_and_pdf(api: Api) -> None:
    setup_demo(api)
    invoice = run(api, "2025-03")
    assert invoice["invoice_date"] == "2025-04-01" and invoice["due_date"] == "2025-05-01"
    assert invoice["usage_period"] == ["2025-03-01", "2025-03-31"]
    assert Decimal(invoice["total"]) == expected_april_total()
    usage = [x for x in invoice["lines"] if x["kind"] in ("usage", "overage")]
    assert all(x["cdr_ids"] for x in usage if Decimal(x["amount"]) or "Included" in x["description"])
    intl = next(x for x in usage if x["description"].startswith("International"))
    assert intl["amount"] == "0.10" and len(intl["cdr_ids"]) == 2  # 3 min x 0.01 + 0.057 + 0.01 (golden)
    # the same invoice read back by the tenant's administrator
    admin = api.world.a.tokens["office_admin"]
    got = api.call("GET", f"{t(api)}/invoices/{invoice['id']}", admin)
    assert got.status_code == 200 and got.json()["total"] == invoice["total"]
    assert got.json()["lines"] == invoice["lines"]
    pdf = api.call("GET", f"{t(api)}/invoices/{invoice['id']}.pdf", admin)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")


def test_pdf_endpoint_contains_the_total(api: Api) -> None:
    setup_demo(api)
    invoice = run(api, "2025-03")
    pdf = api.call("GET", f"{t(api)}/invoices/{invoice['id']}.pdf", op(api)).content
    text = b""
    for chunk in pdf.split(b"stream")[1:]:
        body = chunk.split(b"endstream")[0].strip(b"\r\n")
        try:
            text += zlib.decompress(body)
        except zlib.error:
            text += body
    total = Decimal(invoice["total"])
    assert f"Total due: ${total:,.2f}".encode() in text


def test_invoice_numbers_are_gap_free_and_one_per_month(api: Api) -> None:
    setup_demo(api)
    april = run(api, "2025-03")
    may = run(api, "2025-04")
    assert may["sequence"] == april["sequence"] + 1
    assert may["number"] == f"INV-{may['sequence']:06d}"
    again = api.call("POST", f"{t(api)}/invoices", op(api), json={"period": "2025-03"})
    assert again.status_code == 409 and again.json()["rule"] == "invoice.one_per_month"
    # a refused run used no number: the next one follows on
    june = run(api, "2025-05")
    assert june["sequence"] == may["sequence"] + 1
    listed = api.call("GET", f"{t(api)}/invoices", api.world.a.tokens["backup_admin"]).json()
    ours = {april["number"], may["number"], june["number"]}
    assert [i["number"] for i in listed["items"] if i["number"] in ours] == [
        june["number"],
        may["number"],
        april["number"],
    ]


def test_unrated_usage_refuses_the_invoice_and_names_the_rule(api: Api) -> None:
    setup_demo(api)
    api.call("PUT", f"{t(api)}/plan", op(api), json={**demo_plan(), "deck_name": None})
    r = api.call("POST", f"{t(api)}/invoices", op(api), json={"period": "2025-03"})
    assert r.status_code == 422 and r.json()["rule"] == "rating.unrated_usage"
    before = run(api, "2025-02")  # nothing refused used no number
    assert before["number"].startswith("INV-")


def test_rerating_is_idempotent_with_an_audit_row_per_run(api: Api) -> None:
    setup_demo(api)
    first = api.call("POST", f"{t(api)}/rating-runs", op(api), json={"period": "2025-03"})
    # replaying the same upload stores nothing twice
    replay = api.call("POST", f"{t(api)}/cdrs", op(api), json={"cdrs": cdr_json()})
    assert replay.json() == {"received": 12, "stored": 0, "duplicates": 12}
    second = api.call("POST", f"{t(api)}/rating-runs", op(api), json={"period": "2025-03"})
    assert first.status_code == second.status_code == 201
    a, b = first.json(), second.json()
    assert a["id"] != b["id"]
    assert (a["total"], a["fingerprint"], a["cdr_count"]) == (b["total"], b["fingerprint"], b["cdr_count"])
    assert Decimal(a["total"]) == rate_period(march_cdrs(), PLAN, demo_deck()).total
    assert a["deck_ref"] == "demo@1" and a["actor"].startswith("operator:")
    runs = api.call("GET", f"{t(api)}/rating-runs?period=2025-03", api.world.a.tokens["office_admin"]).json()
    assert runs["total"] == 2
    assert len(api.audit(action="billing.rating_run")) == 2


def test_dispute_day_60_accepted_day_61_refused(api: Api) -> None:
    setup_demo(api)
    invoice = run(api, "2025-03")  # dated 2025-04-01: the Dispute Period ends 2025-05-31
    path = f"{t(api)}/invoices/{invoice['id']}/disputes"
    day_61 = api.call(
        "POST",
        path,
        op(api),
        json={"amount": "10.00", "detail": "conference minutes", "noticed_on": "2025-06-01"},
    )
    assert day_61.status_code == 422
    assert day_61.json()["field"] == "noticed_on" and "§4.6" in day_61.json()["rule"]
    assert "deemed accepted" in day_61.json()["message"]
    day_60 = api.call(
        "POST",
        path,
        op(api),
        json={"amount": "10.00", "detail": "conference minutes", "noticed_on": "2025-05-31"},
    )
    assert day_60.status_code == 201, day_60.text
    assert day_60.json()["status"] == "open"
    # the tenant's administrator files as of today: long past the period
    late = api.call("POST", path, api.world.a.tokens["office_admin"], json={"amount": "1.00", "detail": "x"})
    assert late.status_code == 422 and late.json()["field"] == "noticed_on"
    backdated = api.call(
        "POST",
        path,
        api.world.a.tokens["office_admin"],
        json={"amount": "1.00", "detail": "x", "noticed_on": "2025-04-02"},
    )
    assert backdated.status_code == 422 and backdated.json()["rule"] == "dispute.today"
    state = api.call("GET", f"{t(api)}/invoices/{invoice['id']}?as_of=2025-06-01", op(api)).json()["account"]
    assert state["disputed"] == "10.00"
    assert Decimal(state["undisputed_due"]) == Decimal(invoice["total"]) - 10


def test_payment_and_late_charge(api: Api) -> None:
    setup_demo(api)
    invoice = run(api, "2025-03")
    total = Decimal(invoice["total"])
    url = f"{t(api)}/invoices/{invoice['id']}"
    overdue = api.call("GET", f"{url}?as_of=2025-08-01", api.world.a.tokens["office_admin"]).json()["account"]
    assert overdue["overdue"] is True
    # cpaas.txt §4.5: due 2025-05-01, three months begun by 2025-08-01: total x (1.015^3 - 1)
    assert Decimal(overdue["late_charge"]) == late_charge(total, date(2025, 5, 1), date(2025, 8, 1))
    assert Decimal(overdue["late_charge"]) > 0
    paid = api.call(
        "POST",
        f"{url}/payments",
        op(api),
        json={"amount": str(total - 100), "method": "ach", "received_on": "2025-04-20"},
    )
    assert paid.status_code == 201, paid.text
    assert paid.json()["method"] == "ach"
    state = api.call("GET", f"{url}?as_of=2025-08-01", op(api)).json()["account"]
    assert state["paid"] == f"{total - 100:.2f}" and state["balance"] == "100.00"
    assert Decimal(state["late_charge"]) == late_charge(Decimal(100), date(2025, 5, 1), date(2025, 8, 1))
    too_much = api.call("POST", f"{url}/payments", op(api), json={"amount": "100.01", "method": "wire"})
    assert too_much.status_code == 422 and too_much.json()["rule"] == "payment.at_most_balance"
    bad_method = api.call("POST", f"{url}/payments", op(api), json={"amount": "1.00", "method": "cash"})
    assert bad_method.status_code == 422 and bad_method.json()["errors"][0]["field"] == "method"
    # the next invoices bill the late charge on what is still due (cpaas.txt §4.5)
    run(api, "2025-04")  # dated 2025-05-01 = the due date: not late yet
    june = run(api, "2025-05")
    late = [x for x in june["lines"] if x["kind"] == "late_charge" and invoice["number"] in x["description"]]
    assert len(late) == 1 and Decimal(late[0]["amount"]) == late_charge(
        Decimal(100), date(2025, 5, 1), date(2025, 6, 1)
    )


def test_issued_invoice_is_never_edited_credit_note_instead(api: Api) -> None:
    setup_demo(api)
    invoice = run(api, "2025-03")
    url = f"{t(api)}/invoices/{invoice['id']}"
    refused = api.call("PATCH", url, op(api), json={"total": "0.00"})
    assert refused.status_code == 409 and refused.json()["rule"] == "invoice.immutable"
    note = api.call("POST", f"{url}/credit-notes", op(api), json={"amount": "12.50", "reason": "goodwill"})
    assert note.status_code == 201, note.text
    assert note.json()["number"] == f"CN-{invoice['number']}-1" and note.json()["total"] == "-12.50"
    after = api.call("GET", url, op(api)).json()
    assert after["total"] == invoice["total"] and after["lines"] == invoice["lines"]
    assert after["account"]["credited"] == "12.50"
    over = api.call(
        "POST", f"{url}/credit-notes", op(api), json={"amount": invoice["total"], "reason": "all"}
    )
    assert over.status_code == 422 and over.json()["field"] == "amount"


def test_outage_is_credited_on_the_next_invoice(api: Api) -> None:
    """hosted-pbx.txt liability 1: 5% of the average month of the previous quarter per qualifying
    day, on the next invoice; an outage under 12 hours is not credited."""
    setup_demo(api)
    months = {m: run(api, p) for m, p in ((4, "2025-03"), (5, "2025-04"), (6, "2025-05"))}
    charges = [
        sum(
            Decimal(x["amount"]) for x in months[m]["lines"] if x["kind"] in ("recurring", "usage", "overage")
        )
        for m in (4, 5, 6)
    ]
    for start, end in (
        ("2025-07-10T06:00:00Z", "2025-07-10T19:00:00Z"),
        ("2025-07-12T06:00:00Z", "2025-07-12T17:00:00Z"),
    ):
        r = api.call(
            "POST", f"{t(api)}/outages", op(api), json={"start": start, "end": end, "provider_fault": True}
        )
        assert r.status_code == 201, r.text
    july = run(api, "2025-06")  # dated 2025-07-01: before the outage
    assert not [x for x in july["lines"] if x["kind"] == "credit"]
    august = run(api, "2025-07")
    credits = [x for x in august["lines"] if x["kind"] == "credit"]
    expected = (sum(charges, Decimal(0)) / 3 * Decimal("0.05")).quantize(Decimal("0.01"))
    assert [Decimal(x["amount"]) for x in credits] == [-expected]
    assert credits[0]["source"] == "hosted-pbx.txt liability 1"
    outages = api.call("GET", f"{t(api)}/outages", api.world.a.tokens["office_admin"]).json()
    assert {o["credited_invoice_id"] for o in outages} == {august["id"]}
    assert [len(o["qualifying_days"]) for o in outages] == [1, 0]


def test_tenant_b_cannot_see_tenant_a_invoices(api: Api) -> None:
    setup_demo(api)
    invoice = run(api, "2025-03")
    for role in ("office_admin", "backup_admin", "cpni_admin", "end_user", "developer"):
        token = api.world.b.tokens[role]
        for suffix in ("", ".pdf"):
            r = api.call("GET", f"{t(api)}/invoices/{invoice['id']}{suffix}", token)
            assert r.status_code == 404, (role, suffix, r.status_code)
    # through B's own path, A's invoice id is simply not found
    r = api.call("GET", f"{t(api, 'b')}/invoices/{invoice['id']}", api.world.b.tokens["office_admin"])
    assert r.status_code == 404
    listed = api.call("GET", f"{t(api, 'b')}/invoices", api.world.b.tokens["office_admin"]).json()
    assert invoice["id"] not in {i["id"] for i in listed["items"]}
    # and the end user of A, who is not an administrator, may not read A's billing
    assert api.call("GET", f"{t(api)}/invoices", api.world.a.tokens["end_user"]).status_code == 403


def test_subscription_bundles_on_the_invoice(api: Api) -> None:
    setup_demo(api)
    r = api.call(
        "POST",
        f"{t(api)}/subscriptions",
        op(api),
        json={"start": "2025-01-01", "quantity": 4, "rate": "30.00"},
    )
    assert r.status_code == 201, r.text
    sub = r.json()
    assert (sub["term_start"], sub["term_end"], sub["renewal_notice_by"]) == (
        "2025-01-01",
        "2025-12-31",
        "2025-12-01",
    )
    invoice = run(api, "2025-03")
    bundles = [x for x in invoice["lines"] if x["description"] == "Voice Services Bundles"]
    assert [x["amount"] for x in bundles] == ["120.00"]
    # voice-bundles.txt §2.7: domestic outbound and inbound are unlimited with bundles
    assert not [x for x in invoice["lines"] if x["kind"] == "overage"]
