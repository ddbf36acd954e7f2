"""Which app answers an INVITE to the app server (apps/server.py), by its Request-URI user:

- ``vm-deposit.<user uuid>``: leave a message for that user (``X-Centrex-Reason: busy | no-answer |
  unavailable`` picks the greeting);
- ``vm-main``: the caller's own mailbox (``X-Centrex-Caller-User``), PIN asked;
- ``vm-login``: mailbox number, then PIN;
- ``aa.<menu uuid>``: an auto attendant menu (apps/attendant.py), which hands the caller back to
  the switch with an in-dialog REFER (``refer``) to the extension, hunt group or mailbox chosen;
- ``conf-main`` (bridge number, then PIN) and ``conf.<bridge uuid>`` (PIN if set): a conference
  room (apps/conference.py); ``conf-adhoc.<uuid>``: a room without a bridge (three-way calling);
- ``cpaas.<application uuid>``: a voice app (cpaas/voice/service.py: TwiML or native JSON verbs
  fetched from the application's URL; ``X-Centrex-Dialled`` is Twilio's ``To``).

with ``X-Centrex-Tenant``, ``X-Centrex-Call``, ``X-Centrex-Caller``, ``X-Centrex-Caller-Name`` and,
when the caller is a user, ``X-Centrex-Caller-User``. Another user part: 404; a mailbox that does
not exist or is disabled: 404; no G.711 in the offer: 488; no RTP ports: 503.

Before the answer the app's RTP endpoint is opened and the SDP answer made (the offered G.711
codec, telephone-event when offered); a voice app's first document is fetched too, so a first
<Reject> refuses the INVITE.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
import uuid
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from centrex.apps.app_call import AppCall
from centrex.apps.conference import is_conference
from centrex.apps.media import CallMedia
from centrex.apps.sip_offer import caller_info, clean, codecs_for, format_of, remote_of
from centrex.apps.vm_store import MailboxInfo
from centrex.apps.voice_control import AppCallControl
from centrex.cpaas.voice.service import Prepared, application_of
from centrex.media.errors import MediaError, PortsExhausted
from centrex.sip import SipParseError, SipUri
from centrex.sip.sdp import PCMA, PCMU, TELEPHONE_EVENT, negotiate_answer, parse_sdp

if TYPE_CHECKING:
    from centrex.apps.server import AppServer

log = logging.getLogger(__name__)

App = Callable[[CallMedia], object]  # runs on the answered call's media until the app is done
REASONS = ("busy", "no-answer", "unavailable")
_DEPOSIT = re.compile(r"^vm-deposit\.([0-9a-fA-F-]{32,36})$")
_ATTENDANT = re.compile(r"^aa\.([0-9a-fA-F-]{32,36})$")


async def choose_app(server: AppServer, call: AppCall) -> tuple[int, str] | App:
    """Check the INVITE, find the mailbox, open the RTP endpoint: the app to run, or a refusal."""
    request = call.invite
    uri = request.uri
    user = uri.user if isinstance(uri, SipUri) else None
    deposit = _DEPOSIT.match(user or "")
    attendant = _ATTENDANT.match(user or "")
    conference = is_conference(user)
    voice_app = application_of(user)
    if (
        user not in ("vm-main", "vm-login")
        and deposit is None
        and attendant is None
        and not conference
        and voice_app is None
    ):
        return 404, "Not Found (no such app)"
    try:
        caller = caller_info(request)
    except ValueError as exc:
        return 400, f"Bad Request ({exc})"
    if request.content_type != "application/sdp" or not request.body:
        return 488, "Not Acceptable Here (an SDP offer is required)"
    try:
        offer = parse_sdp(request.body)
    except SipParseError as exc:
        return 400, f"Bad Request (SDP: {exc.reason[:80]})"
    box: MailboxInfo | None = None
    reason = "unavailable"
    if deposit is not None:
        try:
            owner = uuid.UUID(deposit.group(1))
        except ValueError:
            return 404, "Not Found (no such mailbox)"
        box = await asyncio.to_thread(server.store.mailbox, caller.tenant_id, owner)
        if box is None or not box.enabled:
            return 404, "Not Found (no such mailbox)"
        header = (request.headers.get("X-Centrex-Reason") or "unavailable").strip().lower()
        reason = header if header in REASONS else "unavailable"
    elif conference:
        if not await server.conference.exists(caller.tenant_id, user):
            return 404, "Not Found (no such conference)"
    elif attendant is not None:
        try:
            menu_id = uuid.UUID(attendant.group(1))
        except ValueError:
            return 404, "Not Found (no such attendant)"
        if not await asyncio.to_thread(server.attendant.store.exists, caller.tenant_id, menu_id):
            return 404, "Not Found (no such attendant)"
    elif voice_app is not None:
        if not await server.voice.exists(caller.tenant_id, voice_app):
            return 404, "Not Found (no such application)"
    elif user == "vm-main":
        if caller.caller_user is None:
            return 400, "Bad Request (X-Centrex-Caller-User is required for vm-main)"
        box = await asyncio.to_thread(server.store.mailbox, caller.tenant_id, caller.caller_user)
        if box is None or not box.enabled:
            return 404, "Not Found (no such mailbox)"
    # Offer/answer: our port first (any port: negotiate only looks at the offer's formats).
    probe = negotiate_answer(offer, server.host, 9, (PCMU, PCMA, TELEPHONE_EVENT))
    fmt = format_of(probe)
    if fmt is None:
        return 488, "Not Acceptable Here (PCMU or PCMA required)"
    media = CallMedia(
        server.ports,
        server.host,
        fmt,
        remote_of(offer),
        trusted_hosts=server.allowed_sources,
    )
    try:
        await media.start()
    except (PortsExhausted, MediaError, OSError):
        log.warning("app server: no RTP port for a call from %s", call.source, exc_info=True)
        return 503, "Service Unavailable (no media ports)"
    ready: Prepared | None = None
    if voice_app is not None:
        # The first document before answer: a first <Reject> refuses the INVITE (486/603).
        dialled = clean(request.headers.get("X-Centrex-Dialled")) or caller.caller
        prepared = await server.voice.prepare(
            caller.tenant_id,
            voice_app,
            caller.caller,
            dialled,
            caller.caller_name or None,
            str(caller.call_id) if caller.call_id else None,
        )
        if isinstance(prepared, tuple):
            media.close()
            return prepared
        ready = prepared
        call.abandoned = functools.partial(server.voice.abandoned, prepared)
    call.media = media
    call.answer = negotiate_answer(
        offer, server.host, media.port, codecs_for(fmt), session_id=call.key[1], session_version=0
    )
    if ready is not None:
        voice = ready
        return lambda m: server.voice.run(voice, m, voice_control(server, call, voice.interpreter.notice))
    if conference:
        assert user is not None
        room_user = user
        return lambda m: server.conference.run(m, caller, room_user)
    if attendant is not None:
        return lambda m: server.attendant.run(m, caller, menu_id, lambda to: server.refer(call, to))
    if deposit is not None:
        assert box is not None
        deposit_box = box
        return lambda m: server.voicemail.deposit(m, deposit_box, caller, reason)
    own = box
    return lambda m: server.voicemail.retrieve(m, caller, own)


def voice_control(server: AppServer, call: AppCall, notice: Callable[..., Awaitable[None]]) -> AppCallControl:
    """A voice app's CallControl (apps/voice_control.py): hang up, REFER and <Dial> on this call."""
    dialer = server.voice_dialer
    return AppCallControl(
        lambda: server.hangup(call),
        lambda target: server.refer(call, target),
        (lambda request: dialer(call, request)) if dialer is not None else None,
        notice,
        call.media.closed if call.media is not None else None,
    )
