"""Route matrix rows of flows (issue 20 §1, FLOWS.md): office administrators and developers build
and run them, the operator helps (Resource.FLOW); execution logs hold message bodies, so no end
user, nor the CPNI administrator."""

from __future__ import annotations

from centrex.cpaas.flows.store import starter_definition
from tests.api.matrix_roles import DEV, STAFF, Body
from tests.support.world_messaging import number_of

BASE = "/tenants/{t}/flows"
WHO = STAFF | {DEV}
EXECUTIONS = BASE + "/{flow}/executions"

ROUTES: list[tuple[str, str, Body, set[str]]] = [
    ("GET", BASE, None, WHO),
    ("POST", BASE, lambda w: {"friendly_name": "Support"}, WHO),
    (
        "POST",
        BASE + "/import",
        lambda w: {**starter_definition("Imported"), "friendly_name": "Imported"},
        WHO,
    ),
    ("GET", BASE + "/{flow}", None, WHO),
    ("DELETE", BASE + "/{spare_flow}", None, WHO),
    ("PUT", BASE + "/{flow}/draft", lambda w: {"definition": starter_definition("v2")}, WHO),
    ("POST", BASE + "/{flow}/publish", None, WHO),
    ("GET", BASE + "/{flow}/revisions", None, WHO),
    ("GET", BASE + "/{flow}/export", None, WHO),
    ("PUT", BASE + "/{flow}/numbers", lambda w: {"numbers": [number_of(w)]}, WHO),
    ("POST", EXECUTIONS, lambda w: {"to": "+16175550111", "from": "+16175550100"}, WHO),
    ("GET", EXECUTIONS, None, WHO),
    ("GET", EXECUTIONS + "/{flow_execution}", None, WHO),
    ("POST", EXECUTIONS + "/{flow_execution}", lambda w: {"status": "ended"}, WHO),
    ("GET", EXECUTIONS + "/{flow_execution}/steps", None, WHO),
]
OPERATOR_ROUTES: list[tuple[str, str, Body]] = []
REFUSED_ROUTES: list[tuple[str, str, Body, set[str], int]] = []
