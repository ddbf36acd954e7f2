"""Every API route, tried with every role, with another tenant's token, with another tenant's ids.

The expectations below are written out by hand from the contracts (hosted-pbx.txt MACs: office
administrator, back-up or operator; voip-service-guide.txt §V.12: CPNI administrator), not derived
from the policy table, so a change to the policy that leaks shows up here. A route added to the API
without a line here fails the coverage test.
"""

from __future__ import annotations

import importlib
import pkgutil
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from centrex.api.app import create_app
from centrex.store.db import make_engine, make_sessionmaker, transaction
from tests.api.matrix_roles import (
    ADM,
    BAK,
    CPNI,
    DEV,
    EU,
    EVERY,
    GRANTED,
    OP,
    STAFF,
    USERS,
    Body,
    ext,
    next_n,
)
from tests.support.world import TenantWorld, World, build_world

# (method, path, body, roles that may) — paths use {t} and {key} for ids of the tenant under test.
ROUTES: list[tuple[str, str, Body, set[str]]] = [
    ("GET", "/tenants/{t}", None, STAFF | {CPNI}),
    ("PATCH", "/tenants/{t}", lambda w: {"name": "Renamed"}, {OP}),
    ("GET", "/tenants/{t}/designations", None, STAFF | {CPNI}),
    ("PATCH", "/tenants/{t}/designations", lambda w: {"cpni_admin_user_id": str(w.ids["user"])}, {OP}),
    ("GET", "/tenants/{t}/sites", None, STAFF),
    (
        "POST",
        "/tenants/{t}/sites",
        lambda w: {
            "name": f"Site {ext()}",
            "street": "2 Elm St",
            "city": "Peoria",
            "state": "IL",
            "postal_code": "61602",
            "npa_nxx": "309671",
        },
        {OP},
    ),
    ("GET", "/tenants/{t}/sites/{site}", None, STAFF),
    ("PATCH", "/tenants/{t}/sites/{site}", lambda w: {"calling_units": 9}, {OP}),
    ("DELETE", "/tenants/{t}/sites/{site}", None, {OP}),
    ("GET", "/tenants/{t}/users", None, STAFF),
    ("POST", "/tenants/{t}/users", lambda w: {"name": "New", "extension": ext()}, STAFF),
    ("GET", "/tenants/{t}/users/{user}", None, STAFF),
    ("PATCH", "/tenants/{t}/users/{user}", lambda w: {"name": "Renamed"}, STAFF),
    ("DELETE", "/tenants/{t}/users/{user}", None, STAFF),
    ("GET", "/tenants/{t}/users/{user}/forwarding", None, STAFF),
    ("PATCH", "/tenants/{t}/users/{user}/forwarding", lambda w: {"forward_busy": "2001"}, STAFF),
    (
        "PUT",
        "/tenants/{t}/users/{user}/restriction",
        lambda w: {"restriction_class_id": str(w.ids["restriction"])},
        STAFF,
    ),
    ("POST", "/tenants/{t}/users/{user}/password-reset", None, STAFF),
    ("GET", "/tenants/{t}/users/{user}/voicemail", None, STAFF),
    ("PATCH", "/tenants/{t}/users/{user}/voicemail", lambda w: {"pin": "2468"}, STAFF),
    ("GET", "/tenants/{t}/devices", None, STAFF),
    ("POST", "/tenants/{t}/devices", lambda w: {"sip_username": f"dev{ext()}"}, STAFF),
    ("GET", "/tenants/{t}/devices/{device}", None, STAFF),
    ("PATCH", "/tenants/{t}/devices/{device}", lambda w: {"description": "lobby"}, STAFF),
    ("DELETE", "/tenants/{t}/devices/{device}", None, STAFF),
    ("POST", "/tenants/{t}/devices/{device}/secret-reset", None, STAFF),
    ("GET", "/tenants/{t}/devices/{device}/buttons", None, STAFF),
    (
        "PUT",
        "/tenants/{t}/devices/{device}/buttons",
        lambda w: {"buttons": [{"position": 1, "kind": "line", "value": "2001"}]},
        STAFF,
    ),
    ("GET", "/tenants/{t}/numbers", None, STAFF | {DEV}),
    ("GET", "/tenants/{t}/numbers/{number}", None, STAFF | {DEV}),
    ("PATCH", "/tenants/{t}/numbers/{number}", lambda w: {"cnam": "ALPHA INC"}, STAFF),
    (
        "PUT",
        "/tenants/{t}/numbers/{number}/routing",
        lambda w: {"target_type": "user", "target_id": str(w.ids["user"])},
        STAFF,
    ),
    ("GET", "/tenants/{t}/hunt-groups", None, STAFF),
    ("POST", "/tenants/{t}/hunt-groups", lambda w: {"name": "Support", "extension": ext()}, STAFF),
    ("GET", "/tenants/{t}/hunt-groups/{hunt_group}", None, STAFF),
    ("PATCH", "/tenants/{t}/hunt-groups/{hunt_group}", lambda w: {"strategy": "round_robin"}, STAFF),
    ("DELETE", "/tenants/{t}/hunt-groups/{hunt_group}", None, STAFF),
    ("GET", "/tenants/{t}/call-restrictions", None, STAFF),
    ("POST", "/tenants/{t}/call-restrictions", lambda w: {"name": f"Class {ext()}"}, STAFF),
    ("PATCH", "/tenants/{t}/call-restrictions/{restriction}", lambda w: {"allow_international": True}, STAFF),
    ("DELETE", "/tenants/{t}/call-restrictions/{restriction}", None, STAFF),
    ("GET", "/tenants/{t}/directory", None, STAFF | {CPNI, EU, GRANTED}),
    ("GET", "/tenants/{t}/directory/entries", None, STAFF | {CPNI, EU, GRANTED}),
    ("POST", "/tenants/{t}/directory/entries", lambda w: {"name": "Dock", "number": "2009"}, STAFF),
    ("PATCH", "/tenants/{t}/directory/entries/{entry}", lambda w: {"name": "Dock 2"}, STAFF),
    ("DELETE", "/tenants/{t}/directory/entries/{entry}", None, STAFF),
    ("GET", "/tenants/{t}/cpni-grants", None, {OP, CPNI}),
    ("POST", "/tenants/{t}/cpni-grants", lambda w: {"user_id": str(w.ids["user"])}, {OP, CPNI}),
    ("DELETE", "/tenants/{t}/cpni-grants/{grant}", None, {OP, CPNI}),
    ("GET", "/tenants/{t}/audit", None, STAFF),
    ("GET", "/tenants/{t}/tokens", None, STAFF),
    ("POST", "/tenants/{t}/tokens", lambda w: {"kind": "developer", "name": "ci"}, STAFF),
    ("DELETE", "/tenants/{t}/tokens/{token}", None, STAFF),
    ("GET", "/tenants/{t}/me", None, USERS),
    ("PATCH", "/tenants/{t}/me", lambda w: {"do_not_disturb": True}, USERS),
    ("POST", "/tenants/{t}/me/password", lambda w: {"new_password": "correct horse battery"}, USERS),
    # Billing: the tenant's administrators read their account; the provider rates, invoices and
    # records; a Dispute Notice comes from the customer's administrators (cpaas.txt §4.6) or an operator.
    ("GET", "/tenants/{t}/billing/plan", None, STAFF),
    ("PUT", "/tenants/{t}/billing/plan", lambda w: {"code": "p2", "seats": 3, "seat_monthly": "10.00"}, {OP}),
    ("GET", "/tenants/{t}/billing/subscriptions", None, STAFF),
    (
        "POST",
        "/tenants/{t}/billing/subscriptions",
        lambda w: {"start": "2026-01-01", "quantity": 2, "rate": "30.00"},
        {OP},
    ),
    (
        "POST",
        "/tenants/{t}/billing/cdrs",
        lambda w: {
            "cdrs": [
                {
                    "id": f"c{ext()}",
                    "caller": "+12175281234",
                    "callee": "+13035550100",
                    "call_class": "ld_interstate",
                    "direction": "outbound",
                    "start": "2026-01-05T10:00:00Z",
                    "duration_ms": 61000,
                }
            ]
        },
        {OP},
    ),
    ("POST", "/tenants/{t}/billing/rating-runs", lambda w: {"period": "2026-01"}, {OP}),
    ("GET", "/tenants/{t}/billing/rating-runs", None, STAFF),
    ("POST", "/tenants/{t}/billing/invoices", lambda w: {"period": "2025-12"}, {OP}),
    ("GET", "/tenants/{t}/billing/invoices", None, STAFF),
    ("GET", "/tenants/{t}/billing/invoices/{invoice}", None, STAFF),
    ("GET", "/tenants/{t}/billing/invoices/{invoice}.pdf", None, STAFF),
    (
        "POST",
        "/tenants/{t}/billing/invoices/{invoice}/credit-notes",
        lambda w: {"amount": "1.00", "reason": "goodwill"},
        {OP},
    ),
    ("GET", "/tenants/{t}/billing/credit-notes", None, STAFF),
    (
        "POST",
        "/tenants/{t}/billing/invoices/{invoice}/payments",
        lambda w: {"amount": "10.00", "method": "ach"},
        {OP},
    ),
    ("GET", "/tenants/{t}/billing/payments", None, STAFF),
    (
        "POST",
        "/tenants/{t}/billing/invoices/{invoice}/disputes",
        lambda w: {"amount": "5.00", "detail": "seats billed twice"},
        STAFF,
    ),
    ("GET", "/tenants/{t}/billing/disputes", None, STAFF),
    (
        "POST",
        "/tenants/{t}/billing/outages",
        lambda w: {"start": "2026-01-05T00:00:00Z", "end": "2026-01-05T13:00:00Z", "provider_fault": True},
        {OP},
    ),
    ("GET", "/tenants/{t}/billing/outages", None, STAFF),
]

