"""Verified caller IDs (issue 17 §5): the provider verifies a number the tenant controls and records
it, so only the operator adds or removes one; the tenant's staff (and developers, who read numbers)
see them."""

from __future__ import annotations

from tests.api.matrix_roles import DEV, OP, STAFF, Body

ROUTES: list[tuple[str, str, Body, set[str]]] = [
    ("GET", "/tenants/{t}/verified-caller-ids", None, STAFF | {DEV}),
    (
        "POST",
        "/tenants/{t}/verified-caller-ids",
        lambda w: {"e164": "(917) 555-0142", "label": "sales mobile", "verified_by": "call-back code"},
        {OP},
    ),
    ("DELETE", "/tenants/{t}/verified-caller-ids/{verified_caller_id}", None, {OP}),
]
OPERATOR_ROUTES: list[tuple[str, str, Body]] = []
REFUSED_ROUTES: list[tuple[str, str, Body, set[str], int]] = []
