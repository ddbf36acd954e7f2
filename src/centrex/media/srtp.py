"""SDES-SRTP (RFC 4568) keys and the per-leg crypto of the built-in relay.

SRTP itself (RFC 3711 AES counter mode, HMAC-SHA1 authentication, replay window) is Cisco's
libsrtp2 through pylibsrtp (the binding aiortc uses; its wheel bundles libsrtp). This module only
knows the two suites every SDES phone offers, the ``a=crypto`` attribute and which key protects
which direction of a relay leg.
"""

from __future__ import annotations

import base64
import logging
import secrets
from dataclasses import dataclass

from pylibsrtp import Error as SrtpError
from pylibsrtp import Policy, Session

# RFC 4568 §6.2: both suites use a 128-bit master key and a 112-bit master salt (30 bytes inline).
SUITES = {
    "AES_CM_128_HMAC_SHA1_80": Policy.SRTP_PROFILE_AES128_CM_SHA1_80,
    "AES_CM_128_HMAC_SHA1_32": Policy.SRTP_PROFILE_AES128_CM_SHA1_32,
}
KEY_SALT_LEN = 30
log = logging.getLogger(__name__)
SAVP_PROTOS = ("RTP/SAVP", "RTP/SAVPF")


@dataclass(frozen=True, slots=True)
class Crypto:
    """One ``a=crypto:<tag> <suite> inline:<key||salt base64>[|lifetime][|MKI:len]`` line."""

    tag: int
    suite: str
    key: bytes  # master key || master salt, 30 bytes

    def __str__(self) -> str:
        return f"{self.tag} {self.suite} inline:{base64.b64encode(self.key).decode()}"


def parse_crypto(value: str) -> Crypto | None:
    """An ``a=crypto`` value, or None for a suite we do not do, MKIs, several keys or a bad key
    (RFC 4568 §6.1: the answerer ignores crypto lines it cannot use)."""
    parts = value.split()
    if len(parts) < 3 or not parts[0].isdigit() or parts[1] not in SUITES:
        return None
    if ";" in parts[2] or not parts[2].startswith("inline:"):
        return None  # more than one key (a key per line only)
    inline = parts[2][len("inline:") :].split("|")
    if any(p.startswith("MKI") or ":" in p for p in inline[1:]):
        return None  # MKI: not used by the phones we serve
    try:
        key = base64.b64decode(inline[0] + "=" * (-len(inline[0]) % 4), validate=True)
    except ValueError:
        return None
    if len(key) != KEY_SALT_LEN:
        return None
    return Crypto(int(parts[0]), parts[1], key)


def new_key() -> bytes:
    return secrets.token_bytes(KEY_SALT_LEN)


def session(crypto: Crypto, outbound: bool) -> Session:
    policy = Policy(
        key=crypto.key,
        ssrc_type=Policy.SSRC_ANY_OUTBOUND if outbound else Policy.SSRC_ANY_INBOUND,
        srtp_profile=SUITES[crypto.suite],
    )
    policy.allow_repeat_tx = True  # a re-sent packet (relay retries, re-INVITE) is not an error
    policy.window_size = 1024
    return Session(policy=policy)


@dataclass(slots=True)
class SdesState:
    """What the SDP exchange with one relay leg's phone has said so far: our master key for it
    (one per leg, for the relay's life), the crypto lines of its pending offer, and whether we
    offered it SRTP and wait for its answer."""

    local_key: bytes
    their_offer: list[Crypto]
    their_proto: str = "RTP/SAVP"
    offered: bool = False
    current: tuple[Crypto, Crypto] | None = None  # (theirs, ours) the leg is keyed with


class SrtpLeg:
    """The crypto of one relay leg: ``inbound`` decrypts what its phone sends (the phone's key),
    ``outbound`` encrypts what the relay sends it (our key). Either may be None: plain RTP."""

    __slots__ = ("failed", "failed_rtcp", "inbound", "outbound")

    def __init__(self, inbound: Crypto | None, outbound: Crypto | None) -> None:
        self.inbound = session(inbound, False) if inbound else None
        self.outbound = session(outbound, True) if outbound else None
        self.failed = 0  # RTP packets that did not authenticate or were replays (dropped)
        self.failed_rtcp = 0  # the same for RTCP

    def unprotect(self, data: bytes, rtcp: bool) -> bytes | None:
        if self.inbound is None:
            return data
        try:
            return self.inbound.unprotect_rtcp(data) if rtcp else self.inbound.unprotect(data)
        except SrtpError as exc:
            log.debug("media.srtp.unprotect_failed rtcp=%s: %s", rtcp, exc)
            if rtcp:
                self.failed_rtcp += 1
            else:
                self.failed += 1
            return None

    def protect(self, data: bytes, rtcp: bool) -> bytes | None:
        if self.outbound is None:
            return data
        try:
            return self.outbound.protect_rtcp(data) if rtcp else self.outbound.protect(data)
        except SrtpError:
            return None
