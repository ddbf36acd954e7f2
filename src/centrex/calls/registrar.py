"""The registrar (RFC 3261 §10.3): authenticated REGISTER, expiry, several contacts, removal.

Pure logic: ``handle`` takes a parsed REGISTER, where it came from and the time, and returns the
response to send. Authentication is PhoneAuthenticator's (a 401 for anyone without valid
credentials, the same for unknown users); the AoR's user part must be the authenticated device.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from centrex.calls.auth import PhoneAuthenticator
from centrex.calls.location import AorKey, Binding, LocationService
from centrex.sip.errors import SipParseError
from centrex.sip.events import Address
from centrex.sip.message import Request, Response, make_response, new_tag
from centrex.sip.uri import SipUri

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ExpiryPolicy:
    """Bounds on registration lifetimes. Below ``minimum`` (except 0) is 423 Interval Too Brief
    with Min-Expires (§10.3 step 7); above ``maximum`` is shortened to it."""

    default: int = 3600
    minimum: int = 60
    maximum: int = 3600
    # A UDP registration from behind NAT (``behind_nat``) is granted at most this long: the
    # phone's own re-REGISTER is then the keep-alive of its NAT binding (docs/switch.md "Public
    # address and NAT"; CENTREX_SIP_NAT_EXPIRES, 60 s under ``centrex serve``). None: no cap.
    nat_maximum: int | None = None


def behind_nat(contact: SipUri, source: Address, transport: str) -> bool:
    """A UDP Contact that is not the address the REGISTER came from (the Via's received/rport):
    the phone is behind a NAT it does not know about, and its binding there lasts only as long
    as traffic keeps it open. Over TCP/TLS the phone's connection carries requests back to it
    (RFC 5626 §3.5.1 CRLF keep-alives keep that open) so there is nothing to shorten."""
    if transport.upper() != "UDP":
        return False
    host = contact.host.strip("[]").lower()
    port = contact.port or 5060
    return (host, port) != (source[0].lower(), source[1])


def _expires_value(text: str | None) -> int | None:
    if text is None:
        return None
    text = text.strip()
    if not text.isdigit():
        return None
    return min(int(text), 2**32 - 1)


class Registrar:
    def __init__(
        self,
        auth: PhoneAuthenticator,
        location: LocationService,
        policy: ExpiryPolicy | None = None,
    ) -> None:
        self.auth = auth
        self.location = location
        self.policy = policy or ExpiryPolicy()

    def handle(self, request: Request, addr: Address, transport: str, now: float) -> Response:
        check = self.auth.check(request, addr, now)
        if not check.ok or check.tenant is None or check.device is None:
            assert check.response is not None
            return check.response
        device = check.device
        try:
            to = request.to
            raw_contacts = request.headers.get_all("Contact")
            contacts = request.contacts
        except SipParseError as exc:
            return make_response(request, 400, f"Bad Request ({exc.reason})", to_tag=new_tag())
        if not isinstance(to.uri, SipUri) or to.uri.user != device.username:
            # Authenticated, but registering someone else's address: refuse (§10.3 step 6).
            return make_response(
                request, 403, "Forbidden (AoR is not the authenticated device)", to_tag=new_tag()
            )
        aor = (device.tenant_id, device.username)
        header_expires = _expires_value(request.headers.get("Expires"))
        call_id, cseq = request.call_id, request.cseq.seq
        star = any(v.strip() == "*" for v in raw_contacts)
        if star:
            # §10.3 step 6: "*" only with Expires: 0 and no other Contact.
            if len(raw_contacts) != 1 or header_expires != 0:
                return make_response(
                    request, 400, "Bad Request (Contact: * needs Expires: 0)", to_tag=new_tag()
                )
            self.location.remove_all(aor)
            log.info("sip.unregister tenant=%s device=%s all=true", device.tenant_id, device.username)
            return self._ok(request, aor, now)
        changes: list[tuple[str, int, dict[str, str | None]]] = []
        for contact in contacts:
            expires = _expires_value(contact.params.get("expires"))
            if expires is None:
                expires = header_expires if header_expires is not None else self.policy.default
            if 0 < expires < self.policy.minimum:
                return make_response(
                    request, 423, to_tag=new_tag(), extra=[("Min-Expires", str(self.policy.minimum))]
                )
            existing = self.location.get(aor, str(contact.uri))
            if existing is not None and existing.call_id == call_id and existing.cseq >= cseq:
                # §10.3 step 7: an out-of-order REGISTER of the same client.
                return make_response(
                    request, 500, "Server Internal Error (out of order CSeq)", to_tag=new_tag()
                )
            granted = min(expires, self.policy.maximum)
            nat_cap = self.policy.nat_maximum
            target = contact.uri
            if nat_cap is not None and isinstance(target, SipUri) and behind_nat(target, addr, transport):
                granted = min(granted, nat_cap)
            changes.append((str(contact.uri), granted, contact.params))
        for uri, expires, params in changes:
            if expires == 0:
                self.location.remove(aor, uri)
                continue
            q_text = params.get("q")
            try:
                q = float(q_text) if q_text else None
            except ValueError:
                q = None
            self.location.save(
                Binding(
                    device.tenant_id,
                    device.username,
                    device.id,
                    device.user_id,
                    uri,
                    now + expires,
                    call_id,
                    cseq,
                    addr,
                    transport,
                    q,
                    {k: v for k, v in params.items() if k not in ("expires", "q")},
                    now,
                )
            )
        if changes:
            log.info(
                "sip.register tenant=%s device=%s source=%s:%d contacts=%d",
                device.tenant_id,
                device.username,
                addr[0],
                addr[1],
                len(self.location.bindings(aor, now)),
            )
        return self._ok(request, aor, now)

    def _ok(self, request: Request, aor: AorKey, now: float) -> Response:
        """200 OK listing every current binding with its remaining time (§10.3 step 8)."""
        extra = [
            ("Contact", f"<{b.contact}>;expires={b.expires_in(now)}")
            for b in self.location.bindings(aor, now)
        ]
        return make_response(request, 200, to_tag=new_tag(), extra=extra)
