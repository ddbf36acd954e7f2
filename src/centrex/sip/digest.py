"""HTTP digest authentication for SIP (RFC 3261 §22, RFC 8760 for SHA-256)."""

from __future__ import annotations

import enum
import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from centrex.sip.errors import SipParseError
from centrex.sip.headers import parse_auth_params, quote

ALGORITHMS = ("MD5", "SHA-256")


def _hash(algorithm: str, data: str) -> str:
    if algorithm == "MD5":
        return hashlib.md5(data.encode(), usedforsecurity=False).hexdigest()
    if algorithm == "SHA-256":
        return hashlib.sha256(data.encode()).hexdigest()
    raise ValueError(f"unsupported digest algorithm {algorithm!r}; expected one of {ALGORITHMS}")


def compute_ha1(username: str, realm: str, password: str, algorithm: str) -> str:
    """HA1 = H(username:realm:password). Stored instead of the password, one per algorithm."""
    return _hash(algorithm, f"{username}:{realm}:{password}")


# --- Digest challenge and response (RFC 3261 §22.4, RFC 7616 §3.4, RFC 8760) -----------------

_HASH_ALGORITHMS = {"MD5": "md5", "SHA-256": "sha256"}


@dataclass(frozen=True, slots=True)
class DigestChallenge:
    """One WWW-Authenticate / Proxy-Authenticate value."""

    realm: str
    nonce: str
    algorithm: str = "MD5"
    qop: str | None = "auth"
    opaque: str | None = None
    stale: bool = False

    def __str__(self) -> str:
        parts = [f"realm={quote(self.realm)}", f"nonce={quote(self.nonce)}"]
        if self.opaque is not None:
            parts.append(f"opaque={quote(self.opaque)}")
        if self.stale:
            parts.append("stale=true")
        parts.append(f"algorithm={self.algorithm}")
        if self.qop:
            parts.append(f"qop={quote(self.qop)}")
        return "Digest " + ", ".join(parts)


@dataclass(frozen=True, slots=True)
class DigestCredentials:
    """One Authorization / Proxy-Authorization value."""

    username: str
    realm: str
    nonce: str
    uri: str
    response: str
    algorithm: str = "MD5"
    qop: str | None = None
    nc: str | None = None
    cnonce: str | None = None
    opaque: str | None = None

    def __str__(self) -> str:
        parts = [
            f"username={quote(self.username)}",
            f"realm={quote(self.realm)}",
            f"nonce={quote(self.nonce)}",
            f"uri={quote(self.uri)}",
            f"response={quote(self.response)}",
            f"algorithm={self.algorithm}",
        ]
        if self.qop:
            parts += [f"qop={self.qop}", f"nc={self.nc}", f"cnonce={quote(self.cnonce or '')}"]
        if self.opaque is not None:
            parts.append(f"opaque={quote(self.opaque)}")
        return "Digest " + ", ".join(parts)


def _digest_params(value: str) -> dict[str, str]:
    scheme, params = parse_auth_params(value)
    if scheme.lower() != "digest":
        raise SipParseError(f"not a Digest header: scheme {scheme!r}")
    return params


def parse_challenge(value: str) -> DigestChallenge:
    p = _digest_params(value)
    if "realm" not in p or "nonce" not in p:
        raise SipParseError("Digest challenge without realm or nonce")
    qops = [q.strip() for q in p.get("qop", "").split(",") if q.strip()]
    return DigestChallenge(
        realm=p["realm"],
        nonce=p["nonce"],
        algorithm=p.get("algorithm", "MD5").upper(),
        qop="auth" if "auth" in qops else (qops[0] if qops else None),
        opaque=p.get("opaque"),
        stale=p.get("stale", "").lower() == "true",
    )


def parse_credentials(value: str) -> DigestCredentials:
    p = _digest_params(value)
    missing = [k for k in ("username", "realm", "nonce", "uri", "response") if k not in p]
    if missing:
        raise SipParseError(f"Digest credentials missing {', '.join(missing)}")
    return DigestCredentials(
        username=p["username"],
        realm=p["realm"],
        nonce=p["nonce"],
        uri=p["uri"],
        response=p["response"].lower(),
        algorithm=p.get("algorithm", "MD5").upper(),
        qop=p.get("qop"),
        nc=p.get("nc"),
        cnonce=p.get("cnonce"),
        opaque=p.get("opaque"),
    )


