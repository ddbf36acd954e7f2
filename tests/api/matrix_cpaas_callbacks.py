"""The delivery log of CPaaS status callbacks (issue 16 §1, §3): a developer's app's traffic, read
by the tenant's developers and the operator (Resource.CPAAS), not the office staff."""

from __future__ import annotations

from tests.api.matrix_roles import DEV, OP, Body

ROUTES: list[tuple[str, str, Body, set[str]]] = [
    ("GET", "/tenants/{t}/cpaas/callbacks", None, {OP, DEV}),
]
OPERATOR_ROUTES: list[tuple[str, str, Body]] = []
REFUSED_ROUTES: list[tuple[str, str, Body, set[str], int]] = []
