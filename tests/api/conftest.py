from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from centrex.api.app import create_app
from centrex.store.db import make_sessionmaker, transaction
from tests.support.world import World, build_world


@dataclass
class Api:
    client: TestClient
    world: World
    app: Any

    def as_(self, token: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"} if token else {}

    def call(self, method: str, path: str, token: str | None, **kw: Any) -> httpx.Response:
        return self.client.request(method, path, headers=self.as_(token), **kw)

    def audit(self, tenant: str = "a", **filters: str) -> list[dict[str, Any]]:
        tw = getattr(self.world, tenant)
        r = self.call("GET", f"/api/v1/tenants/{tw.id}/audit", self.world.operator_token, params=filters)
        assert r.status_code == 200, r.text
        return list(r.json()["items"])


@pytest.fixture
def api(db_url: str) -> Iterator[Api]:
    app = create_app(db_url)
    with transaction(app.state.sessionmaker) as session:
        world = build_world(session)
    with TestClient(app) as client:
        yield Api(client, world, app)
    app.state.engine.dispose()


@pytest.fixture
def session_factory(api: Api) -> Any:
    return make_sessionmaker(api.app.state.engine)
