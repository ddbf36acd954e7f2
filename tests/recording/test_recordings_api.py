"""Recordings and recording policy by API, on SQLite and PostgreSQL: what the CPNI administrator and
granted users see and download (voip-service-guide.txt §V.12), what retention leaves (410), and the
administrators' policy changes, validated and audited."""

from __future__ import annotations

from datetime import UTC, datetime

from centrex.ops.recording_retention import purge_recordings
from centrex.store.db import make_sessionmaker
from tests.api.conftest import Api
from tests.support.world_recordings import FILES

CPNI, GRANTED, ADMIN = "cpni_admin", "granted_user", "office_admin"


def path(api: Api, rest: str, tenant: str = "a") -> str:
    return f"/api/v1/tenants/{getattr(api.world, tenant).id}{rest}"


def test_the_cpni_administrator_lists_a_recording_with_its_call_record(api: Api) -> None:
    tw = api.world.a
    r = api.call("GET", path(api, "/recordings"), tw.tokens[CPNI])
    assert r.status_code == 200, r.text
    [item] = r.json()["items"]
    assert item["id"] == str(tw.ids["recording"]) and item["cdr_id"] == str(tw.ids["cdr"])
    assert (item["user_id"], item["trigger"], item["direction"], item["duration_ms"]) == (
        str(tw.ids["end_user"]),
        "policy",
        "internal",
        1000,
    )
    one = api.call("GET", path(api, f"/recordings/{item['id']}"), tw.tokens[GRANTED]).json()
    assert one == item

    def count(**params: str) -> int:
        r = api.call("GET", path(api, "/recordings"), tw.tokens[CPNI], params=params)
        assert r.status_code == 200, r.text
        return int(r.json()["total"])

    assert count(user_id=str(tw.ids["end_user"])) == 1 and count(user_id=str(tw.ids["user"])) == 0
    assert count(direction="internal") == 1 and count(direction="outbound") == 0
    assert count(**{"from": "2020-01-02", "to": "2020-01-02"}) == 1 and count(**{"from": "2021-01-01"}) == 0
    assert count(call_id=item["call_id"]) == 1 and count(trigger="on_demand") == 0
    bad = api.call("GET", path(api, "/recordings"), tw.tokens[CPNI], params={"from": "yesterday"})
    assert bad.status_code == 422 and (bad.json()["field"], bad.json()["rule"]) == ("from", "iso8601")
    bad = api.call("GET", path(api, "/recordings"), tw.tokens[CPNI], params={"direction": "sideways"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "direction"


def test_download_is_the_file_and_is_audited_and_retention_leaves_410(api: Api) -> None:
    tw = api.world.a
    rec = str(tw.ids["recording"])
    r = api.call("GET", path(api, f"/recordings/{rec}.wav"), tw.tokens[GRANTED])
    assert r.status_code == 200 and r.headers["content-type"] == "audio/wav"
    meta = api.call("GET", path(api, f"/recordings/{rec}"), tw.tokens[CPNI]).json()
    assert r.content[:4] == b"RIFF" and "attachment" in r.headers["content-disposition"]
    [entry] = api.audit(action="recording.download")
    assert entry["entity_id"] == rec and entry["actor"].startswith("user:2005@")  # the granted user
    assert meta["deleted_at"] is None

    # The world's recording was made in January 2020: long past the 12 months of hosted-pbx.txt 2.f.
    report = purge_recordings(make_sessionmaker(api.app.state.engine), datetime.now(UTC))
    assert sum(p.deleted for p in report) == 2  # one in each tenant
    gone = api.call("GET", path(api, f"/recordings/{rec}.wav"), tw.tokens[CPNI])
    assert gone.status_code == 410 and gone.json()["rule"] == "retention"
    assert api.call("GET", path(api, "/recordings"), tw.tokens[CPNI]).json()["total"] == 0
    kept = api.call(
        "GET", path(api, "/recordings"), tw.tokens[CPNI], params={"include_deleted": "true"}
    ).json()
    item = kept["items"][0]
    assert item["deleted_at"] is not None and not (FILES / str(tw.id) / f"{item['call_id']}.wav").exists()
    assert [e["action"] for e in api.audit(action="recording.retention_delete")] == [
        "recording.retention_delete"
    ]


def test_administrators_set_the_tenant_and_user_modes_audited(api: Api) -> None:
    tw = api.world.a
    token = tw.tokens[ADMIN]
    got = api.call("GET", path(api, "/recording-policy"), token).json()
    assert (got["mode"], got["feature_code"], got["retention_months"]) == ("outbound", "*1", 12)
    assert got["users"] == [{"user_id": str(tw.ids["end_user"]), "extension": "2004", "mode": "all"}]

    for body, field in (
        ({"mode": "sometimes"}, "mode"),
        ({"mode": "all", "feature_code": "1"}, "feature_code"),
        ({"mode": "all", "feature_code": "*1234"}, "feature_code"),
        ({"mode": "all", "retention_months": 0}, "retention_months"),
        ({"mode": "all", "retention_months": 121}, "retention_months"),
    ):
        r = api.call("PUT", path(api, "/recording-policy"), token, json=body)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == field, (body, r.text)

    r = api.call(
        "PUT",
        path(api, "/recording-policy"),
        token,
        json={"mode": "all", "feature_code": "*7", "retention_months": 24},
    )
    assert r.status_code == 200 and (
        r.json()["mode"],
        r.json()["feature_code"],
        r.json()["retention_months"],
    ) == (
        "all",
        "*7",
        24,
    )
    [change] = api.audit(action="recording.policy")
    assert change["before"]["mode"] == "outbound" and change["after"] == {
        "mode": "all",
        "feature_code": "*7",
        "retention_months": 24,
    }

    user = str(tw.ids["user"])
    r = api.call("GET", path(api, f"/users/{user}/recording-policy"), token).json()
    assert r == {"user_id": user, "mode": None, "effective_mode": "all"}
    r = api.call(
        "PUT", path(api, f"/users/{user}/recording-policy"), token, json={"mode": "on_demand"}
    ).json()
    assert (r["mode"], r["effective_mode"]) == ("on_demand", "on_demand")
    r = api.call("PUT", path(api, f"/users/{user}/recording-policy"), token, json={"mode": "off"}).json()
    assert (r["mode"], r["effective_mode"]) == ("off", "off")
    r = api.call("PUT", path(api, f"/users/{user}/recording-policy"), token, json={"mode": None}).json()
    assert (r["mode"], r["effective_mode"]) == (None, "all")  # follows the tenant again
    actions = [(e["before"] or {}).get("mode") for e in api.audit(action="recording.user_policy")]
    assert sorted(actions, key=str) == sorted([None, "on_demand", "off"], key=str)

    # A user of another tenant is not found through this tenant's path.
    other = str(api.world.b.ids["user"])
    r = api.call(
        "PUT", path(api, f"/users/{other}/recording-policy"), api.world.operator_token, json={"mode": "all"}
    )
    assert r.status_code == 404
