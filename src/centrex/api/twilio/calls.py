"""Twilio's Calls (issue 16 §2): create (Url or Twiml), list, fetch, update (redirect, hang up), delete.

POST /Calls.json places a call through the switch from the account's app server (cpaas/calls/desk.py,
paced per account: excess waits, a full queue is 429 with Twilio's code 20429); on answer the Url's
(or the Twiml's) document runs on the callee's leg. Update with Url/Twiml replaces the running
document; Status=completed hangs up an answered call, Status=canceled a queued or ringing one.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Query, Request, Response

from centrex.api.deps import SessionDep
from centrex.api.twilio.call_shapes import (
    STATUSES,
    BadTarget,
    NoSwitch,
    Paced,
    call_json,
    place_call,
)
from centrex.api.twilio.formats import account_uri, list_page
from centrex.api.twilio_auth import PREFIX, TwilioAccountDep, TwilioError, not_found
from centrex.cpaas.calls.desk import CallDesk
from centrex.cpaas.calls.rows import FINAL
from centrex.cpaas.voice.control import AppStart
from centrex.store.access import TenantData
from centrex.store.models.cpaas_voice import CpaasCall
from centrex.store.policy import Action, Resource

router = APIRouter(tags=["twilio"])
CALLS = PREFIX + "/Calls"
MAX_TIMEOUT_S = 600  # Twilio's upper bound for Timeout
_METHODS = ("GET", "POST")


def _method(value: str | None, name: str) -> str:
    method = (value or "POST").upper()
    if method not in _METHODS:
        raise TwilioError(400, 21200, f"{name} must be GET or POST")
    return method


def _url(value: str | None, name: str) -> str | None:
    if value is None or not value.strip():
        return None
    text = value.strip()
    if not text.lower().startswith(("http://", "https://")) or len(text) > 1000:
        raise TwilioError(400, 21205, f"{name} is not a valid URL: {text[:100]}")
    return text


def start_of(
    url: str | None, method: str | None, fallback: str | None, fallback_method: str | None, twiml: str | None
) -> AppStart | None:
    """Where the document comes from: Twiml (given text) wins over Url, as in Twilio."""
    if twiml is not None and twiml.strip():
        if len(twiml) > 4000:  # Twilio's limit on Twiml
            raise TwilioError(400, 21205, "Twiml is longer than 4000 characters")
        return AppStart(document=twiml.strip())
    u = _url(url, "Url")
    if u is None:
        return None
    return AppStart(
        url=u,
        method=_method(method, "Method"),
        fallback_url=_url(fallback, "FallbackUrl"),
        fallback_method=_method(fallback_method, "FallbackMethod"),
    )


def _desk(request: Request) -> CallDesk | None:
    desk = getattr(request.app.state, "cpaas_calls", None)  # server.py: the app server's CallDesk
    return desk if isinstance(desk, CallDesk) else None


def _row(session: SessionDep, account: Any, sid: str) -> CpaasCall:
    data = TenantData(session, account.principal, account.tenant_id)
    row = session.scalar(data.select(CpaasCall, Resource.CPAAS).where(CpaasCall.sid == sid))
    if row is None:
        raise not_found(f"{account_uri(account.sid)}/Calls/{sid}.json")
    return row


@router.post(CALLS + ".json", status_code=201)
def twilio_create_call(
    request: Request,
    account: TwilioAccountDep,
    session: SessionDep,
    to: Annotated[str, Form(alias="To")] = "",
    from_: Annotated[str, Form(alias="From")] = "",
    url: Annotated[str | None, Form(alias="Url")] = None,
    method: Annotated[str | None, Form(alias="Method")] = None,
    fallback_url: Annotated[str | None, Form(alias="FallbackUrl")] = None,
    fallback_method: Annotated[str | None, Form(alias="FallbackMethod")] = None,
    twiml: Annotated[str | None, Form(alias="Twiml")] = None,
    status_callback: Annotated[str | None, Form(alias="StatusCallback")] = None,
    status_callback_method: Annotated[str | None, Form(alias="StatusCallbackMethod")] = None,
    status_callback_event: Annotated[list[str] | None, Form(alias="StatusCallbackEvent")] = None,
    timeout: Annotated[int, Form(alias="Timeout", ge=1, le=MAX_TIMEOUT_S)] = 60,
    time_limit: Annotated[int, Form(alias="TimeLimit", ge=1, le=86400)] = 14400,
    caller_name: Annotated[str | None, Form(alias="CallerName", max_length=64)] = None,
) -> dict[str, Any]:
    TenantData(session, account.principal, account.tenant_id).require(Resource.CPAAS, Action.CREATE)
    start = start_of(url, method, fallback_url, fallback_method, twiml)
    if start is None:
        raise TwilioError(400, 21205, "Either Url or Twiml is required")  # ApplicationSid: not here
    events: list[str] = []
    for value in status_callback_event or []:
        events += value.replace(",", " ").split()
    try:
        row = place_call(
            session,
            _desk(request),
            tenant_id=account.tenant_id,
            account=account.account,
            to=to,
            from_=from_,
            start=start,
            timeout_s=timeout,
            time_limit_s=time_limit,
            status_callback=_url(status_callback, "StatusCallback"),
            status_callback_method=_method(status_callback_method, "StatusCallbackMethod"),
            status_callback_events=tuple(events) or ("completed",),
            caller_name=caller_name,
        )
    except BadTarget as exc:
        raise TwilioError(400, exc.code, exc.message) from None
    except Paced as exc:
        raise TwilioError(429, 20429, str(exc)) from None
    except NoSwitch as exc:
        raise TwilioError(503, 20503, str(exc)) from None
    return call_json(row)


@router.get(CALLS + ".json")
def twilio_list_calls(
    account: TwilioAccountDep,
    session: SessionDep,
    to: Annotated[str | None, Query(alias="To")] = None,
    from_: Annotated[str | None, Query(alias="From")] = None,
    status: Annotated[str | None, Query(alias="Status")] = None,
    parent: Annotated[str | None, Query(alias="ParentCallSid")] = None,
    page_size: Annotated[int, Query(alias="PageSize", ge=1, le=1000)] = 50,
    page: Annotated[int, Query(alias="Page", ge=0, le=100000)] = 0,
) -> dict[str, Any]:
    data = TenantData(session, account.principal, account.tenant_id)
    stmt = data.select(CpaasCall, Resource.CPAAS)
    if to:
        stmt = stmt.where(CpaasCall.to_number == to)
    if from_:
        stmt = stmt.where(CpaasCall.from_number == from_)
    if status:
        if status not in STATUSES:
            raise TwilioError(400, 20001, f"Status must be one of {', '.join(STATUSES)}")
        stmt = stmt.where(CpaasCall.status == status)
    if parent:
        stmt = stmt.where(CpaasCall.parent_call_sid == parent)
    stmt = stmt.order_by(CpaasCall.start_time.desc(), CpaasCall.id)
    found = list(session.scalars(stmt.limit(page_size + 1).offset(page * page_size)))
    items = [call_json(r) for r in found[:page_size]]
    return list_page(
        "calls", items, f"{account_uri(account.sid)}/Calls", page, page_size, len(found) > page_size
    )


@router.get(CALLS + "/{CallSid}.json")
def twilio_fetch_call(
    account: TwilioAccountDep, session: SessionDep, sid: Annotated[str, Path(alias="CallSid")]
) -> dict[str, Any]:
    return call_json(_row(session, account, sid))


@router.post(CALLS + "/{CallSid}.json")
def twilio_update_call(
    request: Request,
    account: TwilioAccountDep,
    session: SessionDep,
    sid: Annotated[str, Path(alias="CallSid")],
    url: Annotated[str | None, Form(alias="Url")] = None,
    method: Annotated[str | None, Form(alias="Method")] = None,
    fallback_url: Annotated[str | None, Form(alias="FallbackUrl")] = None,
    fallback_method: Annotated[str | None, Form(alias="FallbackMethod")] = None,
    twiml: Annotated[str | None, Form(alias="Twiml")] = None,
    status: Annotated[str | None, Form(alias="Status")] = None,
) -> dict[str, Any]:
    row = _row(session, account, sid)
    TenantData(session, account.principal, account.tenant_id).require(Resource.CPAAS, Action.UPDATE)
    desk = _desk(request)
    start = start_of(url, method, fallback_url, fallback_method, twiml)
    live = desk is not None and desk.is_live(row.sid)
    if status is not None:
        if status not in ("completed", "canceled"):
            raise TwilioError(400, 20001, "Status must be completed or canceled")
        if status == "canceled" and row.status not in ("queued", "ringing"):
            raise TwilioError(400, 21220, "Call is not queued or ringing: cannot cancel")
        if desk is not None and live:
            desk.hangup(row.sid)
    elif start is not None:
        if desk is None or not live or row.status != "in-progress":
            raise TwilioError(400, 21220, "Call is not in-progress. Cannot redirect.")
        desk.redirect(row.sid, start)
    elif row.status in FINAL:
        raise TwilioError(400, 21220, "Call is not in-progress")
    session.refresh(row)
    return call_json(row)


@router.delete(CALLS + "/{CallSid}.json", status_code=204)
def twilio_delete_call(
    request: Request,
    account: TwilioAccountDep,
    session: SessionDep,
    sid: Annotated[str, Path(alias="CallSid")],
) -> Response:
    row = _row(session, account, sid)
    desk = _desk(request)
    if row.status not in FINAL or (desk is not None and desk.is_live(row.sid)):
        raise TwilioError(400, 21220, "Call is in progress: hang it up before deleting its record")
    TenantData(session, account.principal, account.tenant_id).delete(row, "cpaas.call.delete", Resource.CPAAS)
    return Response(status_code=204)
