"""Messages as the two APIs show them: Twilio's Message resource (twilio-oai api.v2010 Message) and
the native JSON; and the Messenger a request uses (app.state.messaging, set by serve/demo or a test)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from centrex.api.twilio.formats import API_VERSION, account_uri, rfc2822
from centrex.cpaas.messaging.service import Messenger, active
from centrex.store.models.messaging import SmsMessage


def messenger_of(request: Request) -> Messenger:
    m = getattr(request.app.state, "messaging", None) or active()
    if m is None:
        m = Messenger(request.app.state.sessionmaker)  # no connector: messages stay queued
        request.app.state.messaging = m
    return m


def price_text(row: SmsMessage) -> str | None:
    return None if row.price is None else f"{row.price:.5f}"


def twilio_message(row: SmsMessage, account_sid: str) -> dict[str, Any]:
    uri = f"{account_uri(account_sid)}/Messages/{row.sid}"
    return {
        "sid": row.sid,
        "account_sid": account_sid,
        "api_version": API_VERSION,
        "body": row.body,
        "date_created": rfc2822(row.created_at),
        "date_updated": rfc2822(row.updated_at),
        "date_sent": rfc2822(row.date_sent),
        "direction": row.direction,
        "error_code": row.error_code,
        "error_message": row.error_message,
        "from": row.from_number,
        "to": row.to_number,
        "messaging_service_sid": None,
        "num_media": "0",
        "num_segments": str(row.segments),
        "price": price_text(row),
        "price_unit": row.price_unit,
        "status": row.status,
        "subresource_uris": {"media": f"{uri}/Media.json", "feedback": f"{uri}/Feedback.json"},
        "uri": f"{uri}.json",
    }


def native_message(row: SmsMessage) -> dict[str, Any]:
    return {
        "sid": row.sid,
        "direction": row.direction,
        "from": row.from_number,
        "to": row.to_number,
        "body": row.body,
        "body_erased": row.body_erased_at is not None,
        "segments": row.segments,
        "encoding": row.encoding,
        "status": row.status,
        "error_code": row.error_code,
        "error_message": row.error_message,
        "price": None if row.price is None else str(row.price),
        "price_unit": row.price_unit,
        "category": row.category,
        "status_callback": row.status_callback,
        "created_at": row.created_at.isoformat() if row.created_at else None,
        "updated_at": row.updated_at.isoformat() if row.updated_at else None,
        "sent_at": row.date_sent.isoformat() if row.date_sent else None,
    }
