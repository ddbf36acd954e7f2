"""Campaigns (issue 20 §2): contact lists, contacts, campaigns, consent records and the tenant's
do-not-call list are run by the tenant's administrators and developers, with the operator
(Resource.CAMPAIGN); contacts are the tenant's customers' personal data, so no end user nor CPNI
administrator. The registry copies (National DNC, Reassigned Numbers) are the operator's alone."""

from __future__ import annotations

from tests.api.matrix_roles import DEV, STAFF, Body, ext
from tests.support.world_messaging import number_of

WHO = STAFF | {DEV}
T = "/tenants/{t}"

ROUTES: list[tuple[str, str, Body, set[str]]] = [
    ("GET", T + "/contact-lists", None, WHO),
    ("POST", T + "/contact-lists", lambda w: {"name": f"List {ext()}"}, WHO),
    ("GET", T + "/contact-lists/{contact_list}", None, WHO),
    ("DELETE", T + "/contact-lists/{spare_contact_list}", None, WHO),
    ("GET", T + "/contact-lists/{contact_list}/contacts", None, WHO),
    (
        "POST",
        T + "/contact-lists/{contact_list}/contacts",
        lambda w: {"contacts": [{"number": "(415) 555-0199", "name": "New"}]},
        WHO,
    ),
    ("DELETE", T + "/contact-lists/{contact_list}/contacts/{contact}", None, WHO),
    ("GET", T + "/campaigns", None, WHO),
    (
        "POST",
        T + "/campaigns",
        lambda w: {
            "name": "Autumn",
            "list_id": str(w.ids["contact_list"]),
            "channel": "sms",
            "purpose": "informational",
            "from": number_of(w),
            "body": "We moved",
            "scheduled_at": "2030-01-01T15:00:00Z",
        },
        WHO,
    ),
    ("GET", T + "/campaigns/{campaign}", None, WHO),
    ("POST", T + "/campaigns/{campaign}/cancel", None, WHO),
    ("GET", T + "/campaigns/{campaign}/report", None, WHO),
    ("GET", T + "/campaigns/{campaign}/recipients", None, WHO),
    ("GET", T + "/consent-records", None, WHO),
    (
        "POST",
        T + "/consent-records",
        lambda w: {"number": "+12125550123", "channel": "sms", "purpose": "marketing", "method": "paper"},
        WHO,
    ),
    ("GET", T + "/dnc", None, WHO),
    ("POST", T + "/dnc", lambda w: {"number": "+12125550177", "reason": "asked"}, WHO),
    ("DELETE", T + "/dnc/{dnc_number}", None, WHO),
]
OPERATOR_ROUTES: list[tuple[str, str, Body]] = [
    ("GET", "/dnc-registry/imports", None),
    ("POST", "/dnc-registry/{registry_kind}", lambda w: {"csv": "number\n+12125550188\n", "source": "m"}),
]
REFUSED_ROUTES: list[tuple[str, str, Body, set[str], int]] = []
