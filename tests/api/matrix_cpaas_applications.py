"""Voice applications (issue 16 §1): a developer's resource (Resource.CPAAS) — the tenant's
developers and the operator make and change them, not the office staff."""

from __future__ import annotations

from tests.api.matrix_roles import DEV, OP, Body

ROUTES: list[tuple[str, str, Body, set[str]]] = [
    ("GET", "/tenants/{t}/cpaas/applications", None, {OP, DEV}),
    (
        "POST",
        "/tenants/{t}/cpaas/applications",
        lambda w: {"voice_url": "https://example.com/voice"},
        {OP, DEV},
    ),
    ("GET", "/tenants/{t}/cpaas/applications/{application}", None, {OP, DEV}),
    (
        "PATCH",
        "/tenants/{t}/cpaas/applications/{application}",
        lambda w: {"friendly_name": "Menu"},
        {OP, DEV},
    ),
    ("DELETE", "/tenants/{t}/cpaas/applications/{application}", None, {OP, DEV}),
]
OPERATOR_ROUTES: list[tuple[str, str, Body]] = []
REFUSED_ROUTES: list[tuple[str, str, Body, set[str], int]] = []
