"""Native call control (issue 16 §2): the tenant's developers and the operator (Resource.CPAAS).
In the matrix no switch runs with the API: a new call is recorded as failed with its reason (2xx),
and a finished call cannot be hung up, redirected, transferred or recorded (409)."""

from __future__ import annotations

from tests.api.matrix_roles import DEV, OP, Body

CALL = "/tenants/{t}/calls/{cpaas_call}"
ROUTES: list[tuple[str, str, Body, set[str]]] = [
    ("GET", "/tenants/{t}/calls/live", None, {OP, DEV}),
    (
        "POST",
        "/tenants/{t}/calls",
        lambda w: {"to": "1001", "twiml": "<Response><Hangup/></Response>"},
        {OP, DEV},
    ),
    ("GET", CALL, None, {OP, DEV}),
]
OPERATOR_ROUTES: list[tuple[str, str, Body]] = []
REFUSED_ROUTES: list[tuple[str, str, Body, set[str], int]] = [
    ("POST", CALL + "/hangup", None, {OP, DEV}, 409),
    ("POST", CALL + "/redirect", lambda w: {"twiml": "<Response/>"}, {OP, DEV}, 409),
    ("POST", CALL + "/transfer", lambda w: {"to": "1002"}, {OP, DEV}, 409),
    ("POST", CALL + "/record", None, {OP, DEV}, 409),
]
