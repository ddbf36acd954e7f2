"""Twilio Messages (issue 16 §2, §4): create, list, fetch under /2010-04-01/Accounts/{AccountSid}/.

Create takes Twilio's form fields To, From, Body, StatusCallback; MessagingServiceSid is accepted and
ignored (a From is then still required). Refusals (cpaas/messaging/checks.py: A2P registration,
consent after STOP, a number not the account's) answer Twilio's error code and a clear message.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from centrex.api.deps import SessionDep
from centrex.api.twilio.formats import account_uri, list_page
from centrex.api.twilio_auth import ERRORS, PREFIX, TwilioAccountDep, TwilioError, not_found
from centrex.cpaas.messaging.checks import Refusal
from centrex.cpaas.messaging.views import messenger_of, twilio_message
from centrex.store.access import TenantData
from centrex.store.models.messaging import SmsMessage
from centrex.store.policy import Action, Resource

router = APIRouter(tags=["twilio"])


@router.post(PREFIX + "/Messages.json", status_code=201, responses=ERRORS)
async def twilio_create_message(
    request: Request,
    session: SessionDep,
    account: TwilioAccountDep,
    to: Annotated[str | None, Form(alias="To")] = None,
    from_: Annotated[str | None, Form(alias="From")] = None,
    body: Annotated[str | None, Form(alias="Body")] = None,
    status_callback: Annotated[str | None, Form(alias="StatusCallback")] = None,
    messaging_service_sid: Annotated[str | None, Form(alias="MessagingServiceSid")] = None,
) -> JSONResponse:
    del messaging_service_sid  # accepted, ignored: Centrex has no messaging services
    if not to:
        raise TwilioError(400, 21604, "A 'To' phone number is required.")
    if not from_:
        raise TwilioError(400, 21603, "A 'From' phone number is required.")
    if not body:
        raise TwilioError(400, 21602, "Message body is required.")
    if status_callback and not status_callback.startswith(("http://", "https://")):
        raise TwilioError(400, 21609, "Invalid StatusCallback URL: it must be an http(s) URL.")
    data = await run_in_threadpool(TenantData, session, account.principal, account.tenant_id)
    data.require(Resource.CPAAS, Action.CREATE)
    messenger = messenger_of(request)
    try:
        row = await run_in_threadpool(
            messenger.send, account.tenant_id, from_, to, body, status_callback=status_callback
        )
    except Refusal as refusal:
        raise TwilioError(refusal.status, refusal.code, refusal.reason) from None
    return JSONResponse(twilio_message(row, account.sid), status_code=201)


def _list(
    session: Session,
    account: TwilioAccountDep,
    to: str | None,
    from_: str | None,
    sent: str | None,
    page: int,
    size: int,
) -> dict[str, Any]:
    data = TenantData(session, account.principal, account.tenant_id)
    stmt = data.select(SmsMessage, Resource.CPAAS)
    if to:
        stmt = stmt.where(SmsMessage.to_number == to)
    if from_:
        stmt = stmt.where(SmsMessage.from_number == from_)
    if sent:
        try:
            day = datetime.strptime(sent[:10], "%Y-%m-%d").replace(tzinfo=UTC)
        except ValueError:
            raise TwilioError(400, 20001, f"Invalid DateSent {sent!r}: expected YYYY-MM-DD") from None
        stmt = stmt.where(SmsMessage.date_sent >= day, SmsMessage.date_sent < day + timedelta(days=1))
    stmt = stmt.order_by(SmsMessage.created_at.desc(), SmsMessage.id).offset(page * size).limit(size + 1)
    rows = list(session.scalars(stmt))
    items = [twilio_message(r, account.sid) for r in rows[:size]]
    return list_page("messages", items, f"{account_uri(account.sid)}/Messages", page, size, len(rows) > size)


@router.get(PREFIX + "/Messages.json", responses=ERRORS)
def twilio_list_messages(
    session: SessionDep,
    account: TwilioAccountDep,
    to: Annotated[str | None, Query(alias="To")] = None,
    from_: Annotated[str | None, Query(alias="From")] = None,
    date_sent: Annotated[str | None, Query(alias="DateSent")] = None,
    page: Annotated[int, Query(alias="Page", ge=0, le=10_000)] = 0,
    page_size: Annotated[int, Query(alias="PageSize", ge=1, le=1000)] = 50,
) -> dict[str, Any]:
    return _list(session, account, to, from_, date_sent, page, page_size)


@router.get(PREFIX + "/Messages/{MessageSid}.json", responses=ERRORS)
def twilio_fetch_message(
    session: SessionDep, account: TwilioAccountDep, sid: Annotated[str, Path(alias="MessageSid")]
) -> dict[str, Any]:
    data = TenantData(session, account.principal, account.tenant_id)
    row = session.scalar(data.select(SmsMessage, Resource.CPAAS).where(SmsMessage.sid == sid))
    if row is None:
        raise not_found(f"/2010-04-01/Accounts/{account.sid}/Messages/{sid}.json")
    return twilio_message(row, account.sid)
