"""The Messenger: sends messages through the carrier connector and acts on what the carrier says.

- ``send``: the checks (checks.py), a message row (status ``queued``), then the connector; the row
  becomes ``sending``, ``sent`` once the carrier accepted every part (submit_sm_resp), ``delivered``
  or ``undelivered`` once every part has a final receipt, ``failed`` if the carrier refused it.
- receipts → statuses and the status callback (signed POST, Twilio's parameters; the initial status
  fires none, as Twilio's).
- incoming SMS: stored (``received``), CTIA keywords change consent and get the standard reply, then
  the number's SMS URL gets Twilio's parameters (signed) and the <Message> verbs of its TwiML answer
  are sent back.
- priced per segment (``price_per_segment``, ``inbound_price_per_segment``; category sms_outbound /
  sms_inbound): the message detail record billing rates (billing/ rates calls by the minute; SMS
  charges are on the message rows, see docs/cpaas-messaging.md).

``send_message`` (module level) is what other parts call (the voice interpreter's <Message>).
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from centrex.cpaas import outbox
from centrex.cpaas.accounts import ensure_account
from centrex.cpaas.events import emit_event
from centrex.cpaas.messaging import records
from centrex.cpaas.messaging.callbacks import Dispatcher, parse_replies, post_signed
from centrex.cpaas.messaging.checks import Refusal, check_send
from centrex.cpaas.messaging.connector import Connector
from centrex.cpaas.messaging.dlr import FINAL, Receipt
from centrex.cpaas.messaging.keywords import Keyword, classify, reply
from centrex.cpaas.messaging.segments import Segmented, segment
from centrex.cpaas.sids import sid_of
from centrex.store.db import transaction
from centrex.store.models import Tenant
from centrex.store.models.cpaas_refusals import SmsRefusal
from centrex.store.models.messaging import SmsCarrierId, SmsMessage

UNSUBSCRIBED = 21610  # Twilio's code: a message to a recipient who opted out

log = logging.getLogger(__name__)
API_VERSION = "2010-04-01"
DEFAULT_PRICE = Decimal("0.0079")  # per outbound segment, USD (setting sms_price_per_segment)
DEFAULT_INBOUND_PRICE = Decimal("0.0079")


@dataclass(frozen=True)
class Hook:
    url: str
    method: str
    params: dict[str, str]
    auth_token: str


# Who else may take an incoming SMS before the number's SMS URL: (messenger, tenant, from, to, body,
# message sid) → True when taken. cpaas/flows/engine.py adds ``route_inbound`` (a flow's trigger, a
# reply a send-and-wait-for-reply widget awaits).
InboundRoute = Callable[["Messenger", uuid.UUID, str, str, str, str], bool]
INBOUND_ROUTES: list[InboundRoute] = []


class Messenger:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        connector: Connector | None = None,
        *,
        price_per_segment: Decimal = DEFAULT_PRICE,
        inbound_price_per_segment: Decimal = DEFAULT_INBOUND_PRICE,
        dispatcher: Dispatcher | None = None,
    ) -> None:
        self.sessions = sessions
        self.connector = connector
        self.price = price_per_segment
        self.inbound_price = inbound_price_per_segment
        self.hooks = dispatcher or Dispatcher()
        self.lock = threading.Lock()  # carrier events of one message are applied one at a time

    # -- lifecycle
    def start(self) -> Messenger:
        global _active
        if self.connector is not None:
            self.connector.start(self)
        _active = self
        return self

    def stop(self) -> None:
        global _active
        if self.connector is not None:
            self.connector.stop()
        self.hooks.close()
        if _active is self:
            _active = None

    # -- sending
    def send(
        self,
        tenant_id: uuid.UUID,
        from_: str,
        to: str,
        body: str,
        *,
        status_callback: str | None = None,
        direction: str = "outbound-api",
        keyword_reply: bool = False,
    ) -> SmsMessage:
        """Raises Refusal (checks.py). The returned row is detached (expire_on_commit is off)."""
        parts = segment(body)
        try:
            row = self._store(tenant_id, from_, to, body, parts, status_callback, direction, keyword_reply)
        except Refusal as exc:
            if exc.code == UNSUBSCRIBED:  # counted by the fair-use review (fairuse/cpaas_use.py, §2.5)
                with transaction(self.sessions) as s:
                    s.add(
                        SmsRefusal(
                            tenant_id=tenant_id, from_number=from_[:16], to_number=to[:16], code=exc.code
                        )
                    )
            raise
        if self.connector is not None:
            self.connector.submit(row.sid, from_, to, parts)
        return row

    def _store(
        self,
        tenant_id: uuid.UUID,
        from_: str,
        to: str,
        body: str,
        parts: Segmented,
        status_callback: str | None,
        direction: str,
        keyword_reply: bool,
    ) -> SmsMessage:
        with transaction(self.sessions) as s:
            check_send(s, tenant_id, from_, to, body, keyword_reply=keyword_reply)
            config = records.number_config(s, tenant_id, from_)
            row = SmsMessage(
                tenant_id=tenant_id,
                id=(row_id := uuid.uuid4()),
                sid=sid_of("SM", row_id),
                direction=direction,
                from_number=from_,
                to_number=to,
                body=body,
                segments=parts.count,
                encoding=parts.encoding,
                status="queued" if self.connector is None else "sending",
                category="sms_outbound",
                status_callback=status_callback or (config.status_callback if config else None),
            )
            s.add(row)
        return row

    # -- carrier events (the connector's thread)
    def submitted(self, ref: str, part: int, carrier_id: str | None, error: str | None) -> None:
        event = None
        with self.lock, transaction(self.sessions) as s:
            row = s.scalar(select(SmsMessage).where(SmsMessage.sid == ref))
            if row is None:
                return
            if carrier_id is None:
                if row.status not in ("failed", "delivered", "undelivered"):
                    row.status, row.error_code = "failed", 30008
                    row.error_message = (error or "the carrier refused the message")[:300]
                    self._status_callback(s, row)
                    event = status_event(row)
            else:
                event = self._accepted(s, row, part, carrier_id)
        emit_status(event)

    def _accepted(self, s: Session, row: SmsMessage, part: int, carrier_id: str) -> StatusEvent | None:
        event = None
        s.add(SmsCarrierId(tenant_id=row.tenant_id, message_id=row.id, carrier_id=carrier_id, part=part))
        s.flush()
        accepted = len(list(s.scalars(select(SmsCarrierId.id).where(SmsCarrierId.message_id == row.id))))
        if accepted >= row.segments and row.status in ("queued", "sending"):
            row.status = "sent"
            row.date_sent = records.now()
            row.price = -(self.price * row.segments)
            self._status_callback(s, row)
            event = status_event(row)
        return event

    def receipt(self, receipt: Receipt) -> None:
        final = FINAL.get(receipt.stat)
        if final is None:
            return  # ENROUTE / ACCEPTD: not final
        event = None
        with self.lock, transaction(self.sessions) as s:
            link = s.scalar(select(SmsCarrierId).where(SmsCarrierId.carrier_id == receipt.carrier_id))
            if link is None:
                log.info("receipt for unknown carrier id %s", receipt.carrier_id)
                return
            row = s.get(SmsMessage, link.message_id)
            if row is None or row.status in ("delivered", "undelivered", "failed"):
                return
            row.parts_done += 1
            code = final[1]
            if code is not None:
                row.parts_failed += 1
                row.error_code = code
                row.error_message = f"carrier receipt stat:{receipt.stat} err:{receipt.err}"
            if row.parts_done >= row.segments:
                row.status = "delivered" if row.parts_failed == 0 else "undelivered"
                self._status_callback(s, row)
                event = status_event(row)
        emit_status(event)

    def inbound(self, from_: str, to: str, text: str) -> None:
        with transaction(self.sessions) as s:
            number = records.number_owner(s, to)
            if number is None or number.tenant_id is None:
                log.info("incoming SMS to %s, which is no tenant's number: dropped", to)
                return
            tenant_id = number.tenant_id
            parts = segment(text)
            row = SmsMessage(
                tenant_id=tenant_id,
                id=(row_id := uuid.uuid4()),
                sid=sid_of("SM", row_id),
                direction="inbound",
                from_number=from_,
                to_number=to,
                body=text,
                segments=parts.count,
                encoding=parts.encoding,
                status="received",
                category="sms_inbound",
                price=-(self.inbound_price * parts.count),
                date_sent=records.now(),
            )
            s.add(row)
            event = status_event(row)
            keyword = classify(text)
            if keyword is not None:
                kind, word = keyword
                if kind is not Keyword.HELP:
                    records.set_consent(s, tenant_id, to, from_, kind is Keyword.STOP, word)
            tenant = s.get(Tenant, tenant_id)
            program = tenant.name if tenant is not None else "this program"
            config = records.number_config(s, tenant_id, to)
            account = ensure_account(s, tenant_id)
            hook = None
            if config is not None and config.sms_url:
                params = {
                    "MessageSid": row.sid,
                    "SmsSid": row.sid,
                    "SmsMessageSid": row.sid,
                    "AccountSid": account.sid,
                    "From": from_,
                    "To": to,
                    "Body": text,
                    "NumMedia": "0",
                    "NumSegments": str(parts.count),
                    "SmsStatus": "received",
                    "ApiVersion": API_VERSION,
                }
                hook = Hook(config.sms_url, config.sms_method or "POST", params, account.auth_token)
        emit_status(event)
        if keyword is not None:
            # CTIA: the one confirmation (STOP) or the help/opt-in text, from the number written to.
            self._send_quietly(tenant_id, to, from_, reply(keyword[0], program), keyword_reply=True)
        if any(route(self, tenant_id, from_, to, text, row.sid) for route in INBOUND_ROUTES):
            return  # a flow took it (keywords too, as the SMS URL gets them)
        if hook is not None:
            self.hooks.submit(self._sms_url, tenant_id, to, from_, hook)

    # -- helpers
    def _sms_url(self, tenant_id: uuid.UUID, number: str, remote: str, hook: Hook) -> None:
        response = post_signed(hook.url, hook.params, hook.auth_token, hook.method)
        if response is None or response.status_code >= 400:
            log.warning(
                "SMS URL %s failed (%s)", hook.url, None if response is None else response.status_code
            )
            return
        for r in parse_replies(response.text):
            self._send_quietly(
                tenant_id, r.from_ or number, r.to or remote, r.body, direction="outbound-reply"
            )

    def _send_quietly(self, tenant_id: uuid.UUID, from_: str, to: str, body: str, **kw: object) -> None:
        try:
            self.send(tenant_id, from_, to, body, **kw)  # type: ignore[arg-type]
        except Refusal as refusal:
            log.warning("reply from %s to %s refused: %s", from_, to, refusal.reason)

    def _status_callback(self, s: Session, row: SmsMessage) -> None:
        """Queue the message's status callback in the webhooks outbox (cpaas/outbox.py), in the
        transaction that set the status: signed X-Twilio-Signature at each attempt, retried with
        back-off, in the tenant's callback delivery log, and one message's callbacks in order."""
        if not row.status_callback:
            return
        account = ensure_account(s, row.tenant_id)
        params = {
            "MessageSid": row.sid,
            "SmsSid": row.sid,
            "AccountSid": account.sid,
            "From": row.from_number,
            "To": row.to_number,
            "MessageStatus": row.status,
            "SmsStatus": row.status,
            "ApiVersion": API_VERSION,
        }
        if row.error_code is not None and row.status in ("failed", "undelivered"):
            params["ErrorCode"] = str(row.error_code)
        try:
            outbox.enqueue(
                s,
                tenant_id=row.tenant_id,
                url=row.status_callback,
                method="POST",
                form=params,
                signing="twilio",
                kind="status_callback",
                context={"message_sid": row.sid, "status": row.status},
                lane=f"message:{row.sid}",
                flush=False,
            )
        except ValueError as exc:  # not an http(s) URL: nothing to send (the API checks it on create)
            log.warning("status callback of %s not sent: %s", row.sid, exc)


# -- message events (issue 20 §3): every status a message reaches, for insights and webhooks ------
StatusEvent = tuple[uuid.UUID, str, dict[str, object], str]


def status_event(row: SmsMessage) -> StatusEvent:
    """``message.<status>`` (sent, delivered, undelivered, failed, received) of ``row``, made inside
    the transaction that set the status and emitted after its commit (``emit_status``)."""
    data: dict[str, object] = {
        "message_sid": row.sid,
        "from": row.from_number,
        "to": row.to_number,
        "direction": row.direction,
        "status": row.status,
        "segments": row.segments,
        "error_code": row.error_code,
    }
    return row.tenant_id, f"message.{row.status}", data, row.sid


def emit_status(event: StatusEvent | None) -> None:
    if event is not None:
        tenant_id, event_type, data, sid = event
        emit_event(tenant_id, event_type, dict(data), subject=sid)


_active: Messenger | None = None


def active() -> Messenger | None:
    """The Messenger this process started (serve/demo), if any."""
    return _active


def send_message(
    sessions: sessionmaker[Session],
    tenant_id: uuid.UUID,
    from_: str,
    to: str,
    body: str,
    *,
    status_callback: str | None = None,
    direction: str = "outbound-api",
    messenger: Messenger | None = None,
) -> SmsMessage:
    """Send a message as the tenant (the voice interpreter's <Message>, the APIs). With no running
    Messenger (no carrier connector configured) the message is kept ``queued``. Raises Refusal."""
    m = messenger or _active or Messenger(sessions)
    return m.send(tenant_id, from_, to, body, status_callback=status_callback, direction=direction)
