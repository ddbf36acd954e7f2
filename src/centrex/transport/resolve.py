"""RFC 3263 DNS lookups with dnspython's asyncio resolver, and a cache that honours TTLs.

``Resolver.locate`` runs the steps of sip/locate.py (NAPTR, then SRV, then A/AAAA) against the
configured name servers and returns the hops to try, best first. Every answer, empty ones
included, is kept for its TTL (an empty answer for NEGATIVE_TTL_S, capped by the zone's SOA
minimum when one comes with it), so a busy switch asks each question once per TTL. ``cached``
gives the last hops of a query without waiting, for callers that cannot await (the routing
table the call engine reads synchronously).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable, Sequence
from typing import TypeVar

import dns.asyncresolver
import dns.exception
import dns.name
import dns.rdatatype
import dns.resolver

from centrex.sip.locate import (
    SUPPORTED,
    Hop,
    Naptr,
    Query,
    Srv,
    default_port,
    hops,
    naptr_services,
    order_srv,
    srv_names,
)
from centrex.sip.uri import SipUri

log = logging.getLogger(__name__)

NEGATIVE_TTL_S = 30.0  # an empty or failed answer is asked again after this (at most)
MAX_TTL_S = 86_400.0
MAX_ENTRIES = 10_000

Record = Naptr | Srv | str
K = TypeVar("K")
V = TypeVar("V")


def query_for(uri: SipUri) -> Query:
    """What RFC 3263 looks up for ``uri``: its maddr or host, explicit port and transport."""
    # sips without a transport parameter: TLS is implied by Query.secure.
    return Query(uri.params.get("maddr") or uri.host, uri.port, uri.transport, uri.secure)


class Resolver:
    """``nameservers`` (with ``port``) replace the system's /etc/resolv.conf servers: tests run
    a DNS server of their own on 127.0.0.1, an operator may name the carrier's."""

    def __init__(
        self,
        nameservers: Sequence[str] | None = None,
        *,
        port: int = 53,
        timeout_s: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
        rand: Callable[[], float] = random.random,
        supported: Sequence[str] = SUPPORTED,
    ) -> None:
        self._dns = dns.asyncresolver.Resolver(configure=nameservers is None)
        if nameservers is not None:
            self._dns.nameservers = list(nameservers)
            self._dns.port = port
        self._dns.lifetime = timeout_s
        self._dns.cache = None  # ours below: it also keeps empty answers and the hop lists
        self.clock = clock
        self.rand = rand
        self.supported = tuple(supported)
        self._answers: dict[tuple[str, str], tuple[float, list[Record]]] = {}
        self._located: dict[Query, tuple[float, list[Hop]]] = {}
        self.queries = 0  # questions actually sent (the cache's effect is measurable)
        self._pending: set[Query] = set()
        self._tasks: set[asyncio.Task[list[Hop]]] = set()

    async def locate_uri(self, uri: SipUri) -> list[Hop]:
        return await self.locate(query_for(uri))

    async def locate(self, query: Query) -> list[Hop]:
        """The hops for ``query``, best first; [] when DNS knows nothing usable."""
        hit = self._located.get(query)
        now = self.clock()
        if hit is not None and hit[0] > now:
            return hit[1]
        expires = [now + MAX_TTL_S]
        found = await self._locate(query, expires)
        self._store(self._located, query, (min(expires), found))
        return found

    def prefetch(self, query: Query) -> None:
        """Look ``query`` up in the background (once at a time per query); ``cached`` has the
        answer when it is in. For synchronous callers (routing/resolved.py)."""
        if query in self._pending:
            return
        self._pending.add(query)
        task = asyncio.get_running_loop().create_task(self.locate(query))
        self._tasks.add(task)
        task.add_done_callback(lambda t: self._done(query, t))

    def _done(self, query: Query, task: asyncio.Task[list[Hop]]) -> None:
        self._pending.discard(query)
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("dns.prefetch.failed query=%s error=%s", query, task.exception())

    async def close(self) -> None:
        """Cancel lookups still in flight (at shutdown)."""
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def cached(self, query: Query) -> list[Hop] | None:
        """The hops of the last ``locate`` of ``query`` while its TTL lasts, else None."""
        hit = self._located.get(query)
        return hit[1] if hit is not None and hit[0] > self.clock() else None

    # -- the RFC 3263 steps ----------------------------------------------------------------
    async def _locate(self, query: Query, expires: list[float]) -> list[Hop]:
        host = query.host.strip("[]")
        if query.numeric:
            transport = query.fallback_transport
            return [Hop(host, query.port or default_port(transport), transport)]
        if query.port is not None:
            transport = query.fallback_transport
            return await self._hops([(host, query.port, transport)], expires)
        services: list[tuple[str, str]] = []
        if query.needs_naptr:
            naptrs = [r for r in await self._ask(host, "NAPTR", expires) if isinstance(r, Naptr)]
            services = naptr_services(naptrs, query, self.supported)
        if not services:
            services = srv_names(query, self.supported)
        for transport, name in services:
            records = [r for r in await self._ask(name, "SRV", expires) if isinstance(r, Srv)]
            if records:
                targets = [(r.target.rstrip("."), r.port, transport) for r in order_srv(records, self.rand)]
                found = await self._hops(targets, expires)
                if found:
                    return found
        transport = query.fallback_transport
        return await self._hops([(host, default_port(transport), transport)], expires)

    async def _hops(self, targets: list[tuple[str, int, str]], expires: list[float]) -> list[Hop]:
        addresses: dict[str, list[str]] = {}
        for host, _, _ in targets:
            if host not in addresses:
                found = [r for r in await self._ask(host, "A", expires) if isinstance(r, str)]
                found += [r for r in await self._ask(host, "AAAA", expires) if isinstance(r, str)]
                addresses[host] = found
        return hops(targets, lambda h: addresses[h])

    async def _ask(self, name: str, rdtype: str, expires: list[float]) -> list[Record]:
        key = (name.lower().rstrip("."), rdtype)
        now = self.clock()
        hit = self._answers.get(key)
        if hit is not None and hit[0] > now:
            expires.append(hit[0])
            return hit[1]
        records, ttl = await self._fetch(key[0], rdtype)
        until = now + ttl
        self._store(self._answers, key, (until, records))
        expires.append(until)
        return records

    async def _fetch(self, name: str, rdtype: str) -> tuple[list[Record], float]:
        self.queries += 1
        qname = dns.name.from_text(name)
        try:
            answer = await self._dns.resolve(qname, rdtype, raise_on_no_answer=False, search=False)
        except dns.resolver.NXDOMAIN:
            return [], NEGATIVE_TTL_S
        except (dns.resolver.NoNameservers, dns.exception.Timeout) as exc:
            log.warning("dns.failed name=%s type=%s error=%s", name, rdtype, exc)
            return [], NEGATIVE_TTL_S
        if answer.rrset is None:
            return [], NEGATIVE_TTL_S
        ttl = min(float(answer.rrset.ttl), MAX_TTL_S)
        records: list[Record] = []
        for rdata in answer.rrset:
            kind = dns.rdatatype.to_text(rdata.rdtype)
            if kind == "NAPTR":
                records.append(
                    Naptr(
                        rdata.order,
                        rdata.preference,
                        rdata.flags.decode(),
                        rdata.service.decode(),
                        rdata.regexp.decode(),
                        rdata.replacement.to_text(),
                    )
                )
            elif kind == "SRV":
                records.append(Srv(rdata.priority, rdata.weight, rdata.port, rdata.target.to_text()))
            elif kind in ("A", "AAAA"):
                records.append(rdata.address)
        return records, ttl

    @staticmethod
    def _store(table: dict[K, V], key: K, value: V) -> None:
        if len(table) >= MAX_ENTRIES:
            table.clear()  # bounded: a flood of distinct names must not grow memory without end
        table[key] = value
