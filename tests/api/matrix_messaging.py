"""Messaging (issue 16 §4): messages, A2P registrations, SMS URLs and consent are a developer's
resources (Resource.CPAAS): the tenant's developers and the operator, not the office staff."""

from __future__ import annotations

from tests.api.matrix_roles import DEV, OP, Body
from tests.support.world_messaging import number_of

CPAAS = {OP, DEV}

ROUTES: list[tuple[str, str, Body, set[str]]] = [
    ("GET", "/tenants/{t}/messages", None, CPAAS),
    (
        "POST",
        "/tenants/{t}/messages",
        lambda w: {"from": number_of(w), "to": "+16175551234", "body": "hi"},
        CPAAS,
    ),
    ("GET", "/tenants/{t}/messages/{sms_message}", None, CPAAS),
    ("GET", "/tenants/{t}/a2p-registrations", None, CPAAS),
    ("POST", "/tenants/{t}/a2p-registrations", lambda w: {"kind": "10dlc", "brand_name": "New Co"}, CPAAS),
    ("GET", "/tenants/{t}/a2p-registrations/{a2p}", None, CPAAS),
    ("PATCH", "/tenants/{t}/a2p-registrations/{a2p}", lambda w: {"description": "customer care"}, CPAAS),
    ("DELETE", "/tenants/{t}/a2p-registrations/{a2p}", None, CPAAS),
    ("GET", "/tenants/{t}/sms-numbers", None, CPAAS),
    ("PUT", "/tenants/{t}/sms-numbers/{sms_number}", lambda w: {"sms_url": "https://example.com/in"}, CPAAS),
    ("GET", "/tenants/{t}/sms-consents", None, CPAAS),
]
OPERATOR_ROUTES: list[tuple[str, str, Body]] = []
REFUSED_ROUTES: list[tuple[str, str, Body, set[str], int]] = []
