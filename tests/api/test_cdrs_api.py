"""Call records by API and CSV, on SQLite and PostgreSQL: records of real SIPp calls through the SIP
service, and records written by the switch's own CDR writer (calls/records.py write_cdr) for the
filters; who may read them is the CPNI rule (voip-service-guide.txt §V.12)."""

from __future__ import annotations

import asyncio
import csv
import io
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from centrex.adapters.call_records import write_cdr
from centrex.calls.events import CallEnded
from centrex.calls.model import LegRecord
from centrex.ops.demo import seed_demo
from centrex.store.db import make_sessionmaker, transaction
from centrex.store.models import Tenant, User
from tests.api.conftest import Api
from tests.interop.conftest import SIPP, Server, free_udp_port, make_service

T0 = datetime(2026, 10, 30, 23, 0, tzinfo=UTC)
SINCE = "2026-01-01"


def cdrs(api: Api, token: str | None = None, tenant: str = "a", **params: str) -> dict[str, object]:
    tw = getattr(api.world, tenant)
    params = {"from": SINCE, **params}  # the test world holds a call of 2020 (world_cdrs.py)
    r = api.call("GET", f"/api/v1/tenants/{tw.id}/cdrs", token or api.world.operator_token, params=params)
    assert r.status_code == 200, r.text
    return dict(r.json())


def write_calls(api: Api) -> dict[str, uuid.UUID]:
    """Four calls of tenant A made by end_user (2004) between Oct 30 and Nov 2, and one of tenant B."""
    made: dict[str, uuid.UUID] = {}
    sessions = make_sessionmaker(api.app.state.engine)
    with transaction(sessions) as s:
        for label in ("a", "b"):
            tw = getattr(api.world, label)
            caller = s.get(User, tw.ids["end_user"])
            callee = s.get(User, tw.ids["user"])  # extension 2006
            assert caller is not None and callee is not None
            calls = [
                ("answered", "2006", T0, 4, 61),
                ("busy", "2006", T0 + timedelta(hours=2), 0, 0),
                ("no_answer", "2006", T0 + timedelta(days=1), 0, 0),
                ("failed", "+16175550100", T0 + timedelta(days=3), 0, 0),
            ]
            for disposition, to, start, ring_s, talk_s in calls if label == "a" else calls[:1]:
                answered = start + timedelta(seconds=ring_s) if disposition == "answered" else None
                end = start + timedelta(seconds=ring_s + talk_s + 1)
                legs = ()
                if to == "2006":
                    code = {"answered": 200, "busy": 486, "no_answer": 480}[disposition]
                    legs = (
                        LegRecord(
                            callee.id, "2006", None, "sip:c@h", start, answered, end, code, disposition
                        ),
                    )
                ev = CallEnded(
                    uuid.uuid4(),
                    tw.id,
                    caller.site_id,
                    caller.id,
                    tw.ids["device"],
                    caller.extension,
                    to,
                    to,
                    "on_net" if to == "2006" else "local",
                    start,
                    answered,
                    end,
                    talk_s * 1000,
                    disposition,
                    "caller_bye" if answered else disposition,
                    200 if answered else 503,
                    legs,
                )
                made[f"{label}-{disposition}"] = write_cdr(s, ev)
    return made


