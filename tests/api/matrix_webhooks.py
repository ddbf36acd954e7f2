"""Route matrix rows of event webhooks (issue 16 §3): the tenant's administrators wire them to
their systems, its developers to their apps, the operator helps both (Resource.WEBHOOK); the
events carry call records (CPNI), so no end user, nor the CPNI administrator by this route."""

from __future__ import annotations

from tests.api.matrix_roles import DEV, STAFF, Body

BASE = "/tenants/{t}/webhooks"
WHO = STAFF | {DEV}

ROUTES: list[tuple[str, str, Body, set[str]]] = [
    ("GET", BASE, None, WHO),
    ("POST", BASE, lambda w: {"url": "https://hooks.example.com/new", "events": ["call.ended"]}, WHO),
    ("GET", BASE + "/{webhook}", None, WHO),
    ("PATCH", BASE + "/{webhook}", lambda w: {"description": "CRM"}, WHO),
    ("DELETE", BASE + "/{spare_webhook}", None, WHO),
    ("POST", BASE + "/{webhook}/rotate", lambda w: {"grace_seconds": 60}, WHO),
    ("GET", BASE + "/{webhook}/deliveries", None, WHO),
    ("POST", BASE + "/{webhook}/test", None, WHO),
]
OPERATOR_ROUTES: list[tuple[str, str, Body]] = []
REFUSED_ROUTES: list[tuple[str, str, Body, set[str], int]] = []
