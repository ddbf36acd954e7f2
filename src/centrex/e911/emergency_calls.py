"""911 calls as a service of the call core (voip-service-guide.txt §V.14; issue #6 point 6).

To the emergency route of the caller's registered location, the callback number as ANI, the
location as PIDF-LO by value (RFC 6442); the tenant's contacts are told of every 911 call. The 933
address read-back test goes the same way (as 933, without the notices: e911/numbers.py).
Never refused by any other rule: the core's admission lets emergency calls through
(e911/policy.py may_refuse) and this service is what they are delivered to.
"""

from __future__ import annotations

import logging

from centrex.calls.model import Call
from centrex.calls.services import CallService, Destination
from centrex.e911.numbers import provider_number
from centrex.e911.pidf import location_headers, multipart_mixed, pidf_lo
from centrex.e911.placed import EmergencyCallPlaced, EmergencyLocation, EmergencyServices
from centrex.routing.model import Target
from centrex.routing.select import emergency_targets
from centrex.routing.trunk_calls import TrunkCalls

log = logging.getLogger(__name__)


class EmergencyCalls(CallService):
    name = "emergency"

    def __init__(self, trunks: TrunkCalls, emergency: EmergencyServices | None = None) -> None:
        self.trunks = trunks
        self.emergency = emergency

    def deliver(self, call: Call, destination: Destination, now: float) -> bool:
        if destination.kind != "emergency":
            return False
        self.route(call, now)
        return True

    def route(self, call: Call, now: float) -> None:
        core = self.core
        caller, device = call.caller, call.device
        location: EmergencyLocation | None = None
        if self.emergency is not None and (caller is not None or device is not None):
            try:
                location = self.emergency.location(
                    call.tenant.id, caller.id if caller else None, device.id if device else None
                )
            except Exception:
                log.exception("sip.emergency.location_lookup_failed call=%s", call.id)
        call.emergency = location
        targets: list[Target] = []
        routes = self.trunks.routes
        if routes is not None:
            targets = emergency_targets(
                routes.table(now),
                call.tenant.id,
                location.psap if location else None,
                self.trunks.health,
                now,
                self.trunks.rand,
            )
        name, callback = core.caller_id(call)
        log.warning(
            "sip.emergency.call call=%s test=%s tenant=%s callback=%s location=%s psap=%s routes=%d",
            call.id,
            not call.classification.is_emergency,
            call.tenant.id,
            callback,
            location.address.one_line() if location else "none registered",
            location.psap if location else None,
            len(targets),
        )
        test = not call.classification.is_emergency  # the 933 read-back test: no 911 notices
        if self.emergency is not None and not test:
            placed = EmergencyCallPlaced(
                call.id,
                call.tenant.id,
                caller.id if caller else None,
                device.id if device else None,
                name,
                caller.extension if caller else (device.username if device else ""),
                caller.number if caller else call.remote_number,
                location,
                call.dialled,
                call.started_at,
                bool(targets),
            )
            try:
                self.emergency.placed(placed)
            except Exception:
                log.exception("sip.emergency.notify_failed call=%s", call.id)
        if not targets:
            log.critical("sip.emergency.no_route call=%s tenant=%s", call.id, call.tenant.id)
            core.reject(call, 503, now, "failed", "no_route", "Service Unavailable (no emergency route)")
            return
        if location is not None:
            entity = f"sip:{callback}@{call.tenant.domain}"
            pidf = pidf_lo(
                location.address,
                entity,
                call.started_at,
                device_id=f"urn:uuid:{device.id}" if device else "",
            )
            cid = f"{call.id.hex}@{call.tenant.domain}"
            sdp = (call.b_offer or call.a_invite.body).decode("utf-8", "replace")
            if sdp:
                mp = multipart_mixed(sdp, pidf, cid)
                call.extra_body = (mp.content_type, mp.body)
            else:
                call.extra_body = ("application/pidf+xml", pidf.encode())
            call.extra_headers = tuple(location_headers(cid).items())
        self.trunks.start_targets(call, provider_number(call.classification.call_class), targets, now)
