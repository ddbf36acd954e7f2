"""PBX settings through the API (issue 4 points 1 and 6): the effective feature-code table, changes
and resets, every broken rule as a 422 naming the feature and the rule, park timeout bounds, the
audit entry, and the switch's directory reading the result."""

from __future__ import annotations

import uuid

from centrex.adapters.directory_store import StoreDirectory
from centrex.calls.features import DEFAULT_CODES, Match
from tests.api.conftest import Api
from tests.api.conftest import api as api


def test_an_administrator_moves_codes_resets_them_and_the_switch_reads_the_table(api: Api) -> None:
    url = f"/api/v1/tenants/{api.world.a.id}/pbx-settings"
    admin = api.world.a.tokens["office_admin"]
    first = api.call("GET", url, admin).json()
    assert first == {
        "feature_codes": dict(DEFAULT_CODES),
        "feature_code_overrides": {},
        "direct_media": False,
        "park_timeout_s": 120,
        "max_call_s": 4 * 3600,  # issue 13 §3: a call is hung up 4 h after its answer by default
    }
    r = api.call(
        "PATCH",
        url,
        admin,
        json={
            "feature_codes": {"park": "#70", "voicemail": "*96"},
            "direct_media": True,
            "park_timeout_s": 45,
            "max_call_s": 7200,
        },
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["feature_codes"]["park"] == "#70" and body["feature_codes"]["retrieve"] == "*71"
    assert body["feature_code_overrides"] == {"park": "#70", "voicemail": "*96"}
    assert body["direct_media"] is True and body["park_timeout_s"] == 45
    tenant = StoreDirectory(api.app.state.sessionmaker).tenant(uuid.UUID(str(api.world.a.id)))
    assert tenant is not None and tenant.direct_media and tenant.park_timeout_s == 45
    assert body["max_call_s"] == 7200 and tenant.max_call_s == 7200  # what the switch times calls by
    assert tenant.feature_codes.match("#703") == Match("park", "3")
    assert tenant.feature_codes.match("*97") is None
    # null resets one code; naming the default is the same as a reset.
    r = api.call("PATCH", url, admin, json={"feature_codes": {"park": None, "voicemail": "*97"}})
    assert r.status_code == 200 and r.json()["feature_code_overrides"] == {}
    # Tenant B never changed anything.
    other = api.call("GET", f"/api/v1/tenants/{api.world.b.id}/pbx-settings", api.world.operator_token)
    assert other.json()["feature_codes"] == dict(DEFAULT_CODES)
    entries = api.audit(action="pbx.settings")
    assert len(entries) == 2  # the two changes, by the office administrator
    assert {"park_timeout_s": 45, "direct_media": True}.items() <= {
        k: v for e in entries for k, v in (e["after"] or {}).items()
    }.items()


def errors(api: Api, body: dict[str, object]) -> set[tuple[str, str]]:
    url = f"/api/v1/tenants/{api.world.a.id}/pbx-settings"
    r = api.call("PATCH", url, api.world.a.tokens["office_admin"], json=body)
    assert r.status_code == 422, r.text
    return {(e["field"], e["rule"]) for e in r.json()["errors"]}


def test_each_broken_rule_is_a_422_naming_the_feature_and_the_rule(api: Api) -> None:
    assert errors(api, {"feature_codes": {"park": "70"}}) == {("feature_codes.park", "code_syntax")}
    assert errors(api, {"feature_codes": {"park": "*911"}}) == {("feature_codes.park", "emergency")}
    assert errors(api, {"feature_codes": {"voicemail": "*71"}}) == {("feature_codes.voicemail", "unique")}
    assert errors(api, {"feature_codes": {"conference": "*80"}}) == {("feature_codes.conference", "prefix")}
    assert errors(api, {"feature_codes": {"parking": "*70"}}) == {
        ("feature_codes.parking", "unknown_feature")
    }
    assert {f for f, _ in errors(api, {"park_timeout_s": 29})} == {"park_timeout_s"}
    assert {f for f, _ in errors(api, {"park_timeout_s": 3601})} == {"park_timeout_s"}
    # Nothing was stored by the refused changes.
    url = f"/api/v1/tenants/{api.world.a.id}/pbx-settings"
    assert api.call("GET", url, api.world.operator_token).json()["feature_code_overrides"] == {}


def test_the_longest_call_is_between_a_minute_and_a_day(api: Api) -> None:
    found = errors(api, {"max_call_s": 59}) | errors(api, {"max_call_s": 86_401})
    assert {field for field, _ in found} == {"max_call_s"}
