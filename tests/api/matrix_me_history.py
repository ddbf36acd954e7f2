"""An end user's own call history and phones (issue 18 §2): every user role, for themselves."""

from __future__ import annotations

from tests.api.matrix_roles import USERS, Body

ROUTES: list[tuple[str, str, Body, set[str]]] = [
    ("GET", "/tenants/{t}/me/calls", None, USERS),
    ("GET", "/tenants/{t}/me/devices", None, USERS),
]
OPERATOR_ROUTES: list[tuple[str, str, Body]] = []
REFUSED_ROUTES: list[tuple[str, str, Body, set[str], int]] = []
