"""Registrations the switch keeps at carriers (registration trunks, issue #6 point 5).

A trunk with ``register`` and credentials is registered at its primary gateway, or the next one
when that fails (the §I.4 alternate route): REGISTER, the carrier's 401/407 answered once with
the trunk's digest credentials (RFC 3261 §10.2, §22.2), refreshed at half the granted lifetime,
retried every ``retry_s`` after a failure. Sans-I/O like the engine: ``send`` is the engine's
network, times are the engine's clock.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from centrex.routing.model import Gateway, GatewayRole, RoutingTable, Trunk
from centrex.sip.digest import build_authorization
from centrex.sip.events import Address, TransactionKey
from centrex.sip.headers import Headers
from centrex.sip.message import Request, Response, new_call_id, new_tag
from centrex.sip.uri import parse_uri

log = logging.getLogger(__name__)

SYNC_S = 30.0  # how often the routing table is read again for new or removed trunks
RETRY_S = 30.0


@dataclass
class Registration:
    trunk: Trunk
    call_id: str
    from_tag: str
    cseq: int = 0
    next_at: float = 0.0
    key: TransactionKey | None = None
    gateway: Gateway | None = None
    registered_until: float | None = None
    last_status: int | None = None
    auth_tried: bool = False
    failures: int = 0

    def registered(self, now: float) -> bool:
        return self.registered_until is not None and self.registered_until > now


class TrunkRegistrar:
    def __init__(
        self,
        send: Callable[[str, Request, Address], TransactionKey],
        contact: Callable[[str], str],
        retry_s: float = RETRY_S,
    ) -> None:
        self._send = send
        self._contact = contact
        self.retry_s = retry_s
        self.registrations: dict[uuid.UUID, Registration] = {}
        self._by_key: dict[TransactionKey, Registration] = {}
        self._sync_at = 0.0

    def next_at(self) -> float:
        times = [r.next_at for r in self.registrations.values() if r.key is None]
        return min([self._sync_at, *times])

    def tick(self, table: RoutingTable, now: float) -> None:
        if now >= self._sync_at:
            self._sync(table)
            self._sync_at = now + SYNC_S
        for reg in self.registrations.values():
            if reg.key is None and reg.next_at <= now:
                reg.auth_tried = False
                self._register(reg, None)

    def _sync(self, table: RoutingTable) -> None:
        wanted = {
            t.id: t
            for t in table.trunks.values()
            if t.enabled and t.register and t.auth_username and t.gateways
        }
        for trunk_id in list(self.registrations):
            if trunk_id not in wanted:
                del self.registrations[trunk_id]
        for trunk_id, trunk in wanted.items():
            reg = self.registrations.get(trunk_id)
            if reg is None:
                self.registrations[trunk_id] = Registration(trunk, new_call_id(), new_tag())
            else:
                reg.trunk = trunk  # credentials or gateways may have changed

    def _pick(self, reg: Registration) -> Gateway:
        gws = sorted(reg.trunk.gateways, key=lambda g: (g.role is not GatewayRole.PRIMARY, g.position))
        return gws[reg.failures % len(gws)]

    def _register(self, reg: Registration, authorization: tuple[str, str] | None) -> None:
        trunk = reg.trunk
        g = reg.gateway if authorization is not None and reg.gateway else self._pick(reg)
        reg.gateway = g
        domain = trunk.register_domain or g.host
        reg.cseq += 1
        uri = f"sip:{domain}" + ("" if g.transport == "UDP" else f";transport={g.transport.lower()}")
        aor = f"<sip:{trunk.auth_username}@{domain}>"
        headers = Headers()
        headers.add("Max-Forwards", "70")
        headers.add("From", f"{aor};tag={reg.from_tag}")
        headers.add("To", aor)
        headers.add("Call-ID", reg.call_id)
        headers.add("CSeq", f"{reg.cseq} REGISTER")
        headers.add("Contact", self._contact(g.transport))
        headers.add("Expires", str(trunk.register_expires))
        if authorization is not None:
            headers.add(*authorization)
        key = self._send(g.transport, Request("REGISTER", parse_uri(uri), headers, b""), (g.host, g.port))
        reg.key = key
        self._by_key[key] = reg

    def response(self, key: TransactionKey, resp: Response, now: float) -> bool:
        """True when the response was one of ours."""
        reg = self._by_key.get(key)
        if reg is None:
            return False
        if not resp.is_final:
            return True
        del self._by_key[key]
        reg.key, reg.last_status = None, resp.status
        trunk = reg.trunk
        if resp.status in (401, 407) and not reg.auth_tried:
            asked = "WWW-Authenticate" if resp.status == 401 else "Proxy-Authenticate"
            challenge = resp.headers.get(asked)
            if challenge:
                reg.auth_tried = True
                domain = trunk.register_domain or (reg.gateway.host if reg.gateway else "")
                value = build_authorization(
                    challenge, "REGISTER", f"sip:{domain}", trunk.auth_username, trunk.auth_password
                )
                self._register(reg, ("Authorization" if resp.status == 401 else "Proxy-Authorization", value))
                return True
        if 200 <= resp.status < 300:
            granted = _granted(resp, trunk.register_expires)
            reg.registered_until = now + granted
            reg.next_at = now + max(1.0, granted / 2)
            reg.failures = 0
            log.info("sip.trunk.registered trunk=%s expires=%d", trunk.name, granted)
        else:
            self._failed(reg, now, f"status {resp.status}")
        return True

    def timed_out(self, key: TransactionKey, now: float) -> bool:
        reg = self._by_key.pop(key, None)
        if reg is None:
            return False
        reg.key, reg.last_status = None, 408
        self._failed(reg, now, "timeout")
        return True

    def _failed(self, reg: Registration, now: float, why: str) -> None:
        reg.failures += 1
        reg.registered_until = None
        reg.next_at = now + self.retry_s
        log.warning(
            "sip.trunk.register_failed trunk=%s why=%s retry_in=%ds", reg.trunk.name, why, self.retry_s
        )


def _granted(resp: Response, asked: int) -> int:
    """The lifetime the registrar granted: Contact expires, else Expires, else what we asked."""
    for value in resp.headers.get_all("Contact"):
        for part in value.split(";")[1:]:
            name, _, v = part.partition("=")
            if name.strip().lower() == "expires" and v.strip().isdigit():
                return int(v.strip())
    expires = resp.headers.get("Expires")
    return int(expires) if expires and expires.strip().isdigit() else asked
