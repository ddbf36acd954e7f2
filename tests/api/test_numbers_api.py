"""Numbers and 911 through the API, as the operator and an office administrator use them, on SQLite
and PostgreSQL: rate-center and address-table imports, port-in orders through their states, the
port-out standing check, directory listings, caller-ID names, the §V.2 DID limit, 911 locations and
contacts, and the reclamation list. Figures are the contracts' own."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from centrex.store.db import transaction
from centrex.store.models import InvoiceRow, NumberStatus, PaymentMethod, PaymentRow, PhoneNumber
from centrex.store.models.numbering import NumberUsage
from centrex.store.sequences import next_number
from tests.api.conftest import Api
from tests.support.world_numbers import ADDRESS_TABLE_CSV, complete_order, main_number

CSV = {"Content-Type": "text/csv"}


def op(api: Api) -> str:
    return api.world.operator_token


def adm(api: Api, tenant: str = "a") -> str:
    return getattr(api.world, tenant).tokens["office_admin"]


def t(api: Api, tenant: str = "a") -> str:
    return f"/api/v1/tenants/{getattr(api.world, tenant).id}"


def jsonable(order: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in order.items()}


def fields(body: dict[str, Any]) -> list[str]:
    return [e["field"] for e in body["errors"]]


# --- operator tables -----------------------------------------------------------------------------


def test_rate_center_import_names_every_bad_row_and_field_and_loads_nothing(api: Api) -> None:
    bad = (
        "npa,nxx,rate_center,lata,state\n"
        "217,528,SPRINGFIELD,376,IL\n"
        "217,028,SPRINGFIELD,37,IL\n"
        "312,555,CHICAGO,358,ZZ\n"
    )
    r = api.client.post("/api/v1/rate-centers", content=bad, headers={**api.as_(op(api)), **CSV})
    assert r.status_code == 422, r.text
    problems = {(e["row"], e["field"]) for e in r.json()["errors"]}
    assert problems == {(3, "nxx"), (3, "lata"), (4, "state")}
    listed = api.call("GET", "/api/v1/rate-centers", op(api)).json()
    assert listed["total"] == 0

    good = "npa,nxx,rate_center,lata,state\n217,528,springfield,376,IL\n312,555,CHICAGO,358,IL\n"
    r = api.client.post("/api/v1/rate-centers", content=good, headers={**api.as_(op(api)), **CSV})
    assert r.status_code == 201 and r.json() == {"rows": 2}
    listed = api.call("GET", "/api/v1/rate-centers", op(api), params={"prefix": "217"}).json()
    assert listed["items"] == [
        {"npa_nxx": "217528", "rate_center": "SPRINGFIELD", "lata": "376", "state": "IL"}
    ]
    # A new import replaces the table.
    r = api.call(
        "POST",
        "/api/v1/rate-centers",
        op(api),
        json={"csv": "npa_nxx,rate_center,lata,state\n415222,SAN FRANCISCO,722,CA\n"},
    )
    assert r.status_code == 201
    assert [x["npa_nxx"] for x in api.call("GET", "/api/v1/rate-centers", op(api)).json()["items"]] == [
        "415222"
    ]
    assert api.audit("a") is not None  # the operator's import is audited without a tenant
    assert api.call("GET", "/api/v1/rate-centers", adm(api)).status_code == 404


def test_address_table_import_names_rows_and_lists_ranges(api: Api) -> None:
    bad = "state,community,street,low,high\nIL,Springfield,Main St,10,2\nXX,,Elm St,1,9\n"
    r = api.call("POST", "/api/v1/e911/address-table", op(api), json={"csv": bad})
    assert r.status_code == 422
    assert {(e["row"], e["field"]) for e in r.json()["errors"]} == {
        (2, "high"),
        (3, "state"),
        (3, "community"),
    }
    r = api.client.post(
        "/api/v1/e911/address-table", content=ADDRESS_TABLE_CSV, headers={**api.as_(op(api)), **CSV}
    )
    assert r.status_code == 201 and r.json() == {"rows": 5}
    chicago = api.call("GET", "/api/v1/e911/address-table", op(api), params={"community": "chicago"}).json()
    assert [x["street"] for x in chicago["items"]] == ["N State St", "W Madison St"]


# --- port-in orders ------------------------------------------------------------------------------


def test_a_port_order_missing_three_fields_lists_all_three(api: Api) -> None:
    order = jsonable(complete_order(api.world.a, 5001))
    order["numbers"] = ["(217) 528-5001", "217.528.5002"]
    for name in ("account_name", "account_number", "pin"):
        order.pop(name)
    r = api.call("POST", f"{t(api)}/port-orders", adm(api), json=order)
    assert r.status_code == 201, r.text
    draft = r.json()
    assert draft["status"] == "draft"
    assert [p["field"] for p in draft["problems"]] == ["account_name", "account_number", "pin"]
    assert all(p["rule"] == "hosted-pbx.txt §2.5" for p in draft["problems"])

    r = api.call("POST", f"{t(api)}/port-orders/{draft['id']}/submit", adm(api))
    assert r.status_code == 422
    assert fields(r.json()) == ["account_name", "account_number", "pin"]
    assert "3 field(s)" in r.json()["message"]

    r = api.call(
        "PATCH",
        f"{t(api)}/port-orders/{draft['id']}",
        adm(api),
        json={"account_name": "Acme Widgets LLC", "account_number": "A-1", "pin": "7788"},
    )
    assert r.status_code == 200 and r.json()["problems"] == [] and r.json()["pin_set"] is True
    assert "pin" not in r.json()
    r = api.call("POST", f"{t(api)}/port-orders/{draft['id']}/submit", adm(api))
    assert r.status_code == 200 and r.json()["status"] == "submitted"
    assert r.json()["numbers"] == ["+12175285001", "+12175285002"]  # typed formats stored as E.164
    # The losing carrier's PIN never reaches the audit log.
    entries = api.audit(entity="port_orders")
    # (Ids and time stamps are left out of the check: a random UUID or microsecond can hold "7788".)
    said = [{k: v for k, v in e.items() if k not in ("id", "at") and not k.endswith("_id")} for e in entries]
    assert said and all("7788" not in str(e) for e in said)


def test_invalid_values_are_named_with_their_index(api: Api) -> None:
    order = jsonable(complete_order(api.world.a, 5101))
    order["numbers"] = [order["numbers"][0], "12345", order["numbers"][0]]
    order["contact_email"] = "not-an-email"
    order["account_state"] = "ZZ"
    draft = api.call("POST", f"{t(api)}/port-orders", adm(api), json=order).json()
    got = {p["field"] for p in draft["problems"]}
    assert {"numbers[1]", "numbers[2]", "contact_email", "account_state"} <= got


def test_foc_before_submit_is_409_naming_the_rule_and_the_order_goes_through(api: Api) -> None:
    order = jsonable(complete_order(api.world.a, 5201))
    oid = api.call("POST", f"{t(api)}/port-orders", adm(api), json=order).json()["id"]
    base = f"{t(api)}/port-orders/{oid}"
    foc = (datetime.now(UTC).date() + timedelta(days=5)).isoformat()

    r = api.call("POST", f"{base}/foc", op(api), json={"foc_date": foc})
    assert r.status_code == 409
    assert "draft to foc" in r.json()["message"] and r.json()["rule"].startswith("port order draft → foc")
    assert api.call("POST", f"{base}/foc", adm(api), json={"foc_date": foc}).status_code == 403

    assert api.call("POST", f"{base}/submit", adm(api)).json()["status"] == "submitted"
    assert api.call("PATCH", base, adm(api), json={"pin": "1"}).status_code == 409  # only drafts change
    r = api.call("POST", f"{base}/foc", op(api), json={"foc_date": foc})
    assert r.status_code == 200 and r.json()["foc_date"] == foc

    early = datetime.now(UTC).date().isoformat()
    r = api.call("POST", f"{base}/complete", op(api), json={"completed_on": early})
    assert r.status_code == 409 and "before the FOC date" in r.json()["message"]
    r = api.call("POST", f"{base}/complete", op(api), json={"completed_on": foc})
    assert r.status_code == 200 and r.json()["status"] == "completed"

    held = api.call("GET", f"{t(api)}/numbers", adm(api)).json()["items"]
    assert set(order["numbers"]) <= {n["e164"] for n in held}
    assert api.call("POST", f"{base}/reject", op(api), json={"reason": "late"}).status_code == 409


def test_rejected_order_is_revised_and_resubmitted(api: Api) -> None:
    order = jsonable(complete_order(api.world.a, 5301))
    oid = api.call("POST", f"{t(api)}/port-orders", adm(api), json=order).json()["id"]
    base = f"{t(api)}/port-orders/{oid}"
    api.call("POST", f"{base}/submit", adm(api))
    r = api.call("POST", f"{base}/reject", op(api), json={"reason": "  "})
    assert r.status_code == 422 and r.json()["field"] == "reason"
    r = api.call("POST", f"{base}/reject", op(api), json={"reason": "BTN does not match the CSR"})
    assert r.json()["status"] == "rejected" and r.json()["rejection_reason"] == "BTN does not match the CSR"
    assert api.call("POST", f"{base}/submit", adm(api)).status_code == 409
    assert api.call("POST", f"{base}/revise", adm(api)).json()["status"] == "draft"
    api.call("PATCH", base, adm(api), json={"billing_telephone_number": order["numbers"][1]})
    assert api.call("POST", f"{base}/submit", adm(api)).json()["status"] == "submitted"


def test_a_number_already_in_service_cannot_be_ported_in(api: Api) -> None:
    order = jsonable(complete_order(api.world.a, 5401))
    order["numbers"] = [main_number(api.world.b)]
    order["loa_numbers"] = list(order["numbers"])
    order["billing_telephone_number"] = order["numbers"][0]
    oid = api.call("POST", f"{t(api)}/port-orders", adm(api), json=order).json()["id"]
    r = api.call("POST", f"{t(api)}/port-orders/{oid}/submit", adm(api))
    assert r.status_code == 409 and main_number(api.world.b) in r.json()["message"]


# --- port-out ------------------------------------------------------------------------------------


def _open_invoice(api: Api) -> uuid.UUID:
    """An unpaid invoice of tenant A dated in a few days (not the 1st, which the world's invoices use)."""
    day = datetime.now(UTC).date() + timedelta(days=3)
    return _overdue_invoice(api, day + timedelta(days=1) if day.day == 1 else day)


def _overdue_invoice(api: Api, invoice_date: date | None = None) -> uuid.UUID:
    """An invoice of tenant A dated about two months ago, due 30 days later, unpaid."""
    first = datetime.now(UTC).date().replace(day=1)
    invoice_date = invoice_date or (first - timedelta(days=40)).replace(day=1)
    with transaction(api.app.state.sessionmaker) as s:
        seq = next_number(s, "invoice")
        row = InvoiceRow(
            tenant_id=api.world.a.id,
            number=f"INV-{seq:06d}",
            sequence=seq,
            invoice_date=invoice_date,
            due_date=invoice_date + timedelta(days=30),
            usage_start=invoice_date - timedelta(days=30),
            usage_end=invoice_date - timedelta(days=1),
            customer_name="Tenant alpha",
            subtotal=Decimal("250.00"),
            taxes_and_surcharges=Decimal("0.00"),
            total=Decimal("250.00"),
            issued_by="test",
        )
        s.add(row)
        s.flush()
        return row.id


def _settle(api: Api) -> None:
    """Pay whatever the world's invoices of tenant A still owe (other families may add unpaid ones)."""
    with transaction(api.app.state.sessionmaker) as s:
        for inv in s.scalars(select(InvoiceRow).where(InvoiceRow.tenant_id == api.world.a.id)):
            paid = sum(
                (p.amount for p in s.scalars(select(PaymentRow).where(PaymentRow.invoice_id == inv.id))),
                Decimal(0),
            )
            if inv.total > paid:
                s.add(
                    PaymentRow(
                        tenant_id=inv.tenant_id,
                        invoice_id=inv.id,
                        amount=inv.total - paid,
                        method=PaymentMethod.ACH,
                        received_on=inv.invoice_date,
                        recorded_by="test",
                    )
                )


def check_url(api: Api) -> str:
    return f"{t(api)}/numbers/{api.world.a.ids['number']}/port-out-check"


def test_port_out_refused_while_an_invoice_is_overdue(api: Api) -> None:
    _settle(api)
    body: dict[str, Any] = {}
    r = api.call("POST", check_url(api), adm(api), json=body)
    assert r.status_code == 200 and r.json()["allowed"] is True, r.text
    assert r.json()["e164"] == main_number(api.world.a)

    invoice_id = _overdue_invoice(api)
    r = api.call("POST", check_url(api), adm(api), json=body)
    assert r.status_code == 409
    assert r.json()["rule"] == "cpaas.txt §2.4.5"
    assert "good standing" in r.json()["message"] and "250.00 undisputed due" in r.json()["message"]
    # Only the provider may say the law requires the port; then it is allowed.
    r = api.call("POST", check_url(api), adm(api), json={**body, "required_by_law": True})
    assert r.status_code == 422
    r = api.call("POST", check_url(api), adm(api), json={**body, "port_on": "2000-01-01"})
    assert r.status_code == 422 and r.json()["field"] == "port_on"
    r = api.call("POST", check_url(api), op(api), json={**body, "required_by_law": True})
    assert r.status_code == 200 and "required by law" in r.json()["reason"]

    paid = api.call(
        "POST",
        f"{t(api)}/billing/invoices/{invoice_id}/payments",
        op(api),
        json={"amount": "250.00", "method": "ach"},
    )
    assert paid.status_code == 201, paid.text
    assert api.call("POST", check_url(api), adm(api), json=body).status_code == 200
    # An invoice not yet due counts once the requested port date is past its due date.
    later = (datetime.now(UTC).date() + timedelta(days=400)).isoformat()
    _open_invoice(api)
    assert api.call("POST", check_url(api), adm(api), json=body).status_code == 200
    r = api.call("POST", check_url(api), adm(api), json={**body, "port_on": later})
    assert r.status_code == 409


def test_port_out_refused_for_a_suspended_account_and_for_numbers_not_held(api: Api) -> None:
    body: dict[str, Any] = {}
    other = f"{t(api)}/numbers/{api.world.b.ids['number']}/port-out-check"
    assert api.call("POST", other, adm(api), json=body).status_code == 404
    api.call("PATCH", t(api), op(api), json={"status": "suspended"})
    r = api.call("POST", check_url(api), adm(api), json=body)
    assert r.status_code == 409 and "suspended" in r.json()["message"]


# --- directory listings --------------------------------------------------------------------------


def test_obscene_listing_refused_naming_the_section(api: Api) -> None:
    body = {"name": "Shit Hot Plumbing", "number": main_number(api.world.a), "designation": "business"}
    r = api.call("POST", f"{t(api)}/listings", adm(api), json=body)
    assert r.status_code == 422
    rules = [e["rule"] for e in r.json()["errors"]]
    assert "voip-service-guide.txt §III.3.4.1 B (obscenity)" in rules
    assert r.json()["errors"][0]["field"] == "name"
    assert api.call("GET", f"{t(api)}/listings", adm(api)).json()["total"] == 1  # the world's only


def test_listing_sections_and_abbreviation(api: Api) -> None:
    number = main_number(api.world.a)
    r = api.call(
        "POST",
        f"{t(api)}/listings",
        adm(api),
        json={"name": "Acme", "number": number, "designation": "government"},
    )
    assert r.status_code == 422 and r.json()["errors"][0]["rule"] == "voip-service-guide.txt §III.3.4.1 C"
    assert r.json()["errors"][0]["field"] == "designation"
    r = api.call(
        "POST",
        f"{t(api)}/listings",
        adm(api),
        json={"name": "Acme", "number": number, "designation": "government", "customer_is_government": True},
    )
    assert r.status_code == 422 and r.json()["field"] == "customer_is_government"

    long_name = "Springfield International Manufacturing Corporation Services Division"
    r = api.call(
        "POST",
        f"{t(api)}/listings",
        adm(api),
        json={"name": long_name, "number": number, "designation": "business", "legal_names": [long_name]},
    )
    assert r.status_code == 201, r.text
    listing = r.json()
    assert listing["abbreviated"] is True and all(len(line) <= 40 for line in listing["lines"])
    assert listing["lines"][0].startswith("Springfield")
    assert (
        api.call(
            "POST",
            f"{t(api)}/listings",
            adm(api),
            json={"name": "Acme", "number": number, "designation": "business"},
        ).status_code
        == 409
    )
    r = api.call(
        "POST",
        f"{t(api)}/listings",
        adm(api),
        json={"name": "Acme", "number": main_number(api.world.b), "designation": "business"},
    )
    assert r.status_code == 422 and r.json()["rule"] == "exists_in_tenant"


# --- caller-ID name ------------------------------------------------------------------------------


def test_cnam_normalised_and_limited_to_fifteen(api: Api) -> None:
    url = f"{t(api)}/numbers/{api.world.a.ids['number']}/cnam"
    r = api.call("PUT", url, adm(api), json={"cnam": "  José   Café "})
    assert r.status_code == 200 and r.json()["cnam"] == "Jose Cafe"
    r = api.call("PUT", url, adm(api), json={"cnam": "Springfield Plumb"})
    assert r.status_code == 422
    assert r.json()["field"] == "cnam" and "17 characters; at most 15" in r.json()["errors"][0]["message"]
    assert r.json()["rule"].startswith("voip-service-guide.txt §III.3.1")
    r = api.call("PUT", url, adm(api), json={"cnam": "12345"})
    assert r.status_code == 422 and "letter" in r.json()["errors"][0]["message"]
    r = api.call("PUT", url, adm(api), json={"cnam": "Springfield Plumbing Co", "from_display_name": True})
    assert r.status_code == 200 and r.json()["cnam"] == "Springfield"
    assert api.call("PUT", url, adm(api), json={"cnam": None}).json()["cnam"] is None


# --- DID limit -----------------------------------------------------------------------------------


def _dids(api: Api, count: int) -> list[str]:
    """`count` more DIDs from the pool, allocated to tenant A."""
    ids = []
    for i in range(count):
        r = api.call("POST", "/api/v1/numbers", op(api), json={"e164": f"+1217528{3100 + i:04d}"})
        assert r.status_code == 201, r.text
        nid = r.json()["id"]
        assert (
            api.call(
                "POST", f"/api/v1/numbers/{nid}/allocate", op(api), json={"tenant_id": str(api.world.a.id)}
            ).status_code
            == 200
        )
        ids.append(nid)
    return ids


def test_nine_dids_on_one_calling_unit_refused_eight_accepted(api: Api) -> None:
    w = api.world.a
    assert (
        api.call("PATCH", f"{t(api)}/sites/{w.ids['site']}", op(api), json={"calling_units": 1}).status_code
        == 200
    )
    limit = api.call("GET", f"{t(api)}/did-limit", adm(api)).json()
    assert limit == {
        "service_type": "hosted_ip_centrex",
        "calling_plan": "unlimited_local_ld",
        "calling_units": 1,
        "assigned_dids": 0,
        "limit": 8,
        "rule": "voip-service-guide.txt §V.2",
    }
    numbers = [str(w.ids["number"]), *_dids(api, 8)]
    target = {"target_type": "user", "target_id": str(w.ids["user"])}
    for nid in numbers[:8]:
        r = api.call("PUT", f"{t(api)}/numbers/{nid}/assignment", adm(api), json=target)
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "assigned"
    r = api.call("PUT", f"{t(api)}/numbers/{numbers[8]}/assignment", adm(api), json=target)
    assert r.status_code == 409
    assert r.json()["rule"] == "voip-service-guide.txt §V.2 (8 DIDs per simultaneous call)"
    assert "9 DIDs on 1 simultaneous calling unit(s) exceeds the limit of 8" in r.json()["message"]
    # Re-routing an assigned DID adds none; a second calling unit makes room; metered has no ratio.
    assert (
        api.call(
            "PUT",
            f"{t(api)}/numbers/{numbers[0]}/assignment",
            adm(api),
            json={"target_type": "hunt_group", "target_id": str(w.ids["hunt_group"])},
        ).status_code
        == 200
    )
    api.call("PATCH", f"{t(api)}/sites/{w.ids['site']}", op(api), json={"calling_units": 2})
    assert (
        api.call("PUT", f"{t(api)}/numbers/{numbers[8]}/assignment", adm(api), json=target).status_code == 200
    )
    with transaction(api.app.state.sessionmaker) as s:
        usage = s.scalar(select(NumberUsage).where(NumberUsage.number_id == uuid.UUID(numbers[8])))
        assert usage is not None and usage.assigned_at is not None


def test_metered_sites_have_no_did_ratio(api: Api) -> None:
    w = api.world.a
    api.call("PATCH", f"{t(api)}/sites/{w.ids['site']}", op(api), json={"calling_units": 1, "metered": True})
    assert api.call("GET", f"{t(api)}/did-limit", adm(api)).json()["limit"] is None
    target = {"target_type": "user", "target_id": str(w.ids["user"])}
    for nid in [str(w.ids["number"]), *_dids(api, 8)]:
        assert api.call("PUT", f"{t(api)}/numbers/{nid}/assignment", adm(api), json=target).status_code == 200


# --- 911 locations and contacts ------------------------------------------------------------------


def test_address_one_letter_off_suggests_the_right_street(api: Api) -> None:
    url = f"{t(api)}/e911/locations/users/{api.world.a.ids['user']}"
    civic = {
        "house_number": "120",
        "street": "Mian St",
        "city": "Springfield",
        "state": "IL",
        "postal_code": "62701",
    }
    r = api.call("PUT", url, adm(api), json=civic)
    assert r.status_code == 422
    err = r.json()["errors"][0]
    assert err["field"] == "street"
    assert "street 'Mian St' not found in city 'Springfield'; did you mean 'Main St'?" in err["message"]
    assert api.call("GET", url, adm(api)).status_code == 404  # nothing was stored

    r = api.call("PUT", url, adm(api), json={**civic, "street": "main street", "floor": "3", "room": "301"})
    assert r.status_code == 200, r.text
    loc = r.json()
    assert (loc["street"], loc["esn"], loc["psap"], loc["validated"]) == (
        "Main St",
        "101",
        "Sangamon County 911",
        True,
    )
    assert api.call("GET", url, adm(api)).json()["room"] == "301"


def test_location_problems_each_name_their_field(api: Api) -> None:
    url = f"{t(api)}/e911/locations/devices/{api.world.a.ids['device']}"
    r = api.call(
        "PUT",
        url,
        adm(api),
        json={
            "house_number": "12",
            "street": "Main St",
            "city": "Anchorage",
            "state": "AK",
            "postal_code": "995",
        },
    )
    assert r.status_code == 422
    assert {"state", "postal_code"} <= set(fields(r.json()))
    assert any("Alaska" in e["message"] for e in r.json()["errors"])
    r = api.call(
        "PUT",
        url,
        adm(api),
        json={
            "house_number": "102",
            "street": "Monroe St",
            "city": "Springfield",
            "state": "IL",
            "postal_code": "62701",
        },
    )
    assert r.status_code == 200
    r = api.call(
        "PUT",
        url,
        adm(api),
        json={
            "house_number": "5000",
            "street": "Monroe St",
            "city": "Springfeld",
            "state": "IL",
            "postal_code": "62701",
        },
    )
    assert r.status_code == 422 and "did you mean 'Springfield'?" in r.json()["errors"][0]["message"]
    r = api.call(
        "PUT",
        url,
        adm(api),
        json={
            "house_number": "5000",
            "street": "Monroe St",
            "city": "Springfield",
            "state": "IL",
            "postal_code": "62701",
        },
    )
    assert (
        r.status_code == 422 and r.json()["field"] == "house_number" and "100-898 even" in r.json()["message"]
    )
    listed = api.call("GET", f"{t(api)}/e911/locations", adm(api)).json()
    assert {x["subject_type"] for x in listed["items"]} == {"user", "device"}


def test_911_contacts(api: Api) -> None:
    url = f"{t(api)}/e911/contacts"
    r = api.call("POST", url, adm(api), json={"kind": "webhook", "address": "http://hooks.example.com/911"})
    assert r.status_code == 422 and r.json()["rule"] == "webhook_https"
    r = api.call(
        "POST",
        url,
        adm(api),
        json={"kind": "webhook", "address": "https://hooks.example.com/911", "name": "SOC"},
    )
    assert r.status_code == 201
    assert api.call("POST", url, adm(api), json={"kind": "email", "address": "nobody"}).status_code == 422
    assert (
        api.call(
            "POST", url, adm(api), json={"kind": "email", "address": "security@alpha.example.com"}
        ).status_code
        == 409
    )
    kinds = sorted(c["kind"] for c in api.call("GET", url, adm(api)).json()["items"])
    assert kinds == ["email", "webhook"]


def test_tenant_b_finds_none_of_tenant_as_numbers_data(api: Api) -> None:
    a, b = api.world.a, api.world.b
    for path in (
        f"/port-orders/{a.ids['port_order']}",
        f"/listings/{a.ids['listing']}",
        f"/e911/locations/users/{a.ids['end_user']}",
        "/e911/contacts",
        "/did-limit",
    ):
        assert api.call("GET", f"{t(api)}{path}", adm(api, "b")).status_code == 404, path
    # Through B's own path, A's rows are simply not there.
    assert (
        api.call("GET", f"{t(api, 'b')}/port-orders/{a.ids['port_order']}", adm(api, "b")).status_code == 404
    )
    r = api.call("PUT", f"{t(api, 'b')}/e911/locations/users/{a.ids['user']}", adm(api, "b"), json={})
    assert r.status_code == 404
    assert {
        o["id"] for o in api.call("GET", f"{t(api, 'b')}/port-orders", adm(api, "b")).json()["items"]
    } == {
        str(b.ids[k]) for k in ("port_order", "port_submitted", "port_foc", "port_rejected", "port_completed")
    }


# --- reclamation ---------------------------------------------------------------------------------


def test_reclamation_lists_numbers_unused_past_the_period_with_notice(api: Api) -> None:
    now = datetime.now(UTC)
    with transaction(api.app.state.sessionmaker) as s:
        a_num = s.get(PhoneNumber, api.world.a.ids["number"])
        b_num = s.get(PhoneNumber, api.world.b.ids["number"])
        assert a_num is not None and b_num is not None
        s.add(
            NumberUsage(
                number_id=a_num.id,
                assigned_at=now - timedelta(days=200),
                last_used_at=now - timedelta(days=91),
            )
        )
        s.add(
            NumberUsage(
                number_id=b_num.id,
                assigned_at=now - timedelta(days=200),
                last_used_at=now - timedelta(days=120),
            )
        )
        for nid in (api.world.a.ids["listed_number"], api.world.b.ids["listed_number"]):
            s.add(
                NumberUsage(
                    number_id=nid, assigned_at=now - timedelta(days=200), last_used_at=now - timedelta(days=3)
                )
            )
    api.call("PATCH", t(api, "b"), op(api), json={"status": "suspended"})

    r = api.call("GET", "/api/v1/numbers/reclamation", op(api))
    assert r.status_code == 200
    got = {x["e164"]: x for x in r.json()}
    assert set(got) == {main_number(api.world.a), main_number(api.world.b)}
    a = got[main_number(api.world.a)]
    assert (
        a["days_unused"] == 91 and a["notice_required"] is True and a["notice_on"] == now.date().isoformat()
    )
    assert datetime.fromisoformat(a["earliest_reclaim_at"]) - now > timedelta(days=29)
    b = got[main_number(api.world.b)]
    assert b["notice_required"] is False and b["notice_on"] is None and "suspended" in b["reason"]
    # A longer period leaves only the number idle for 120 days.
    longer = api.call("GET", "/api/v1/numbers/reclamation", op(api), params={"unused_days": 100}).json()
    assert [x["e164"] for x in longer] == [main_number(api.world.b)]
    assert api.call("GET", "/api/v1/numbers/reclamation", adm(api)).status_code == 404


def test_reserved_number_status_is_kept_by_port_completion(api: Api) -> None:
    """A completed port puts the numbers in the tenant's inventory as reserved (ready to route)."""
    base = f"{t(api)}/port-orders/{api.world.a.ids['port_foc']}"
    assert api.call("POST", f"{base}/complete", op(api), json={}).status_code == 200
    with transaction(api.app.state.sessionmaker) as s:
        rows = list(s.scalars(select(PhoneNumber).where(PhoneNumber.tenant_id == api.world.a.id)))
        ported = [n for n in rows if n.e164.endswith(("4021", "4022"))]
        assert len(ported) == 2 and all(n.status is NumberStatus.RESERVED for n in ported)


def test_a_refusal_listing_problems_leaves_nothing_written(api: Api, monkeypatch: Any) -> None:
    """Fault injection: a rule that refuses after a row was flushed. The 422 listing the problems
    comes with the request's transaction rolled back (api/routers/numbering.py ProblemRoute)."""
    from centrex.api.routers import numbering
    from centrex.numbers.storage import Problem, ProblemList

    real = numbering.port_storage.create_port_order

    def refuse_after_writing(data: Any, values: dict[str, Any]) -> Any:
        real(data, values)
        raise ProblemList("refused after the row was flushed", [Problem("account_name", "no", "test")])

    before = api.call("GET", f"{t(api)}/port-orders", adm(api)).json()["total"]
    monkeypatch.setattr(numbering.port_storage, "create_port_order", refuse_after_writing)
    r = api.call("POST", f"{t(api)}/port-orders", adm(api), json={})
    assert r.status_code == 422 and r.json()["errors"] == [
        {"field": "account_name", "rule": "test", "message": "no"}
    ]
    assert api.call("GET", f"{t(api)}/port-orders", adm(api)).json()["total"] == before