def compute_response(
    ha1: str,
    method: str,
    uri: str,
    nonce: str,
    algorithm: str = "MD5",
    qop: str | None = None,
    nc: str | None = None,
    cnonce: str | None = None,
) -> str:
    """request-digest of RFC 2617 §3.2.2.1 / RFC 7616 §3.4.1 for qop=auth or no qop."""
    ha2 = _hash(algorithm, f"{method}:{uri}")
    if qop == "auth":
        return _hash(algorithm, f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}")
    if qop:
        raise ValueError(f"unsupported qop {qop!r}")
    return _hash(algorithm, f"{ha1}:{nonce}:{ha2}")


def build_authorization(
    challenge: DigestChallenge | str,
    method: str,
    uri: str,
    username: str,
    password: str,
    *,
    cnonce: str | None = None,
    nc: int = 1,
) -> str:
    """Client side: the Authorization value answering ``challenge`` (for tests and load tools)."""
    ch = parse_challenge(challenge) if isinstance(challenge, str) else challenge
    ha1 = compute_ha1(username, ch.realm, password, ch.algorithm)
    qop = "auth" if ch.qop == "auth" else None
    nc_text = f"{nc:08x}" if qop else None
    cnonce = (cnonce or secrets.token_hex(8)) if qop else None
    response = compute_response(ha1, method, uri, ch.nonce, ch.algorithm, qop, nc_text, cnonce)
    creds = DigestCredentials(
        username, ch.realm, ch.nonce, uri, response, ch.algorithm, qop, nc_text, cnonce, ch.opaque
    )
    return str(creds)


class AuthStatus(enum.Enum):
    OK = "ok"
    STALE = "stale"  # an expired nonce of ours (any password): challenge again with stale=true
    FAILED = "failed"  # wrong password, unknown user, forged nonce, malformed: all the same


@dataclass(frozen=True, slots=True)
class AuthResult:
    status: AuthStatus
    username: str | None = None
    reason: str = ""  # for logs only: never put it in a response (it would tell users apart)
    # A wrong password (or unknown user) answering a fresh nonce we issued to this very client: the
    # only failure that proves someone is guessing. A made-up, replayed-from-elsewhere or expired
    # nonce proves nothing (anyone can forge a UDP source) and must not count toward a ban.
    guessing: bool = False

    @property
    def ok(self) -> bool:
        return self.status is AuthStatus.OK


HA1Lookup = Callable[[str, str, str], str | None]


