"""Saving a flow: 422s that name the problem for JSON that is not a flow, lint warnings on save
(unreachable, dead end, a transition to an unknown state), publishing refused while the lint finds
errors, revisions with one published at a time, executions running the published one."""

from __future__ import annotations

from typing import Any

import httpx

from tests.cpaas.conftest import LiveApi
from tests.cpaas.flows.conftest import flows_url, state, wait_execution


def _flow(live_api: LiveApi, name: str = "Lint") -> dict[str, Any]:
    r = httpx.post(flows_url(live_api), json={"friendly_name": name}, headers=live_api.admin, timeout=30)
    assert r.status_code == 201, r.text
    return dict(r.json())


def _put(live_api: LiveApi, sid: str, definition: Any) -> httpx.Response:
    return httpx.put(
        f"{flows_url(live_api)}/{sid}/draft",
        json={"definition": definition},
        headers=live_api.admin,
        timeout=30,
    )


def _definition(*states: dict[str, Any]) -> dict[str, Any]:
    return {"description": "t", "initial_state": "Trigger", "flags": {}, "states": list(states)}


TRIGGER = state("Trigger", "trigger", [{"event": "incomingRequest", "next": "set_a"}], 0, 0)


def test_json_that_is_not_a_flow_is_refused_with_the_problem_named(live_api: LiveApi) -> None:
    flow = _flow(live_api)
    assert flow["draft"]["revision"] == 1 and flow["draft"]["definition"]["initial_state"] == "Trigger"
    url = f"{flows_url(live_api)}/{flow['sid']}/draft"

    broken = httpx.put(
        url,
        content=b'{"definition": {"states": [',
        headers={**live_api.admin, "content-type": "application/json"},
        timeout=30,
    )
    assert broken.status_code == 422 and broken.json()["error"] == "validation_error"

    unknown_type = _put(live_api, flow["sid"], _definition(TRIGGER, state("set_a", "send-fax", [], 0, 100)))
    assert unknown_type.status_code == 422
    body = unknown_type.json()
    assert body["field"] == "definition.states.1.type" and body["rule"] == "json-schema"
    assert body["errors"][0]["path"] == "states/1/type" and "send-fax" in body["errors"][0]["problem"]

    no_initial = _put(live_api, flow["sid"], {"states": [TRIGGER]})
    assert no_initial.status_code == 422
    assert "'initial_state' is a required property" in no_initial.json()["message"]

    twice = _put(live_api, flow["sid"], _definition(TRIGGER, TRIGGER))
    assert twice.status_code == 422 and twice.json()["errors"] == [
        {"path": "states/1/name", "problem": "state name 'Trigger' is used twice"},
        {"path": "states", "problem": "a flow has one trigger; found Trigger, Trigger"},
    ]
    not_a_trigger = _put(
        live_api,
        flow["sid"],
        {"initial_state": "set_a", "states": [state("set_a", "set-variables", [{"event": "next"}], 0, 0)]},
    )
    assert not_a_trigger.status_code == 422 and "is not a trigger" in not_a_trigger.json()["message"]

    bad_offset = _put(
        live_api, flow["sid"], _definition({**TRIGGER, "properties": {"offset": {"x": "left"}}})
    )
    assert bad_offset.status_code == 422
    assert {e["path"] for e in bad_offset.json()["errors"]} == {
        "states/0/properties/offset",
        "states/0/properties/offset/x",
    }

    after = httpx.get(f"{flows_url(live_api)}/{flow['sid']}", headers=live_api.admin, timeout=30).json()
    assert after["draft"]["revision"] == 1  # nothing refused was saved


