"""The in-memory aggregator: a tap on the event bus (cpaas/events.py ``add_tap``) that counts every
event into per-minute buckets, and a thread that flushes them every ``flush_s`` into the three tiers
(tiers.py: the minute bucket, and the hour and day buckets it falls in) in one transaction.

Tapping costs a dictionary update under a lock on the emitter's thread (the call path never waits
for the database). What a crash can lose: the counts of the last ``flush_s``. The aggregation lag —
from an event's emission to its count being committed in the real-time tier — is measured on every
flush (``lag``; bench/insights_bench.py prints it at 1,000 events/s).

After each flush the alert rules (alerts.py) see the flushed events and, every ``alert_every_s``,
evaluate their thresholds.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session, sessionmaker

from centrex.insights.metrics import Calls, counts_of
from centrex.insights.tiers import DAY, HOUR, MINUTE, add_counts, floor
from centrex.store.db import transaction

if TYPE_CHECKING:
    from centrex.insights.alerts import AlertEngine

log = logging.getLogger(__name__)

BucketKey = tuple[uuid.UUID, datetime, str, str, str, str]  # tenant, minute, metric, site, from, to
Event = tuple[uuid.UUID, str, dict[str, Any], datetime]


@dataclass(frozen=True, slots=True)
class Flushed:
    events: int
    buckets: int
    max_lag_s: float  # the oldest event of the batch: emitted → committed
    mean_lag_s: float


class Aggregator:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        flush_s: float = 1.0,
        alerts: AlertEngine | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.sessions = sessions
        self.flush_s = flush_s
        self.alerts = alerts
        self.clock = clock
        self.calls = Calls()
        self.counted = 0
        self.lag: deque[Flushed] = deque(maxlen=3600)
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._buckets: dict[BucketKey, list[int]] = {}
        self._events: list[Event] = []
        self._n = 0
        self._first = 0.0  # clock of the batch's first event
        self._sum = 0.0  # sum of the batch's events' clocks (for the mean lag)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- the tap (any thread) -------------------------------------------------------------------
    def tap(self, tenant_id: uuid.UUID, event_type: str, data: dict[str, Any], at: datetime) -> None:
        counts = counts_of(event_type, data, self.calls)
        watched = self.alerts is not None and self.alerts.watches(tenant_id, event_type)
        if not counts and not watched:
            return
        if not isinstance(tenant_id, uuid.UUID):  # an emitter that passed the id as text
            tenant_id = uuid.UUID(str(tenant_id))
        minute = floor(at, MINUTE)
        now = self.clock()
        with self._lock:
            for c in counts:
                key = (tenant_id, minute, c.metric, c.site, c.party_from, c.party_to)
                acc = self._buckets.get(key)
                if acc is None:
                    self._buckets[key] = [1, c.value]
                else:
                    acc[0] += 1
                    acc[1] += c.value
            if watched:
                self._events.append((tenant_id, event_type, data, at))
            if self._n == 0:
                self._first = now
            self._n += 1
            self._sum += now

    # -- flushing ------------------------------------------------------------------------------
    def flush(self) -> Flushed:
        """Write what was counted since the last flush (the flush thread, tests, the benchmark)."""
        with self._flush_lock:
            with self._lock:
                buckets, self._buckets = self._buckets, {}
                events, self._events = self._events, []
                n, first, total = self._n, self._first, self._sum
                self._n, self._sum = 0, 0.0
            rows: dict[tuple[Any, ...], dict[str, Any]] = {}
            for (tenant_id, minute, metric, site, p_from, p_to), (count, value) in buckets.items():
                for tier in (MINUTE, HOUR, DAY):
                    start = minute if tier == MINUTE else floor(minute, tier)
                    key = (tenant_id, tier, start, metric, site, p_from, p_to)
                    row = rows.get(key)
                    if row is None:
                        rows[key] = {
                            "tenant_id": tenant_id,
                            "tier": tier,
                            "bucket_start": start,
                            "metric": metric,
                            "site": site,
                            "party_from": p_from,
                            "party_to": p_to,
                            "count": count,
                            "total": value,
                        }
                    else:
                        row["count"] += count
                        row["total"] += value
            if rows:
                try:
                    with transaction(self.sessions) as s:
                        add_counts(s, list(rows.values()))
                except Exception:
                    log.exception("insights.flush_failed buckets=%d", len(buckets))
                    self._put_back(buckets, events, n, first, total)
                    raise
            done = self.clock()
            result = Flushed(
                n,
                len(buckets),
                done - first if n else 0.0,
                done - total / n if n else 0.0,
            )
            if n:
                self.counted += n
                self.lag.append(result)
        if self.alerts is not None:
            try:
                self.alerts.after_flush(events)
            except Exception:
                log.exception("insights.alerts_failed")
        return result

    def _put_back(
        self, buckets: dict[BucketKey, list[int]], events: list[Event], n: int, first: float, total: float
    ) -> None:
        with self._lock:
            for key, (count, value) in buckets.items():
                acc = self._buckets.setdefault(key, [0, 0])
                acc[0] += count
                acc[1] += value
            self._events[:0] = events
            if n:
                self._first = first if self._n == 0 else min(first, self._first)
                self._n += n
                self._sum += total

    # -- the thread ----------------------------------------------------------------------------
    def start(self) -> Aggregator:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="centrex-insights", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        try:
            self.flush()  # the last counts
        except Exception:
            log.exception("insights.final_flush_failed")

    def _run(self) -> None:
        while not self._stop.wait(self.flush_s):
            try:
                self.flush()
            except Exception as exc:  # logged in flush; the counts were put back for the next one
                log.debug("insights.flush_retry %s", exc)
