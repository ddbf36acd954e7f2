"""Calls to and from carrier trunks, peers and tenants' IP-PBXs (issue #6 point 5), as a service
of the call core.

Requests from a trunk's address are not challenged (IP-authenticated): from a carrier or a peer
they are for one of our DIDs and ring what the DID routes to (hosted-pbx.txt MAC 9); from a
tenant's IP-PBX they are that tenant's outbound calls (IP trunking). Calls off the switch try the
targets of the matching outbound routes in order (routing/select.py), moving to the next on a 5xx,
a timeout or ``trunk_setup_s`` of silence; a gateway that failed is marked down and probed with
OPTIONS until it answers (the alternate route's fail-back, voip-service-guide.txt §I.4).
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Protocol

from centrex.calls.admission import admission
from centrex.calls.dialling import dialled_of, loose_e164, privacy_requested, remote_identity
from centrex.calls.model import BLeg, Call, CallState, LegState
from centrex.calls.origination import DEFAULT_SITE
from centrex.calls.services import CallService, Destination, Refusal
from centrex.e911.numbers import RefusalGround, may_refuse
from centrex.numbers.classify import DestinationKind, classify, classify_e164
from centrex.numbers.dialplan import CallerSite
from centrex.routing.caller_identity import CallerIdentity
from centrex.routing.model import Gateway, NumberRoute, RoutingTable, Target, Trunk, TrunkKind
from centrex.routing.select import GatewayHealth, outbound_targets, pbx_targets, request_number
from centrex.routing.trunk_limits import TrunkLimits, reason_header, trunk_refusal
from centrex.routing.trunk_register import TrunkRegistrar
from centrex.sip.digest import build_authorization
from centrex.sip.events import Address, TransactionKey, TransactionTimedOut, TransportError
from centrex.sip.headers import Headers, quote
from centrex.sip.message import Request, Response, new_call_id, new_tag
from centrex.sip.uri import parse_uri

if TYPE_CHECKING:
    from centrex.calls.engine import CallEngine

log = logging.getLogger(__name__)

TRUNK_SETUP_S = 4.0  # no answer at all from a trunk gateway this long: try the next target


def monitored_gateways(table: RoutingTable) -> list[Gateway]:
    """The gateways monitoring polls: the operator's trunks, not a tenant's IP-PBX (hosted-pbx.txt
    Monitoring 3: customer-provided equipment "will not be monitored" without an agreement)."""
    return [g for t in table.trunks.values() if t.enabled and t.kind is not TrunkKind.PBX for g in t.gateways]


class RouteSource(Protocol):
    """The routing table and the DIDs (routing/storage.py StoreRoutes; tests build them by hand)."""

    def table(self, now: float) -> RoutingTable: ...
    def number(self, e164: str, now: float) -> NumberRoute | None: ...


class TrunkCalls(CallService):
    name = "trunks"

    def __init__(
        self,
        routes: RouteSource | None = None,
        *,
        health: GatewayHealth | None = None,
        rand: Callable[[], float] = random.random,
        trunk_setup_s: float = TRUNK_SETUP_S,
    ) -> None:
        self.routes = routes
        self.health = health or GatewayHealth()
        self.rand = rand
        self.trunk_setup_s = trunk_setup_s
        self._probes: dict[TransactionKey, Gateway] = {}
        self.limits = TrunkLimits()  # per-trunk calls and calls per second (issue 15 §1)
        self.identity = CallerIdentity()  # caller ID policy and STIR/SHAKEN (issue 17 §5)

    def attach(self, core: CallEngine) -> None:
        super().attach(core)
        self.registrar = TrunkRegistrar(core.send, core.network.contact)

    # -- service-wide timers: gateway probes and registrations ---------------------------------
    def next_timer(self) -> float | None:
        if self.routes is None:
            return None
        probe = self.health.next_probe_at()
        reg = self.registrar.next_at()
        return reg if probe is None else min(probe, reg)

    def tick(self, now: float) -> None:
        if self.routes is None:
            return
        if self.health.next_probe_at() is not None:
            self._probe(now)
        if self.registrar.next_at() <= now:
            self.registrar.tick(self.routes.table(now), now)

    def _probe(self, now: float) -> None:
        """OPTIONS to each gateway marked down whose probe is due: any answer brings it back."""
        assert self.routes is not None
        for g in self.health.due_probes(self.routes.table(now).gateways(), now):
            self._options(g)

    def probe_all(self, now: float) -> int:
        """OPTIONS to every gateway of every enabled carrier, peer and emergency trunk, up or down
        (the monitoring poll of ops/monitor.py, hosted-pbx.txt Monitoring 1): no answer or a 5xx
        marks one down, which ``self.health`` then shows. A tenant's own IP-PBX is not polled:
        "Customer-provided equipment ... will not be monitored" (Monitoring 3). Returns how many."""
        if self.routes is None:
            return 0
        gateways = monitored_gateways(self.routes.table(now))
        for g in gateways:
            self._options(g)
        return len(gateways)

    def _options(self, g: Gateway) -> None:
        headers = Headers()
        headers.add("Max-Forwards", "70")
        headers.add("From", f"<sip:ping@{g.host}>;tag={new_tag()}")
        headers.add("To", f"<sip:{g.host}:{g.port}>")
        headers.add("Call-ID", new_call_id())
        headers.add("CSeq", "1 OPTIONS")
        uri = f"sip:{g.host}:{g.port}" + ("" if g.transport == "UDP" else f";transport={g.transport.lower()}")
        key = self.core.send(g.transport, Request("OPTIONS", parse_uri(uri), headers, b""), (g.host, g.port))
        self._probes[key] = g

    def response(self, key: TransactionKey, resp: Response, now: float) -> bool:
        if self.registrar.response(key, resp, now):
            return True
        probed = self._probes.pop(key, None) if resp.is_final else self._probes.get(key)
        if probed is None:
            return False
        if resp.is_final:
            if resp.status >= 500:
                # Out of service, or the transport's own 503 for an unreachable address (§8.1.3.1).
                self.health.failed(probed, now)
            elif self.health.answered(probed):
                log.warning(
                    "sip.trunk.gateway_up gateway=%s:%d status=%d (fail-back)",
                    probed.host,
                    probed.port,
                    resp.status,
                )
        return True

    def timed_out(self, key: TransactionKey, event: TransactionTimedOut | TransportError, now: float) -> bool:
        probed = self._probes.pop(key, None)
        if probed is not None:
            self.health.failed(probed, now)  # still down: probe again later
            return True
        return self.registrar.timed_out(key, now)

    # -- issue 15: the trunk's origin and limits ----------------------------------------------
    def origin(self, trunk: Trunk) -> CallerSite:
        """Where a trunk's calls originate, for their classification (local/LD, intra/interstate:
        voip-service-guide.txt §V.9 "based on ... each call's originating location"): a pbx
        trunk's site, else the NPA-NXX and state the operator gave a carrier; the switch's default
        site only when neither is known."""
        if trunk.site_id is not None:
            site = self.core.directory.site(trunk.site_id)
            if site is not None:
                try:
                    return CallerSite(site.npa_nxx, site.state)
                except ValueError:
                    pass
        if trunk.origin_npa_nxx and trunk.origin_state:
            try:
                return CallerSite(trunk.origin_npa_nxx, trunk.origin_state)
            except ValueError:
                pass
        return DEFAULT_SITE

    def _take(self, call: Call, side: str, trunk: Trunk, now: float) -> Refusal | None:
        """Count the call on ``trunk``, or the refusal when the trunk is at a limit (911 never)."""
        limit = self.limits.over(trunk, now)
        if limit is not None and may_refuse(call.classification.call_class, RefusalGround.CAPACITY):
            self.limits.count_refused(trunk, limit)
            log.info(
                "trunk.refused call=%s trunk=%s limit=%s side=%s", call.id, trunk.name, limit.value, side
            )
            return trunk_refusal(limit, trunk)
        self.limits.take(call.id, side, trunk, now)
        return None

    def ended(self, call: Call, now: float) -> None:
        self.limits.release(call.id)
        self.identity.ended(call)

    # -- calls from trunks -----------------------------------------------------------------
    def incoming(self, req: Request, key: TransactionKey, addr: Address, transport: str, now: float) -> bool:
        if self.routes is None:
            return False
        trunk = self.routes.table(now).trunk_for_source(addr[0], addr[1])
        if trunk is None:
            return False
        self._from_trunk(req, key, addr, transport, trunk, now)
        return True

    def _from_trunk(
        self, req: Request, key: TransactionKey, addr: Address, transport: str, trunk: Trunk, now: float
    ) -> None:
        """From a carrier or a peer: for one of our DIDs; from a tenant's IP-PBX: that tenant's
        outbound call (IP trunking)."""
        assert self.routes is not None
        core = self.core
        raw = dialled_of(req.uri)
        if trunk.tech_prefix and raw.startswith(trunk.tech_prefix):
            raw = raw[len(trunk.tech_prefix) :]
        remote_name, remote_number = remote_identity(req, trusted=trunk.trusted)
        route: NumberRoute | None = None
        if trunk.kind is TrunkKind.PBX:
            tenant = core.directory.tenant(trunk.tenant_id) if trunk.tenant_id else None
            if tenant is None:
                core.reply(transport, req, 403, "Forbidden (trunk has no tenant)")
                return
            classification = classify(raw, self.origin(trunk), tenant.dial_plan)
            direction = "outbound"
        else:
            e164 = loose_e164(raw)
            route = self.routes.number(e164, now) if e164 else None
            tenant = core.directory.tenant(route.tenant_id) if route else None
            if route is None or tenant is None:
                # Not a number of ours: no transit for a peer (peering-policy.txt: no default route
                # in either direction) and nothing to ring for a carrier.
                log.info("sip.inbound.unknown_number trunk=%s dialled=%r", trunk.name, raw)
                core.reply(transport, req, 404, "Not Found (no such number here)")
                return
            classification = replace(classify_e164(e164, self.origin(trunk)), dialled=raw)
            direction = "inbound"
        call = core.new_call(
            req,
            key,
            addr,
            transport,
            now,
            tenant=tenant,
            device=None,
            caller=None,
            site_id=trunk.site_id if trunk.kind is TrunkKind.PBX else None,
            dialled=raw,
            classification=classification,
        )
        call.direction, call.trunk = direction, trunk
        call.remote_identity, call.remote_number = remote_name, remote_number
        call.privacy = privacy_requested(req)
        if route is not None:
            self.identity.inbound(call, req, route.e164)  # STIR/SHAKEN verstat for the callee
        log.info(
            "sip.call.start call=%s tenant=%s trunk=%s from=%r dialled=%r direction=%s",
            call.id,
            tenant.id,
            trunk.name,
            remote_number,
            raw,
            direction,
        )
        core.started(call, remote_number or "")
        refused = self._take(call, "in", trunk, now)
        if refused is not None:
            core.reject(
                call, refused.status, now, "rejected", refused.cause, refused.reason, [reason_header(refused)]
            )
            return
        if route is not None:
            self._route_number(call, route, now)
            return
        refusal = admission(tenant, classification.call_class)
        if refusal is not None:
            core.reject(call, refusal.status, now, "rejected", refusal.cause, refusal.reason)
            return
        if not classification.is_emergency:
            # An IP-trunking tenant's call is admitted like a phone's (issue 15): the site's capacity
            # (at the trunk's site, §V.9) and the toll-fraud guard (tenant-wide: no user).
            for admit_hook in core.asking("admit"):
                refused = admit_hook(call, now)
                if refused is not None:
                    core.reject(
                        call,
                        refused.status,
                        now,
                        "rejected",
                        refused.cause,
                        refused.reason,
                        [reason_header(refused)],
                    )
                    return
        if classification.to_emergency_provider:  # 911, and the 933 test (e911/numbers.py)
            core.deliver(call, Destination("emergency"), now)
            return
        if not classification.routable:
            core.reject(call, 403 if classification.blocked else 484, now, "rejected", "not_routable")
            return
        if classification.kind is DestinationKind.E164:
            user = core.directory.user_by_number(tenant.id, classification.destination)
            if user is not None:
                call.direction = "internal"
                core.route_to_user(call, user, now)
                return
        self.route_out(call, classification.destination, now)

    def _route_number(self, call: Call, route: NumberRoute, now: float) -> None:
        """An incoming call to a DID: what it rings (hosted-pbx.txt MAC 9)."""
        assert self.routes is not None
        core = self.core
        target_id = route.target_id
        if route.target_type == "user" and target_id is not None:
            user = core.directory.user(target_id)
            if user is not None and user.tenant_id == call.tenant.id:
                core.route_to_user(call, user, now)
                return
        if route.target_type == "auto_attendant" and target_id is not None:
            call.direction = "inbound"
            core.route_to_app(call, f"aa.{target_id}", now)
            return
        if route.target_type == "app" and target_id is not None:  # a voice application (issue 16 §1)
            call.direction = "inbound"
            core.route_to_app(call, f"cpaas.{target_id}", now)
            return
        queue = Destination("queue", target_id)
        delivered = route.target_type == "queue" and any(d(call, queue, now) for d in core.asking("deliver"))
        if delivered:
            return
        if route.target_type == "hunt_group" and target_id is not None:
            group = core.directory.hunt_group(target_id)
            if group is not None and group.tenant_id == call.tenant.id:
                core.deliver(call, Destination("hunt_group", group), now)
                return
        if route.target_type == "trunk" and target_id is not None:
            trunk = self.routes.table(now).trunks.get(target_id)
            if trunk is not None and trunk.kind is TrunkKind.PBX and trunk.tenant_id == call.tenant.id:
                self.start_targets(call, route.e164, pbx_targets(trunk, self.health, now), now)
                return
        log.warning(
            "sip.inbound.unrouted call=%s number=%s target=%s", call.id, route.e164, route.target_type
        )
        core.reject(
            call, 480, now, "failed", "number_unrouted", "Temporarily Unavailable (number not routed)"
        )

    # -- calls to trunks -------------------------------------------------------------------
    def deliver(self, call: Call, destination: Destination, now: float) -> bool:
        if destination.kind != "number":
            return False
        forwarded = (destination.reason or "").startswith("forward_")
        self.route_out(call, str(destination.value), now, forwarded=forwarded)
        return True

    def route_out(self, call: Call, e164: str, now: float, *, forwarded: bool = False) -> None:
        decided = self.identity.outbound(call, self.core.caller_id(call)[1], forwarded=forwarded, now=now)
        if not decided.allowed:  # cpaas.txt §2.3.2 (vii): no fake numbers (routing/caller_policy.py)
            refusal = Refusal(403, "caller_id_not_owned", decided.reason)
            self.core.reject(
                call, 403, now, "rejected", refusal.cause, refusal.reason, [reason_header(refusal)]
            )
            return
        targets: list[Target] = []
        if self.routes is not None:
            targets = outbound_targets(
                self.routes.table(now),
                call.tenant.id,
                e164,
                call.classification.call_class,
                self.health,
                now,
                self.rand,
            )
        if not targets:
            self.core.reject(call, 503, now, "failed", "no_route", "Service Unavailable (no outbound route)")
            return
        call.direction = "outbound" if call.direction != "inbound" else call.direction
        self.start_targets(call, e164, targets, now)

    def start_targets(self, call: Call, number: str, targets: list[Target], now: float) -> None:
        core = self.core
        if not targets:
            core.reject(call, 503, now, "failed", "no_route", "Service Unavailable (no route)")
            return
        call.out_number, call.targets = number, list(targets)
        call.state = CallState.RINGING
        if "ring" not in call.timers:
            core.arm(call, "ring", now + core.max_ring_s)
        self._try_next(call, now)

    def _try_next(self, call: Call, now: float) -> None:
        core = self.core
        refused: Refusal | None = None
        while call.targets:
            target = call.targets.pop(0)
            refused = self._take(call, "out", target.trunk, now)
            if refused is None:
                break
            # A gateway of a trunk at its limit: on to the next target of the route (failover).
        else:
            assert refused is not None
            self.limits.release(call.id, "out")
            core.reject(
                call, refused.status, now, "failed", refused.cause, refused.reason, [reason_header(refused)]
            )
            return
        call.out_trunk = target.trunk
        g = target.gateway
        number = request_number(target.trunk, call.out_number)
        params = ";user=phone" if number.lstrip("+").isdigit() else ""
        if g.transport != "UDP":
            params += f";transport={g.transport.lower()}"
        uri = f"sip:{number}@{g.host}:{g.port}{params}"
        name, caller_number = self.identity.caller(call, *core.caller_id(call))
        identity = f"{quote(name)} <sip:{caller_number}@{call.tenant.domain};user=phone>"
        headers = core.leg_headers(call, f"<sip:{number}@{g.host}>")
        if call.privacy:
            # RFC 3325 §9.3 / RFC 3323: the From says nothing; a trusted trunk still gets the
            # identity in P-Asserted-Identity, marked private.
            headers.add("From", f'"Anonymous" <sip:anonymous@anonymous.invalid>;tag={new_tag()}')
        else:
            headers.add("From", f"{identity};tag={new_tag()}")
        if target.trunk.trusted:
            headers.add("P-Asserted-Identity", identity)
        if call.privacy:
            headers.add("Privacy", "id")
        headers.add("Supported", "100rel")  # RFC 3262: carriers that require PRACK get one (engine)
        if target.trunk.kind is not TrunkKind.PBX:
            for name_value in self.identity.identity(call, call.out_number, caller_number):
                headers.add(*name_value)
        # A verstat meant for our phones (a carrier's call forwarded out) is not the carrier's.
        call.extra_headers = tuple(h for h in call.extra_headers if h[0] != "P-Asserted-Identity")
        core.launch(call, uri, headers, g.transport, (g.host, g.port), None, None, target, owner=self)
        core.arm(call, "trunk_setup", now + self.trunk_setup_s)

    def timer(self, call: Call, name: str, now: float) -> bool:
        if name != "trunk_setup":
            return False
        if call.state is CallState.RINGING:
            self._silent(call, now)
        return True

    def _silent(self, call: Call, now: float) -> None:
        """A trunk gateway gave no answer at all (not even 100 Trying): count it as failed and go
        on to the next target rather than wait for Timer B's 32 s."""
        for leg in list(call.legs):
            if leg.target is not None and leg.state is LegState.CALLING and leg.status is None:
                log.warning("sip.trunk.silent call=%s gateway=%s", call.id, leg.target.gateway.host)
                leg.state = LegState.CANCELLING  # a late 2xx is answered with ACK + BYE
                leg.status, leg.ended_at = 408, self.core.wall()
                call.legs.remove(leg)
                self.health.failed(leg.target.gateway, now)
        if call.legs:
            return
        if call.targets:
            self._try_next(call, now)
        else:
            self.core.reject(
                call, 503, now, "failed", "routes_failed", "Service Unavailable (all routes failed)"
            )

    def leg_response(self, leg: BLeg, resp: Response, now: float) -> bool:
        """Any answer shows the gateway is alive (a 5xx is counted when the leg fails); a
        carrier's challenge is answered once with the trunk's credentials."""
        if leg.target is None:
            return False
        status = resp.status
        if status < 500 and self.health.answered(leg.target.gateway):
            log.warning("sip.trunk.gateway_up gateway=%s (answered a call)", leg.target.gateway.host)
        if leg.status is None:
            leg.status = status if status >= 200 else None
        leg.call.timers.pop("trunk_setup", None)
        if (
            status in (401, 407)
            and leg.target.trunk.auth_username
            and not leg.auth_tried
            and leg.state is LegState.CALLING
        ):
            self._answer_challenge(leg, resp, now)
            return True
        return False

    def _answer_challenge(self, leg: BLeg, resp: Response, now: float) -> None:
        """A carrier challenged our INVITE (RFC 3261 §22.2): send it again with the trunk's
        credentials, same dialog, next CSeq. Once only: a second challenge is a refusal."""
        assert leg.target is not None
        trunk = leg.target.trunk
        asked = "WWW-Authenticate" if resp.status == 401 else "Proxy-Authenticate"
        answer = "Authorization" if resp.status == 401 else "Proxy-Authorization"
        challenge = resp.headers.get(asked)
        if not challenge:
            self.core.leg_failed(leg, resp.status, now)
            return
        invite = leg.invite.copy()
        invite.headers.remove("Via")
        invite.headers.set("CSeq", f"{leg.invite.cseq.seq + 1} INVITE")
        invite.headers.add(
            answer,
            build_authorization(
                challenge, "INVITE", str(invite.uri), trunk.auth_username, trunk.auth_password
            ),
        )
        leg.auth_tried = True
        self.core.resend(leg, invite)

    def legs_failed(self, call: Call, leg: BLeg, status: int, now: float) -> bool:
        """Failover: a 5xx or a timeout moves the call to the next target; any other final answer
        (busy, not found, …) is the called party's and goes back to the caller."""
        target = leg.target
        if target is None:
            return False
        core = self.core
        if status >= 500 or status == 408:
            self.health.failed(target.gateway, now)
            log.warning(
                "sip.trunk.failover call=%s trunk=%s gateway=%s status=%d left=%d",
                call.id,
                target.trunk.name,
                target.gateway.host,
                status,
                len(call.targets),
            )
            if call.targets:
                self._try_next(call, now)
            else:
                core.reject(
                    call, 503, now, "failed", "routes_failed", "Service Unavailable (all routes failed)"
                )
            return True
        if status in (401, 407):
            # The carrier refused our credentials (or we have none for it): its problem with us,
            # not the called party's answer. Never relay a challenge to the phone.
            log.error("sip.trunk.auth_refused call=%s trunk=%s status=%d", call.id, target.trunk.name, status)
            if call.targets:
                self._try_next(call, now)
            else:
                core.reject(
                    call, 503, now, "failed", "trunk_auth", "Service Unavailable (carrier refused us)"
                )
            return True
        disposition = "busy" if status in (486, 600) else ("no_answer" if status == 480 else "failed")
        core.reject(call, status, now, disposition, f"remote_{status}")
        return True
