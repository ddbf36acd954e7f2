"""Route matrix rows of the bans family (issue 13 point 4): bans and the ban allowlist are the
operator's (anyone else: 404, as if they did not exist)."""

from __future__ import annotations

from tests.api.matrix_roles import Body

OPERATOR_ROUTES: list[tuple[str, str, Body]] = [
    ("GET", "/bans", None),
    ("GET", "/bans/{ban}", None),
    ("DELETE", "/bans/{ban}", None),
    ("GET", "/ban-allowlist", None),
    ("POST", "/ban-allowlist", lambda w: {"network": "192.0.2.128/25", "note": "office"}),
    ("DELETE", "/ban-allowlist/{ban_allow}", None),
]