# Routes refused to everyone: who may read the resource gets `status` naming the rule, anyone else
# of the tenant 403, another tenant 404. An issued invoice is never modified: credit notes correct it.
REFUSED_ROUTES: list[tuple[str, str, Body, set[str], int]] = [
    ("PATCH", "/tenants/{t}/billing/invoices/{invoice}", lambda w: {"total": "0.00"}, STAFF, 409),
]

# Operator-wide routes: anyone else gets 404, as if they did not exist.
OPERATOR_ROUTES: list[tuple[str, str, Body]] = [
    ("POST", "/tenants", lambda w: {"name": "New Co", "sip_domain": f"n{ext()}.example.com"}),
    ("GET", "/numbers", None),
    ("POST", "/numbers", lambda w: {"e164": f"+1617555{next_n():04d}"}),
    ("POST", "/numbers/{pool}/allocate", lambda w: {"tenant_id": str(w.id)}),
    (
        "POST",
        "/rate-decks",
        lambda w: {
            "name": f"deck{ext()}",
            "csv": "prefix,rate_per_minute,effective_from\n44,0.02,2025-01-01\n",
        },
    ),
    ("GET", "/rate-decks", None),
]


# Routes that name no tenant (tests/api/matrix_portal_auth.py): the caller's own account (roles
# allowed get the status given, anyone else 403), and routes open to anyone (log-in, reset).
ACCOUNT_ROUTES: list[tuple[str, str, Body, set[str], int]] = []
PUBLIC_ROUTES: list[tuple[str, str, Body, int]] = []


