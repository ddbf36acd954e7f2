"""The CPaaS call parts on the app server (issue 16 §2): its call desk for the API, and the bridge
that voice apps' <Dial> uses (``AppServer.voice_dialer``, apps/server.py)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from centrex.cpaas.calls.desk import CallDesk
from centrex.cpaas.calls.dial import DialParent, dial
from centrex.cpaas.voice.control import DialRequest, DialResult
from centrex.store.models.cpaas_voice import CpaasCall

if TYPE_CHECKING:
    from centrex.apps.server import AppServer


def attach_calls(
    server: AppServer, sessions: sessionmaker[Session], *, cps: float = 1.0, queue_max: int = 100
) -> CallDesk:
    """The desk the API hands calls to (``app.state.cpaas_calls``), on the running loop, and the
    app server's <Dial> bridge for calls it answered (an application's number or extension)."""
    desk = CallDesk(server, sessions, cps=cps, queue_max=queue_max).bind()
    server.voice_dialer = app_dialer(server, sessions)
    return desk


def app_dialer(
    server: AppServer, sessions: sessionmaker[Session]
) -> Callable[[Any, DialRequest], Awaitable[DialResult]]:
    """<Dial> of a call the app server answered: its cpaas_calls row is found by the switch's call
    id (``X-Centrex-Call``), then the dialled leg is placed and bridged (cpaas/calls/dial.py)."""

    async def dialer(call: Any, request: DialRequest) -> DialResult:
        headers = call.invite.headers
        parent = await asyncio.to_thread(
            parent_of, sessions, headers.get("X-Centrex-Tenant"), headers.get("X-Centrex-Call")
        )
        if parent is None or call.media is None:
            return DialResult("failed")
        records = getattr(getattr(server, "voice", None), "records", None)
        return await dial(server.outbound, sessions, call.media, parent, request, records)

    return dialer


def parent_of(
    sessions: sessionmaker[Session], tenant: str | None, switch_call: str | None
) -> DialParent | None:
    try:
        tenant_id = uuid.UUID((tenant or "").strip())
    except ValueError:
        return None
    if not switch_call:
        return None
    with sessions() as s:
        row = s.scalar(
            select(CpaasCall)
            .where(CpaasCall.tenant_id == tenant_id, CpaasCall.switch_call_id == switch_call.strip())
            .order_by(CpaasCall.start_time.desc())
            .limit(1)
        )
        if row is None:
            return None
        return DialParent(tenant_id, row.account_sid, row.sid, row.from_number, row.to_number)
