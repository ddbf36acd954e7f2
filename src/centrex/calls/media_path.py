"""Media anchoring (issue #4 point 1): the relay in the media path, SDP rewritten both ways, hold
music, and direct media between phones of one site when nothing needs the relay.

Each side is offered the relay's address; each side's own SDP address is only the relay's first
guess (it latches on the first packet, for phones behind NAT). The engine owns a ``MediaPath``;
services use it through ``core.media_path``.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from centrex.calls.codecs import offered_codecs
from centrex.calls.directory import UserInfo
from centrex.calls.location import Binding
from centrex.calls.model import Call
from centrex.sip.errors import SipParseError
from centrex.sip.message import Request
from centrex.sip.sdp import SessionDescription, is_on_hold, parse_sdp, rewrite_connection

if TYPE_CHECKING:
    from centrex.calls.engine import CallEngine
    from centrex.calls.secure_media import SecureMedia

log = logging.getLogger(__name__)


class MediaPath:
    def __init__(self, core: CallEngine) -> None:
        self.core = core
        # SDES-SRTP keys of the relay's legs (calls/secure_media.py; set by calls/service.py).
        self.secure: SecureMedia | None = None

    def anchor(self, call: Call) -> None:
        """Put the relay in the media path: the callee is offered the relay's b side, the caller
        is answered with its a side."""
        media = self.core.media
        if media is None or not call.a_invite.body:
            return
        ctype = (call.a_invite.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if ctype != "application/sdp":
            return
        try:
            offer = parse_sdp(call.a_invite.body)
        except (SipParseError, ValueError):
            return
        try:
            addresses = media.open(str(call.id))
        except Exception:
            log.exception("sip.media.anchor_failed call=%s", call.id)
            return
        if addresses is None:
            return
        call.anchor = addresses
        self.learn(call, "a", offer)
        b_addr, b_port = addresses[1]
        call.b_offer = str(rewrite_connection(offer, b_addr, b_port)).encode()

    def choose(self, call: Call, user: UserInfo, bindings: list[Binding]) -> None:
        """Release the relay for a direct call (``direct``), or take it back when the call is
        re-routed to where a direct call may not go (it is anchored again before the caller has
        heard any answer, so nobody notices)."""
        media = self.core.media
        asked: list[bool] = []

        def recorded() -> bool:  # asked at most once per routing
            if not asked:
                asked.append(self.recorded(call, user))
            return asked[0]

        if self.direct(call, user, bindings, recorded):
            if not call.direct and call.anchor is not None and media is not None:
                try:
                    media.close(str(call.id))
                except Exception:
                    log.exception("sip.media.close_failed call=%s", call.id)
                    return
                call.anchor, call.b_offer, call.direct = None, None, True
                log.info("sip.media.direct call=%s to=%s", call.id, user.extension)
        elif call.direct:
            self.reanchor(call)
        if not call.direct and call.b_offer is not None and recorded():
            # The recorder decodes G.711 only: a recorded call is offered nothing else (G.722 and
            # Opus pass through otherwise, calls/codecs.py offered_codecs).
            with contextlib.suppress(SipParseError, ValueError):
                call.b_offer = str(offered_codecs(parse_sdp(call.b_offer), recorded=True)).encode()

    def reanchor(self, call: Call) -> None:
        if call.direct:
            call.direct = False
            self.anchor(call)

    def direct(
        self, call: Call, user: UserInfo, bindings: list[Binding], recorded: Callable[[], bool] | None = None
    ) -> bool:
        """Media phone to phone, without the relay, when the tenant allows it (``direct_media``)
        and the call is between two phones of the tenant at one site: dialled by a user's phone,
        ringing a user's phones (not a hunt group, queue, app, trunk or park recall), nobody
        answered yet, every phone rung at the caller's site, and nobody on either side may be
        recorded (a recording policy or the on-demand code needs the relay's tap). Anything in
        doubt stays on the relay.

        What a direct call gives up, since the switch is out of the media path: music on hold
        from the relay (the holding phone's own hold applies: silence or the phone's tone), park
        and blind or attended transfer (REFER answers 501: the staying side would need a new offer),
        and recording. Pickup still works: a ringing direct call is anchored again first."""
        t = call.tenant
        caller = call.caller
        if not t.direct_media or caller is None or call.device is None or call.site_id is None:
            return False
        if call.trunk is not None or call.remote_number is not None or call.group is not None:
            return False
        if call.queue is not None or call.extra_body is not None or call.xfer is not None:
            return False
        if call.answered is not None or call.a_dialog is not None or call.parked is not None:
            return False
        if b"a=crypto" in call.a_invite.body:
            return False  # SRTP: the relay keys each side itself (calls/secure_media.py)
        if not call.direct and call.anchor is None:
            return False  # never anchored (no relay, or no SDP offer): nothing to release
        if user.tenant_id != t.id or not bindings:
            return False
        for b in bindings:
            device = self.core.directory.device(b.tenant_id, b.username) if b.tenant_id == t.id else None
            site = (device.site_id if device else None) or user.site_id
            if device is None or site != call.site_id:
                return False
        return not (recorded() if recorded is not None else self.recorded(call, user))

    def recorded(self, call: Call, user: UserInfo) -> bool:
        """Whether a recording policy or the on-demand code may record the call (True in doubt)."""
        may_record = self.core.may_record
        if may_record is None:
            return False
        parties = (call.caller.id, user.id) if call.caller is not None else (user.id,)
        try:
            return may_record(call.tenant.id, parties)
        except Exception:
            log.exception("sip.media.recording_check_failed call=%s", call.id)
            return True

    def learn(self, call: Call, leg: str, sd: SessionDescription) -> None:
        media = self.core.media
        assert media is not None
        audio = next((m for m in sd.media if m.media == "audio" and m.port), None)
        conn = (audio.connection if audio else None) or sd.connection
        if audio is not None and conn is not None and not conn.is_null:
            media.set_remote(str(call.id), leg, conn.address, audio.port)
        if self.secure is not None:
            self.secure.received(str(call.id), leg, sd)

    def hold_music(self, call: Call, held: str, req: Request) -> None:
        """A re-INVITE that puts the other side on hold (sendonly / inactive, or the old c=0.0.0.0)
        starts music to it from the relay; one that resumes stops it."""
        media = self.core.media
        if call.anchor is None or media is None or not req.body:
            return
        try:
            sd = parse_sdp(req.body)
        except (SipParseError, ValueError):
            return
        audio = next((m for m in sd.media if m.media == "audio"), None)
        pt = next((int(f) for f in (audio.formats if audio else []) if f in ("0", "8")), None)
        on = is_on_hold(sd)
        if pt is None and on:
            return
        try:
            media.music(str(call.id), held, pt or 0, on)
        except Exception:
            log.exception("sip.media.music_failed call=%s", call.id)

    def caller_music(self, call: Call, payload_type: int, on: bool) -> None:
        if self.core.media is not None:
            self.core.media.music(str(call.id), "a", payload_type, on)

    def caller_music_off(self, call: Call) -> None:
        """Stop what the relay plays to the caller (hold music, queue prompts): an agent or the
        parker answered, the queue overflowed, the call was taken back or the caller hung up.
        The payload type only matters for starting music."""
        self.caller_music(call, call.a_codec or 0, False)

    def through(self, call: Call, toward: str, body: bytes, content_type: str | None) -> bytes:
        """SDP from one side, rewritten for the other: ``toward`` is the leg it is sent to ('a'
        the caller, 'b' the callee); the sender's own address is learnt for the other leg."""
        if call.anchor is None or not body:
            return body
        if (content_type or "").split(";")[0].strip().lower() != "application/sdp":
            return body
        try:
            sd = parse_sdp(body)
        except (SipParseError, ValueError):
            return body
        self.learn(call, "b" if toward == "a" else "a", sd)
        if is_on_hold(sd):
            # The relay's music (G.711 frames, hold_music) goes to the held side: its codec must
            # be one it can decode, whatever the call used before (calls/codecs.py).
            sd = offered_codecs(sd, hold_music=True)
        address, port = call.anchor[0 if toward == "a" else 1]
        return str(rewrite_connection(sd, address, port)).encode()

    def close(self, call: Call) -> None:
        media = self.core.media
        if call.anchor is not None and media is not None:
            try:
                media.close(str(call.id))
            except Exception:
                log.exception("sip.media.close_failed call=%s", call.id)
