"""Toll-fraud spikes (issue 15 §3 "spikes raise alarms"): a tenant's international and premium
minutes in the last hour far above its own baseline.

Toll fraud is a burst: a hijacked PBX or phone dials premium and international numbers for hours,
often at night (cpaas.txt §4.2's credit limit and the toll guard's spend limit stop the money; this
tells someone). The baseline is the tenant's average minutes per hour of the same classes over the
``baseline_days`` before the window; a spike is a window with at least ``min_minutes`` and more than
``factor`` times the baseline. The thresholds are ours (no contract gives figures).

``detect_spikes`` reads the finished calls (CDRs) — calls in progress are the spend limit's — stores
each new spike (``fraud_spikes``, one per tenant per window) and hands it to ``on_spike``: the hook
for the operations alarms (ops/alarms.py, wired at merge).
"""

from __future__ import annotations

import logging
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from centrex.numbers.classes import CallClass
from centrex.store.db import transaction
from centrex.store.models import CallDetail
from centrex.store.models.fraud import FraudSpike

log = logging.getLogger(__name__)

SPIKE_CLASSES = (CallClass.INTERNATIONAL.value, CallClass.PREMIUM.value)


@dataclass(frozen=True, slots=True)
class SpikeThresholds:
    window: timedelta = timedelta(hours=1)
    baseline_days: int = 7
    factor: int = 5  # the window's minutes over this many times the hourly baseline
    min_minutes: int = 30  # never a spike below this (a quiet tenant's first long call is not one)


@dataclass(frozen=True, slots=True)
class Spike:
    tenant_id: uuid.UUID
    window_start: datetime
    window_end: datetime
    minutes: int
    calls: int
    baseline_minutes: int  # per hour
    top_destination: str

    def describe(self) -> str:
        return (
            f"toll-fraud spike: {self.minutes} international/premium minutes in the hour to "
            f"{self.window_end:%Y-%m-%d %H:%M} UTC ({self.calls} calls, most to {self.top_destination}), "
            f"baseline {self.baseline_minutes} per hour"
        )


def _minutes(seconds: int) -> int:
    return -(-seconds // 60)


def find_spike(
    tenant_id: uuid.UUID,
    window: Iterable[tuple[int, str]],
    baseline_seconds: int,
    window_end: datetime,
    t: SpikeThresholds = SpikeThresholds(),
) -> Spike | None:
    """``window``: (duration in ms, callee) of the tenant's international/premium calls in the
    window; ``baseline_seconds``: their seconds over the baseline days before it."""
    calls = list(window)
    seconds = sum(-(-ms // 1000) for ms, _ in calls)
    minutes = _minutes(seconds)
    hours = t.baseline_days * 24 * 3600 / t.window.total_seconds()
    baseline = _minutes(round(baseline_seconds / hours)) if hours else 0
    if minutes < t.min_minutes or minutes <= t.factor * baseline:
        return None
    by_prefix = Counter(callee.lstrip("+")[:4] for _, callee in calls)
    top = by_prefix.most_common(1)[0][0] if by_prefix else ""
    return Spike(tenant_id, window_end - t.window, window_end, minutes, len(calls), baseline, "+" + top)


def detect_spikes(
    sessions: sessionmaker[Session],
    now: datetime,
    *,
    thresholds: SpikeThresholds = SpikeThresholds(),
    on_spike: Callable[[Spike], None] | None = None,
    dry_run: bool = False,
) -> list[Spike]:
    """Every tenant's last window against its baseline; new spikes stored and handed to ``on_spike``.
    A tenant already flagged for a window ending less than a window ago is not flagged again."""
    t = thresholds
    start = now - t.window
    since = start - timedelta(days=t.baseline_days)
    c = CallDetail
    with sessions() as s:
        rows = s.execute(
            select(c.tenant_id, c.start, c.duration_ms, c.callee).where(
                c.call_class.in_(SPIKE_CLASSES), c.start >= since, c.start < now, c.answer.is_not(None)
            )
        ).all()
        recent = set(
            s.scalars(select(FraudSpike.tenant_id).where(FraudSpike.window_end > now - t.window)).all()
        )
    window: dict[uuid.UUID, list[tuple[int, str]]] = {}
    baseline: Counter[uuid.UUID] = Counter()
    for tenant_id, started, duration_ms, callee in rows:
        if started >= start:
            window.setdefault(tenant_id, []).append((duration_ms, callee))
        else:
            baseline[tenant_id] += -(-duration_ms // 1000)
    spikes = []
    for tenant_id, calls in window.items():
        if tenant_id in recent:
            continue
        spike = find_spike(tenant_id, calls, baseline[tenant_id], now, t)
        if spike is not None:
            spikes.append(spike)
    if dry_run or not spikes:
        return spikes
    with transaction(sessions) as s:
        s.add_all(
            FraudSpike(
                tenant_id=x.tenant_id,
                window_start=x.window_start,
                window_end=x.window_end,
                classes=",".join(SPIKE_CLASSES),
                minutes=x.minutes,
                calls=x.calls,
                baseline_minutes=x.baseline_minutes,
                top_destination=x.top_destination,
            )
            for x in spikes
        )
    for x in spikes:
        log.warning("fraud.spike tenant=%s %s", x.tenant_id, x.describe())
        if on_spike is not None:
            try:
                on_spike(x)
            except Exception:
                log.exception("fraud.spike.alarm_failed tenant=%s", x.tenant_id)
    return spikes
