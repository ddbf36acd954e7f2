"""The FastAPI application: REST under /api/v1, OpenAPI at /openapi.json, health at /healthz."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable

from fastapi import APIRouter, FastAPI
from sqlalchemy import Engine

from centrex import __version__
from centrex.api import errors
from centrex.api import routers as routers_pkg
from centrex.api.request_id import RequestIdMiddleware
from centrex.api.routers import health
from centrex.store.db import make_engine, make_sessionmaker

Probe = Callable[[], tuple[bool, str]]


def api_routers() -> list[APIRouter]:
    """Every `router` of the modules in api/routers/ (but health, which is not under /api/v1).

    Discovered, not listed, so a new resource family adds one module and touches nothing shared."""
    found = []
    for info in sorted(pkgutil.iter_modules(routers_pkg.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{routers_pkg.__name__}.{info.name}")
        router = getattr(module, "router", None)
        if isinstance(router, APIRouter) and info.name != "health":
            found.append(router)
    return found


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
    for router in api_routers():
        app.include_router(router, prefix="/api/v1")
    app.include_router(health.router)
    app.add_middleware(RequestIdMiddleware)  # X-Request-ID, and the id on the request's log lines
    return app


def register_component(app: FastAPI, name: str, probe: Probe) -> None:
    """Let /healthz ask a running part (SIP transport, media relay) whether it is ready."""
    app.state.components[name] = probe
