"""Alarms and tickets through the API, as the operator and a tenant's administrators use them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from centrex.api.app import create_app
from centrex.ops.alarm_policy import configure
from centrex.ops.alarms import check_clocks, raise_alarm
from centrex.store.db import transaction
from centrex.store.types import utcnow
from tests.support.world import World, build_world


@pytest.fixture
def env(db_url: str) -> Iterator[tuple[TestClient, World, Any]]:
    app = create_app(db_url)
    with transaction(app.state.sessionmaker) as session:
        world = build_world(session)
    configure(None)
    with TestClient(app) as client:
        yield client, world, app
    app.state.engine.dispose()


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_an_office_administrator_reports_and_the_operator_answers(env: tuple[TestClient, World, Any]) -> None:
    client, world, _ = env
    a = f"/api/v1/tenants/{world.a.id}/tickets"
    made = client.post(
        a, json={"subject": "Reception phone has no dial tone"}, headers=auth(world.a.tokens["backup_admin"])
    )
    assert made.status_code == 201, made.text
    ticket = made.json()
    assert (ticket["status"], ticket["priority"], ticket["opened_by"]) == (
        "open",
        2,
        "user:2002@alpha.example.com",
    )
    # An end user is not one of the two who report issues.
    refused = client.post(a, json={"subject": "x"}, headers=auth(world.a.tokens["end_user"]))
    assert refused.status_code == 403 and "ticket" in refused.text
    bad = client.post(a, json={"subject": "x", "priority": 3}, headers=auth(world.a.tokens["office_admin"]))
    assert bad.status_code == 422 and "priority" in bad.text
    # The operator's desk lists it; tenant B does not see it.
    desk = client.get("/api/v1/tickets", params={"status": "open"}, headers=auth(world.operator_token)).json()
    assert ticket["id"] in [t["id"] for t in desk["items"]]
    b_list = client.get(
        f"/api/v1/tenants/{world.b.id}/tickets", headers=auth(world.b.tokens["office_admin"])
    ).json()
    assert ticket["id"] not in [t["id"] for t in b_list["items"]]
    ack = client.post(
        f"/api/v1/tickets/{ticket['id']}/acknowledge", headers=auth(world.operator_token)
    ).json()
    assert ack["status"] == "acknowledged" and ack["acknowledged_by"] == "operator:olive@provider.example"
    done = client.post(
        f"/api/v1/tickets/{ticket['id']}/resolve",
        json={"resolution": "Handset cord replaced"},
        headers=auth(world.operator_token),
    )
    assert done.json()["status"] == "resolved"
    again = client.post(
        f"/api/v1/tickets/{ticket['id']}/resolve",
        json={"resolution": "again"},
        headers=auth(world.operator_token),
    )
    assert again.status_code == 409
    seen = client.get(f"{a}/{ticket['id']}", headers=auth(world.a.tokens["office_admin"])).json()
    assert (seen["status"], seen["resolution"]) == ("resolved", "Handset cord replaced")


def test_the_operator_acknowledges_an_alarm_and_its_clock_stops(env: tuple[TestClient, World, Any]) -> None:
    client, world, app = env
    raised = utcnow()
    with transaction(app.state.sessionmaker) as s:
        alarm = raise_alarm(
            s, key="database", component="database", priority=1, summary="unreachable", now=raised
        )
        alarm_id = str(alarm.id)
    listed = client.get("/api/v1/alarms", headers=auth(world.operator_token)).json()
    assert listed["items"][0]["key"] == "database"  # priority 1 first
    got = client.post(f"/api/v1/alarms/{alarm_id}/acknowledge", headers=auth(world.operator_token)).json()
    assert got["acknowledged_by"] == "operator:olive@provider.example"
    with transaction(app.state.sessionmaker) as s:
        assert "alarm database" not in check_clocks(s, raised.replace(year=raised.year + 1))
    tickets = client.get("/api/v1/tickets", headers=auth(world.operator_token)).json()["items"]
    from_alarm = [t for t in tickets if t["alarm_id"] == alarm_id]
    assert len(from_alarm) == 1 and from_alarm[0]["status"] == "acknowledged"
    cleared = client.post(f"/api/v1/alarms/{alarm_id}/clear", headers=auth(world.operator_token)).json()
    assert cleared["cleared_by"] == "operator:olive@provider.example"
    assert (
        client.post(f"/api/v1/alarms/{alarm_id}/clear", headers=auth(world.operator_token)).status_code == 409
    )
    open_now = client.get("/api/v1/alarms", headers=auth(world.operator_token)).json()["items"]
    assert alarm_id not in [a["id"] for a in open_now]
    assert client.get("/api/v1/alarms", headers=auth(world.a.tokens["office_admin"])).status_code == 404
