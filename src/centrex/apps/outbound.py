"""Calls the app server places through the switch (CPaaS, issue 16 §2): its UAC side.

An outbound API call and each leg of a voice app's <Dial> are INVITEs from the app server to the
switch (pbx/app_origination.py takes them, only from the app server's address), for a target that
is an extension or a number, marked ``X-Centrex-Originate: cpaas`` with the tenant in
``X-Centrex-Tenant``; the From user is the caller ID asked for (the switch's caller-ID policy
decides). The offer is our own RTP endpoint (apps/media.py CallMedia): PCMU and telephone-event.

``OutboundCalls.place`` sends the INVITE and gives an ``OutboundLeg``; ``leg.wait_answer(timeout)``
says how the attempt ended: "answered", "busy" (486/600), "no-answer" (timeout: CANCEL sent, or
480/408/487), "canceled" (we gave up), "failed" (anything else). An answered leg is a call of the
app server's like an answered INVITE (in-dialog BYE, re-INVITE, INFO), so the same hang-up applies.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from centrex.apps.media import CallMedia, MediaFormat
from centrex.sip import (
    Dialog,
    Event,
    Headers,
    Request,
    Response,
    ResponseReceived,
    SipParseError,
    TransactionKey,
    TransactionTimedOut,
    new_call_id,
    new_tag,
    parse_uri,
)
from centrex.sip.headers import quote
from centrex.sip.sdp import PCMU, TELEPHONE_EVENT, build_offer, parse_sdp

if TYPE_CHECKING:
    from centrex.apps.app_call import AppCall
    from centrex.apps.server import AppServer

log = logging.getLogger(__name__)

Outcome = Literal["answered", "busy", "no-answer", "failed", "canceled"]
MARK = "X-Centrex-Originate"  # pbx/app_origination.py
FORMAT = MediaFormat("PCMU", 0, 101)  # what we offer: build_offer puts telephone-event at 101
_BUSY = {486, 600}
_NO_ANSWER = {408, 480, 487}


@dataclass(eq=False)
class OutboundLeg:
    """One INVITE the app server sent: its media from the start, its dialog once answered."""

    owner: OutboundCalls
    invite: Request
    key: TransactionKey
    media: CallMedia
    target: str
    status: int = 0  # the final SIP status (0: none yet)
    reason: str = ""
    ringing: asyncio.Event = field(default_factory=asyncio.Event)
    final: asyncio.Event = field(default_factory=asyncio.Event)
    call: AppCall | None = None  # the app server's call once answered
    gave_up: bool = False

    @property
    def answered(self) -> bool:
        return self.call is not None

    async def wait_answer(self, timeout_s: float) -> Outcome:
        """Until answered or failed; after ``timeout_s`` the attempt is cancelled (no-answer)."""
        try:
            await asyncio.wait_for(self.final.wait(), timeout_s)
        except TimeoutError:
            self.cancel()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.final.wait(), 5.0)  # the 487 (or a 200 that crossed)
            if self.call is not None:
                return "answered"
            return "no-answer"
        if self.call is not None:
            return "answered"
        if self.gave_up:
            return "canceled"
        if self.status in _BUSY:
            return "busy"
        if self.status in _NO_ANSWER:
            return "no-answer"
        return "failed"

    def cancel(self) -> None:
        """Stop ringing (CANCEL); an answer that crosses it is hung up."""
        if self.final.is_set():
            return
        self.gave_up = True
        transport = self.owner.server.transport
        if transport is not None:
            transport.send_cancel(self.key)

    def hangup(self) -> None:
        """End the leg whatever its state: CANCEL while ringing, BYE once answered."""
        if self.call is not None:
            self.owner.server.end_call(self.call)
        else:
            self.cancel()
            if self.final.is_set():
                self.media.close()

    @property
    def ended(self) -> bool:
        return self.media.closed.is_set()

    async def wait_ended(self) -> None:
        await self.media.closed.wait()


class OutboundCalls:
    """The app server's outgoing INVITEs, by client transaction."""

    def __init__(self, server: AppServer) -> None:
        self.server = server
        self.switch: tuple[str, int] | None = None  # where the switch listens (server.py sets it)
        self._legs: dict[TransactionKey, OutboundLeg] = {}

    async def place(
        self,
        tenant_id: uuid.UUID,
        target: str,
        *,
        caller_id: str,
        caller_name: str = "",
        extra: list[tuple[str, str]] | None = None,
    ) -> OutboundLeg:
        """Send the INVITE for ``target`` (extension or E.164 number) to the switch."""
        server = self.server
        if self.switch is None or server.transport is None:
            raise RuntimeError("the app server is not connected to a switch")
        media = CallMedia(server.ports, server.host, FORMAT, None, trusted_hosts=server.allowed_sources)
        await media.start()
        host, port = self.switch
        local = server.host
        call_id = new_call_id()
        offer = build_offer(local, media.port, (PCMU, TELEPHONE_EVENT), session_id=call_id[:16])
        headers = Headers()
        headers.add("Max-Forwards", "70")
        headers.add(
            "From", f"{quote(caller_name or caller_id)} <sip:{_user(caller_id)}@{local}>;tag={new_tag()}"
        )
        headers.add("To", f"<sip:{_user(target)}@{host}>")
        headers.add("Call-ID", call_id)
        headers.add("CSeq", "1 INVITE")
        headers.add("Contact", server.contact())
        headers.add("Allow", "INVITE, ACK, BYE, CANCEL, OPTIONS, INFO, NOTIFY")
        headers.add(MARK, "cpaas")
        headers.add("X-Centrex-Tenant", str(tenant_id))
        if caller_name:
            headers.add("X-Centrex-Caller-Name", quote(caller_name))
        for name, value in extra or []:
            headers.add(name, value)
        headers.add("Content-Type", "application/sdp")
        invite = Request("INVITE", parse_uri(f"sip:{_user(target)}@{host}:{port}"), headers, offer.to_bytes())
        key = server.transport.send_request(invite, self.switch)
        leg = OutboundLeg(self, invite, key, media, target)
        self._legs[key] = leg
        forget = asyncio.ensure_future(media.closed.wait())
        forget.add_done_callback(lambda _: self._legs.pop(key, None))
        log.info("apps.outbound.invite tenant=%s target=%s call_id=%s", tenant_id, target, call_id)
        return leg

    def on_event(self, event: Event) -> bool:
        """A response or time-out of one of our INVITEs; False: not ours."""
        if isinstance(event, ResponseReceived):
            leg = self._legs.get(event.key)
            if leg is None:
                return False
            self._response(leg, event.response)
            return True
        if isinstance(event, TransactionTimedOut):
            leg = self._legs.pop(event.key, None)
            if leg is None:
                return False
            if not leg.final.is_set():
                leg.status, leg.reason = 408, "timed out"
                leg.final.set()
                leg.media.close()
            return True
        return False

    def _response(self, leg: OutboundLeg, resp: Response) -> None:
        status = resp.status
        if status < 200:
            if status > 100:
                leg.ringing.set()
            return
        server = self.server
        assert server.transport is not None and self.switch is not None
        if status >= 300:
            self._legs.pop(leg.key, None)
            if not leg.final.is_set():
                leg.status, leg.reason = status, resp.reason
                leg.final.set()
                leg.media.close()
            return
        if leg.call is not None and leg.call.dialog is not None:  # a retransmitted 2xx: ACK again
            server.transport.send_request(leg.call.dialog.create_ack(leg.invite.cseq.seq), self.switch)
            return
        try:
            dialog = Dialog.from_uac(leg.invite, resp)
        except SipParseError:
            return
        server.transport.send_request(dialog.create_ack(leg.invite.cseq.seq), self.switch)
        leg.status, leg.reason = status, resp.reason
        if resp.body:
            with contextlib.suppress(SipParseError, ValueError):
                leg.media.set_remote(_remote(resp.body))
        call = server.adopt(leg.invite, self.switch, dialog, leg.media)
        if leg.gave_up or leg.media.closed.is_set():
            server.end_call(call)  # answered after we gave up: hang it up (RFC 3261 §9.1)
        else:
            leg.call = call
        leg.final.set()


def _user(text: str) -> str:
    """A URI user part: digits, + and a few safe characters only (an API caller's text)."""
    return "".join(ch for ch in text if ch.isalnum() or ch in "+-_.*#")[:64] or "anonymous"


def _remote(body: bytes) -> tuple[str, int] | None:
    sdp = parse_sdp(body)
    for m in sdp.media:
        if m.media != "audio" or m.port == 0:
            continue
        conn = sdp.media_connection(m)
        if conn is None or conn.is_null:
            return None
        return conn.address, m.port
    return None
