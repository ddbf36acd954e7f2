"""A tenant's dial plan through the API (issue 6 point 1) and the switch reading it: the operator
sets the extension length, the outside-line prefix and 7/10-digit local dialling; bad values are
422 naming the field; the store directory hands the plan to the call engine."""

from __future__ import annotations

import uuid

from centrex.adapters.directory_store import StoreDirectory
from centrex.numbers.classify import DestinationKind, classify
from centrex.numbers.dialplan import CallerSite
from tests.api.conftest import Api
from tests.api.conftest import api as api


def test_the_operator_sets_the_dial_plan_and_the_switch_dials_by_it(api: Api) -> None:
    t = f"/api/v1/tenants/{api.world.a.id}"
    op = api.world.operator_token
    before = api.call("GET", t, op).json()
    assert (before["dial_extension_length"], before["dial_outside_prefix"]) == (4, "9")
    r = api.call(
        "PATCH",
        t,
        op,
        json={"dial_extension_length": 3, "dial_outside_prefix": "", "dial_seven_digit": False},
    )
    assert r.status_code == 200, r.text
    assert (
        r.json()["dial_extension_length"],
        r.json()["dial_outside_prefix"],
        r.json()["dial_seven_digit"],
    ) == (
        3,
        None,
        False,
    )
    # The switch reads it: 500 is an extension now, 2125550100 goes out without a 9.
    tenant = StoreDirectory(api.app.state.sessionmaker).tenant(uuid.UUID(str(api.world.a.id)))
    assert tenant is not None and tenant.dial_plan.extension_length == 3
    site = CallerSite("212555", "NY")
    assert classify("500", site, tenant.dial_plan).kind is DestinationKind.EXTENSION
    assert classify("2125550100", site, tenant.dial_plan).destination == "+12125550100"
    assert classify("5550100", site, tenant.dial_plan).kind is DestinationKind.NONE  # no 7-digit dialling
    # Office administrators may not change it; bad values name the field.
    admin = api.world.a.tokens["office_admin"]
    assert api.call("PATCH", t, admin, json={"dial_extension_length": 5}).status_code == 403
    bad = api.call("PATCH", t, op, json={"dial_outside_prefix": "99"})
    assert bad.status_code == 422 and "dial_outside_prefix" in bad.text
    bad = api.call("PATCH", t, op, json={"dial_extension_length": 9})
    assert bad.status_code == 422 and "dial_extension_length" in bad.text
