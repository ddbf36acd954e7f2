"""An API app beside a test's in-process switch, wired as `centrex serve` wires them (the switch's
own live figures on app.state), and an operator token for it."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from centrex.api.app import create_app
from centrex.calls.service import SipService
from centrex.capacity.admission import CapacityAdmission
from centrex.routing.trunk_calls import TrunkCalls
from centrex.store.credentials import new_token
from centrex.store.db import transaction
from centrex.store.models import ApiToken, Operator, TokenKind


def operator_token(sessions: sessionmaker[Session]) -> str:
    """A new operator API token (for the first operator, made if there is none); its plaintext."""
    token = new_token()
    with transaction(sessions) as s:
        op = s.scalar(select(Operator))
        if op is None:
            op = Operator(email="ops@example.net", name="Ops")
            s.add(op)
            s.flush()
        s.add(ApiToken(kind=TokenKind.OPERATOR, name="api beside", prefix=token.prefix,
                       secret_hash=token.secret_hash, operator_id=op.id))  # fmt: skip
    return token.plaintext


def operator_get(service: SipService, sessions: sessionmaker[Session], path: str) -> Any:
    """GET /api/v1<path> as an operator from an API beside `service`; the JSON body."""
    app = create_app(engine=sessions.kw["bind"])
    app.state.site_calls = service.engine.service(CapacityAdmission).site_calls
    health = service.engine.service(TrunkCalls).health
    app.state.gateway_state = lambda gateway_id: health.view(gateway_id, service.clock())
    with TestClient(app) as client:
        r = client.get(f"/api/v1{path}", headers={"Authorization": f"Bearer {operator_token(sessions)}"})
    assert r.status_code == 200, r.text
    return r.json()
