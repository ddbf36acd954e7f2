"""Route matrix rows of 911 notifications and nomadic use (issue 6 point 6). Contacts and their
secrets, and which phones moved, are the office administrator's, back-up's or operator's, like the
other 911 data (hosted-pbx.txt MACs; voip-service-guide.txt §V.14.3 "Customer ... verifies"); a
user sees and confirms their own phones under /me (§V.14.4.2)."""

from __future__ import annotations

from tests.api.matrix_roles import STAFF, USERS, Body

ROUTES: list[tuple[str, str, Body, set[str]]] = [
    ("GET", "/tenants/{t}/e911/nomadic", None, STAFF),
    ("GET", "/tenants/{t}/e911/devices/{device}/nomadic", None, STAFF),
    ("POST", "/tenants/{t}/e911/devices/{device}/location-confirmation", None, STAFF),
    ("GET", "/tenants/{t}/me/e911", None, USERS),
    ("POST", "/tenants/{t}/me/e911/location-confirmation", lambda w: {}, USERS),
]

# A new signing secret for the world's 911 contact, which is an e-mail address: refused (409, rule
# webhook_secret) to those who may change contacts, 403 to the rest. Making a webhook's secret is
# tested in tests/e911_store/test_notice_store.py (the world keeps one contact: others count them).
REFUSED_ROUTES: list[tuple[str, str, Body, set[str], int]] = [
    ("POST", "/tenants/{t}/e911/contacts/{e911_contact}/secret", None, STAFF, 409),
]
