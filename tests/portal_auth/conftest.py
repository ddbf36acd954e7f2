"""A world of two tenants (tests/support/world.py) whose people have e-mail addresses and passwords,
served through the real app; clients log in as a browser would."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from centrex.api.app import create_app
from centrex.store.credentials import hash_password
from centrex.store.db import transaction
from centrex.store.models import Operator, User
from tests.support.world import World, build_world

PASSWORD = "correct horse battery staple"
OPERATOR_EMAIL = "olive@provider.example"
SOURCE = ("198.51.100.20", 50000)  # where the test client's requests come from


def email_of(tenant: str, role: str) -> str:
    return f"{role}@{tenant}.example.com"


@dataclass
class Portal:
    app: Any
    world: World

    def client(self, source: tuple[str, int] = SOURCE, tls: bool = False) -> TestClient:
        base = "https://testserver" if tls else "http://testserver"
        return TestClient(self.app, client=source, base_url=base)

    def login(
        self,
        client: TestClient,
        email: str,
        password: str = PASSWORD,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> httpx.Response:
        body = {"email": email, "password": password, **extra}
        return client.post("/api/v1/auth/login", json=body, headers=headers)

    def tenant_path(self, tenant: str = "a") -> str:
        return f"/api/v1/tenants/{getattr(self.world, tenant).id}"


def give_passwords(session: Any) -> None:
    hashed = hash_password(PASSWORD)
    for user in session.scalars(select(User)):
        tenant = "a" if user.name.startswith("alpha") else "b"
        user.email = email_of(tenant, user.name.split(" ", 1)[1])
        user.password_hash = hashed
    for op in session.scalars(select(Operator)):
        op.password_hash = hashed


@pytest.fixture
def portal(db_url: str) -> Iterator[Portal]:
    app = create_app(db_url)
    with transaction(app.state.sessionmaker) as session:
        world = build_world(session)
        give_passwords(session)
    yield Portal(app, world)
    bans = getattr(app.state, "bans", None)
    if bans is not None:
        bans.stop()
    app.state.engine.dispose()
