"""WebRTC media for SIP over WebSocket: rtpengine turns a browser's DTLS-SRTP + ICE into plain RTP.

A browser (the softphone page, docs/softphone.md) speaks UDP/TLS/RTP/SAVPF: ICE, DTLS-SRTP keys,
rtcp-mux and AVPF. Desk phones, carriers and the call engine's own anchor (built-in relay or
rtpengine, calls/media.py) speak RTP/AVP. Every SDP that crosses a WS/WSS transport passes here,
at the transport's edge (calls/service.py), and is handed to rtpengine's ng ``offer``/``answer``
with its WebRTC flags, the way Kamailio's and OpenSIPS's WebRTC gateways do it:

- toward the call engine (from the browser): ``ICE=remove``, ``DTLS=off``, ``SDES=off``,
  ``transport-protocol=RTP/AVP``, ``rtcp-mux=demux`` -- the engine sees a plain RTP phone whose
  media address is one of rtpengine's ports;
- toward the browser: ``ICE=force``, ``DTLS=passive``, ``SDES=off``,
  ``transport-protocol=UDP/TLS/RTP/SAVPF``, ``rtcp-mux=require``, ``generate mid`` -- the browser
  sees a WebRTC peer (rtpengine's ICE candidates and DTLS fingerprint).

So the engine and its anchor are unchanged: the browser's leg is one more RTP leg. Media goes
browser ⇄ rtpengine (SRTP) ⇄ anchor ⇄ far side; with ``CENTREX_MEDIA_RELAY=rtpengine`` both hops
are rtpengine's (two ng calls: this one is named ``ws-<SIP Call-ID>``).

rtpengine sees one two-party call per browser dialog, tags ``browser`` and ``switch``: a request
with SDP is an offer from its sender, a response (or ACK) with SDP the answer to the other
side's offer, so re-INVITEs either way (hold, resume, transfer) are offers too. The call is
deleted on BYE either way, and on a final failure of the dialog's first INVITE.

The browser's offer is cut to what the engine's calls carry before rtpengine sees it (PCMU, PCMA
and telephone-event/8000: the anchor forwards and never transcodes, calls/codecs.py), so whatever
the far side answers is a codec the browser offered.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from centrex.media.rtpengine import NgClient, NgError
from centrex.sip.message import Request, Response

log = logging.getLogger(__name__)

WS_TRANSPORTS = ("WS", "WSS")
BROWSER, SWITCH = "browser", "switch"
KEPT_CODECS = ("pcmu/8000", "pcma/8000", "telephone-event/8000")
OFFERING = ("INVITE", "UPDATE")
CHALLENGES = (401, 407)

# rtpengine ng flags (rtpengine's docs, "ng control protocol": offer/answer dictionary keys).
TO_RTP: dict[str, Any] = {
    "ICE": "remove",
    "DTLS": "passive",
    "SDES": ["off"],
    "transport-protocol": "RTP/AVP",
    "rtcp-mux": ["demux"],
    "replace": ["origin", "session-connection"],
    "flags": ["trust address"],
}
TO_WEBRTC: dict[str, Any] = {
    "ICE": "force",
    "DTLS": "passive",
    "SDES": ["off"],
    "transport-protocol": "UDP/TLS/RTP/SAVPF",
    "rtcp-mux": ["require"],
    "replace": ["origin", "session-connection"],
    "flags": ["trust address", "generate mid"],
}


def is_sdp(message: Request | Response) -> bool:
    ctype = (message.headers.get("Content-Type") or "").split(";")[0].strip().lower()
    return bool(message.body) and ctype == "application/sdp"


def g711_only(sdp: str) -> str:
    """The audio section's formats cut to PCMU, PCMA and telephone-event/8000, with the rtpmap,
    fmtp and rtcp-fb lines of the formats dropped; other lines (ICE, DTLS, mid, ssrc) kept."""
    lines = sdp.replace("\r\n", "\n").split("\n")
    static = {"0": "pcmu/8000", "8": "pcma/8000"}
    rtpmap: dict[str, str] = {}
    for line in lines:
        m = re.match(r"a=rtpmap:(\d+) (\S+)", line)
        if m:
            rtpmap[m.group(1)] = m.group(2).lower()
    out: list[str] = []
    keep: set[str] = set()
    in_audio = False
    for line in lines:
        if line.startswith("m="):
            in_audio = line.startswith("m=audio")
            if in_audio:
                head = line.split()
                formats = [f for f in head[3:] if rtpmap.get(f, static.get(f, "")) in KEPT_CODECS]
                keep = set(formats)
                line = " ".join(head[:3] + formats)
        elif in_audio:
            m = re.match(r"a=(rtpmap|fmtp|rtcp-fb):(\d+)", line)
            if m and m.group(2) not in keep:
                continue
        out.append(line)
    return "\r\n".join(out)


def browser_offer(sdp: str) -> str:
    """The browser's offer as rtpengine should read it: G.711 only (``g711_only``), and the
    browser as the DTLS client (``a=setup:active`` for its ``actpass``). With actpass rtpengine
    takes the client role at once and sends its ClientHello before the browser has the answer;
    Chromium then never completed the handshake (ICE up, DTLS "connecting", no media). The
    browser gets ``a=setup:passive`` in the answer either way (RFC 5763 §5), so it is the client."""
    return g711_only(sdp).replace("a=setup:actpass", "a=setup:active")


class WebRtcGateway:
    """rtpengine's WebRTC bridge for the dialogs of WS/WSS transports (see the module's doc)."""

    def __init__(self, client: NgClient) -> None:
        self.client = client
        self._known: set[str] = set()  # ng calls made (offered), by SIP Call-ID
        self._answered: set[str] = set()  # ng calls with both parties (an answer was passed)
        self._offered: dict[str, str] = {}  # whose offer waits for an answer, by SIP Call-ID
        self._up: set[str] = set()  # dialogs whose first INVITE got its 2xx
        self.failures = 0

    def __len__(self) -> int:
        return len(self._known)

    def from_browser(self, message: Request | Response) -> None:
        """A message received over WS: its SDP rewritten for the switch (plain RTP)."""
        self._track(message)
        if not is_sdp(message):
            return
        body = message.body.decode("utf-8", "replace")
        if self._is_offer(message, BROWSER):
            self._rewrite(message, "offer", BROWSER, SWITCH, browser_offer(body), TO_RTP)
        else:  # the browser's answer to the switch's offer
            self._rewrite(message, "answer", SWITCH, BROWSER, body, TO_RTP)

    def to_browser(self, message: Request | Response) -> None:
        """A message about to go out over WS: its SDP rewritten for the browser (WebRTC)."""
        self._track(message)
        if not is_sdp(message):
            return
        body = message.body.decode("utf-8", "replace")
        if self._is_offer(message, SWITCH):
            self._rewrite(message, "offer", SWITCH, BROWSER, body, TO_WEBRTC)
        else:  # the switch's answer to the browser's offer
            self._rewrite(message, "answer", BROWSER, SWITCH, body, TO_WEBRTC)

    def _is_offer(self, message: Request | Response, sender: str) -> bool:
        """An INVITE or UPDATE with SDP is an offer; a response or ACK with SDP answers the other
        side's offer, unless none is pending: then it is an offer itself (RFC 3261 §13.2.1, an
        INVITE without SDP gets the offer in the 2xx and the answer in the ACK)."""
        if isinstance(message, Request) and message.method in OFFERING:
            self._offered[message.call_id] = sender
            return True
        pending = self._offered.get(message.call_id)
        if pending is not None and pending != sender:
            if isinstance(message, Request) or message.status >= 200:
                del self._offered[message.call_id]  # (a 183's SDP answers it too; the 200 again)
            return False
        self._offered[message.call_id] = sender
        return True

    def _rewrite(
        self,
        message: Request | Response,
        command: str,
        from_tag: str,
        to_tag: str,
        sdp: str,
        flags: dict[str, Any],
    ) -> None:
        call_id = message.call_id
        fields: dict[str, Any] = {"call-id": f"ws-{call_id}", "from-tag": from_tag, "sdp": sdp, **flags}
        # A re-offer in the dialog names both parties; the first offer again (the INVITE repeated
        # with credentials after a 401/407) names only its sender, so rtpengine keeps its ports:
        # the browser's ICE agent already checked them (new ports would leave it talking to old).
        if command == "answer" or call_id in self._answered:
            fields["to-tag"] = to_tag
        try:
            reply = self.client.request(command, **fields)
        except NgError as exc:
            # Without rtpengine the browser and the far side cannot hear each other: say so once
            # per message; the signalling goes on (the call is not refused for it).
            self.failures += 1
            log.error("sip.ws.media.rtpengine_failed call=%s %s: %s", call_id, command, exc)
            return
        self._known.add(call_id)
        if command == "answer":
            self._answered.add(call_id)
        sdp_out = str(reply.get("sdp", ""))
        if sdp_out:
            message.body = sdp_out.encode()

    def _track(self, message: Request | Response) -> None:
        """Delete the ng call when the dialog ends (BYE), or its first INVITE failed."""
        call_id = message.call_id
        if isinstance(message, Request) and message.method == "BYE":
            self._offered.pop(call_id, None)
        if call_id not in self._known:
            return
        if isinstance(message, Request):
            if message.method == "BYE":
                self.close(call_id)
            return
        if message.cseq.method != "INVITE":
            return
        if 200 <= message.status < 300:
            self._up.add(call_id)
        elif message.status >= 300 and message.status not in CHALLENGES and call_id not in self._up:
            self.close(call_id)  # (a challenged INVITE comes again with the same offer)

    def close(self, call_id: str) -> None:
        self._offered.pop(call_id, None)
        self._known.discard(call_id)
        self._answered.discard(call_id)
        self._up.discard(call_id)
        try:
            self.client.request("delete", **{"call-id": f"ws-{call_id}", "delete delay": 0})
        except NgError as exc:
            log.warning("sip.ws.media.delete_failed call=%s: %s", call_id, exc)

    def close_all(self) -> None:
        for call_id in list(self._known):
            self.close(call_id)


def browser_media(gateway: WebRtcGateway, event: object) -> None:
    """A SIP event from a WS/WSS transport: the browser's SDP in it rewritten for the engine."""
    message = getattr(event, "request", None) or getattr(event, "response", None)
    if isinstance(message, Request | Response):
        gateway.from_browser(message)