def test_lint_warns_on_save_and_errors_block_publishing(live_api: LiveApi) -> None:
    flow = _flow(live_api)
    linted = _put(
        live_api,
        flow["sid"],
        _definition(
            TRIGGER,
            state(
                "set_a",
                "set-variables",
                [{"event": "next", "next": "lookup"}],
                0,
                100,
                variables=[{"key": "a", "value": "1"}],
            ),
            state(
                "lookup",
                "make-http-request",
                [{"event": "success"}, {"event": "failed", "next": "nowhere"}],
                0,
                200,
                method="GET",
                url="http://127.0.0.1:9/",
            ),
            state("orphan", "send-message", [{"event": "sent"}], 300, 100, body="never sent"),
        ),
    )
    assert linted.status_code == 200, linted.text
    assert linted.json()["revision"] == 2
    assert sorted(
        (w["state"], w["severity"], w["problem"].split(":")[0]) for w in linted.json()["warnings"]
    ) == [
        ("lookup", "error", "transition 'failed' leads to unknown state 'nowhere'"),
        ("orphan", "warning", "unreachable"),
    ]
    refused = httpx.post(f"{flows_url(live_api)}/{flow['sid']}/publish", headers=live_api.admin, timeout=30)
    assert refused.status_code == 409 and "unknown state 'nowhere'" in refused.json()["message"]

    dead_end = _put(
        live_api,
        flow["sid"],
        _definition(TRIGGER, state("set_a", "split-based-on", [{"event": "noMatch"}], 0, 100, input="x")),
    )
    assert dead_end.status_code == 200
    (warning,) = dead_end.json()["warnings"]
    assert (
        warning["state"] == "set_a"
        and warning["problem"].startswith("dead end")
        and warning["severity"] == "warning"
    )
    ok = httpx.post(f"{flows_url(live_api)}/{flow['sid']}/publish", headers=live_api.admin, timeout=30)
    assert ok.status_code == 200 and ok.json() == {"revision": 3}  # warnings do not block publishing


def test_one_published_revision_at_a_time_and_executions_run_it(live_api: LiveApi) -> None:
    flow = _flow(live_api, "Versions")
    url = f"{flows_url(live_api)}/{flow['sid']}"

    def version(n: str) -> dict[str, Any]:
        return _definition(
            TRIGGER,
            state(
                "set_a", "set-variables", [{"event": "next"}], 0, 100, variables=[{"key": "v", "value": n}]
            ),
        )

    assert _put(live_api, flow["sid"], version("two")).json()["revision"] == 2
    assert httpx.post(f"{url}/publish", headers=live_api.admin, timeout=30).json() == {"revision": 2}
    assert _put(live_api, flow["sid"], version("three")).json()["revision"] == 3
    shown = httpx.get(url, headers=live_api.admin, timeout=30).json()
    assert shown["draft"]["revision"] == 3 and shown["published"]["revision"] == 2

    started = httpx.post(
        f"{url}/executions",
        json={"to": "+16175550111", "from": "+16175550100"},
        headers=live_api.admin,
        timeout=30,
    )
    execution = wait_execution(live_api, flow["sid"], started.json()["sid"])
    assert execution["revision"] == 2 and execution["context"]["flow"]["variables"] == {"v": "two"}

    assert httpx.post(f"{url}/publish", headers=live_api.admin, timeout=30).json() == {"revision": 3}
    revisions = httpx.get(f"{url}/revisions", headers=live_api.admin, timeout=30).json()["items"]
    assert [(r["revision"], r["status"]) for r in revisions] == [
        (1, "superseded"),
        (2, "retired"),
        (3, "published"),
    ]
    assert [r["status"] for r in revisions].count("published") == 1

    started = httpx.post(
        f"{url}/executions",
        json={"to": "+16175550111", "from": "+16175550100"},
        headers=live_api.admin,
        timeout=30,
    )
    execution = wait_execution(live_api, flow["sid"], started.json()["sid"])
    assert execution["revision"] == 3 and execution["context"]["flow"]["variables"] == {"v": "three"}

    listed = httpx.get(flows_url(live_api), headers=live_api.admin, timeout=30).json()["items"]
    assert any(f["sid"] == flow["sid"] and f["published_revision"] == 3 for f in listed)
    assert httpx.delete(url, headers=live_api.admin, timeout=30).status_code == 204
    assert httpx.get(url, headers=live_api.admin, timeout=30).status_code == 404
