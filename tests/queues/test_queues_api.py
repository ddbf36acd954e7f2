"""Call-center queues by API, on SQLite and PostgreSQL: administrators set up queues and members
(audited; one extension plan with users and hunt groups), log agents in and out (what the engine's
StoreQueues then reads), and read live and historical statistics; bad input names field and rule."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from centrex.pbx.queue_model import QueueEvent
from centrex.pbx.queue_store import StoreQueues
from centrex.store.models.queues import QueueEventRow
from tests.api.conftest import Api

ADMIN, BACKUP, EU, GRANTED = "office_admin", "backup_admin", "end_user", "granted_user"


def path(api: Api, rest: str, tenant: str = "a") -> str:
    return f"/api/v1/tenants/{getattr(api.world, tenant).id}{rest}"


def create(api: Api, **body: Any) -> dict[str, Any]:
    r = api.call("POST", path(api, "/queues"), api.world.a.tokens[ADMIN], json=body)
    assert r.status_code == 201, r.text
    return dict(r.json())


def refused(r: Any, status: int, field: str, rule: str) -> None:
    assert r.status_code == status, r.text
    body = r.json()
    got = (
        (body["field"], body["rule"])
        if "field" in body
        else (body["errors"][0]["field"], body["errors"][0]["rule"])
    )
    assert got == (field, rule), body


def test_administrator_creates_a_queue_with_members_in_one_extension_plan(api: Api) -> None:
    tw = api.world.a
    q = create(
        api, name="Billing", extension="4100", member_ids=[str(tw.ids["user"]), str(tw.ids["end_user"])]
    )
    assert {k: q[k] for k in ("name", "extension", "max_wait_s", "wrap_up_s", "agent_ring_s")} == {
        "name": "Billing",
        "extension": "4100",
        "max_wait_s": 300,
        "wrap_up_s": 10,
        "agent_ring_s": 15,
    }
    assert q["member_ids"] == [str(tw.ids["user"]), str(tw.ids["end_user"])] and q["logged_in_ids"] == []
    assert q["overflow_destination"] is None
    assert [e["action"] for e in api.audit(entity="call_queues")][:1] == ["mac.call_queue"]
    listed = api.call("GET", path(api, "/queues"), tw.tokens[BACKUP]).json()
    assert [i["extension"] for i in listed["items"]] == ["4000", "4100"] and listed["total"] == 2
    # Users, hunt groups and queues share the extension plan, whichever comes first.
    token = tw.tokens[ADMIN]
    refused(
        api.call("POST", path(api, "/users"), token, json={"name": "X", "extension": "4100"}),
        409,
        "extension",
        "unique",
    )
    refused(
        api.call("POST", path(api, "/hunt-groups"), token, json={"name": "X", "extension": "4000"}),
        409,
        "extension",
        "unique",
    )
    for taken in ("2001", "3000", "4000"):
        refused(
            api.call("POST", path(api, "/queues"), token, json={"name": "X", "extension": taken}),
            409,
            "extension",
            "unique",
        )
    refused(
        api.call("PATCH", path(api, f"/queues/{q['id']}"), token, json={"extension": "4000"}),
        409,
        "extension",
        "unique",
    )
    # The same extension in another tenant is another plan.
    r = api.call(
        "POST", path(api, "/queues", "b"), api.world.b.tokens[ADMIN], json={"name": "B", "extension": "4100"}
    )
    assert r.status_code == 201, r.text


def test_bad_input_names_field_and_rule(api: Api) -> None:
    tw, token = api.world.a, api.world.a.tokens[ADMIN]

    def post(**body: Any) -> Any:
        return api.call("POST", path(api, "/queues"), token, json={"name": "Q", "extension": "4200", **body})

    refused(post(max_wait_s=5), 422, "max_wait_s", "greater_than_equal")
    refused(post(agent_ring_s=121), 422, "agent_ring_s", "less_than_equal")
    refused(post(wrap_up_s=-1), 422, "wrap_up_s", "greater_than_equal")
    refused(post(extension="4x"), 422, "extension", "string_pattern_mismatch")
    refused(post(overflow_destination="not a number"), 422, "overflow_destination", "e164")
    refused(post(overflow_destination="4200"), 422, "overflow_destination", "not_self")
    refused(post(member_ids=[str(api.world.b.ids["user"])]), 422, "member_ids", "exists_in_tenant")
    refused(post(member_ids=[str(tw.ids["user"])] * 2), 422, "member_ids", "unique")
    refused(
        api.call(
            "PATCH", path(api, f"/queues/{tw.ids['queue']}"), token, json={"overflow_destination": "4000"}
        ),
        422,
        "overflow_destination",
        "not_self",
    )
    assert api.call("GET", path(api, "/queues"), token).json()["total"] == 1  # nothing half-made


def test_members_replaced_in_order_keep_their_login_and_a_removed_agent_is_logged_out(
    api: Api, session_factory: sessionmaker[Session]
) -> None:
    tw, token = api.world.a, api.world.a.tokens[ADMIN]
    url = path(api, f"/queues/{tw.ids['queue']}")
    r = api.call(
        "PATCH",
        url,
        token,
        json={"member_ids": [str(tw.ids["user"]), str(tw.ids["end_user"])], "wrap_up_s": 30},
    )
    assert r.status_code == 200, r.text
    assert r.json()["member_ids"] == [str(tw.ids["user"]), str(tw.ids["end_user"])]
    assert r.json()["logged_in_ids"] == [str(tw.ids["end_user"])] and r.json()["wrap_up_s"] == 30
    [entry] = [e for e in api.audit(entity="call_queues") if e["entity_id"] == str(tw.ids["queue"])]
    assert entry["before"] == {"member_ids": [str(tw.ids["end_user"])], "wrap_up_s": 10}
    assert entry["after"]["wrap_up_s"] == 30
    r = api.call("PATCH", url, token, json={"member_ids": [str(tw.ids["user"])]})
    assert r.json()["logged_in_ids"] == [] and r.json()["member_ids"] == [str(tw.ids["user"])]
    with session_factory() as s:
        kinds = s.scalars(
            select(QueueEventRow.kind)
            .where(QueueEventRow.agent_id == tw.ids["end_user"])
            .order_by(QueueEventRow.at)
        ).all()
    assert kinds[-1] == "agent_logout"


def test_administrator_logs_agents_in_and_out_as_the_engine_sees_it(
    api: Api, session_factory: sessionmaker[Session]
) -> None:
    tw, token = api.world.a, api.world.a.tokens[ADMIN]
    q = create(
        api, name="Billing", extension="4100", member_ids=[str(tw.ids["user"]), str(tw.ids["end_user"])]
    )
    engine_view = StoreQueues(session_factory)
    qid = uuid.UUID(q["id"])
    assert engine_view.members(qid) == [tw.ids["user"], tw.ids["end_user"]] and engine_view.agents(qid) == []
    login = path(api, f"/queues/{q['id']}/agents/{tw.ids['end_user']}/login")
    r = api.call("POST", login, token)
    assert r.status_code == 200, r.text
    assert r.json()["logged_in"] is True and r.json()["logged_in_at"] is not None
    assert api.call("POST", login, token).json() == r.json()  # again: nothing changes
    r2 = api.call("POST", path(api, f"/queues/{q['id']}/agents/{tw.ids['user']}/login"), token)
    assert r2.status_code == 200
    assert engine_view.agents(qid) == [tw.ids["end_user"], tw.ids["user"]]
    out = api.call("POST", path(api, f"/queues/{q['id']}/agents/{tw.ids['end_user']}/logout"), token)
    assert out.json()["logged_in"] is False and out.json()["logged_in_at"] is None
    assert engine_view.agents(qid) == [tw.ids["user"]]
    with session_factory() as s:
        events = s.execute(
            select(QueueEventRow.kind, QueueEventRow.agent_id)
            .where(QueueEventRow.queue_id == qid)
            .order_by(QueueEventRow.at)
        ).all()
    assert [tuple(e) for e in events] == [
        ("agent_login", tw.ids["end_user"]),
        ("agent_login", tw.ids["user"]),
        ("agent_logout", tw.ids["end_user"]),
    ]
    actions = [e["action"] for e in api.audit(entity="queue_agents")]
    assert sorted(actions) == ["queue.agent_login", "queue.agent_login", "queue.agent_logout"]
    # Not a member: 409 naming the rule; another tenant's user is not found.
    other = create(api, name="Empty", extension="4101")
    refused(
        api.call("POST", path(api, f"/queues/{other['id']}/agents/{tw.ids['user']}/login"), token),
        409,
        "user_id",
        "queue_member",
    )
    r = api.call("POST", path(api, f"/queues/{q['id']}/agents/{api.world.b.ids['user']}/login"), token)
    assert r.status_code == 404


def _events_at(
    session_factory: sessionmaker[Session],
    qid: uuid.UUID,
    tid: uuid.UUID,
    events: list[tuple[str, datetime, uuid.UUID | None, uuid.UUID | None, int | None]],
) -> None:
    store = StoreQueues(session_factory)
    for kind, at, call, agent, wait in events:
        store.record(QueueEvent(kind, qid, tid, at, call, agent, wait))


def test_live_figures_for_administrators_and_the_queues_own_agents(
    api: Api, session_factory: sessionmaker[Session]
) -> None:
    tw = api.world.a
    now = datetime.now(UTC)
    c1, c2, c3 = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    _events_at(
        session_factory,
        tw.ids["queue"],
        tw.id,
        [
            ("entered", now - timedelta(seconds=90), c1, None, None),  # waiting 90 s
            ("entered", now - timedelta(seconds=30), c2, None, None),  # waiting 30 s
            ("entered", now - timedelta(seconds=60), c3, None, None),
            ("answered", now - timedelta(seconds=50), c3, tw.ids["end_user"], 10_000),
            ("entered", now - timedelta(hours=2), uuid.uuid4(), None, None),  # lost long ago: not waiting
        ],
    )
    url = path(api, f"/queues/{tw.ids['queue']}/stats/live")
    for role in (ADMIN, EU):  # the end user is the queue's agent
        r = api.call("GET", url, tw.tokens[role])
        assert r.status_code == 200, r.text
        live = r.json()
        assert (live["waiting"], live["agents_logged_in"]) == (2, 1)
        assert live["logged_in_ids"] == [str(tw.ids["end_user"])]
        assert 90_000 <= live["longest_wait_ms"] < 100_000
    r = api.call("GET", url, tw.tokens[GRANTED])
    assert r.status_code == 403 and r.json()["rule"] == "queue_member"


def test_period_statistics_by_api(api: Api, session_factory: sessionmaker[Session]) -> None:
    tw, token = api.world.a, api.world.a.tokens[BACKUP]
    agent, other = tw.ids["end_user"], tw.ids["user"]
    day = datetime(2026, 1, 6, tzinfo=UTC)
    rows: list[tuple[str, datetime, uuid.UUID | None, uuid.UUID | None, int | None]] = []
    for offset_min, outcome, wait_s, by in (
        (60, "answered", 4, agent),
        (61, "answered", 18, other),
        (62, "answered", 35, agent),
        (63, "abandoned", 50, None),
        (64, "overflowed", 300, None),
        (24 * 60 - 1, "answered", 6, agent),  # 23:59 entered, answered after midnight: still this day's
    ):
        call = uuid.uuid4()
        entered = day + timedelta(minutes=offset_min)
        rows.append(("entered", entered, call, None, None))
        rows.append((outcome, entered + timedelta(seconds=wait_s), call, by, wait_s * 1000))
    rows.append(("entered", day - timedelta(minutes=1), uuid.uuid4(), None, None))  # the day before
    _events_at(session_factory, tw.ids["queue"], tw.id, rows)
    url = path(api, f"/queues/{tw.ids['queue']}/stats")
    r = api.call("GET", url, token, params={"from": "2026-01-06", "to": "2026-01-06"})
    assert r.status_code == 200, r.text
    s = r.json()
    assert (s["from"], s["to"]) == ("2026-01-06T00:00:00Z", "2026-01-07T00:00:00Z")
    assert (s["offered"], s["answered"], s["abandoned"], s["overflowed"], s["waiting"]) == (6, 4, 1, 1, 0)
    # answered waits 4, 18, 35, 6 s: average 63000 / 4 = 15750 ms; p90 = ceil(3.6) = 4th smallest = 35 s
    assert (s["average_wait_ms"], s["p90_wait_ms"]) == (15750, 35000)
    # within 20 s: 4, 18, 6 = 3 of the 6 that left the queue
    assert (s["service_level_s"], s["service_level_pct"]) == (20, 50.0)
    assert s["agents"] == [{"user_id": str(agent), "answered": 3}, {"user_id": str(other), "answered": 1}]
    r = api.call("GET", url, token, params={"from": "2026-01-06", "to": "2026-01-06", "service_level_s": 5})
    assert r.json()["service_level_pct"] == 16.7  # only 4 s: 1 of 6
    # The day before: the world's one answered call (10:00, 9 s) and the caller who entered at 23:59
    # and has no outcome (still waiting, as far as the events say).
    r = api.call(
        "GET", url, token, params={"from": "2026-01-05T00:00:00Z", "to": "2026-01-05T23:59:59+00:00"}
    )
    assert (r.json()["offered"], r.json()["waiting"], r.json()["average_wait_ms"]) == (2, 1, 9000)
    refused(api.call("GET", url, token, params={"from": "yesterday"}), 422, "from", "iso8601")
    refused(
        api.call("GET", url, token, params={"from": "2026-01-07", "to": "2026-01-06"}),
        422,
        "to",
        "date_range",
    )
    refused(
        api.call("GET", url, token, params={"from": "2025-01-01", "to": "2026-01-06"}),
        422,
        "from",
        "max_period",
    )
    refused(
        api.call("GET", url, token, params={"service_level_s": 0}),
        422,
        "service_level_s",
        "greater_than_equal",
    )


def test_deleting_a_queue_frees_its_extension_and_takes_its_history(
    api: Api, session_factory: sessionmaker[Session]
) -> None:
    tw, token = api.world.a, api.world.a.tokens[ADMIN]
    assert api.call("DELETE", path(api, f"/queues/{tw.ids['queue']}"), token).status_code == 204
    assert api.call("GET", path(api, f"/queues/{tw.ids['queue']}"), token).status_code == 404
    with session_factory() as s:
        assert s.scalars(select(QueueEventRow).where(QueueEventRow.queue_id == tw.ids["queue"])).all() == []
    r = api.call("POST", path(api, "/hunt-groups"), token, json={"name": "Now a group", "extension": "4000"})
    assert r.status_code == 201, r.text


def test_position_announcement_interval_is_set_checked_and_read_by_the_switch(
    api: Api, session_factory: sessionmaker[Session]
) -> None:
    """announce_position_s (issue 4 point 4): 30 s unless set, 0 turns it off, otherwise 10-600 s;
    a change is audited and is what the engine's StoreQueues reads."""
    token = api.world.a.tokens[ADMIN]
    q = create(api, name="Sales", extension="4300")
    assert q["announce_position_s"] == 30
    assert create(api, name="Quiet", extension="4301", announce_position_s=0)["announce_position_s"] == 0

    def post(seconds: int) -> Any:
        return api.call(
            "POST",
            path(api, "/queues"),
            token,
            json={"name": "X", "extension": "4302", "announce_position_s": seconds},
        )

    refused(post(5), 422, "announce_position_s", "zero_or_at_least_10")
    refused(post(601), 422, "announce_position_s", "less_than_equal")
    refused(post(-1), 422, "announce_position_s", "greater_than_equal")
    url = path(api, f"/queues/{q['id']}")
    refused(
        api.call("PATCH", url, token, json={"announce_position_s": 9}),
        422,
        "announce_position_s",
        "zero_or_at_least_10",
    )
    r = api.call("PATCH", url, token, json={"announce_position_s": 45})
    assert r.status_code == 200, r.text
    assert r.json()["announce_position_s"] == 45
    [entry] = [e for e in api.audit(entity="call_queues") if e["entity_id"] == q["id"] and e["before"]]
    assert (entry["before"], entry["after"]) == ({"announce_position_s": 30}, {"announce_position_s": 45})
    info = StoreQueues(session_factory).queue(uuid.UUID(q["id"]))
    assert info is not None and info.announce_position_s == 45
    assert api.call("PATCH", url, token, json={"announce_position_s": 0}).json()["announce_position_s"] == 0