class DigestAuthenticator:
    """Server side of digest authentication with stateless nonces.

    nonce = hex(timestamp) "." HMAC-SHA256(secret, timestamp:realm:client_key)[:32 hex]: it
    proves we issued it, when, and to whom (``client_key``: the source address), so expiry and
    "issued to this source" are checked without storing anything. Keep ``secret`` across restarts
    (the service keeps it in the store) and a nonce issued before one is still recognized after. The price of
    statelessness is that a nonce can be replayed until it expires (no nc tracking); keep
    ``nonce_ttl`` short and bind nonces to the source address through ``client_key``.

    ``lookup_ha1(username, realm, algorithm)`` returns the stored HA1 or None. Unknown users
    are verified against a fake HA1, so that timing and results match a wrong password.
    """

    def __init__(
        self,
        realm: str,
        secret: bytes,
        *,
        nonce_ttl: float = 300.0,
        algorithms: tuple[str, ...] = ("SHA-256", "MD5"),
    ) -> None:
        for algorithm in algorithms:
            if algorithm not in ALGORITHMS:
                raise ValueError(f"unsupported digest algorithm {algorithm!r}")
        self.realm = realm
        self._secret = secret
        self.nonce_ttl = nonce_ttl
        self.algorithms = algorithms
        self.opaque = hmac.new(secret, f"opaque:{realm}".encode(), hashlib.sha256).hexdigest()[:16]

    def _mac(self, stamp: str, client_key: str) -> str:
        msg = f"{stamp}:{self.realm}:{client_key}".encode()
        return hmac.new(self._secret, msg, hashlib.sha256).hexdigest()[:32]

    def make_nonce(self, now: float, client_key: str = "") -> str:
        stamp = f"{int(now):x}"
        return f"{stamp}.{self._mac(stamp, client_key)}"

    def nonce_status(self, nonce: str, now: float, client_key: str = "") -> AuthStatus:
        """OK if we issued it and it is fresh, STALE if ours but expired, FAILED otherwise."""
        stamp, dot, mac = nonce.partition(".")
        if not dot or not stamp or len(stamp) > 16 or any(c not in "0123456789abcdef" for c in stamp):
            return AuthStatus.FAILED
        if not hmac.compare_digest(mac, self._mac(stamp, client_key)):
            return AuthStatus.FAILED
        age = now - int(stamp, 16)
        # A nonce from the future is no more than clock granularity; a large skew is a forgery.
        if age > self.nonce_ttl or age < -5:
            return AuthStatus.STALE
        return AuthStatus.OK

    def challenge(self, now: float, *, stale: bool = False, client_key: str = "") -> list[str]:
        """Header values for 401 WWW-Authenticate / 407 Proxy-Authenticate, one per algorithm,
        the preferred first (RFC 8760 §2.4). The same for every user, known or not."""
        nonce = self.make_nonce(now, client_key)
        return [
            str(DigestChallenge(self.realm, nonce, a, "auth", self.opaque, stale)) for a in self.algorithms
        ]

    def verify(
        self,
        authorization: str,
        method: str,
        now: float,
        lookup_ha1: HA1Lookup,
        *,
        client_key: str = "",
        request_uri: str | None = None,
    ) -> AuthResult:
        """Check an Authorization / Proxy-Authorization value for ``method``."""
        try:
            creds = parse_credentials(authorization)
        except SipParseError as exc:
            return AuthResult(AuthStatus.FAILED, None, exc.reason)
        if creds.realm != self.realm:
            return AuthResult(AuthStatus.FAILED, creds.username, "realm mismatch")
        if creds.algorithm not in self.algorithms:
            return AuthResult(AuthStatus.FAILED, creds.username, f"algorithm {creds.algorithm} not offered")
        if creds.qop not in (None, "auth") or (creds.qop and not (creds.nc and creds.cnonce)):
            return AuthResult(AuthStatus.FAILED, creds.username, "bad qop/nc/cnonce")
        if creds.opaque is not None and not hmac.compare_digest(creds.opaque, self.opaque):
            return AuthResult(AuthStatus.FAILED, creds.username, "opaque mismatch")
        if request_uri is not None and creds.uri != request_uri:
            return AuthResult(AuthStatus.FAILED, creds.username, "digest uri differs from Request-URI")
        nonce = self.nonce_status(creds.nonce, now, client_key)
        if nonce is AuthStatus.FAILED:
            return AuthResult(AuthStatus.FAILED, creds.username, "nonce not issued by us")
        if nonce is AuthStatus.STALE:
            # Stale whatever the password (RFC 7616 §3.3: stale means the nonce is invalid). Were
            # it stale only with the right password, an expired nonce — which counts nothing
            # toward a ban — would let a guesser try passwords forever and read the answer.
            return AuthResult(AuthStatus.STALE, creds.username, "nonce expired")
        stored = lookup_ha1(creds.username, creds.realm, creds.algorithm)
        # Unknown user: same work against a fake HA1, so nothing tells the two cases apart.
        ha1 = stored or _hash(creds.algorithm, f"{creds.username}:{self._mac('fake', creds.username)}")
        expected = compute_response(
            ha1, method, creds.uri, creds.nonce, creds.algorithm, creds.qop, creds.nc, creds.cnonce
        )
        good = hmac.compare_digest(expected.encode(), creds.response.encode()) and stored is not None
        if not good:
            # A fresh nonce of ours for this very client, and the wrong password: guessing.
            return AuthResult(
                AuthStatus.FAILED, creds.username, "wrong response or unknown user", guessing=True
            )
        return AuthResult(AuthStatus.OK, creds.username)
