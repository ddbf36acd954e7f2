"""GET /healthz: 200 only when every component is ready, and which are."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from centrex.store.db import ping
from centrex.store.migrate import is_current

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz(request: Request) -> Any:
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
    ready = all(c["ready"] for c in components.values())
    return JSONResponse(
        status_code=200 if ready else 503,
        content={"status": "ready" if ready else "not ready", "components": components},
    )