def test_list_filters_and_pages(api: Api) -> None:
    made = write_calls(api)
    every = cdrs(api)
    assert every["total"] == 4
    items = every["items"]
    assert isinstance(items, list)
    assert [i["disposition"] for i in items] == ["failed", "no_answer", "busy", "answered"]  # newest first
    first = items[-1]
    assert (
        first["caller"],
        first["callee"],
        first["duration_ms"],
        first["hangup_cause"],
        first["sip_code"],
    ) == (
        "2004",
        "2006",
        61_000,
        "caller_bye",
        200,
    )
    assert first["end"].startswith("2026-10-30T23:01:06")
    # paging
    page = cdrs(api, limit="2", offset="1")
    assert (page["total"], [i["disposition"] for i in page["items"]]) == (4, ["no_answer", "busy"])  # type: ignore[union-attr]
    # disposition
    assert [i["id"] for i in cdrs(api, disposition="busy")["items"]] == [str(made["a-busy"])]  # type: ignore[union-attr]
    # date range: a bare date is that whole UTC day; a date-time needs its offset
    assert cdrs(api, **{"from": "2026-10-30", "to": "2026-10-30"})["total"] == 1
    assert cdrs(api, **{"from": "2026-10-31", "to": "2026-11-01"})["total"] == 2
    assert cdrs(api, **{"from": "2026-10-30T23:30:00Z"})["total"] == 3
    assert cdrs(api, **{"from": "2026-10-31T02:00:00+02:00", "to": "2026-11-01T00:00:00Z"})["total"] == 2
    # number: caller, callee or dialled; contains by default, or equals; typed as a person types it
    assert cdrs(api, number="+1 (617) 555-0100")["total"] == 1
    assert cdrs(api, number="555")["total"] == 1
    assert cdrs(api, number="200", number_match="equals")["total"] == 0
    assert cdrs(api, number="2006", number_match="equals")["total"] == 3
    assert cdrs(api, number="2004")["total"] == 4
    # user: calls the user made, and calls that rang the user's phones
    tw = api.world.a
    assert cdrs(api, user_id=str(tw.ids["end_user"]))["total"] == 4
    assert cdrs(api, user_id=str(tw.ids["user"]))["total"] == 3
    assert cdrs(api, user_id=str(uuid.uuid4()))["total"] == 0
    # tenant B sees its one call only
    assert cdrs(api, tenant="b")["total"] == 1


def test_to_alone_bounds_the_range(api: Api) -> None:
    """`to` without `from` still ends the range: every earlier call, on the list and in the CSV."""
    write_calls(api)
    tw = api.world.a
    base = f"/api/v1/tenants/{tw.id}/cdrs"
    for to, starts in [
        ("2026-10-30", ["2026-10-30T23:00:00Z", "2020-01-02T15:00:00Z"]),  # the whole 30th
        ("2026-10-31T01:00:00Z", ["2026-10-30T23:00:00Z", "2020-01-02T15:00:00Z"]),  # exclusive
        (
            "2026-11-01T00:00:00+02:00",
            ["2026-10-31T01:00:00Z", "2026-10-30T23:00:00Z", "2020-01-02T15:00:00Z"],
        ),
        ("2020-01-01", []),
    ]:
        r = api.call("GET", base, api.world.operator_token, params={"to": to})
        assert r.status_code == 200, r.text
        assert (r.json()["total"], [i["start"] for i in r.json()["items"]]) == (len(starts), starts), to
        r = api.call("GET", base + ".csv", api.world.operator_token, params={"to": to})
        assert r.status_code == 200, r.text
        assert [row["start"] for row in csv.DictReader(io.StringIO(r.text))] == starts, to


def test_bad_filters_name_the_field(api: Api) -> None:
    tw = api.world.a
    base = f"/api/v1/tenants/{tw.id}/cdrs"
    for params, field, rule in [
        ({"from": "2026-10-30T10:00:00"}, "from", "aware_datetime"),
        ({"to": "yesterday"}, "to", "iso8601"),
        ({"from": "2026-11-02", "to": "2026-11-01"}, "to", "date_range"),
        ({"number": "1002; DROP TABLE"}, "number", "dial_string"),
    ]:
        for path in (base, base + ".csv"):
            r = api.call("GET", path, api.world.operator_token, params=params)
            assert r.status_code == 422, (params, r.text)
            assert (r.json()["field"], r.json()["rule"]) == (field, rule), r.text
    r = api.call("GET", base, api.world.operator_token, params={"disposition": "maybe"})
    assert r.status_code == 422 and "disposition" in r.text


