"""STIR/SHAKEN: PASSporTs signed and verified (RFC 8225, RFC 8588), in the SIP Identity header
(RFC 8224). Pure functions over ``cryptography`` (already a dependency; no JWT library needed for
one algorithm): ES256 is ECDSA P-256 with SHA-256, its JWS signature the raw 64-byte r‖s.

Signing: ``sign_passport`` builds the compact JWS (protected header ``{alg: ES256, typ: passport,
ppt: shaken, x5u}``, claims ``{attest, dest: {tn: [...]}, iat, orig: {tn}, origid}``) and
``identity_header`` the RFC 8224 §4.1 value ``<jws>;info=<x5u>;alg=ES256;ppt=shaken``.

Verifying: ``verify_identity`` parses the header, takes the certificate the x5u names (a
``CertFetcher``: HTTP in service, a file:// or an in-memory trust store in tests), checks the
certificate chains to a configured CA bundle and is valid now, the signature against its key,
``iat`` within ``IAT_FRESH_S`` (RFC 8224 §6.2.1: 60 s) and orig/dest against the SIP request's.
The outcome is a ``Verstat`` (ATIS-1000074 §5.3.1 / 3GPP TS 24.229 verstat values).
"""

from __future__ import annotations

import base64
import json
import re
import urllib.request
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

IAT_FRESH_S = 60  # RFC 8224 §6.2.1: an iat more than a minute off is stale ("403 Stale Date")
ATTESTATIONS = ("A", "B", "C")  # RFC 8588 §4


class Verstat(StrEnum):
    """The verification result passed to the callee (ATIS-1000074 §5.3.1)."""

    PASSED = "TN-Validation-Passed"
    FAILED = "TN-Validation-Failed"
    NONE = "No-TN-Validation"


