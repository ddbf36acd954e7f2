"""Route matrix rows of a tenant's lifecycle (issue 19): its voicemail policy, port-out PIN and the
archive of its data are the operator's and the tenant's office and back-up administrators'."""

from __future__ import annotations

from tests.api.matrix_roles import STAFF, Body

ROUTES: list[tuple[str, str, Body, set[str]]] = [
    ("GET", "/tenants/{t}/lifecycle", None, STAFF),
    ("PATCH", "/tenants/{t}/lifecycle", lambda w: {"voicemail_retention_days": 30}, STAFF),
    ("PUT", "/tenants/{t}/port-out-pin", lambda w: {"pin": "4321"}, STAFF),
    ("DELETE", "/tenants/{t}/port-out-pin", None, STAFF),
    ("GET", "/tenants/{t}/export", None, STAFF),
]