def test_csv_export_has_the_same_rows_as_the_list(api: Api) -> None:
    write_calls(api)
    tw = api.world.a
    r = api.call(
        "GET",
        f"/api/v1/tenants/{tw.id}/cdrs.csv",
        tw.tokens["cpni_admin"],
        params={"number": "2006", "from": SINCE},
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(r.text)))
    listed = cdrs(api, tw.tokens["cpni_admin"], number="2006")["items"]
    assert [row["id"] for row in rows] == [i["id"] for i in listed]  # type: ignore[union-attr]
    assert [row["disposition"] for row in rows] == ["no_answer", "busy", "answered"]
    answered = rows[-1]
    assert (answered["start"], answered["answer"], answered["duration_ms"]) == (
        "2026-10-30T23:00:00Z",
        "2026-10-30T23:00:04Z",
        "61000",
    )


def test_who_may_read_call_records(api: Api) -> None:
    """The CPNI administrator and the users they granted read them; administrators do not."""
    write_calls(api)
    tw = api.world.a
    for role, status in [
        ("cpni_admin", 200),
        ("granted_user", 200),
        ("office_admin", 403),
        ("backup_admin", 403),
        ("end_user", 403),
        ("developer", 403),
    ]:
        for suffix in ("", ".csv", f"/{uuid.uuid4()}"):
            r = api.call("GET", f"/api/v1/tenants/{tw.id}/cdrs{suffix}", tw.tokens[role])
            expected = 404 if suffix.startswith("/") and status == 200 else status
            assert r.status_code == expected, (role, suffix, r.text)
        # another tenant's people find no tenant at all
        r = api.call("GET", f"/api/v1/tenants/{tw.id}/cdrs", api.world.b.tokens[role])
        assert r.status_code == 404, (role, r.text)


def test_one_record_with_its_legs_and_not_another_tenants(api: Api) -> None:
    made = write_calls(api)
    tw = api.world.a
    r = api.call("GET", f"/api/v1/tenants/{tw.id}/cdrs/{made['a-answered']}", tw.tokens["granted_user"])
    assert r.status_code == 200, r.text
    assert [(leg["extension"], leg["sip_code"]) for leg in r.json()["legs"]] == [("2006", 200)]
    r = api.call("GET", f"/api/v1/tenants/{tw.id}/cdrs/{made['b-answered']}", api.world.operator_token)
    assert r.status_code == 404


@pytest.mark.interop
async def test_records_of_real_calls_through_the_sip_service(api: Api, tmp_path: object) -> None:
    """SIPp phones of the demo tenant call each other through Centrex; the records are in the API."""
    if SIPP is None:
        pytest.skip("SIPp is not installed (Debian package sip-tester)")
    sessions = make_sessionmaker(api.app.state.engine)
    with transaction(sessions) as s:
        demo = seed_demo(s, tmp_path)  # type: ignore[arg-type]
    with sessions() as s:
        tenant_id = s.scalars(select(Tenant.id).where(Tenant.sip_domain == demo.sip_domain)).one()
    server = Server(
        make_service(sessions, []), {ln.extension: ln.sip_password for ln in demo.lines}, sessions, []
    )
    await server.service.start()
    try:
        a, b = free_udp_port(), free_udp_port()
        await server.register("1001", a)
        await server.register("1002", b)
        for uac, uas in (("uac_call.xml", "uas_answer.xml"), ("uac_busy.xml", "uas_busy.xml")):
            callee = asyncio.create_task(server.sipp(uas, "1002", port=b, client=False, timeout_s=15))
            await asyncio.sleep(0.3)
            caller = await server.sipp(uac, "1001", port=a, callee="1002", timeout_s=15)
            assert caller.returncode == 0, caller.output[-3000:]
            assert (await callee).returncode == 0
    finally:
        await server.service.stop()
    path = f"/api/v1/tenants/{tenant_id}/cdrs"
    r = api.call("GET", path, api.world.operator_token)
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert [(i["caller"], i["callee"], i["disposition"], i["sip_code"]) for i in items] == [
        ("1001", "1002", "busy", 486),
        ("1001", "1002", "answered", 200),
    ]
    assert items[1]["duration_ms"] >= 400 and items[1]["hangup_cause"] == "caller_bye"
    r = api.call("GET", path + ".csv", api.world.operator_token, params={"disposition": "answered"})
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [(row["caller"], row["callee"], row["sip_code"]) for row in rows] == [("1001", "1002", "200")]
