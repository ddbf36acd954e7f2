"""Route matrix rows of the alarms family (issue 19 part 2). Alarms and the ticket desk are the
operator's (anyone else: 404); a tenant's tickets are opened only by its office administrator or
back-up (hosted-pbx.txt, MACs: they "report issues"), and read by them and the operator."""

from __future__ import annotations

from tests.api.matrix_roles import ADM, BAK, STAFF, Body

ROUTES: list[tuple[str, str, Body, set[str]]] = [
    (
        "POST",
        "/tenants/{t}/tickets",
        lambda w: {"subject": "No dial tone at reception", "priority": 1},
        {ADM, BAK},
    ),
    ("GET", "/tenants/{t}/tickets", None, STAFF),
    ("GET", "/tenants/{t}/tickets/{ticket}", None, STAFF),
]

OPERATOR_ROUTES: list[tuple[str, str, Body]] = [
    ("GET", "/alarms", None),
    ("GET", "/alarms/{alarm}", None),
    ("POST", "/alarms/{alarm}/acknowledge", None),
    ("POST", "/alarms/{alarm}/clear", None),
    ("GET", "/tickets", None),
    ("GET", "/tickets/{ticket}", None),
    ("POST", "/tickets/{ticket}/acknowledge", None),
    ("POST", "/tickets/{ticket}/resolve", lambda w: {"resolution": "replaced the handset cord"}),
]
