"""Auto attendant menus through the API, as an office administrator sets them up: a menu with its
options and a Chicago business-hours schedule in one document, changes audited, every destination
checked against the tenant's own extensions, hunt groups, mailboxes and menus (422 naming the field
and the rule), and a menu still in use not deleted (409)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import Api
from tests.api.conftest import api as api


def base(api: Api) -> str:
    return f"/api/v1/tenants/{api.world.a.id}/attendants"


def admin(api: Api) -> str:
    return api.world.a.tokens["office_admin"]


def day_menu(api: Api, **changes: Any) -> dict[str, Any]:
    tw = api.world.a
    body: dict[str, Any] = {
        "name": "Daytime",
        "extension": "501",
        "greeting_text": "Thank you for calling Alpha.",
        "timeout_seconds": 4,
        "max_invalid": 2,
        "operator_extension": "2001",
        "options": [
            {"digit": "1", "action": "extension", "target": "2002", "label": "support"},
            {"digit": "2", "action": "hunt_group", "target": "3000"},
            {"digit": "3", "action": "voicemail", "target": str(tw.ids["user"])},
            {"digit": "4", "action": "sub_menu", "target": str(tw.ids["aa_night"])},
            {"digit": "5", "action": "dial_by_name"},
            {"digit": "0", "action": "operator"},
            {"digit": "*", "action": "repeat"},
        ],
        "schedule": {
            "time_zone": "America/Chicago",
            "after_hours_menu_id": str(tw.ids["aa_night"]),
            "hours": [{"weekday": d, "opens": "09:00:00", "closes": "17:00:00"} for d in range(5)],
            "holidays": [{"day": "2026-11-26", "name": "Thanksgiving"}],
        },
    }
    body.update(changes)
    return body


def test_create_read_change_and_delete_a_menu_audited(api: Api) -> None:
    r = api.call("POST", base(api), admin(api), json=day_menu(api))
    assert r.status_code == 201, r.text
    menu = r.json()
    assert menu["app_user"] == f"aa.{menu['id']}"
    assert [o["digit"] for o in menu["options"]] == sorted("123450*")
    assert menu["schedule"]["hours"][0] == {"weekday": 0, "opens": "09:00:00", "closes": "17:00:00"}
    assert menu["schedule"]["holidays"] == [{"day": "2026-11-26", "name": "Thanksgiving"}]
    assert api.call("GET", f"{base(api)}/{menu['id']}", admin(api)).json() == menu

    backup = api.world.a.tokens["backup_admin"]
    r = api.call(
        "PATCH",
        f"{base(api)}/{menu['id']}",
        backup,
        json={"options": [{"digit": "9", "action": "extension", "target": "2003"}], "schedule": None},
    )
    assert r.status_code == 200, r.text
    assert r.json()["options"] == [{"digit": "9", "action": "extension", "target": "2003", "label": None}]
    assert r.json()["schedule"] is None and r.json()["greeting_text"] == "Thank you for calling Alpha."

    entries = [e for e in api.audit(entity_id=menu["id"]) if e["action"] == "mac.attendant"]
    assert len(entries) == 2
    change = next(e for e in entries if e["before"] is not None)
    assert set(change["after"]) == {"options", "schedule"} and change["actor_role"] == "backup_admin"

    assert api.call("DELETE", f"{base(api)}/{menu['id']}", admin(api)).status_code == 204
    assert api.call("GET", f"{base(api)}/{menu['id']}", admin(api)).status_code == 404


@pytest.mark.parametrize(
    ("change", "field", "rule"),
    [
        ({"options": [{"digit": "A", "action": "repeat"}]}, "options.0.digit", "string_pattern_mismatch"),
        (
            {"options": [{"digit": "1", "action": "extension", "target": "7777"}]},
            "options.0.target",
            "exists_in_tenant",
        ),
        (
            {"options": [{"digit": "1", "action": "hunt_group", "target": "2001"}]},
            "options.0.target",
            "exists_in_tenant",
        ),
        ({"options": [{"digit": "1", "action": "voicemail", "target": "2001"}]}, "options.0.target", "uuid"),
        ({"options": [{"digit": "1", "action": "sub_menu", "target": "nope"}]}, "options.0.target", "uuid"),
        ({"options": [{"digit": "1", "action": "fax"}]}, "options.0.action", "enum"),
        (
            {"options": [{"digit": "1", "action": "repeat"}, {"digit": "1", "action": "dial_by_name"}]},
            "options",
            "unique_digit",
        ),
        (
            {"operator_extension": None, "options": [{"digit": "0", "action": "operator"}]},
            "timeout_target",
            "operator_extension_required",
        ),
        ({"timeout_action": "repeat"}, "timeout_action", "one_of"),
        ({"invalid_action": "extension", "invalid_target": "7777"}, "invalid_target", "exists_in_tenant"),
        ({"operator_extension": "7777"}, "operator_extension", "exists_in_tenant"),
        ({"greeting_path": "/var/lib/centrex/../../etc/passwd.wav"}, "greeting_path", "wav_path"),
        ({"timeout_seconds": 0}, "timeout_seconds", "greater_than_equal"),
        ({"extension": "5a"}, "extension", "string_pattern_mismatch"),
    ],
)
def test_bad_menus_are_422_naming_field_and_rule(
    api: Api, change: dict[str, Any], field: str, rule: str
) -> None:
    r = api.call("POST", base(api), admin(api), json=day_menu(api, **change))
    assert r.status_code == 422, r.text
    body = r.json()
    got = (
        (body["errors"][0]["field"], body["errors"][0]["rule"])
        if "errors" in body
        else (body["field"], body["rule"])
    )
    assert got == (field, rule)


@pytest.mark.parametrize(
    ("schedule", "field", "rule"),
    [
        ({"time_zone": "America/Gotham"}, "schedule.time_zone", "iana_time_zone"),
        (
            {"hours": [{"weekday": 0, "opens": "17:00:00", "closes": "09:00:00"}]},
            "schedule.hours.0.closes",
            "opens_before_closes",
        ),
        (
            {"hours": [{"weekday": 7, "opens": "09:00:00", "closes": "17:00:00"}]},
            "schedule.hours.0.weekday",
            "less_than_equal",
        ),
        ({"holidays": [{"day": "2026-12-25"}, {"day": "2026-12-25"}]}, "schedule.holidays", "unique_day"),
        (
            {"after_hours_menu_id": "00000000-0000-0000-0000-000000000001"},
            "schedule.after_hours_menu_id",
            "exists_in_tenant",
        ),
    ],
)
def test_bad_schedules_are_422(api: Api, schedule: dict[str, Any], field: str, rule: str) -> None:
    body = day_menu(api)
    body["schedule"] |= schedule
    r = api.call("POST", base(api), admin(api), json=body)
    assert r.status_code == 422, r.text
    got = r.json()
    assert (
        (got["errors"][0]["field"], got["errors"][0]["rule"])
        if "errors" in got
        else (got["field"], got["rule"])
    ) == (field, rule)


def test_conflicts_and_menus_in_use(api: Api) -> None:
    tw = api.world.a
    for ext in ("2001", "3000", "500"):  # a user's, a hunt group's, the world's main menu's
        r = api.call("POST", base(api), admin(api), json=day_menu(api, extension=ext))
        assert r.status_code == 409 and r.json()["field"] == "extension", r.text
    r = api.call("POST", base(api), admin(api), json=day_menu(api, name="Main", extension=None))
    assert r.status_code == 409 and r.json()["field"] == "name"
    # The night menu is the main menu's after-hours menu: not deleted.
    r = api.call("DELETE", f"{base(api)}/{tw.ids['aa_night']}", admin(api))
    assert r.status_code == 409 and r.json()["rule"] == "in_use"
    # Another tenant's menu is not a sub-menu here, and not found.
    other = str(api.world.b.ids["aa_spare"])
    bad = api.call(
        "POST",
        base(api),
        admin(api),
        json=day_menu(api, options=[{"digit": "1", "action": "sub_menu", "target": other}]),
    )
    assert bad.status_code == 422 and bad.json()["rule"] == "exists_in_tenant"
    assert api.call("GET", f"{base(api)}/{other}", admin(api)).status_code == 404
    # A menu cannot be its own sub-menu.
    own = str(tw.ids["aa_spare"])
    r = api.call(
        "PATCH",
        f"{base(api)}/{own}",
        admin(api),
        json={"options": [{"digit": "1", "action": "sub_menu", "target": own}]},
    )
    assert r.status_code == 422 and r.json()["rule"] == "not_self"


def test_a_hunt_group_or_user_cannot_take_a_menus_extension(api: Api) -> None:
    """One extension plan: the switch would route 500 to whichever it found first."""
    t = f"/api/v1/tenants/{api.world.a.id}"
    r = api.call("POST", f"{t}/hunt-groups", admin(api), json={"name": "Clash", "extension": "500"})
    assert r.status_code == 409 and r.json()["field"] == "extension", r.text
