"""A device's auto-provisioning (issue 17 §2) is programming of the customer's phones (hosted-pbx.txt
MAC 1): read and changed by the office administrator, back-up or operator, as the device itself."""

from __future__ import annotations

from tests.api.matrix_roles import STAFF, Body

ROUTES: list[tuple[str, str, Body, set[str]]] = [
    ("GET", "/tenants/{t}/devices/{device}/provisioning", None, STAFF),
    (
        "PUT",
        "/tenants/{t}/devices/{device}/provisioning",
        lambda w: {"model": "yealink-t54w", "time_zone": "America/Chicago"},
        STAFF,
    ),
    ("POST", "/tenants/{t}/devices/{device}/provisioning/credentials", None, STAFF),
]
OPERATOR_ROUTES: list[tuple[str, str, Body]] = []
REFUSED_ROUTES: list[tuple[str, str, Body, set[str], int]] = []
