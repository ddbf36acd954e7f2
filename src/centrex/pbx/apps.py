"""Calls to the app server: voicemail, auto attendants, conference bridges (apps/server.py).

A leg to the app server is an ordinary B-leg whose Request-URI user names the app
(``vm-deposit.<user>``, ``vm-main``, ``aa.<menu>``, ``conf.<bridge>``, ``cpaas.<application>``);
the caller's identity goes in X-Centrex-* headers. An app hands a call back with REFER (an
attendant's menu choice): the app leg is released and the call is routed afresh while the caller
stays on the relay.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable

from centrex.calls.directory import UserInfo
from centrex.calls.features import APPS as FEATURE_APPS
from centrex.calls.features import Match
from centrex.calls.model import BLeg, Call, CallState, Transfer
from centrex.calls.services import CallService, Destination
from centrex.pbx.refer import notify_refer, refer_target
from centrex.sip.dialog import Dialog
from centrex.sip.events import Address
from centrex.sip.headers import quote
from centrex.sip.message import Request, new_tag

log = logging.getLogger(__name__)

APP_PREFIXES = ("vm-", "conf", "aa.", "cpaas.")


def is_app(name: str) -> bool:
    return bool(name) and name.startswith(APP_PREFIXES)


class Apps(CallService):
    name = "apps"

    def __init__(self) -> None:
        # Where the app server (voicemail, attendants, conferences: apps/server.py) listens.
        self.address: Address | None = None
        # A conference bridge's extension -> "conf.<bridge id>" (pbx/conference_lookup.py).
        self.conference_by_extension: Callable[[uuid.UUID, str], str | None] | None = None
        # A voice application's extension -> "cpaas.<application id>" (cpaas/voice/lookup.py).
        self.application_by_extension: Callable[[uuid.UUID, str], str | None] | None = None

    def has_voicemail(self, user: UserInfo) -> bool:
        return user.voicemail and self.address is not None

    def resolve(self, tenant_id: uuid.UUID, extension: str) -> Destination | None:
        """An attendant menu's or a conference bridge's extension: the app server's user part."""
        if self.address is None:
            return None
        menu = self.core.directory.attendant_by_extension(tenant_id, extension)
        if menu is not None:
            return Destination("app", f"aa.{menu}")
        if self.conference_by_extension is not None:
            conf = self.conference_by_extension(tenant_id, extension)
            if conf is not None:
                return Destination("app", conf)
        if self.application_by_extension is not None:
            voice_app = self.application_by_extension(tenant_id, extension)
            if voice_app is not None:
                return Destination("app", voice_app)
        return None

    def feature(self, call: Call, hit: Match, now: float) -> bool:
        if hit.feature not in FEATURE_APPS:
            return False
        call.direction = "internal"
        self.route(call, FEATURE_APPS[hit.feature], now)
        return True

    def deliver(self, call: Call, destination: Destination, now: float) -> bool:
        if destination.kind != "app":
            return False
        self.route(call, str(destination.value), now, reason=destination.reason)
        return True

    def route(self, call: Call, app: str, now: float, *, reason: str | None = None) -> None:
        core = self.core
        if self.address is None:
            core.reject(call, 404, now, "failed", "no_app_server", "Not Found (feature not available)")
            return
        domain = call.tenant.domain
        name, number = core.caller_id(call)
        caller = call.caller
        if caller is not None:
            number = caller.extension
        headers = core.leg_headers(call, f"<sip:{app}@{domain}>")
        headers.add("From", f"{quote(name)} <sip:{number}@{domain}>;tag={new_tag()}")
        headers.add("X-Centrex-Tenant", str(call.tenant.id))
        headers.add("X-Centrex-Call", str(call.id))
        headers.add("X-Centrex-Caller", number)
        headers.add("X-Centrex-Caller-Name", quote(name))
        if caller is not None:
            headers.add("X-Centrex-Caller-User", str(caller.id))
        if reason:
            headers.add("X-Centrex-Reason", reason)
        headers.add("X-Centrex-Dialled", call.dialled)  # a voice app's To (cpaas/voice/service.py)
        host, port = self.address
        call.timers.pop("no_answer", None)  # the app answers; no more forwarding on this call
        call.state = CallState.RINGING
        call.legs = []
        if "ring" not in call.timers:
            core.arm(call, "ring", now + core.max_ring_s)
        leg = core.launch(call, f"sip:{app}@{host}:{port}", headers, "UDP", self.address, None, None, None)
        leg.app, leg.app_addr = app, self.address

    def legs_failed(self, call: Call, leg: BLeg, status: int, now: float) -> bool:
        if not leg.app:
            return False
        log.warning("sip.app.failed call=%s app=%s status=%d", call.id, leg.app, status)
        self.core.reject(call, status if status >= 400 else 480, now, "failed", "app_failed")
        return True

    def refer(self, call: Call, req: Request, side: str, dialog: Dialog, transport: str, now: float) -> bool:
        """The app server REFERs its call to an extension, a hunt group or another app (an
        attendant's menu choice): the app leg is released and the call is routed afresh, with
        forwarding, hunt groups and voicemail, while the caller stays answered on the relay."""
        target = refer_target(req)
        if side != "callee" or call.answered is None or not call.answered.app or target is None:
            return False
        core = self.core
        wanted = target[1]
        tenant = call.tenant.id
        destination = core.resolve(tenant, wanted) if wanted else None
        if is_app(wanted):
            destination = Destination("app", wanted)
        elif destination is not None and destination.kind not in ("user", "hunt_group", "queue"):
            destination = None
        if destination is None:
            core.reply(transport, req, 404, "Not Found (no such extension)")
            return True
        if call.anchor is None:
            core.reply(transport, req, 501, "Not Implemented (the call is not anchored)")
            return True
        leg = call.answered
        assert leg.dialog is not None
        core.reply(transport, req, 202, "Accepted", to_tag=dialog.local_tag)
        user = destination.value if isinstance(destination.value, UserInfo) else None
        xfer = Transfer(
            "callee",
            dialog,
            transport,
            leg.addr,
            req.cseq.seq,
            user or UserInfo(uuid.uuid4(), tenant, "", ""),
        )
        notify_refer(core, xfer, "SIP/2.0 200 OK", final=True)
        core.release_leg(leg)
        call.answered, call.state, call.legs = None, CallState.RINGING, []
        core.keep_codec(call)
        log.info("sip.call.redirect call=%s from=%s to=%s", call.id, leg.app, wanted)
        core.deliver(call, destination, now)
        return True
