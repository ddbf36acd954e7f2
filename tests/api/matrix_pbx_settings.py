"""A tenant's PBX settings (feature codes, direct media, park timeout: issue 4 points 1 and 6) are
programming of the customer's phone system: read and changed by the office administrator, back-up
or operator (hosted-pbx.txt MACs), never by end users, the CPNI administrator or developers."""

from __future__ import annotations

from tests.api.matrix_roles import STAFF, Body

ROUTES: list[tuple[str, str, Body, set[str]]] = [
    ("GET", "/tenants/{t}/pbx-settings", None, STAFF),
    (
        "PATCH",
        "/tenants/{t}/pbx-settings",
        lambda w: {"feature_codes": {"park": "#70"}, "direct_media": True, "park_timeout_s": 300},
        STAFF,
    ),
]
OPERATOR_ROUTES: list[tuple[str, str, Body]] = []
REFUSED_ROUTES: list[tuple[str, str, Body, set[str], int]] = []
