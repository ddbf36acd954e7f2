"""Route matrix rows of conference bridges (issue 4 point 6): made and read like the MACs by the
office administrator, back-up and operator; the live participants too (who is in a call is CPNI-like
detail no end user of the tenant needs)."""

from __future__ import annotations

from tests.api.matrix_roles import STAFF, Body, ext

BASE = "/tenants/{t}/conferences"

ROUTES: list[tuple[str, str, Body, set[str]]] = [
    ("GET", BASE, None, STAFF),
    ("POST", BASE, lambda w: {"name": "Standup", "extension": ext(), "pin": "1234"}, STAFF),
    ("GET", BASE + "/{conference}", None, STAFF),
    ("PATCH", BASE + "/{conference}", lambda w: {"max_parties": 5, "pin": None}, STAFF),
    ("DELETE", BASE + "/{spare_conference}", None, STAFF),
    ("GET", BASE + "/{conference}/participants", None, STAFF),
]
