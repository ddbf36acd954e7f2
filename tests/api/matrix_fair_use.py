"""Route matrix rows of fair use (issue 15 §2): the findings are notices to the tenant, read by its
administrators and the operator (as billing is); reviewing a cycle and the carrier-type table are
the operator's."""

from __future__ import annotations

from tests.api.matrix_roles import OP, STAFF, Body

ROUTES: list[tuple[str, str, Body, set[str]]] = [
    ("GET", "/tenants/{t}/fair-use/findings", None, STAFF),
    ("POST", "/tenants/{t}/fair-use/reviews", lambda w: {"cycle": "2026-01"}, {OP}),
]
OPERATOR_ROUTES: list[tuple[str, str, Body]] = [
    ("GET", "/fair-use/findings", None),
    ("PUT", "/fair-use/carrier-types", lambda w: {"csv": "npa_nxx,carrier_type\n212555,RBOC\n"}),
]
REFUSED_ROUTES: list[tuple[str, str, Body, set[str], int]] = []
