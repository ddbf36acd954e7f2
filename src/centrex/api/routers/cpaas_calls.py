"""Native call control (issue 16 §2): place a call running an app, list live calls, and change a
live call — redirect, hang up, record, transfer. The tenant's developers and the operator
(Resource.CPAAS), the same calls as the Twilio-compatible /Calls (api/twilio/calls.py), in JSON.

POST /tenants/{t}/calls: ``to`` a number or an extension, ``from`` one of the tenant's numbers (its
first number when left out), the app as ``url`` (+ ``method``, ``fallback_url``), ``twiml`` or
native ``verbs`` (jambonz-style JSON, cpaas/voice/jsonverbs.py). Paced per account like the Twilio
API (a full queue: 429). Without a switch in this process the call is recorded as failed, with
the reason in its log (``reason``), so the answer never pretends a call was placed.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from sqlalchemy import select

from centrex.api.deps import TenantDep
from centrex.api.twilio.call_shapes import BadTarget, NoSwitch, Paced, check_from, place_call, switch_target
from centrex.cpaas.accounts import ensure_account
from centrex.cpaas.calls.desk import CallDesk
from centrex.cpaas.calls.rows import FINAL, new_row
from centrex.cpaas.sids import parse_sid, sid_of
from centrex.cpaas.voice.control import AppStart
from centrex.cpaas.voice.jsonverbs import parse_json_verbs
from centrex.cpaas.voice.twiml import parse_twiml
from centrex.cpaas.voice.verbs import VerbError
from centrex.store.errors import Conflict, Invalid, NotFound, StoreError
from centrex.store.models import PhoneNumber
from centrex.store.models.cpaas_voice import CpaasCall, CpaasCallNotice
from centrex.store.policy import Action, Resource

router = APIRouter(prefix="/tenants/{tenant_id}/calls", tags=["cpaas"])


class TooMany(StoreError):
    status = 429
    code = "too_many_requests"


class CallIn(BaseModel):
    to: str = Field(min_length=1, max_length=128)
    from_: str | None = Field(default=None, alias="from", max_length=16)
    url: str | None = Field(default=None, max_length=1000, pattern=r"^https?://")
    method: Literal["GET", "POST"] = "POST"
    fallback_url: str | None = Field(default=None, max_length=1000, pattern=r"^https?://")
    twiml: str | None = Field(default=None, max_length=4000)
    verbs: list[dict[str, Any]] | None = Field(default=None, max_length=100)
    status_callback: str | None = Field(default=None, max_length=1000, pattern=r"^https?://")
    status_callback_events: list[Literal["initiated", "ringing", "answered", "completed"]] = ["completed"]
    timeout_s: int = Field(default=60, ge=1, le=600)
    time_limit_s: int = Field(default=14400, ge=1, le=86400)

    model_config = {"populate_by_name": True}


class RedirectIn(BaseModel):
    url: str | None = Field(default=None, max_length=1000, pattern=r"^https?://")
    method: Literal["GET", "POST"] = "POST"
    twiml: str | None = Field(default=None, max_length=4000)
    verbs: list[dict[str, Any]] | None = Field(default=None, max_length=100)


class TransferIn(BaseModel):
    to: str = Field(min_length=1, max_length=128)
    caller_id: str | None = Field(default=None, max_length=16)
    timeout_s: int = Field(default=30, ge=1, le=600)


class RecordIn(BaseModel):
    max_s: int = Field(default=3600, ge=1, le=14400)


class CallOut(BaseModel):
    sid: str
    to: str
    from_: str = Field(serialization_alias="from")
    direction: str
    status: str
    start_time: datetime | None
    answer_time: datetime | None
    end_time: datetime | None
    duration_s: int | None
    parent_call_sid: str | None
    reason: str | None = None  # the call's last logged problem, if any


class LiveCallOut(BaseModel):
    sid: str
    to: str
    from_: str = Field(serialization_alias="from")
    direction: str
    status: str
    started_at: datetime
    answered_at: datetime | None


def _desk(request: Request) -> CallDesk | None:
    desk = getattr(request.app.state, "cpaas_calls", None)
    return desk if isinstance(desk, CallDesk) else None


def _start(url: str | None, method: str, fallback: str | None, twiml: str | None, verbs: Any) -> AppStart:
    given = [x for x in (url, twiml, verbs) if x]
    if len(given) != 1:
        raise Invalid("give exactly one of url, twiml or verbs", field="url")
    try:
        if twiml:
            parse_twiml(twiml)
            return AppStart(document=twiml)
        if verbs:
            text = json.dumps(verbs)
            parse_json_verbs(text)
            return AppStart(document=text)
    except VerbError as exc:
        raise Invalid(f"the document cannot be run: {exc}", field="twiml" if twiml else "verbs") from None
    return AppStart(url=url, method=method, fallback_url=fallback)


def _out(data: TenantDep, row: CpaasCall) -> CallOut:
    reason = data.session.scalar(
        select(CpaasCallNotice.message)
        .where(CpaasCallNotice.call_id == row.id)
        .order_by(CpaasCallNotice.at.desc())
        .limit(1)
    )
    return CallOut(
        sid=row.sid,
        to=row.to_number,
        from_=row.from_number,
        direction=row.direction,
        status=row.status,
        start_time=row.start_time,
        answer_time=row.answer_time,
        end_time=row.end_time,
        duration_s=row.duration_s,
        parent_call_sid=row.parent_call_sid,
        reason=reason,
    )


def _row(data: TenantDep, call: str) -> CpaasCall:
    """A call by its SID (CA…) or its id."""
    try:
        row_id = parse_sid(call, "CA") or uuid.UUID(call)
    except ValueError:
        raise NotFound(f"call {call} not found", field="call") from None
    row = data.session.scalar(
        data.select(CpaasCall, Resource.CPAAS).where(CpaasCall.sid == sid_of("CA", row_id))
    )
    if row is None:
        raise NotFound(f"call {call} not found", field="call")
    return row


def _live(request: Request, data: TenantDep, call: str) -> tuple[CallDesk, CpaasCall]:
    data.require(Resource.CPAAS, Action.UPDATE)
    row = _row(data, call)
    desk = _desk(request)
    if desk is None or row.status in FINAL or not desk.is_live(row.sid):
        raise Conflict(f"call {row.sid} is not live (status {row.status})", field="call")
    return desk, row


@router.get("/live", response_model=list[LiveCallOut], response_model_by_alias=True)
def live_calls(request: Request, data: TenantDep) -> Any:
    data.require(Resource.CPAAS, Action.READ)
    desk = _desk(request)
    if desk is None:
        return []
    return [
        LiveCallOut(
            sid=c.sid,
            to=c.to_number,
            from_=c.from_number,
            direction=c.direction,
            status=c.status,
            started_at=c.started_at,
            answered_at=c.answered_at,
        )
        for c in desk.live_calls(data.tenant_id)
    ]


@router.post("", response_model=CallOut, response_model_by_alias=True, status_code=201)
def originate(request: Request, data: TenantDep, body: CallIn) -> Any:
    data.require(Resource.CPAAS, Action.CREATE)
    start = _start(body.url, body.method, body.fallback_url, body.twiml, body.verbs)
    session = data.session
    caller = body.from_ or session.scalar(
        select(PhoneNumber.e164)
        .where(PhoneNumber.tenant_id == data.tenant_id)
        .order_by(PhoneNumber.e164)
        .limit(1)
    )
    if caller is None:
        raise Invalid("the tenant has no number to call from: give 'from'", field="from")
    account = ensure_account(session, data.tenant_id)
    desk = _desk(request)
    try:
        if desk is None:
            return _out(data, _unplaced(data, account.sid, body.to, caller, start))
        row = place_call(
            session,
            desk,
            tenant_id=data.tenant_id,
            account=account,
            to=body.to,
            from_=caller,
            start=start,
            timeout_s=body.timeout_s,
            time_limit_s=body.time_limit_s,
            status_callback=body.status_callback,
            status_callback_events=tuple(body.status_callback_events),
        )
    except BadTarget as exc:
        raise Invalid(exc.message, field="from" if exc.code in (21210, 21212, 21213) else "to") from None
    except Paced as exc:
        raise TooMany(str(exc), rule="cpaas_cps") from None
    except NoSwitch as exc:  # pragma: no cover - desk checked above
        raise Conflict(str(exc)) from None
    data.audit(
        "cpaas.call.create",
        "cpaas_calls",
        row.id,
        None,
        {"sid": row.sid, "to": row.to_number},
        data.tenant_id,
    )
    return _out(data, row)


def _unplaced(data: TenantDep, account_sid: str, to: str, caller: str, start: AppStart) -> CpaasCall:
    """No switch runs with this API (an API-only process): the call is recorded as failed, with why."""
    switch_target(to)
    check_from(data.session, data.tenant_id, caller)
    row = new_row(
        data.session,
        data.tenant_id,
        account_sid=account_sid,
        direction="outbound-api",
        from_number=caller,
        to_number=to,
        status="failed",
        url=start.url,
        duration_s=0,
    )
    row.end_time = row.start_time
    data.session.add(
        CpaasCallNotice(
            tenant_id=data.tenant_id,
            call_id=row.id,
            message="not placed: no switch runs with this API process (centrex serve runs both)",
        )
    )
    data.session.flush()
    return row


@router.get("/{call}", response_model=CallOut, response_model_by_alias=True)
def get_call(data: TenantDep, call: str) -> Any:
    return _out(data, _row(data, call))


@router.post("/{call}/hangup", response_model=CallOut, response_model_by_alias=True)
def hangup(request: Request, data: TenantDep, call: str) -> Any:
    desk, row = _live(request, data, call)
    desk.hangup(row.sid)
    data.audit("cpaas.call.hangup", "cpaas_calls", row.id, None, {"sid": row.sid}, data.tenant_id)
    return _out(data, row)


@router.post("/{call}/redirect", response_model=CallOut, response_model_by_alias=True)
def redirect(request: Request, data: TenantDep, call: str, body: RedirectIn) -> Any:
    desk, row = _live(request, data, call)
    if row.status != "in-progress":
        raise Conflict(f"call {row.sid} is not answered yet (status {row.status})", field="call")
    desk.redirect(row.sid, _start(body.url, body.method, None, body.twiml, body.verbs))
    data.audit("cpaas.call.redirect", "cpaas_calls", row.id, None, {"sid": row.sid}, data.tenant_id)
    return _out(data, row)


@router.post("/{call}/transfer", response_model=CallOut, response_model_by_alias=True)
def transfer(request: Request, data: TenantDep, call: str, body: TransferIn) -> Any:
    """The callee is bridged to ``to`` on the app server (the document becomes one <Dial>)."""
    desk, row = _live(request, data, call)
    if row.status != "in-progress":
        raise Conflict(f"call {row.sid} is not answered yet (status {row.status})", field="call")
    try:
        target = switch_target(body.to)
    except BadTarget as exc:
        raise Invalid(exc.message, field="to") from None
    verb: dict[str, Any] = {
        "verb": "dial",
        "target": [{"type": "phone", "number": target}],
        "timeout": body.timeout_s,
    }
    if body.caller_id:
        verb["callerId"] = body.caller_id
    desk.redirect(row.sid, _start(None, "POST", None, None, [verb]))
    data.audit(
        "cpaas.call.transfer", "cpaas_calls", row.id, None, {"sid": row.sid, "to": target}, data.tenant_id
    )
    return _out(data, row)


@router.post("/{call}/record", response_model=CallOut, response_model_by_alias=True)
def record(request: Request, data: TenantDep, call: str, body: RecordIn | None = None) -> Any:
    """Record what the callee says from now until the call ends (or ``max_s``): a cpaas_recordings
    row (source StartCallRecording) kept 30 days like every CPaaS recording (cpaas.txt §2.4.2)."""
    desk, row = _live(request, data, call)
    if row.status != "in-progress":
        raise Conflict(f"call {row.sid} is not answered yet (status {row.status})", field="call")
    if not desk.record(row.sid, (body or RecordIn()).max_s):
        raise Conflict(f"call {row.sid} is already being recorded", field="call")
    data.audit("cpaas.call.record", "cpaas_calls", row.id, None, {"sid": row.sid}, data.tenant_id)
    return _out(data, row)
