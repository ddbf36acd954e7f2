"""Route matrix rows of paging groups (issue 17 §3): made and read like hunt groups (the MACs) by
the office administrator, back-up and operator; nobody else of the tenant."""

from __future__ import annotations

from tests.api.matrix_roles import STAFF, Body, ext

BASE = "/tenants/{t}/paging-groups"

ROUTES: list[tuple[str, str, Body, set[str]]] = [
    ("GET", BASE, None, STAFF),
    (
        "POST",
        BASE,
        lambda w: {"name": "Dock", "extension": ext(), "member_ids": [str(w.ids["end_user"])]},
        STAFF,
    ),
    ("GET", BASE + "/{paging_group}", None, STAFF),
    ("PATCH", BASE + "/{paging_group}", lambda w: {"name": "Dock doors", "member_ids": []}, STAFF),
    ("DELETE", BASE + "/{spare_paging_group}", None, STAFF),
]