def _family_tables() -> None:
    """Route tables of other resource families live in tests/api/matrix_<family>.py, each with the
    same ROUTES / OPERATOR_ROUTES / REFUSED_ROUTES lists; they join the tables above."""
    import tests.api as pkg

    for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
        if info.name.startswith("matrix_") and info.name != "matrix_roles":
            module = importlib.import_module(f"tests.api.{info.name}")
            ROUTES.extend(getattr(module, "ROUTES", []))
            OPERATOR_ROUTES.extend(getattr(module, "OPERATOR_ROUTES", []))
            REFUSED_ROUTES.extend(getattr(module, "REFUSED_ROUTES", []))
            ACCOUNT_ROUTES.extend(getattr(module, "ACCOUNT_ROUTES", []))
            PUBLIC_ROUTES.extend(getattr(module, "PUBLIC_ROUTES", []))


_family_tables()


@pytest.fixture(scope="module")
def world_file(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> tuple[Path, World]:
    path = tmp_path_factory.mktemp("matrix") / "world.sqlite3"
    shutil.copy(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    with transaction(make_sessionmaker(engine)) as session:
        world = build_world(session)
    engine.dispose()
    return path, world


@pytest.fixture
def fresh(world_file: tuple[Path, World], tmp_path: Path) -> Iterator[Callable[[], TestClient]]:
    """A client over a fresh copy of the world, so each write is judged on untouched data."""
    src, _ = world_file
    made: list[Any] = []

    def make() -> TestClient:
        path = tmp_path / f"w{len(made)}.sqlite3"
        shutil.copy(src, path)
        app = create_app(f"sqlite:///{path}")
        made.append(app)
        return TestClient(app)

    yield make
    for app in made:
        app.state.engine.dispose()


def token_of(world: World, role: str) -> str:
    return world.operator_token if role == OP else world.a.tokens[role]


def fill(path: str, tw: TenantWorld, pool: Any) -> str:
    return "/api/v1" + path.format(t=tw.id, pool=pool, **tw.ids)


def send(client: TestClient, method: str, path: str, token: str | None, body: Body, tw: TenantWorld) -> int:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.request(method, path, headers=headers, json=body(tw) if body else None).status_code


def test_every_api_route_is_in_the_matrix(world_file: tuple[Path, World]) -> None:
    app = create_app("sqlite://")
    every: list[tuple[Any, ...]] = [
        *ROUTES,
        *OPERATOR_ROUTES,
        *REFUSED_ROUTES,
        *ACCOUNT_ROUTES,
        *PUBLIC_ROUTES,
    ]
    listed = {(m, "/api/v1" + p.replace("{pool}", "{number_id}")) for m, p, *_ in every}
    listed_shapes = {(m, _shape(p)) for m, p in listed}
    for route in app.routes:
        path = getattr(route, "path", "")
        if not path.startswith("/api/v1") or path == "/api/v1/tenants":
            continue
        for method in getattr(route, "methods", set()) - {"HEAD", "OPTIONS"}:
            assert (method, _shape(path)) in listed_shapes, f"{method} {path} is missing from the matrix"


def _shape(path: str) -> str:
    import re

    return re.sub(r"\{[^}]+\}", "{}", path)


@pytest.mark.parametrize(
    ("method", "path", "body", "allowed"), ROUTES, ids=[f"{m} {p}" for m, p, *_ in ROUTES]
)
@pytest.mark.parametrize("role", EVERY)
def test_role_matrix(
    fresh: Callable[[], TestClient],
    world_file: tuple[Path, World],
    method: str,
    path: str,
    body: Body,
    allowed: set[str],
    role: str,
) -> None:
    world = world_file[1]
    client = fresh()
    status = send(
        client, method, fill(path, world.a, world.pool_number_id), token_of(world, role), body, world.a
    )
    if role in allowed:
        assert 200 <= status < 300, f"{role} should be allowed {method} {path}, got {status}"
    else:
        assert status == 403, f"{role} must be refused {method} {path} with 403, got {status}"


@pytest.mark.parametrize(
    ("method", "path", "body", "allowed"), ROUTES, ids=[f"{m} {p}" for m, p, *_ in ROUTES]
)
def test_other_tenants_token_finds_nothing(
    fresh: Callable[[], TestClient],
    world_file: tuple[Path, World],
    method: str,
    path: str,
    body: Body,
    allowed: set[str],
) -> None:
    """Tenant B's people, every role, on tenant A's paths: 404, never 403, never 2xx."""
    world = world_file[1]
    client = fresh()
    for role in (ADM, BAK, CPNI, EU, GRANTED, DEV):
        status = send(
            client, method, fill(path, world.a, world.pool_number_id), world.b.tokens[role], body, world.a
        )
        assert status == 404, f"tenant B's {role} got {status} on tenant A's {method} {path}"


@pytest.mark.parametrize(
    ("method", "path", "body", "allowed"),
    [r for r in ROUTES if "{" in r[1].replace("{t}", "")],
    ids=[f"{m} {p}" for m, p, _, _ in ROUTES if "{" in p.replace("{t}", "")],
)
def test_own_tenant_path_with_other_tenants_ids(
    fresh: Callable[[], TestClient],
    world_file: tuple[Path, World],
    method: str,
    path: str,
    body: Body,
    allowed: set[str],
) -> None:
    """Tenant B's rows named through tenant A's path: not found, even for the operator, who may see both."""
    world = world_file[1]
    client = fresh()
    mixed = "/api/v1" + path.format(t=world.a.id, **world.b.ids)
    status = send(client, method, mixed, world.operator_token, body, world.a)
    assert status == 404, f"{method} {mixed} with tenant B's id gave {status}"


@pytest.mark.parametrize(
    ("method", "path", "body"), OPERATOR_ROUTES, ids=[f"{m} {p}" for m, p, _ in OPERATOR_ROUTES]
)
@pytest.mark.parametrize("role", EVERY)
def test_operator_routes(
    fresh: Callable[[], TestClient],
    world_file: tuple[Path, World],
    method: str,
    path: str,
    body: Body,
    role: str,
) -> None:
    world = world_file[1]
    status = send(
        fresh(), method, fill(path, world.a, world.pool_number_id), token_of(world, role), body, world.a
    )
    if role == OP:
        assert 200 <= status < 300, f"operator should be allowed {method} {path}, got {status}"
    else:
        assert status == 404, f"{role} on operator route {method} {path} got {status}"


@pytest.mark.parametrize(
    ("method", "path", "body", "readers", "status"),
    REFUSED_ROUTES,
    ids=[f"{m} {p}" for m, p, *_ in REFUSED_ROUTES],
)
@pytest.mark.parametrize("role", EVERY)
def test_refused_routes(
    fresh: Callable[[], TestClient],
    world_file: tuple[Path, World],
    method: str,
    path: str,
    body: Body,
    readers: set[str],
    status: int,
    role: str,
) -> None:
    world = world_file[1]
    client = fresh()
    own_path = fill(path, world.a, world.pool_number_id)
    own = send(client, method, own_path, token_of(world, role), body, world.a)
    assert own == (status if role in readers else 403), f"{role} on {method} {path} got {own}"
    if role != OP:
        other = send(
            client, method, fill(path, world.a, world.pool_number_id), world.b.tokens[role], body, world.a
        )
        assert other == 404, f"tenant B's {role} on tenant A's {method} {path} got {other}"
    mixed = "/api/v1" + path.format(t=world.a.id, **world.b.ids)
    assert send(client, method, mixed, world.operator_token, body, world.a) == 404


def test_tenant_list_shows_each_caller_only_their_own(
    fresh: Callable[[], TestClient], world_file: tuple[Path, World]
) -> None:
    world = world_file[1]
    client = fresh()

    def ids(token):
        return [
            t["id"]
            for t in client.get(
                "/api/v1/tenants",
                headers={"Authorization": f"Bearer {token}"},
            ).json()["items"]
        ]

    assert set(ids(world.operator_token)) == {str(world.a.id), str(world.b.id)}
    assert ids(world.a.tokens[ADM]) == [str(world.a.id)]
    assert ids(world.b.tokens[ADM]) == [str(world.b.id)]
    assert ids(world.a.tokens[EU]) == []


@pytest.mark.parametrize("token", [None, "nonsense", "cx_000000000000.forged", "Bearer"])
def test_no_valid_token_is_401(
    fresh: Callable[[], TestClient], world_file: tuple[Path, World], token: str | None
) -> None:
    world = world_file[1]
    client = fresh()
    for method, path, body, _ in ROUTES[:5]:
        assert send(client, method, fill(path, world.a, world.pool_number_id), token, body, world.a) == 401


@pytest.mark.parametrize(
    ("method", "path", "body", "allowed", "expected"),
    ACCOUNT_ROUTES,
    ids=[f"{m} {p}" for m, p, *_ in ACCOUNT_ROUTES],
)
@pytest.mark.parametrize("role", EVERY)
def test_account_routes(
    fresh: Callable[[], TestClient],
    world_file: tuple[Path, World],
    method: str,
    path: str,
    body: Body,
    allowed: set[str],
    expected: int,
    role: str,
) -> None:
    world = world_file[1]
    client = fresh()
    status = send(
        client, method, fill(path, world.a, world.pool_number_id), token_of(world, role), body, world.a
    )
    assert status == (expected if role in allowed else 403), f"{role} on {method} {path} got {status}"
    assert send(client, method, fill(path, world.a, world.pool_number_id), None, body, world.a) == 401


@pytest.mark.parametrize(
    ("method", "path", "body", "expected"),
    PUBLIC_ROUTES,
    ids=[f"{m} {p}" for m, p, *_ in PUBLIC_ROUTES],
)
def test_public_routes(
    fresh: Callable[[], TestClient],
    world_file: tuple[Path, World],
    method: str,
    path: str,
    body: Body,
    expected: int,
) -> None:
    world = world_file[1]
    status = send(fresh(), method, fill(path, world.a, world.pool_number_id), None, body, world.a)
    assert status == expected, f"{method} {path} without credentials got {status}"
