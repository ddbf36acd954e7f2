"""Route matrix rows of the numbers and 911 family (issue 6). Port orders, listings, 911 locations
and contacts are moves, adds and changes of the office administrator, back-up or operator; the
losing carrier's answers to a port order (FOC, completion, rejection) are recorded by the operator;
the rate-center table, the 911 address table and the reclamation list are the operator's."""

from __future__ import annotations

from tests.api.matrix_roles import DEV, OP, STAFF, Body, ext
from tests.support.world_numbers import main_number

ROUTES: list[tuple[str, str, Body, set[str]]] = [
    ("POST", "/tenants/{t}/port-orders", lambda w: {"account_name": "Acme"}, STAFF),
    ("GET", "/tenants/{t}/port-orders", None, STAFF),
    ("GET", "/tenants/{t}/port-orders/{port_order}", None, STAFF),
    ("PATCH", "/tenants/{t}/port-orders/{port_order}", lambda w: {"account_number": "A-2"}, STAFF),
    ("DELETE", "/tenants/{t}/port-orders/{port_order}", None, STAFF),
    ("POST", "/tenants/{t}/port-orders/{port_order}/submit", None, STAFF),
    ("POST", "/tenants/{t}/port-orders/{port_submitted}/foc", lambda w: {"foc_date": "2030-01-15"}, {OP}),
    ("POST", "/tenants/{t}/port-orders/{port_foc}/complete", lambda w: {}, {OP}),
    ("POST", "/tenants/{t}/port-orders/{port_submitted}/reject", lambda w: {"reason": "BTN mismatch"}, {OP}),
    ("POST", "/tenants/{t}/port-orders/{port_rejected}/revise", None, STAFF),
    (
        "POST",
        "/tenants/{t}/listings",
        lambda w: {"name": "Tenant Listing", "number": main_number(w), "designation": "business"},
        STAFF,
    ),
    ("GET", "/tenants/{t}/listings", None, STAFF),
    ("GET", "/tenants/{t}/listings/{listing}", None, STAFF),
    ("DELETE", "/tenants/{t}/listings/{listing}", None, STAFF),
    ("PUT", "/tenants/{t}/numbers/{number}/cnam", lambda w: {"cnam": "José Café"}, STAFF),
    ("GET", "/tenants/{t}/did-limit", None, STAFF | {DEV}),
    (
        "PUT",
        "/tenants/{t}/numbers/{number}/assignment",
        lambda w: {"target_type": "user", "target_id": str(w.ids["user"])},
        STAFF,
    ),
    (
        "PUT",
        "/tenants/{t}/e911/locations/users/{user}",
        lambda w: {
            "house_number": "100",
            "street": "Main Street",
            "city": "Springfield",
            "state": "IL",
            "postal_code": "62701",
            "floor": "2",
        },
        STAFF,
    ),
    ("GET", "/tenants/{t}/e911/locations/users/{end_user}", None, STAFF),
    (
        "PUT",
        "/tenants/{t}/e911/locations/devices/{device}",
        lambda w: {
            "house_number": "5",
            "street": "N State St",
            "city": "Chicago",
            "state": "IL",
            "postal_code": "60602",
        },
        STAFF,
    ),
    ("GET", "/tenants/{t}/e911/locations/devices/{device}", None, STAFF),
    ("GET", "/tenants/{t}/e911/locations", None, STAFF),
    (
        "POST",
        "/tenants/{t}/e911/contacts",
        lambda w: {"kind": "email", "address": f"x{ext()}@example.com"},
        STAFF,
    ),
    ("GET", "/tenants/{t}/e911/contacts", None, STAFF),
    ("DELETE", "/tenants/{t}/e911/contacts/{e911_contact}", None, STAFF),
]

# A firm order commitment before the order is submitted breaks the port order's state machine
# (numbers/porting.py TRANSITIONS): the operator, who records FOCs, gets 409 naming the rule.
REFUSED_ROUTES: list[tuple[str, str, Body, set[str], int]] = [
    ("POST", "/tenants/{t}/port-orders/{port_order}/foc", lambda w: {"foc_date": "2030-01-15"}, {OP}, 409),
    ("POST", "/tenants/{t}/port-orders/{port_completed}/submit", None, STAFF, 409),
    # By 2099 the world's invoice (world.py, unpaid) is long past due: the account is not in good
    # standing, so port-out is refused (cpaas.txt §2.4.5); whatever other families add cannot change that.
    (
        "POST",
        "/tenants/{t}/numbers/{number}/port-out-check",
        lambda w: {"port_on": "2099-01-01"},
        STAFF,
        409,
    ),
]

OPERATOR_ROUTES: list[tuple[str, str, Body]] = [
    (
        "POST",
        "/rate-centers",
        lambda w: {"csv": "npa,nxx,rate_center,lata,state\n217,528,SPRINGFIELD,376,IL\n"},
    ),
    ("GET", "/rate-centers", None),
    (
        "POST",
        "/e911/address-table",
        lambda w: {"csv": "state,community,street,low,high\nIL,Springfield,Main St,1,999\n"},
    ),
    ("GET", "/e911/address-table", None),
    ("GET", "/numbers/reclamation", None),
]
