"""Brute-force bans: one decision for every door a password opens (SIP now; phone provisioning and
portal log-in later), after fail2ban and Kamailio's htable bans.

Pure logic: time is a parameter, nothing is read or written here (fairuse/ban_store.py persists,
fairuse/ban_service.py puts the two together for a running service). What counts as a failure is
the caller's decision and must prove guessing (for SIP: a wrong password answering a nonce we issued
to that very source, calls/auth.py); a source on the allowlist (trunk, peer and SBC addresses, the
operator's networks) is never banned, however many failures it shows.

Each realm of use has its own failures and bans: a portal ban does not silence a site's phones.
An IPv6 source is counted and banned by its /64, the block one subscriber line is given (RFC 6177):
otherwise an attacker walks through 2^64 addresses of its own.
"""

from __future__ import annotations

import ipaddress
import logging
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

log = logging.getLogger(__name__)

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class Realm(StrEnum):
    """What was being guessed: each realm counts and bans on its own."""

    SIP = "sip"
    PROVISIONING = "provisioning"
    PORTAL = "portal"


@dataclass(frozen=True, slots=True)
class BanPolicy:
    """fail2ban's defaults: ``maxretry = 5`` within ``findtime = 10m`` bans for ``bantime = 10m``."""

    max_failures: int = 5
    window_s: float = 600.0
    ban_s: float = 600.0

    def __post_init__(self) -> None:
        if self.max_failures < 1 or self.window_s <= 0 or self.ban_s <= 0:
            raise ValueError(
                f"ban policy {self}: max_failures must be at least 1, window_s and ban_s positive"
            )


@dataclass(frozen=True, slots=True)
class Ban:
    realm: Realm
    source: str  # the source key: an IPv4 address or an IPv6 /64 (source_key)
    started: float
    until: float
    failures: int
    last_username: str | None = None

    def active(self, now: float) -> bool:
        return now < self.until


def parse_network(text: str) -> IpNetwork:
    """An address or CIDR network ("192.0.2.7", "198.51.100.0/24", "2001:db8::/48"); host bits
    are allowed (a gateway written as 192.0.2.7/24 means its /24)."""
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        raise ValueError(f"{text!r} is not an IP address or CIDR network") from None


def source_key(source: str) -> str:
    """What a source is counted and banned as: an IPv4 address itself, an IPv6 address its /64."""
    if ":" not in source:
        return source
    try:
        return str(ipaddress.IPv6Network(f"{source.split('%', 1)[0]}/64", strict=False))
    except ValueError:
        return source


class Allowlist:
    """Networks never banned. Single addresses (most gateways) are a set lookup; networks one set
    lookup per distinct prefix length (the way routing tables are searched), not a scan."""

    def __init__(self, networks: Iterable[str | IpNetwork] = ()) -> None:
        nets = [n if not isinstance(n, str) else parse_network(n) for n in networks]
        self.networks: tuple[IpNetwork, ...] = tuple(sorted(set(nets), key=str))
        self._hosts = {str(n.network_address) for n in self.networks if n.num_addresses == 1}
        by_mask: dict[tuple[int, int], set[int]] = {}
        for n in self.networks:
            if n.num_addresses > 1:
                by_mask.setdefault((n.version, int(n.netmask)), set()).add(int(n.network_address))
        self._masks = list(by_mask.items())

    def __contains__(self, source: str) -> bool:
        if source in self._hosts:
            return True
        if not self._masks:
            return False
        try:
            address = ipaddress.ip_address(source.split("%", 1)[0])
        except ValueError:
            return False
        value, version = int(address), address.version
        return any(v == version and value & mask in nets for (v, mask), nets in self._masks)

    def __len__(self) -> int:
        return len(self.networks)


