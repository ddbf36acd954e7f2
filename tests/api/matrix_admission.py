"""Route matrix rows of admission (issue 15): a tenant's capacity by site is read by its
administrators and the operator; the hub (a change order, §V.3.9) is the operator's; toll
permissions and spend limits are the administrators' (as the restriction classes are); the link
table and the high-risk prefixes are the operator's."""

from __future__ import annotations

from tests.api.matrix_cdrs import CPNI_READERS
from tests.api.matrix_roles import OP, STAFF, Body, ext

TOLL = {"international": True, "premium": False, "spend_limit": "250.00"}

ROUTES: list[tuple[str, str, Body, set[str]]] = [
    ("GET", "/tenants/{t}/capacity", None, STAFF),
    ("PUT", "/tenants/{t}/capacity/hub", lambda w: {"hub_site_id": str(w.ids["site"])}, {OP}),
    ("GET", "/tenants/{t}/toll-permissions", None, STAFF),
    ("PUT", "/tenants/{t}/toll-permissions", lambda w: TOLL, STAFF),
    ("PUT", "/tenants/{t}/users/{user}/toll-permissions", lambda w: TOLL, STAFF),
    # Fraud signals name callers and callees: call records, read as the CDRs are (CPNI).
    ("GET", "/tenants/{t}/fraud/signals", None, CPNI_READERS),
]
OPERATOR_ROUTES: list[tuple[str, str, Body]] = [
    ("GET", "/capacity/links", None),
    ("PUT", "/capacity/links", lambda w: [{"bandwidth_kbps": 1536, "max_calls": 41}]),
    ("GET", "/fraud/high-risk-prefixes", None),
    ("POST", "/fraud/high-risk-prefixes", lambda w: {"prefix": f"+88{ext()}", "note": "test"}),
    ("DELETE", "/fraud/high-risk-prefixes/{high_risk_prefix}", None),
    ("GET", "/fraud/signals", None),
]
REFUSED_ROUTES: list[tuple[str, str, Body, set[str], int]] = []
