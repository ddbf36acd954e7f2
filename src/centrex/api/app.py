"""The FastAPI application: REST under /api/v1, OpenAPI at /openapi.json, health at /healthz,
/livez and /readyz, Prometheus metrics at /metrics."""

from __future__ import annotations

import importlib
import os
import pkgutil
from collections.abc import Callable
from dataclasses import replace

from fastapi import APIRouter, FastAPI
from sqlalchemy import Engine

from centrex import __version__
from centrex.api import dispatch, errors, fast_params, openapi, portal
from centrex.api import routers as routers_pkg
from centrex.api.admission import Admission, AdmissionConfig, Gate
from centrex.api.idempotency import Idempotency
from centrex.api.principals import PrincipalCache
from centrex.api.request_id import RequestIdMiddleware
from centrex.api.routers import health
from centrex.api.twilio import twilio_routers
from centrex.api.twilio_auth import install_twilio_errors
from centrex.ops.metrics import ApiLatency, Metrics
from centrex.provisioning import http as provisioning_http
from centrex.store.db import make_engine, make_sessionmaker, pool_capacity
from centrex.web.phone_page import mount_phone
from centrex.web.portal import PortalMiddleware

Probe = Callable[[], tuple[bool, str]]
OPS_PATHS = ("/healthz", "/livez", "/readyz", "/metrics")  # api/routers/health.py


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


# AnyIO's default thread limiter (40 tokens) runs every sync dependency and endpoint.
WORKER_THREADS = 40


def admission_config(engine: Engine, wanted: AdmissionConfig | None = None) -> AdmissionConfig:
    """The gate's size: as asked (CENTREX_API_CONCURRENCY), but always below the pool's size (two
    connections left for /healthz and the switch) and the worker threads — the two bounds that make
    the gate deadlock-free (api/admission.py)."""
    wanted = wanted or AdmissionConfig(
        limit=int(os.environ.get("CENTREX_API_CONCURRENCY", AdmissionConfig.limit)),
        queue=int(os.environ.get("CENTREX_API_QUEUE", AdmissionConfig.queue)),
        max_wait=float(os.environ.get("CENTREX_API_MAX_WAIT", AdmissionConfig.max_wait)),
    )
    bound = max(1, min(pool_capacity(engine) - 2, WORKER_THREADS // 2))
    return replace(wanted, limit=max(1, min(wanted.limit, bound)))


def create_app(
    db_url: str | None = None,
    engine: Engine | None = None,
    admission: AdmissionConfig | None = None,
    metrics: Metrics | None = None,
) -> FastAPI:
    if engine is None:
        if not db_url:
            raise ValueError("create_app needs a database URL or an engine")
        engine = make_engine(db_url)
    app = FastAPI(
        title="Centrex",
        version=__version__,
        description="Hosted business phone service: provisioning, PBX, numbers, 911, billing.",
        generate_unique_id_function=openapi.operation_id,
        # No OpenTelemetry here (metrics are /metrics, ops/metrics.py): off, FastAPI would ask the
        # OTel providers whether they are configured on every request (~3 % of a simple GET).
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.engine = engine
    app.state.sessionmaker = make_sessionmaker(engine)
    app.state.principals = PrincipalCache()
    app.state.principals.watch(app.state.sessionmaker)
    portal.install(app)  # the portal's session cookie, its settings (api/portal.py)
    app.state.components = {}
    app.state.admission = Gate(admission_config(engine, admission))
    app.state.metrics = metrics or Metrics()  # /metrics (ops/metrics.py)
    app.add_middleware(Idempotency)  # inside the gate: a replay is answered without a thread
    # The last added runs first. Probes and scrapes are never queued behind the API's load.
    app.add_middleware(Admission, gate=app.state.admission, exempt=OPS_PATHS)
    errors.install(app)
    install_twilio_errors(app)
    for router in api_routers():  # flattened: one segment tree over all routes (api/dispatch.py)
        if not dispatch.flatten(app, router, prefix="/api/v1"):
            app.include_router(router, prefix="/api/v1")
    for router in twilio_routers():  # /2010-04-01/Accounts/{AccountSid}/… (issue 16 §2)
        if not dispatch.flatten(app, router):
            app.include_router(router)
    if not dispatch.flatten(app, health.router):
        app.include_router(health.router)
    if not dispatch.flatten(app, provisioning_http.router):  # /provision/<file>: desk phones (issue 17 §2)
        app.include_router(provisioning_http.router)
    mount_phone(app)  # the browser softphone at /phone/ (web/phone_page.py, docs/softphone.md)
    dispatch.install(app)
    fast_params.install()  # parameters read by a plan made once per route (api/fast_params.py)
    app.add_middleware(RequestIdMiddleware)  # X-Request-ID, and the id on the request's log lines
    app.add_middleware(ApiLatency, metrics=app.state.metrics)  # outermost: shed requests timed too
    openapi.install(app)
    # The portal at `/` (web/portal.py): GETs outside the API's own path segments, not gated.
    app.add_middleware(PortalMiddleware, routes=app.routes)
    return app


def register_component(app: FastAPI, name: str, probe: Probe) -> None:
    """Let /healthz ask a running part (SIP transport, media relay) whether it is ready."""
    app.state.components[name] = probe
