"""A new call from a phone: who is calling (digest, registration), what was dialled (the
tenant's dial plan and feature codes), whether it is admitted (the tenant's standing, the nomadic
911 hold, every service's ``admit``, the caller's restriction class — 911 passes them all), and the
``Destination`` it goes to first."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import TYPE_CHECKING

from centrex.calls.admission import admission
from centrex.calls.dialling import dialled_of, restriction_allows
from centrex.calls.model import Call
from centrex.calls.services import Destination
from centrex.e911.policy import RefusalGround, may_refuse
from centrex.numbers.classes import CallClass
from centrex.numbers.classify import DestinationKind, classify
from centrex.numbers.dialplan import CallerSite
from centrex.sip.events import Address, TransactionKey
from centrex.sip.message import Request

if TYPE_CHECKING:
    from centrex.calls.engine import CallEngine

log = logging.getLogger(__name__)

DEFAULT_SITE = CallerSite("201200", "NJ")  # only when a device has no site: classification needs one


def new_phone_call(
    core: CallEngine, req: Request, key: TransactionKey, addr: Address, transport: str, now: float
) -> None:
    """A new INVITE: a trunk's (a service takes it) or a phone's: digest, registration, classification."""
    mf = req.max_forwards
    if mf is not None and mf <= 0:
        core.reply(transport, req, 483)
        return
    if not core.session_timers.check_invite(req, transport):
        return  # 422 (RFC 4028: too short a session) or 400
    for incoming in core.asking("incoming"):
        if incoming(req, key, addr, transport, now):
            return
    who = core.authenticate(req, addr, transport, now)
    if who is None:
        return
    tenant, device = who
    if not core.location.bindings((tenant.id, device.username), now):
        core.reply(transport, req, 403, "Forbidden (register first)")
        return
    caller = core.directory.user(device.user_id) if device.user_id else None
    site_id = device.site_id or (caller.site_id if caller else None)
    site = core.directory.site(site_id) if site_id else None
    dialled = dialled_of(req.uri)
    prefix = tenant.feature_codes.match(dialled)
    privacy = prefix is not None and prefix.feature == "privacy"
    if prefix is not None and privacy:
        dialled = prefix.argument
    try:
        caller_site = CallerSite(site.npa_nxx, site.state) if site else DEFAULT_SITE
    except ValueError:
        caller_site = DEFAULT_SITE
    classification = classify(dialled, caller_site, tenant.dial_plan)
    call = core.new_call(
        req,
        key,
        addr,
        transport,
        now,
        tenant=tenant,
        device=device,
        caller=caller,
        site_id=site_id,
        dialled=dialled,
        classification=classification,
    )
    call.privacy = privacy
    call.direction = "internal" if classification.kind is DestinationKind.EXTENSION else "outbound"
    log.info(
        "sip.call.start call=%s tenant=%s from=%s dialled=%r class=%s",
        call.id,
        tenant.id,
        device.username,
        dialled,
        classification.call_class,
    )
    core.started(call, caller.extension if caller else device.username)
    if core.admit(call, now):
        core.route_new(call, now)


def admit(core: CallEngine, call: Call, now: float) -> bool:
    """The tenant's standing, the nomadic 911 hold and every service's admission; False: the
    call was refused. 911 passes them all (e911/policy.py may_refuse)."""
    cls = call.classification.call_class
    refusal = admission(call.tenant, cls)
    if refusal is not None:
        extra = [("Reason", f'SIP;cause={refusal.status};text="{refusal.reason}"')]  # RFC 3326
        core.reject(call, refusal.status, now, "rejected", refusal.cause, refusal.reason, extra=extra)
        return False
    if core.nomadic is not None and call.device is not None and may_refuse(cls, RefusalGround.NOMADIC_HOLD):
        hold = None
        try:
            hold = core.nomadic.held(call.tenant.id, call.device.id)
        except Exception:
            log.exception("sip.nomadic.check_failed call=%s", call.id)
        if hold is not None:
            why = "Forbidden (911 location not verified for this network)"
            extra = [("Reason", f'SIP;cause=403;text="{why}"')]
            core.reject(call, 403, now, "rejected", "nomadic_hold", why, extra=extra)
            return False
    if call.classification.is_emergency:
        return True
    for admit_hook in core.asking("admit"):
        refused = admit_hook(call, now)
        if refused is not None:
            extra = [("Reason", f'SIP;cause={refused.status};text="{refused.reason}"')]
            core.reject(call, refused.status, now, "rejected", refused.cause, refused.reason, extra=extra)
            return False
    return True


def route_new(core: CallEngine, call: Call, now: float) -> None:
    """Where a phone's new call goes: the dial plan's classification made a destination."""
    classification = call.classification
    tenant = call.tenant
    if classification.kind is DestinationKind.E164:
        # A number of the caller's own tenant that rings a user: an on-net call.
        by_number = core.directory.user_by_number(tenant.id, classification.destination)
        if by_number is not None:
            call.classification = replace(classification, call_class=CallClass.ON_NET)
            core.route_to_user(call, by_number, now)
            return
    if classification.kind is DestinationKind.FEATURE_CODE:
        hit = tenant.feature_codes.match(classification.destination)
        if hit is not None:
            for feature in core.asking("feature"):
                if feature(call, hit, now):
                    return
        core.reject(call, 404, now, "failed", "unknown_feature_code")
        return
    if classification.kind is DestinationKind.EXTENSION:
        destination = core.resolve(tenant.id, classification.destination)
        if destination is None:
            core.reject(call, 404, now, "failed", "not_found")
            return
        core.deliver(call, destination, now)
        return
    if classification.to_emergency_provider:  # 911, and the 933 test (e911/numbers.py)
        core.deliver(call, Destination("emergency"), now)
        return
    cls = classification.call_class
    if classification.blocked:
        core.reject(call, 403, now, "rejected", "blocked", "Forbidden (number blocked)")
        return
    if cls is CallClass.INVALID:
        core.reject(call, 484, now, "failed", "invalid_number")
        return
    restriction = call.caller.restriction if call.caller else None
    if not restriction_allows(restriction, cls):
        core.reject(call, 403, now, "rejected", "restricted", f"Forbidden (call restriction: {cls.value})")
        return
    core.deliver(call, Destination("number", classification.destination), now)
