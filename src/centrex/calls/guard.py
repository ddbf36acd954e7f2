"""Who may talk to the SIP service at all: brute-force bans and a per-source rate limit.

Pure decision logic (time is a parameter, no sockets). The SIP service asks ``admit`` before a
datagram is even parsed, so a banned or flooding source costs one dictionary lookup and gets no
answer at all (research/sip-core.md §5, items 3 and 4: Kamailio's pike + htable ban, "silently
drop"; fail2ban's defaults of ``maxretry = 5`` within ``findtime = 10m``, ``bantime = 10m``).
"""

from __future__ import annotations

import logging
import re
from collections import deque
from dataclasses import dataclass

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


class AuthFailureBan:
    """fail2ban in process: ``max_failures`` within ``window`` seconds bans the source for ``ban``."""

    def __init__(self, max_failures: int = 5, window: float = 600.0, ban: float = 600.0) -> None:
        self.max_failures = max_failures
        self.window = window
        self.ban = ban
        self._failures: dict[str, deque[float]] = {}
        self._banned_until: dict[str, float] = {}

    def is_banned(self, source: str, now: float) -> bool:
        until = self._banned_until.get(source)
        if until is None:
            return False
        if now >= until:
            del self._banned_until[source]
            return False
        return True

    def record_failure(self, source: str, now: float, username: str | None = None) -> bool:
        """Count one failed authentication; True when this failure bans the source."""
        times = self._failures.setdefault(source, deque())
        times.append(now)
        while times and times[0] <= now - self.window:
            times.popleft()
        if len(times) >= self.max_failures:
            self._banned_until[source] = now + self.ban
            del self._failures[source]
            # One structured line, the fail2ban way: enough to feed an external firewall too.
            log.warning(
                "sip.ban source=%s failures=%d window_s=%g ban_s=%g last_username=%r",
                source,
                self.max_failures,
                self.window,
                self.ban,
                username,
            )
            return True
        return False

    def purge(self, now: float) -> None:
        for source in [s for s, until in self._banned_until.items() if now >= until]:
            del self._banned_until[source]
        for source in list(self._failures):
            times = self._failures[source]
            while times and times[0] <= now - self.window:
                times.popleft()
            if not times:
                del self._failures[source]

    @property
    def banned_count(self) -> int:
        return len(self._banned_until)


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

    def __init__(self, config: GuardConfig | None = None) -> None:
        self.config = config or GuardConfig()
        c = self.config
        self.bans = AuthFailureBan(c.max_auth_failures, c.failure_window_s, c.ban_s)
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

    def auth_failed(self, source: str, now: float, username: str | None = None) -> bool:
        return self.bans.record_failure(source, now, username)

    def purge(self, now: float) -> None:
        self.bans.purge(now)
        self.rate.purge(now)
