"""Digest authentication of phones: the realm is the tenant's SIP domain; no user enumeration.

Every REGISTER and INVITE is challenged (401 WWW-Authenticate for REGISTER, 407
Proxy-Authenticate for the rest). The tenant comes from the request's domain (To for REGISTER,
From for other requests, then the Request-URI host); the HA1 from the device of that tenant.

An unknown domain or an unknown user gets exactly what a known one gets: a challenge of the
same shape whose realm is the domain asked for, and after credentials, the same fresh challenge
as a wrong password (research/sip-core.md §5: svwar gives up when the unknown user is
challenged).

Only a failure that proves guessing counts towards the source's ban (guard.py, fairuse/bans.py):
credentials answering a fresh nonce that we issued to this same source address, with a wrong
password — for an unknown user as for a known one, so a ban tells nothing about who exists. A
made-up nonce, one issued to another address, or an expired one gets a fresh challenge and counts
nothing: a forged UDP source cannot get a customer's NAT address or a carrier banned.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass

from centrex.calls.directory import DeviceInfo, Directory, TenantInfo
from centrex.calls.guard import SourceGuard
from centrex.sip.digest import AuthStatus, DigestAuthenticator
from centrex.sip.errors import SipParseError
from centrex.sip.events import Address
from centrex.sip.headers import parse_auth_params
from centrex.sip.message import Request, Response, make_response, new_tag
from centrex.sip.uri import SipUri

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class AuthCheck:
    """``ok`` with the tenant and device, or the challenge ``response`` to send."""

    ok: bool
    tenant: TenantInfo | None = None
    device: DeviceInfo | None = None
    response: Response | None = None


def _host(uri: object) -> str | None:
    return uri.host.lower() if isinstance(uri, SipUri) else None


def request_domains(request: Request) -> list[str]:
    """Candidate tenant domains in order: To (REGISTER: the AoR) or From, then Request-URI."""
    out: list[str] = []
    try:
        first = request.to if request.method == "REGISTER" else request.from_
        host = _host(first.uri)
        if host:
            out.append(host)
    except SipParseError:
        pass
    host = _host(request.uri)
    if host and host not in out:
        out.append(host)
    return out


class PhoneAuthenticator:
    def __init__(
        self,
        directory: Directory,
        secret: bytes,
        guard: SourceGuard,
        *,
        nonce_ttl: float = 300.0,
        algorithms: tuple[str, ...] = ("SHA-256", "MD5"),
    ) -> None:
        self.directory = directory
        self._secret = secret
        self.guard = guard
        self.nonce_ttl = nonce_ttl
        self.algorithms = algorithms
        self._known: dict[str, DigestAuthenticator] = {}

    def _digest(self, realm: str, known: bool) -> DigestAuthenticator:
        found = self._known.get(realm)
        if found is not None:
            return found
        # A per-realm key: nonces of one tenant are worthless in another.
        key = hmac.new(self._secret, f"realm:{realm}".encode(), hashlib.sha256).digest()
        made = DigestAuthenticator(realm, key, nonce_ttl=self.nonce_ttl, algorithms=self.algorithms)
        if known:
            self._known[realm] = made  # unknown realms are not remembered: no memory to exhaust
        return made

    def resolve(self, request: Request) -> tuple[str, TenantInfo | None]:
        """The realm to use and the tenant it names (None: an unknown domain, challenged alike)."""
        domains = request_domains(request)
        for domain in domains:
            tenant = self.directory.tenant_by_domain(domain)
            if tenant is not None:
                return tenant.domain, tenant
        return (domains[0] if domains else "centrex"), None

    def check(self, request: Request, addr: Address, now: float) -> AuthCheck:
        proxy = request.method != "REGISTER"
        realm, tenant = self.resolve(request)
        digest = self._digest(realm, tenant is not None)
        header = "Proxy-Authorization" if proxy else "Authorization"
        creds = [v for v in request.headers.get_all(header) if _realm_of(v) == realm]
        if not creds:
            return AuthCheck(False, response=self._challenge(request, digest, now, addr, proxy))
        device: DeviceInfo | None = None

        def lookup(username: str, realm_: str, algorithm: str) -> str | None:
            nonlocal device
            if tenant is None or realm_ != tenant.domain:
                return None
            device = self.directory.device(tenant.id, username)
            if device is None or not device.enabled:
                return None
            return device.ha1(algorithm)

        # The digest uri is not required to equal the Request-URI: SIPp 3.6 and several phones
        # put the next-hop address there. The response still covers the uri they sent, and the
        # nonce is bound to the source address and expires (nonce_ttl), which limits replay.
        result = digest.verify(creds[0], request.method, now, lookup, client_key=addr[0])
        if result.status is AuthStatus.OK and tenant is not None and device is not None:
            return AuthCheck(True, tenant, device)
        if result.status is AuthStatus.STALE:
            return AuthCheck(False, response=self._challenge(request, digest, now, addr, proxy, stale=True))
        log.info(
            "sip.auth.failed source=%s user=%r realm=%r reason=%s",
            addr[0],
            result.username,
            realm,
            result.reason,
        )
        if result.guessing:
            self.guard.auth_failed(addr[0], now, result.username)
        return AuthCheck(False, response=self._challenge(request, digest, now, addr, proxy))

    def _challenge(
        self,
        request: Request,
        digest: DigestAuthenticator,
        now: float,
        addr: Address,
        proxy: bool,
        stale: bool = False,
    ) -> Response:
        status = 407 if proxy else 401
        name = "Proxy-Authenticate" if proxy else "WWW-Authenticate"
        values = digest.challenge(now, stale=stale, client_key=addr[0])
        return make_response(request, status, to_tag=new_tag(), extra=[(name, v) for v in values])


def _realm_of(value: str) -> str | None:
    try:
        scheme, params = parse_auth_params(value)
    except SipParseError:
        return None
    return params.get("realm") if scheme.lower() == "digest" else None
