"""Calls the app server places (CPaaS, issue 16 §2): an outbound API call or a voice app's Dial.

The app server (apps/server.py) is a SIP UA on loopback. To place a call it sends the switch an
INVITE for the target (an extension or a number) with ``X-Centrex-Originate: cpaas`` and the
tenant in ``X-Centrex-Tenant``; the caller ID it asks for is the From user. This service takes
such an INVITE ONLY from the app server's own address (``Apps.address``: anyone else's INVITE is
a phone's or a trunk's and goes through digest or the trunk table as always) and routes it like a
call of the tenant's: extensions (users, hunt groups, queues, apps), the tenant's own numbers
on-net, other numbers to the PSTN through the trunks with the caller-ID policy (a number the
tenant does not own is refused, cpaas.txt §2.3.2 (vii)), the toll guard and capacity admission
(``core.admit``). Never to 911 or 933: cpaas.txt §2.4.4 says CPaaS is not for emergency calls, so
such a target is refused 403 with that reason (the tenant's phones still reach 911 as always).
"""

from __future__ import annotations

import logging
import uuid

from centrex.calls.dialling import dialled_of
from centrex.calls.origination import DEFAULT_SITE
from centrex.calls.services import CallService
from centrex.numbers.classify import DestinationKind, classify
from centrex.pbx.apps import Apps
from centrex.sip.events import Address, TransactionKey
from centrex.sip.headers import parse_name_addr
from centrex.sip.message import Request
from centrex.sip.uri import SipUri

log = logging.getLogger(__name__)

MARK = "X-Centrex-Originate"
EMERGENCY_REFUSED = "Forbidden (CPaaS calls never reach emergency services, cpaas.txt 2.4.4)"


class AppOrigination(CallService):
    name = "app_origination"

    def __init__(self, apps: Apps) -> None:
        self.apps = apps

    def incoming(self, req: Request, key: TransactionKey, addr: Address, transport: str, now: float) -> bool:
        own = self.apps.address
        if own is None or transport != "UDP" or (addr[0], addr[1]) != (own[0], own[1]):
            return False
        if MARK not in req.headers:
            return False  # not an origination (nothing else of the app server's starts a dialog)
        core = self.core
        try:
            tenant_id = uuid.UUID((req.headers.get("X-Centrex-Tenant") or "").strip())
        except ValueError:
            core.reply(transport, req, 400, "Bad Request (X-Centrex-Tenant)")
            return True
        tenant = core.directory.tenant(tenant_id)
        if tenant is None:
            core.reply(transport, req, 404, "Not Found (no such tenant)")
            return True
        dialled = dialled_of(req.uri)
        classification = classify(dialled, DEFAULT_SITE, tenant.dial_plan)
        if classification.is_emergency or classification.to_emergency_provider:
            # cpaas.txt §2.4.4: not for emergency services; the app's log shows this reason.
            log.warning("sip.cpaas.emergency_refused tenant=%s dialled=%r", tenant.id, dialled)
            core.reply(
                transport, req, 403, EMERGENCY_REFUSED, extra=[("Reason", _reason(403, EMERGENCY_REFUSED))]
            )
            return True
        if classification.kind is DestinationKind.FEATURE_CODE:
            core.reply(transport, req, 404, "Not Found (feature codes are for phones)")
            return True
        caller = _from_user(req)
        call = core.new_call(
            req,
            key,
            addr,
            transport,
            now,
            tenant=tenant,
            device=None,
            caller=None,
            site_id=None,
            dialled=dialled,
            classification=classification,
        )
        call.direction = "internal" if classification.kind is DestinationKind.EXTENSION else "outbound"
        name = (req.headers.get("X-Centrex-Caller-Name") or "").strip().strip('"')[:64]
        call.remote_identity, call.remote_number = name or caller, caller
        log.info(
            "sip.call.start call=%s tenant=%s from=app:%s dialled=%r class=%s",
            call.id,
            tenant.id,
            caller,
            dialled,
            classification.call_class,
        )
        core.started(call, caller)
        if core.admit(call, now):  # tenant standing, capacity, toll guard (never skipped)
            core.route_new(call, now)
        return True


def _from_user(req: Request) -> str:
    raw = req.headers.get("From") or ""
    try:
        uri = parse_name_addr(raw).uri
    except Exception:
        return ""
    return (uri.user or "")[:32] if isinstance(uri, SipUri) else ""


def _reason(status: int, text: str) -> str:
    return f'SIP;cause={status};text="{text}"'  # RFC 3326