class ShakenError(ValueError):
    """A PASSporT or Identity header that does not verify; ``str`` says why."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError) as exc:
        raise ShakenError("bad base64url") from exc


def _json(obj: object) -> bytes:
    return json.dumps(obj, separators=(",", ":"), sort_keys=True).encode()


def canonical_tn(number: str) -> str:
    """RFC 8224 §8.3: a telephone number as signed: digits only, no '+' or visual separators."""
    return "".join(ch for ch in number if ch.isdigit())


@dataclass(frozen=True, slots=True)
class Signer:
    """The service provider's signing credential: the private key and the URL of its certificate."""

    key: ec.EllipticCurvePrivateKey
    x5u: str

    @classmethod
    def from_files(cls, key_file: str | Path, x5u: str) -> Signer:
        key = serialization.load_pem_private_key(Path(key_file).read_bytes(), password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
            raise ValueError(f"{key_file}: ES256 needs an EC P-256 private key")
        return cls(key, x5u)


def sign_passport(
    signer: Signer,
    *,
    attest: str,
    orig_tn: str,
    dest_tn: str,
    iat: int,
    origid: str | None = None,
) -> str:
    """A SHAKEN PASSporT (RFC 8588 §3) as a compact JWS."""
    if attest not in ATTESTATIONS:
        raise ValueError(f"attestation must be one of {ATTESTATIONS}")
    header = {"alg": "ES256", "ppt": "shaken", "typ": "passport", "x5u": signer.x5u}
    claims = {
        "attest": attest,
        "dest": {"tn": [canonical_tn(dest_tn)]},
        "iat": int(iat),
        "orig": {"tn": canonical_tn(orig_tn)},
        "origid": origid or str(uuid.uuid4()),
    }
    signing_input = f"{_b64(_json(header))}.{_b64(_json(claims))}"
    der = signer.key.sign(signing_input.encode("ascii"), ec.ECDSA(hashes.SHA256()))
    r, s = decode_dss_signature(der)
    return f"{signing_input}.{_b64(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


def identity_header(jws: str, x5u: str) -> str:
    """RFC 8224 §4.1 (full form, as RFC 8588 §6 asks for SHAKEN)."""
    return f"{jws};info=<{x5u}>;alg=ES256;ppt=shaken"


@dataclass(frozen=True, slots=True)
class Passport:
    header: Mapping[str, object]
    claims: Mapping[str, object]
    signing_input: bytes
    signature: bytes

    @property
    def attest(self) -> str:
        return str(self.claims.get("attest", ""))

    @property
    def orig_tn(self) -> str:
        orig = self.claims.get("orig")
        return str(orig.get("tn", "")) if isinstance(orig, dict) else ""

    @property
    def dest_tns(self) -> list[str]:
        dest = self.claims.get("dest")
        tns = dest.get("tn", []) if isinstance(dest, dict) else []
        return [str(t) for t in tns] if isinstance(tns, list) else []


def parse_passport(jws: str) -> Passport:
    parts = jws.strip().split(".")
    if len(parts) != 3:
        raise ShakenError("not a compact JWS")
    try:
        header = json.loads(_unb64(parts[0]))
        claims = json.loads(_unb64(parts[1]))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ShakenError("bad JSON in the PASSporT") from exc
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise ShakenError("bad JSON in the PASSporT")
    return Passport(header, claims, f"{parts[0]}.{parts[1]}".encode("ascii"), _unb64(parts[2]))


_PARAM = re.compile(r";\s*([A-Za-z0-9_-]+)\s*=\s*(<[^>]*>|[^;]*)")


def parse_identity(value: str) -> tuple[str, dict[str, str]]:
    """An Identity header's JWS and its parameters (info without its angle brackets)."""
    jws, _, rest = value.strip().partition(";")
    # RFC 8588's examples quote the type (ppt="shaken"), ATIS-1000074's do not: both are read.
    params = {
        m.group(1).lower(): m.group(2).strip().strip("<>").strip('"') for m in _PARAM.finditer(";" + rest)
    }
    return jws.strip(), params


CertFetcher = Callable[[str], bytes]


def fetch_certificate(url: str, timeout_s: float = 2.0) -> bytes:
    """The PEM an x5u names: https/http (RFC 8226 §9), or file:// for a local trust store."""
    if url.startswith("file://"):
        return Path(url[len("file://") :]).read_bytes()
    if not url.startswith(("https://", "http://")):
        raise ShakenError(f"x5u scheme not allowed: {url!r}")
    with urllib.request.urlopen(url, timeout=timeout_s) as resp:
        data: bytes = resp.read(64 * 1024)
        return data


def _chains_to(certs: list[x509.Certificate], roots: list[x509.Certificate], at: datetime) -> None:
    """The leaf (first) and any intermediates sent with it lead, signature by signature, to one of
    the trusted roots, every certificate valid ``at``."""
    chain = list(certs)
    current = chain.pop(0)
    for _ in range(len(certs) + 1):
        if not (current.not_valid_before_utc <= at <= current.not_valid_after_utc):
            raise ShakenError("certificate expired or not yet valid")
        issuers = [c for c in roots + chain if c.subject == current.issuer]
        for issuer in issuers:
            try:
                current.verify_directly_issued_by(issuer)
            except (ValueError, TypeError, InvalidSignature):
                continue
            if issuer in roots:
                if not (issuer.not_valid_before_utc <= at <= issuer.not_valid_after_utc):
                    raise ShakenError("CA certificate expired")
                return
            chain.remove(issuer)
            current = issuer
            break
        else:
            raise ShakenError("certificate does not chain to a trusted CA")
    raise ShakenError("certificate does not chain to a trusted CA")


def load_ca_bundle(path: str | Path) -> list[x509.Certificate]:
    return x509.load_pem_x509_certificates(Path(path).read_bytes())


@dataclass(frozen=True, slots=True)
class Verification:
    verstat: Verstat
    attest: str = ""
    reason: str = ""


def verify_passport(
    jws: str,
    *,
    orig_tn: str,
    dest_tn: str,
    now: float,
    roots: list[x509.Certificate],
    fetch: CertFetcher,
    x5u: str | None = None,
) -> Passport:
    """RFC 8224 §6.2 verification; raises ``ShakenError`` with the reason."""
    passport = parse_passport(jws)
    h = passport.header
    if h.get("alg") != "ES256" or h.get("ppt") != "shaken" or h.get("typ") not in ("passport", None):
        raise ShakenError("not an ES256 SHAKEN PASSporT")
    url = str(h.get("x5u") or "")
    if not url or (x5u is not None and x5u != url):
        raise ShakenError("x5u missing or not the info parameter")
    iat = passport.claims.get("iat")
    if not isinstance(iat, int) or abs(now - iat) > IAT_FRESH_S:
        raise ShakenError("stale iat")  # RFC 8224 §6.2.1
    if passport.attest not in ATTESTATIONS:
        raise ShakenError("bad attest")
    if passport.orig_tn != canonical_tn(orig_tn):
        raise ShakenError("orig does not match the caller")
    if canonical_tn(dest_tn) not in passport.dest_tns:
        raise ShakenError("dest does not match the called number")
    try:
        certs = x509.load_pem_x509_certificates(fetch(url))
    except ShakenError:
        raise
    except Exception as exc:
        raise ShakenError(f"certificate not available: {exc}") from exc
    if not certs:
        raise ShakenError("no certificate at x5u")
    _chains_to(certs, roots, datetime.fromtimestamp(now, UTC))
    key = certs[0].public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey) or len(passport.signature) != 64:
        raise ShakenError("not an ES256 key or signature")
    sig = encode_dss_signature(
        int.from_bytes(passport.signature[:32], "big"), int.from_bytes(passport.signature[32:], "big")
    )
    try:
        key.verify(sig, passport.signing_input, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature as exc:
        raise ShakenError("bad signature") from exc
    return passport


def verify_identity(
    value: str | None,
    *,
    orig_tn: str,
    dest_tn: str,
    now: float,
    roots: list[x509.Certificate],
    fetch: CertFetcher,
) -> Verification:
    """The verstat of an incoming request's Identity header (none: No-TN-Validation)."""
    if not value:
        return Verification(Verstat.NONE, reason="no Identity header")
    jws, params = parse_identity(value)
    if params.get("ppt", "shaken") != "shaken" or params.get("alg", "ES256") != "ES256":
        return Verification(Verstat.NONE, reason="not a SHAKEN Identity")
    try:
        passport = verify_passport(
            jws, orig_tn=orig_tn, dest_tn=dest_tn, now=now, roots=roots, fetch=fetch, x5u=params.get("info")
        )
    except ShakenError as exc:
        return Verification(Verstat.FAILED, reason=str(exc))
    return Verification(Verstat.PASSED, attest=passport.attest)
