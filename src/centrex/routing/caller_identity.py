"""The caller identity of trunk calls (issue 17 §5), for routing/trunk_calls.py: the caller ID
policy's decision on the way out (routing/caller_policy.py), the STIR/SHAKEN Identity header it is
signed with (routing/shaken.py), and the verification of an incoming call's Identity, passed to the
callee as ``verstat`` (docs/switch.md "Caller identity and STIR/SHAKEN").

Without ports (no ``caller_ids``, ``signer`` or ``roots``) each part does nothing: calls go out as
before, unsigned, and incoming ones are not verified.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from centrex.calls.model import Call
from centrex.routing.caller_policy import CallerIdDecision, CallerIds, decide, is_e164, preferred_number
from centrex.routing.shaken import (
    CertFetcher,
    Signer,
    Verification,
    fetch_certificate,
    identity_header,
    load_ca_bundle,
    sign_passport,
    verify_identity,
)
from centrex.sip.message import Request

log = logging.getLogger(__name__)


class CachedFetcher:
    """Certificates by x5u, kept ``ttl_s`` (RFC 8224 §6.2.2 lets a verifier cache them). The first
    fetch of a URL is synchronous (a 2 s timeout): SHAKEN carriers use a handful of URLs."""

    def __init__(self, fetch: CertFetcher = fetch_certificate, ttl_s: float = 3600.0) -> None:
        self.fetch, self.ttl_s = fetch, ttl_s
        self._certs: dict[str, tuple[float, bytes]] = {}
        self._lock = threading.Lock()

    def __call__(self, url: str) -> bytes:
        now = time.monotonic()
        with self._lock:
            hit = self._certs.get(url)
            if hit is not None and hit[0] > now:
                return hit[1]
        data = self.fetch(url)
        with self._lock:
            if len(self._certs) > 1000:
                self._certs.clear()
            self._certs[url] = (now + self.ttl_s, data)
        return data


class CallerIdentity:
    def __init__(
        self,
        caller_ids: CallerIds | None = None,
        signer: Signer | None = None,
        roots: list[x509.Certificate] | None = None,
        fetch: CertFetcher | None = None,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.caller_ids, self.signer, self.roots = caller_ids, signer, roots
        self.fetch: CertFetcher = fetch or CachedFetcher()
        self.wall = wall
        self._decided: dict[uuid.UUID, CallerIdDecision] = {}

    # -- out ------------------------------------------------------------------------------------
    def outbound(self, call: Call, number: str, *, forwarded: bool, now: float) -> CallerIdDecision:
        """The policy's decision for a call leaving through a trunk; kept for its legs."""
        if call.caller is not None or call.device is not None:
            number = preferred_number(call.a_invite) or number  # a phone asking for a caller ID
        standing = None  # not a telephone number, or no policy configured: sent as is, unsigned
        if self.caller_ids is not None and is_e164(number):
            standing = self.caller_ids.standing(call.tenant.id, number, now)
        if call.direction == "inbound" and not forwarded and call.trunk is not None:
            forwarded = True  # a carrier's call leaving again (a DID routed off the switch)
        decision = decide(number, standing, emergency=call.classification.is_emergency, forwarded=forwarded)
        self._decided[call.id] = decision
        if not decision.allowed:
            log.warning("sip.caller_id.refused call=%s tenant=%s number=%s", call.id, call.tenant.id, number)
        return decision

    def caller(self, call: Call, name: str, number: str) -> tuple[str, str]:
        decided = self._decided.get(call.id)
        return (name, decided.number) if decided is not None else (name, number)

    def identity(self, call: Call, dest_e164: str, number: str) -> list[tuple[str, str]]:
        """The Identity header of a leg to a carrier (RFC 8224), when signing is configured."""
        decided = self._decided.get(call.id)
        if self.signer is None or decided is None or decided.attest is None or not is_e164(dest_e164):
            return []
        jws = sign_passport(
            self.signer,
            attest=decided.attest,
            orig_tn=number,
            dest_tn=dest_e164,
            iat=int(self.wall()),
            origid=str(call.id),
        )
        return [("Identity", identity_header(jws, self.signer.x5u))]

    def ended(self, call: Call) -> None:
        self._decided.pop(call.id, None)

    # -- in -------------------------------------------------------------------------------------
    def inbound(self, call: Call, req: Request, dest_e164: str) -> Verification | None:
        """Verify a carrier's call; the callee's INVITE gets the result as a tel URI in a second
        P-Asserted-Identity (RFC 3325 allows one sip and one tel URI) with ``verstat``
        (3GPP TS 24.229 §7.2A.20, ATIS-1000074 §5.3.1)."""
        if self.roots is None or not call.remote_number or not is_e164(call.remote_number):
            return None
        result = verify_identity(
            req.headers.get("Identity"),
            orig_tn=call.remote_number,
            dest_tn=dest_e164,
            now=self.wall(),
            roots=self.roots,
            fetch=self.fetch,
        )
        log.info(
            "sip.identity.verified call=%s verstat=%s attest=%s reason=%s",
            call.id,
            result.verstat.value,
            result.attest,
            result.reason,
        )
        call.extra_headers += (
            ("P-Asserted-Identity", f"<tel:{call.remote_number};verstat={result.verstat.value}>"),
        )
        return result


def signer_from_files(key_file: str, x5u: str, cert_file: str = "") -> Signer:
    """The configured signing credential; with ``cert_file``, the key must be the certificate's
    (a wrong pair would sign every call with signatures nobody can verify)."""
    signer = Signer.from_files(key_file, x5u)
    if cert_file:
        cert = x509.load_pem_x509_certificates(Path(cert_file).read_bytes())[0]
        mine = signer.key.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
        theirs = cert.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
        if mine != theirs:
            raise ValueError(f"{key_file} is not the key of {cert_file}")
    return signer


def configure(
    identity: CallerIdentity,
    *,
    key_file: str = "",
    cert_url: str = "",
    cert_file: str = "",
    ca_file: str = "",
) -> None:
    """Signing and verification from the settings (config.py shaken_*)."""
    if key_file:
        identity.signer = signer_from_files(key_file, cert_url, cert_file)
    if ca_file:
        identity.roots = load_ca_bundle(ca_file)
