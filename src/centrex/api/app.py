"""The FastAPI application: REST under /api/v1, OpenAPI at /openapi.json, health at /healthz."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI
from sqlalchemy import Engine

from centrex import __version__
from centrex.api import errors
from centrex.api.routers import (
    access_admin,
    billing,
    devices,
    directory,
    groups,
    health,
    me,
    numbers,
    rate_decks,
    tenants,
    users,
)
from centrex.store.db import make_engine, make_sessionmaker

Probe = Callable[[], tuple[bool, str]]

API_ROUTERS = (
    tenants.router,
    users.router,
    devices.router,
    numbers.router,
    groups.router,
    directory.router,
    access_admin.router,
    me.router,
    rate_decks.router,
    billing.router,
)


def create_app(db_url: str | None = None, engine: Engine | None = None) -> FastAPI:
    if engine is None:
        if not db_url:
            raise ValueError("create_app needs a database URL or an engine")
        engine = make_engine(db_url)
    app = FastAPI(
        title="Centrex",
        version=__version__,
        description="Hosted business phone service: provisioning, PBX, numbers, 911, billing.",
    )
    app.state.engine = engine
    app.state.sessionmaker = make_sessionmaker(engine)
    app.state.components = {}
    errors.install(app)
    for router in API_ROUTERS:
        app.include_router(router, prefix="/api/v1")
    app.include_router(health.router)
    return app


def register_component(app: FastAPI, name: str, probe: Probe) -> None:
    """Let /healthz ask a running part (SIP transport, media relay) whether it is ready."""
    app.state.components[name] = probe
