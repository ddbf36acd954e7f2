"""Route matrix rows of call-center queues (issue 4 point 4). Set up like hunt groups (MAC 5) by
the office administrator, back-up or operator, who also log agents in and out and read the
statistics. The world's queue has the end user as its agent, so the end user may read its live
figures; the granted user and the CPNI administrator (not its agents) and developers may not."""

from __future__ import annotations

from tests.api.matrix_roles import EU, STAFF, Body, ext

Q = "/tenants/{t}/queues"

ROUTES: list[tuple[str, str, Body, set[str]]] = [
    ("GET", Q, None, STAFF),
    ("POST", Q, lambda w: {"name": "Billing", "extension": ext(), "member_ids": [str(w.ids["user"])]}, STAFF),
    ("GET", Q + "/{queue}", None, STAFF),
    (
        "PATCH",
        Q + "/{queue}",
        lambda w: {"max_wait_s": 120, "wrap_up_s": 30, "announce_position_s": 60},
        STAFF,
    ),
    ("DELETE", Q + "/{queue}", None, STAFF),
    ("POST", Q + "/{queue}/agents/{end_user}/login", None, STAFF),
    ("POST", Q + "/{queue}/agents/{end_user}/logout", None, STAFF),
    ("GET", Q + "/{queue}/stats/live", None, STAFF | {EU}),
    ("GET", Q + "/{queue}/stats", None, STAFF),
]
