"""Route matrix rows of the routing family (issue 6 point 5). Trunks, outbound routes and emergency
routes are the operator's (anyone else: 404, as if they did not exist); a tenant's office
administrator and back-up may read the pbx trunks of their own tenant (IP trunking)."""

from __future__ import annotations

from tests.api.matrix_roles import STAFF, Body, ext

ROUTES: list[tuple[str, str, Body, set[str]]] = [
    ("GET", "/tenants/{t}/trunks", None, STAFF),
    ("GET", "/tenants/{t}/trunks/{pbx_trunk}", None, STAFF),
]

OPERATOR_ROUTES: list[tuple[str, str, Body]] = [
    ("GET", "/trunks", None),
    (
        "POST",
        "/trunks",
        lambda w: {"name": f"carrier-{ext()}", "kind": "carrier", "gateways": [{"host": "192.0.2.77"}]},
    ),
    ("GET", "/trunks/{carrier_trunk}", None),
    ("PATCH", "/trunks/{carrier_trunk}", lambda w: {"trusted": False}),
    ("DELETE", "/trunks/{spare_trunk}", None),
    ("GET", "/outbound-routes", None),
    ("POST", "/outbound-routes", lambda w: {"trunk_id": str(w.ids["carrier_trunk"]), "prefix": "44"}),
    ("GET", "/outbound-routes/{outbound_route}", None),
    ("PATCH", "/outbound-routes/{outbound_route}", lambda w: {"weight": 50}),
    ("DELETE", "/outbound-routes/{outbound_route}", None),
    ("GET", "/emergency-routes", None),
    ("POST", "/emergency-routes", lambda w: {"trunk_id": str(w.ids["e911_trunk"]), "psap": "Chicago OEMC"}),
    ("GET", "/emergency-routes/{emergency_route}", None),
    ("PATCH", "/emergency-routes/{emergency_route}", lambda w: {"priority": 10}),
    ("DELETE", "/emergency-routes/{emergency_route}", None),
]

# Trunk credentials (issue 17 §5, api/routers/trunk_credentials.py): the operator's, like trunks.
OPERATOR_ROUTES += [
    (
        "PUT",
        "/trunks/{carrier_trunk}/credentials",
        lambda w: {"auth_username": "acct1", "auth_password": "s3cret-carrier", "register": True},
    ),
    ("GET", "/trunks/{carrier_trunk}/credentials", None),
    ("DELETE", "/trunks/{carrier_trunk}/credentials", None),
]
