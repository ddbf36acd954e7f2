"""How one campaign contact is reached, per channel; each returns what the recipient row records.

- SMS: through the messaging service (cpaas/messaging/service.py ``Messenger.send``): the same checks
  as any message (the From is the tenant's, an approved 10DLC campaign or toll-free verification,
  the STOP ledger), the same carrier connector, delivery receipts and price.
- Voice: a voice-app call placed through the call desk (cpaas/calls/desk.py, the switch by
  apps/outbound.py), as the Calls API places one: a cpaas_calls row (queued), then ringing,
  answered, the campaign's app (its URL or TwiML) run on the answered leg. The desk paces calls per
  account (``cpaas_calls_cps``) on top of the campaign's own throttle.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from centrex.cpaas.accounts import ensure_account
from centrex.cpaas.calls.desk import CallDesk, Placement
from centrex.cpaas.calls.rows import new_row, update
from centrex.cpaas.messaging.checks import Refusal
from centrex.cpaas.messaging.service import Messenger
from centrex.cpaas.voice.control import AppStart, VoiceCall
from centrex.store.db import transaction
from centrex.store.models.campaigns import Campaign


@dataclass(frozen=True, slots=True)
class Outcome:
    status: str  # sent | failed | skipped
    reason: str | None = None
    detail: str | None = None
    message_sid: str | None = None
    call_sid: str | None = None


def send_sms(messenger: Messenger, campaign: Campaign, to: str) -> Outcome:
    try:
        row = messenger.send(campaign.tenant_id, campaign.from_number, to, campaign.body)
    except Refusal as refusal:
        if refusal.code == 21610:  # STOP to this very number since the scrub
            return Outcome("skipped", "opted_out", refusal.reason[:300])
        return Outcome("failed", f"refused_{refusal.code}", refusal.reason[:300])
    return Outcome("sent", message_sid=row.sid)


def start_of(campaign: Campaign) -> AppStart:
    if campaign.voice_twiml:
        return AppStart(document=campaign.voice_twiml)
    return AppStart(url=campaign.voice_url)


def place_call(
    sessions: sessionmaker[Session], desk: CallDesk | None, campaign: Campaign, to: str
) -> Outcome:
    if desk is None:
        return Outcome("failed", "no_switch", "no switch runs in this process (centrex serve runs both)")
    tenant_id: uuid.UUID = campaign.tenant_id
    start = start_of(campaign)
    with transaction(sessions) as s:
        account = ensure_account(s, tenant_id)
        if not desk.has_room(account.sid):
            return Outcome("failed", "calls_queue_full", "the account's queue of calls to place is full")
        row = new_row(
            s,
            tenant_id,
            account_sid=account.sid,
            direction="outbound-api",
            from_number=campaign.from_number,
            to_number=to,
            status="queued",
            url=start.url,
            method=start.method,
            status_callback_event="completed",
        )
        call = VoiceCall(
            sid=row.sid,
            account_sid=account.sid,
            tenant_id=tenant_id,
            from_number=campaign.from_number,
            to_number=to,
            direction="outbound-api",
            auth_token=account.auth_token,
            row_id=row.id,
        )
        sid = row.sid
    if not desk.submit(Placement(call, to, start)):
        update(sessions, sid, status="canceled", duration_s=0)
        return Outcome(
            "failed", "calls_queue_full", "the account's queue of calls to place is full", call_sid=sid
        )
    return Outcome("sent", call_sid=sid)
