"""Prometheus metrics (issue 19 §1): one registry per running service, served at ``/metrics`` on
the HTTP port in the text exposition format.

Two kinds of figures, chosen by what they cost the call path:
- API latency is a prometheus_client Histogram observed by an ASGI middleware (a few µs a request;
  labels: method, the route *template* — ``/api/v1/tenants/{tenant_id}/users`` — and status, so a
  scanner trying random paths adds one ``unmatched`` series, not one per path);
- everything about the switch (calls, registrations, relay, record writer, gateways) is read at
  scrape time by collectors (ops/metrics_switch.py) from state the switch keeps anyway, or from
  plain integers one listener bumps per call event: the call path takes no lock and builds no
  label tuple for Prometheus.

Why prometheus_client: it is the reference client of the Prometheus project, has no dependencies,
and its custom-collector interface is what lets the switch's figures cost nothing until scraped.
A registry of our own (not the library's global one): each ``create_app`` (tests build many) has
its own, with the process's CPU, memory and GC collectors.

Who may read ``/metrics`` (docs/operations.md "Logs and metrics"): clients whose address is in
``metrics_allow`` (CIDRs, default loopback: a Prometheus on the host or a scrape through an SSH
tunnel) without a token, anyone else only with an operator bearer token; others get 403. The
figures name trunks and gateways: they are the operator's, not the tenants'.
"""

from __future__ import annotations

import asyncio
import ipaddress
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_TYPE = CONTENT_TYPE_LATEST
disable_created_metrics()  # no ``*_created`` series: Prometheus does not need them, people skim past them
DEFAULT_ALLOW = ("127.0.0.0/8", "::1/128")

# API latency buckets: 1 ms to 10 s (an answer from the gate's queue can take seconds).
API_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
UNMATCHED = "unmatched"  # a request no route took (404s, requests shed by the gate before routing)


class Metrics:
    """The registry of one service, the API histogram, and work to do before a scrape."""

    def __init__(self, allow: Sequence[str] = DEFAULT_ALLOW) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        GCCollector(registry=self.registry)
        self.api_latency = Histogram(
            "centrex_api_request_duration_seconds",
            "API requests by method, route template and status: time from the request to the "
            "last byte of the answer (the admission gate's wait included).",
            ("method", "route", "status"),
            buckets=API_BUCKETS,
            registry=self.registry,
        )
        self.allow = parse_networks(allow)
        # Blocking reads a collector needs fresh (the routing table from the store): run in a
        # worker thread before each scrape, so the event loop never waits on the database.
        self.before_scrape: list[Callable[[], None]] = []

    def register(self, collector: Collector) -> None:
        self.registry.register(collector)

    def allowed_address(self, host: str | None) -> bool:
        if not host:
            return False
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        return any(address in net for net in self.allow)

    async def render(self) -> bytes:
        """The text format. The collectors run here, on the event loop that owns the switch's
        state (the scrape is an ``async`` route): no dictionary of calls changes under them."""
        for prepare in self.before_scrape:
            await asyncio.to_thread(prepare)
        return generate_latest(self.registry)


def parse_networks(values: Iterable[str]) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(v.strip(), strict=False) for v in values if v.strip()]


class ApiLatency:
    """ASGI middleware: every HTTP request observed in ``centrex_api_request_duration_seconds``.

    The route is known only after routing (FastAPI puts the matched route in the scope), so it is
    read when the answer is complete. Outermost, so requests the admission gate shed are counted
    too (as ``unmatched``, status 503)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.histogram = metrics.api_latency

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        began = time.perf_counter()
        status = 500  # an exception before any answer: what the server will send

        async def observed(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, observed)
        finally:
            template = route_template(scope)
            self.histogram.labels(scope["method"], template, str(status)).observe(time.perf_counter() - began)


def route_template(scope: Scope) -> str:
    """The template of the route that took the request, with the prefix it was included under.

    FastAPI puts the route in the scope; since 0.16x an included router's route keeps its own path
    (``/tenants/{tenant_id}/users``), the ``/api/v1`` it was included under is only in the
    request's path: it is the part of the path before what the route's pattern matches."""
    route: Any = scope.get("route")
    template = getattr(route, "path", None)
    pattern = getattr(route, "path_regex", None)
    if not template or pattern is None:
        return UNMATCHED
    path = scope["path"]
    if pattern.match(path):
        return str(template)
    at = path.find("/", 1)
    while at > 0:
        if pattern.match(path[at:]):
            return path[:at] + str(template)
        at = path.find("/", at + 1)
    return str(template)
