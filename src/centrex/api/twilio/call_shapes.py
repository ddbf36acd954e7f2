"""Twilio's Call resource as JSON (twilio-oai ``api.v2010.account.call``) and the checks of what a
call may be placed to and from (shared by the Twilio-compatible and the native API)."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from centrex.api.twilio.formats import API_VERSION, rfc2822
from centrex.cpaas.calls.dial import is_emergency
from centrex.store.models import PhoneNumber
from centrex.store.models.cpaas_voice import CpaasCall

_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
_EXTENSION = re.compile(r"^\d{2,8}$")
_SIP = re.compile(r"^sips?:([0-9A-Za-z+*#._-]{1,64})@[^\s]+$", re.I)
STATUSES = ("queued", "ringing", "in-progress", "completed", "busy", "failed", "no-answer", "canceled")
EMERGENCY_REFUSED = "calls to emergency services are not possible through CPaaS (cpaas.txt 2.4.4)"


class BadTarget(ValueError):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def switch_target(to: str) -> str:
    """What the switch is asked to ring for a ``To``: an E.164 number, an extension, or a SIP URI's
    user part (sip:1002@anything). Raises BadTarget (Twilio codes 21201, 21211) otherwise."""
    text = (to or "").strip()
    if not text:
        raise BadTarget(21201, "No 'To' number is specified")
    if is_emergency(text):
        raise BadTarget(21211, f"Invalid 'To' Phone Number: {EMERGENCY_REFUSED}")  # cpaas.txt §2.4.4
    m = _SIP.match(text)
    user = m.group(1) if m else text
    if _E164.match(user) or _EXTENSION.match(user):
        if is_emergency(user):
            raise BadTarget(21211, f"Invalid 'To' Phone Number: {EMERGENCY_REFUSED}")
        return user
    raise BadTarget(21211, f"Invalid 'To' Phone Number: {text[:64]}")


def check_from(session: Session, tenant_id: object, from_: str) -> str:
    """``From`` must be one of the tenant's own numbers (Twilio: a number of the account, 21210);
    the switch's caller-ID policy applies again to calls leaving to the PSTN."""
    text = (from_ or "").strip()
    if not text:
        raise BadTarget(21213, "No 'From' number is specified")
    if not _E164.match(text):
        raise BadTarget(21212, f"Invalid 'From' Phone Number: {text[:64]}")
    owned = session.scalar(
        select(PhoneNumber.id).where(PhoneNumber.tenant_id == tenant_id, PhoneNumber.e164 == text)
    )
    if owned is None:
        raise BadTarget(
            21210, f"The source phone number provided, {text}, is not yet verified for your account"
        )
    return text


def call_json(row: CpaasCall) -> dict[str, Any]:
    base = f"/{API_VERSION}/Accounts/{row.account_sid}/Calls/{row.sid}"
    return {
        "sid": row.sid,
        "date_created": rfc2822(row.created_at),
        "date_updated": rfc2822(row.updated_at),
        "parent_call_sid": row.parent_call_sid,
        "account_sid": row.account_sid,
        "to": row.to_number,
        "to_formatted": row.to_number,
        "from": row.from_number,
        "from_formatted": row.from_number,
        "phone_number_sid": None,
        "status": row.status,
        "start_time": rfc2822(row.answer_time or row.start_time) if row.status != "queued" else None,
        "end_time": rfc2822(row.end_time),
        "duration": None if row.duration_s is None else str(row.duration_s),
        "price": None,
        "price_unit": "USD",
        "direction": row.direction,
        "answered_by": row.answered_by,
        "api_version": API_VERSION,
        "forwarded_from": None,
        "group_sid": None,
        "caller_name": row.caller_name,
        "queue_time": "0",
        "trunk_sid": None,
        "uri": base + ".json",
        "subresource_uris": {
            "notifications": base + "/Notifications.json",
            "recordings": base + "/Recordings.json",
            "events": base + "/Events.json",
        },
    }


def place_call(
    session: Session,
    desk: object,
    *,
    tenant_id: Any,
    account: Any,
    to: str,
    from_: str,
    start: Any,
    timeout_s: int = 60,
    time_limit_s: int = 14400,
    status_callback: str | None = None,
    status_callback_method: str = "POST",
    status_callback_events: tuple[str, ...] = ("completed",),
    caller_name: str | None = None,
) -> CpaasCall:
    """Check, write the queued row (committed, so the desk's updates find it) and hand the call to
    the desk; raises BadTarget, NoSwitch or Paced for the API to answer."""
    from centrex.cpaas.calls.desk import CallDesk, Placement
    from centrex.cpaas.calls.rows import new_row
    from centrex.cpaas.voice.control import VoiceCall

    target = switch_target(to)
    caller = check_from(session, tenant_id, from_)
    if not isinstance(desk, CallDesk):
        raise NoSwitch("calls cannot be placed: no switch runs with this API")
    if not desk.has_room(account.sid):
        raise Paced("Too many requests: the account's queue of calls to place is full")
    events = tuple(
        e for e in status_callback_events if e in ("initiated", "ringing", "answered", "completed")
    )
    row = new_row(
        session,
        tenant_id,
        account_sid=account.sid,
        direction="outbound-api",
        from_number=caller,
        to_number=to.strip(),
        caller_name=caller_name,
        status="queued",
        url=start.url,
        method=start.method,
        fallback_url=start.fallback_url,
        fallback_method=start.fallback_method,
        status_callback=status_callback,
        status_callback_method=status_callback_method,
        status_callback_event=" ".join(events or ("completed",)),
    )
    session.commit()
    call = VoiceCall(
        sid=row.sid,
        account_sid=account.sid,
        tenant_id=tenant_id,
        from_number=caller,
        to_number=to.strip(),
        direction="outbound-api",
        caller_name=caller_name,
        auth_token=account.auth_token,
        status_callback=status_callback,
        status_callback_method=status_callback_method,
        status_callback_events=frozenset(events or ("completed",)),
        row_id=row.id,
    )
    placement = Placement(call, target, start, timeout_s=timeout_s, time_limit_s=time_limit_s)
    if not desk.submit(placement):
        row.status, row.end_time, row.duration_s = "canceled", row.updated_at, 0
        session.commit()
        raise Paced("Too many requests: the account's queue of calls to place is full")
    return row


class NoSwitch(RuntimeError):
    pass


class Paced(RuntimeError):
    pass
