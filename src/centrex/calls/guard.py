"""Who may talk to the SIP service at all: brute-force bans and a per-source rate limit.

Pure decision logic (time is a parameter, no sockets). The SIP service asks ``admit`` before a
datagram is even parsed, so a banned or flooding source costs one dictionary lookup and gets no
answer at all (research/sip-core.md §5, items 3 and 4: Kamailio's pike + htable ban, "silently
drop"; fail2ban's defaults of ``maxretry = 5`` within ``findtime = 10m``, ``bantime = 10m``).

The bans are fairuse/ban_service.py's (realm ``sip``): only failures that prove guessing reach
them (calls/auth.py), the allowlist (trunks, the operator's networks) is never banned, and bans
are kept in the store. The rate limit (Kamailio's pike) stays here for floods that never even
try to authenticate.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace

from centrex.fairuse.ban_service import BanService
from centrex.fairuse.bans import Ban, BanPolicy, Realm, parse_network
from centrex.transport.stream import StreamLimits

log = logging.getLogger(__name__)

# Kamailio's default configuration drops these User-Agents (research/sip-core.md §5, item 5).
SCANNER_UA_RE = re.compile(
    rb"(?im)^(?:user-agent|ua)\s*:.*(?:friendly|scanner|sipcli|sipvicious|vaxsipuseragent|pplsip)"
)


@dataclass(frozen=True, slots=True)
class GuardConfig:
    """Defaults follow fail2ban (5 failures in 10 minutes, banned 10 minutes) for authentication,
    and a token bucket per source for the request rate (generous: a whole office behind one NAT
    address shares it)."""

    max_auth_failures: int = 5
    failure_window_s: float = 600.0
    ban_s: float = 600.0
    rate_per_s: float = 50.0
    burst: float = 200.0
    drop_scanners: bool = True
    # Networks never banned besides the trunks' (CENTREX_SIP_BAN_ALLOW): offices, monitoring.
    allow: tuple[str, ...] = ()

    @property
    def ban_policy(self) -> BanPolicy:
        return BanPolicy(self.max_auth_failures, self.failure_window_s, self.ban_s)


class RateLimiter:
    """Token bucket per source: ``rate`` requests a second, bursts of ``burst``."""

    def __init__(self, rate: float = 50.0, burst: float = 200.0) -> None:
        self.rate = rate
        self.burst = burst
        self._buckets: dict[str, tuple[float, float]] = {}  # source -> (tokens, last time)

    def allow(self, source: str, now: float) -> bool:
        tokens, last = self._buckets.get(source, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        if tokens < 1.0:
            self._buckets[source] = (tokens, now)
            return False
        self._buckets[source] = (tokens - 1.0, now)
        return True

    def purge(self, now: float) -> None:
        """Forget sources whose bucket has refilled (they are back to the default state)."""
        full = [s for s, (t, last) in self._buckets.items() if t + (now - last) * self.rate >= self.burst]
        for source in full:
            del self._buckets[source]


class SourceGuard:
    """The one question asked of every datagram: may it be processed?"""

    def __init__(self, config: GuardConfig | None = None, bans: BanService | None = None) -> None:
        self.config = config or GuardConfig()
        c = self.config
        self.bans = bans or BanService({Realm.SIP: c.ban_policy}, allow=c.allow)
        self.rate = RateLimiter(c.rate_per_s, c.burst)
        self.dropped = 0

    def admit(self, source: str, data: bytes, now: float) -> bool:
        """False: drop silently. Responses (to our own requests) are not rate limited, but a
        banned source is not heard at all."""
        if self.bans.is_banned(source, now):
            self.dropped += 1
            return False
        if data.startswith(b"SIP/2.0 "):
            return True
        if not self.rate.allow(source, now):
            self.dropped += 1
            return False
        if self.config.drop_scanners and SCANNER_UA_RE.search(data[:4096]):
            self.dropped += 1
            return False
        return True

    def admit_connection(self, source: str, now: float) -> bool:
        """A TCP/TLS connection from a banned source is closed at accept, before any TLS work."""
        if self.bans.is_banned(source, now):
            self.dropped += 1
            return False
        return True

    def auth_failed(self, source: str, now: float, username: str | None = None) -> Ban | None:
        """A failure that proves guessing (a wrong password for a nonce issued to this source)."""
        return self.bans.failure(Realm.SIP, source, now, username)

    def purge(self, now: float) -> None:
        self.bans.purge(now)
        self.rate.purge(now)


def _number(env: Mapping[str, str], name: str, default: float, *, integer: bool = False) -> float:
    text = env.get(name)
    if not text:
        return default
    try:
        value = float(int(text)) if integer else float(text)
    except ValueError:
        value = -1.0
    if value <= 0:
        kind = "a positive whole number" if integer else "a positive number"
        raise ValueError(f"{name}={text!r}: must be {kind}")
    return value


def guard_config(env: Mapping[str, str]) -> GuardConfig:
    """The source guard from the environment, the defaults otherwise (docs/switch.md "Bans"):
    CENTREX_SIP_RATE (requests a second) and CENTREX_SIP_BURST per source — a source is one IP
    address, so a site with many phones behind one NAT address, a proxy in front (Kamailio) or a
    load generator needs more; CENTREX_SIP_BAN_FAILURES within CENTREX_SIP_BAN_WINDOW_S ban for
    CENTREX_SIP_BAN_S; CENTREX_SIP_BAN_ALLOW, comma-separated addresses or CIDR networks never
    banned (besides every trunk's gateways and inbound networks)."""
    base = GuardConfig()
    allow = tuple(a.strip() for a in env.get("CENTREX_SIP_BAN_ALLOW", "").split(",") if a.strip())
    for text in allow:
        try:
            parse_network(text)
        except ValueError as exc:
            raise ValueError(f"CENTREX_SIP_BAN_ALLOW: {exc}") from None
    return replace(
        base,
        rate_per_s=_number(env, "CENTREX_SIP_RATE", base.rate_per_s),
        burst=_number(env, "CENTREX_SIP_BURST", base.burst),
        max_auth_failures=int(_number(env, "CENTREX_SIP_BAN_FAILURES", base.max_auth_failures, integer=True)),
        failure_window_s=_number(env, "CENTREX_SIP_BAN_WINDOW_S", base.failure_window_s),
        ban_s=_number(env, "CENTREX_SIP_BAN_S", base.ban_s),
        allow=allow,
    )


def stream_limits(env: Mapping[str, str]) -> StreamLimits:
    """TCP/TLS limits from the environment (docs/switch.md "Bans"): CENTREX_SIP_TCP_IDLE_S (a
    connection with no complete message for that long is closed), CENTREX_SIP_TCP_PER_SOURCE and
    CENTREX_SIP_TCP_MAX (accepted connections from one address, and in all)."""
    base = StreamLimits()
    return replace(
        base,
        idle_s=_number(env, "CENTREX_SIP_TCP_IDLE_S", base.idle_s),
        per_source=int(_number(env, "CENTREX_SIP_TCP_PER_SOURCE", base.per_source, integer=True)),
        total=int(_number(env, "CENTREX_SIP_TCP_MAX", base.total, integer=True)),
    )
