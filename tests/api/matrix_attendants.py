"""Route matrix rows of auto attendants (issue 4 point 3): menus with their options and schedule
are moves, adds and changes (hosted-pbx.txt MAC 5 style): office administrator, back-up, operator."""

from __future__ import annotations

from tests.api.matrix_roles import STAFF, Body, ext

ROUTES: list[tuple[str, str, Body, set[str]]] = [
    ("GET", "/tenants/{t}/attendants", None, STAFF),
    (
        "POST",
        "/tenants/{t}/attendants",
        lambda w: {
            "name": f"Menu {ext()}",
            "timeout_action": "hangup",
            "options": [{"digit": "1", "action": "extension", "target": "2001"}],
        },
        STAFF,
    ),
    ("GET", "/tenants/{t}/attendants/{aa_menu}", None, STAFF),
    ("PATCH", "/tenants/{t}/attendants/{aa_menu}", lambda w: {"timeout_seconds": 7}, STAFF),
    ("DELETE", "/tenants/{t}/attendants/{aa_spare}", None, STAFF),
]
