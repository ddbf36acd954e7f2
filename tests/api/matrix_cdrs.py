"""Call records are CPNI (voip-service-guide.txt §V.12): the operator, the tenant's CPNI
administrator and the users that administrator granted may read them; nobody writes them by API
except the billing import (in test_matrix.py)."""

from __future__ import annotations

from tests.api.matrix_roles import CPNI, GRANTED, OP, Body

CPNI_READERS = {OP, CPNI, GRANTED}

ROUTES: list[tuple[str, str, Body, set[str]]] = [
    ("GET", "/tenants/{t}/cdrs", None, CPNI_READERS),
    ("GET", "/tenants/{t}/cdrs.csv", None, CPNI_READERS),
    ("GET", "/tenants/{t}/cdrs/{cdr}", None, CPNI_READERS),
]
OPERATOR_ROUTES: list[tuple[str, str, Body]] = []
REFUSED_ROUTES: list[tuple[str, str, Body, set[str], int]] = []
