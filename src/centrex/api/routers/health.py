"""Operations endpoints, outside /api/v1 and outside the admission gate (issue 19 §1):

- ``GET /livez``: the process is alive and its event loop answers. No database, no SIP: a load
  balancer or systemd restarts a process that fails it, and must not restart one because the
  database is down (restarting would not help).
- ``GET /readyz``: ready for traffic: the database answers and is at the newest migration, and
  every component the server registered (SIP listening) is up. 503 otherwise: take the node out
  of rotation, do not kill it.
- ``GET /healthz``: the same answer as /readyz (the name older tooling knows). The components and
  their details (database backend, SIP listeners, contacts, API gate) are shown only to an
  operator's bearer token; anyone else gets the status alone.
- ``GET /metrics``: Prometheus text format (ops/metrics.py), to addresses in ``metrics_allow``
  (default loopback) or an operator's bearer token; 403 otherwise.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from centrex.ops.metrics import CONTENT_TYPE
from centrex.store.access import Principal, authenticate
from centrex.store.db import ping
from centrex.store.migrate import is_current

router = APIRouter(tags=["health"])


def _bearer(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def _principal(request: Request, token: str) -> Principal | None:
    """Who the token is (the API's cache first); never raises: a bad token is no one."""
    cache = request.app.state.principals
    principal: Principal | None = cache.get(token)
    if principal is None:
        with request.app.state.sessionmaker() as session:
            principal = authenticate(session, token)
        if principal is not None:
            cache.put(token, principal)
    return principal


def is_operator(request: Request) -> bool:
    """Whether the request carries a valid operator token (runs in a worker thread)."""
    token = _bearer(request)
    if token is None:
        return False
    principal = _principal(request, token)
    return principal is not None and principal.is_operator


@router.get("/livez", include_in_schema=False)
async def livez() -> Any:
    # Answered on the event loop: if the loop is stuck (the switch with it), this times out.
    return {"status": "alive"}


def _components(request: Request) -> dict[str, dict[str, Any]]:
    engine = request.app.state.engine
    components: dict[str, dict[str, Any]] = {}
    db_ok = ping(engine)
    components["database"] = {"ready": db_ok, "backend": engine.dialect.name}
    # Alembic's check costs tens of ms; once at the newest migration a running process stays there.
    schema_ok = db_ok and (getattr(request.app.state, "schema_current", False) or is_current(engine))
    request.app.state.schema_current = schema_ok
    components["schema"] = {
        "ready": schema_ok,
        "detail": "at newest migration" if schema_ok else "run `centrex db upgrade`",
    }
    gate = request.app.state.admission
    components["api"] = {
        "ready": True,
        "inside": gate.inside,
        "limit": gate.config.limit,
        "waiting": len(gate.waiting),
        "shed": gate.shed,
    }
    # Components the server registers as they start (SIP transports, media); each reports itself.
    for name, probe in request.app.state.components.items():
        ok, detail = probe()
        components[name] = {"ready": ok, "detail": detail}
    return components


def _readiness(request: Request) -> JSONResponse:
    components = _components(request)
    ready = all(c["ready"] for c in components.values())
    content: dict[str, Any] = {"status": "ready" if ready else "not ready"}
    if is_operator(request):
        content["components"] = components
    return JSONResponse(status_code=200 if ready else 503, content=content)


@router.get("/readyz", include_in_schema=False)
def readyz(request: Request) -> Any:
    return _readiness(request)


@router.get("/healthz")
def healthz(request: Request) -> Any:
    return _readiness(request)


@router.get("/metrics", response_class=Response, include_in_schema=False)
async def metrics(request: Request) -> Response:
    registry = request.app.state.metrics
    client = request.client.host if request.client else None
    if not registry.allowed_address(client) and not await run_in_threadpool(is_operator, request):
        return JSONResponse(
            status_code=403,
            content={
                "error": "forbidden",
                "message": "metrics: an operator bearer token, or a client address in metrics_allow",
            },
        )
    body = await registry.render()
    return Response(body, media_type=CONTENT_TYPE)
