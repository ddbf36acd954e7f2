"""POST /sms-carrier/http/events: where an HTTP carrier (cpaas/messaging/http_connector.py) posts
delivery receipts and incoming messages. Not a tenant's resource: the carrier authenticates with the
shared token of the ``sms_carrier_token`` setting (Bearer); without an HTTP connector running, 404."""

from __future__ import annotations

import hmac
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from centrex.cpaas.messaging.http_connector import HttpConnector

router = APIRouter(tags=["messaging"], include_in_schema=False)


@router.post("/sms-carrier/http/events")
async def carrier_event(request: Request) -> JSONResponse:
    messenger = getattr(request.app.state, "messaging", None)
    connector = getattr(messenger, "connector", None)
    if not isinstance(connector, HttpConnector):
        return JSONResponse({"error": "not_found", "message": "no HTTP carrier connector runs here"}, 404)
    given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
    if connector.token and not hmac.compare_digest(given, connector.token):
        return JSONResponse({"error": "unauthorized", "message": "a valid carrier token is required"}, 401)
    try:
        event: Any = await request.json()
    except ValueError:
        event = None
    if not isinstance(event, dict):
        return JSONResponse({"error": "validation_error", "message": "a JSON object is required"}, 422)
    if not await run_in_threadpool(connector.handle, event):
        return JSONResponse({"error": "validation_error", "message": "not a receipt or a message event"}, 422)
    return JSONResponse({"ok": True})