class BanBook:
    """Failures within a window per (realm, source) and the bans they started.

    ``failure`` returns the ban it starts (to be persisted and logged), ``purge`` the bans that
    ended; ``restore`` brings back bans read from the store at start. Lookups are one dict get.
    """

    def __init__(
        self,
        policies: Mapping[Realm, BanPolicy] | None = None,
        allowlist: Allowlist | None = None,
    ) -> None:
        self.policies = dict(policies or {})
        self.allowlist = allowlist or Allowlist()
        self._failures: dict[tuple[Realm, str], deque[float]] = {}
        self._bans: dict[tuple[Realm, str], Ban] = {}

    def policy(self, realm: Realm) -> BanPolicy:
        return self.policies.get(realm) or BanPolicy()

    def ban_of(self, realm: Realm, source: str, now: float) -> Ban | None:
        ban = self._bans.get((realm, source_key(source)))
        return ban if ban is not None and ban.active(now) else None

    def is_banned(self, realm: Realm, source: str, now: float) -> bool:
        return self.ban_of(realm, source, now) is not None

    def allowed(self, source: str) -> bool:
        return source in self.allowlist

    def failure(self, realm: Realm, source: str, now: float, username: str | None = None) -> Ban | None:
        """Count one failure that proves guessing; the Ban if it starts one now."""
        if source in self.allowlist:
            return None  # a carrier or an operator's network: never locked out
        key = (realm, source_key(source))
        if key in self._bans and self._bans[key].active(now):
            return None
        policy = self.policy(realm)
        times = self._failures.setdefault(key, deque())
        times.append(now)
        while times and times[0] <= now - policy.window_s:
            times.popleft()
        if len(times) < policy.max_failures:
            return None
        del self._failures[key]
        ban = Ban(realm, key[1], now, now + policy.ban_s, policy.max_failures, username)
        self._bans[key] = ban
        return ban

    def lift(self, realm: Realm, source: str) -> Ban | None:
        """End a ban now (the operator's decision); the failures counted so far are forgotten too."""
        key = (realm, source_key(source))
        self._failures.pop(key, None)
        return self._bans.pop(key, None)

    def restore(self, bans: Iterable[Ban], now: float) -> None:
        for ban in bans:
            if ban.active(now) and ban.source not in self.allowlist:
                self._bans[(ban.realm, ban.source)] = ban

    def replace(self, stored: Iterable[Ban], now: float, since: float) -> list[Ban]:
        """Make the active bans those of the store (another node's bans, operators' lifts), but keep
        bans started here at or after ``since`` (not yet written when the store was read). Returns
        the bans that were dropped (lifted elsewhere)."""
        fresh = {(b.realm, b.source): b for b in stored if b.active(now) and b.source not in self.allowlist}
        for key, ban in self._bans.items():
            if key not in fresh and ban.started >= since and ban.active(now):
                fresh[key] = ban
        gone = [b for k, b in self._bans.items() if k not in fresh and b.active(now)]
        self._bans = fresh
        return gone

    def set_allowlist(self, allowlist: Allowlist) -> list[Ban]:
        """A new allowlist; bans of sources now on it end at once (returned)."""
        self.allowlist = allowlist
        lifted = [b for b in self._bans.values() if b.source in allowlist]
        for ban in lifted:
            del self._bans[(ban.realm, ban.source)]
        return lifted

    def purge(self, now: float) -> list[Ban]:
        """Forget failures out of their window and bans that ran out; the ended bans."""
        ended = [b for b in self._bans.values() if not b.active(now)]
        for ban in ended:
            del self._bans[(ban.realm, ban.source)]
        for key in list(self._failures):
            times = self._failures[key]
            window = self.policy(key[0]).window_s
            while times and times[0] <= now - window:
                times.popleft()
            if not times:
                del self._failures[key]
        return ended

    def active(self, now: float) -> list[Ban]:
        return sorted((b for b in self._bans.values() if b.active(now)), key=lambda b: b.started)

    @property
    def banned_count(self) -> int:
        return len(self._bans)
