"""Route matrix rows of the billing terms, taxes and collections (api/routers/billing_accounts.py,
billing_taxes.py): the tenant's staff read; the operator writes."""

from __future__ import annotations

from tests.api.matrix_roles import OP, STAFF, Body, ext

ROUTES: list[tuple[str, str, Body, set[str]]] = [
    ("POST", "/tenants/{t}/billing/subscriptions/{subscription}/quantity", lambda w: {"quantity": 3}, {OP}),
    ("GET", "/tenants/{t}/billing/subscriptions/{subscription}/changes", None, STAFF),
    ("POST", "/tenants/{t}/billing/subscriptions/{subscription}/termination-notice", lambda w: {}, {OP}),
    (
        "POST",
        "/tenants/{t}/billing/subscriptions/{subscription}/rate-increase-notice",
        lambda w: {"rate": "35.00"},
        {OP},
    ),
    ("GET", "/tenants/{t}/billing/account", None, STAFF),
    ("PUT", "/tenants/{t}/billing/account", lambda w: {"credit_limit": "500.00"}, {OP}),
    ("GET", "/tenants/{t}/billing/tax-exemptions", None, STAFF),
    (
        "POST",
        "/tenants/{t}/billing/tax-exemptions",
        lambda w: {"number": f"C{ext()}", "jurisdiction": "US-IL", "valid_from": "2026-01-01"},
        {OP},
    ),
    ("DELETE", "/tenants/{t}/billing/tax-exemptions/{certificate}", None, {OP}),
    ("GET", "/tenants/{t}/billing/notices", None, STAFF),
    ("POST", "/tenants/{t}/billing/notices", lambda w: {"detail": "final reminder"}, {OP}),
    ("POST", "/tenants/{t}/billing/collections", None, {OP}),
]

OPERATOR_ROUTES: list[tuple[str, str, Body]] = [
    ("GET", "/tax-rates", None),
    (
        "POST",
        "/tax-rates",
        lambda w: {
            "kind": "state",
            "basis": "percent",
            "jurisdiction": "US-IL",
            "name": "Illinois telecommunications excise tax",
            "rate": "0.07",
            "effective_from": "2026-01-01",
        },
    ),
    (
        "POST",
        "/tax-rates/import",
        lambda w: {
            "csv": "kind,basis,jurisdiction,name,rate,effective_from\n"
            "federal_usf,usf_factor,US,Federal USF,0.376,2026-01-01\n"
        },
    ),
    ("PATCH", "/tax-rates/{tax_rate}", lambda w: {"effective_to": "2030-01-01"}),
    ("DELETE", "/tax-rates/{tax_rate}", None),
    ("POST", "/billing/collections", lambda w: {"as_of": "2026-11-20"}),
]
