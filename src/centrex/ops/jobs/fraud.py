"""fraud-spikes: every 15 minutes, each tenant's international and premium minutes in the last hour
against its baseline (fairuse/spikes.py). Each new spike raises a priority-1 alarm (ops/alarms.py) for
the operator: toll fraud runs up charges by the hour, so it takes the 8-hour clock (hosted-pbx.txt
Monitoring 2.a). ``on_spike`` replaces that, for a caller that wants the spikes elsewhere."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session, sessionmaker

from centrex.fairuse.spikes import Spike, SpikeThresholds, detect_spikes
from centrex.ops.alarms import raise_alarm
from centrex.ops.scheduler import JobContext, JobReport
from centrex.store.db import transaction

FRAUD_SPIKES_EVERY_S = 900


def spike_alarm(sessions: sessionmaker[Session]) -> Callable[[Spike], None]:
    """A spike as an open alarm: one per tenant while it stays open, later spikes count on it."""

    def on_spike(spike: Spike) -> None:
        with transaction(sessions) as s:
            raise_alarm(
                s,
                key=f"fraud-spike:{spike.tenant_id}",
                component="fraud",
                priority=1,
                summary=spike.describe(),
                tenant_id=spike.tenant_id,
                details={
                    "minutes": spike.minutes,
                    "calls": spike.calls,
                    "baseline_per_hour": spike.baseline_minutes,
                    "top_destination": spike.top_destination,
                    "window_end": spike.window_end.isoformat(),
                },
                now=spike.window_end,
            )

    return on_spike


def fraud_spikes_job(
    on_spike: Callable[[Spike], None] | None = None, thresholds: SpikeThresholds = SpikeThresholds()
) -> Callable[[JobContext], JobReport]:
    def run(ctx: JobContext) -> JobReport:
        spikes = detect_spikes(
            ctx.sessions,
            ctx.now,
            thresholds=thresholds,
            on_spike=on_spike or spike_alarm(ctx.sessions),
            dry_run=ctx.dry_run,
        )
        return JobReport(
            f"{len(spikes)} toll-fraud spike(s)"
            + (" (dry run: not stored)" if ctx.dry_run and spikes else ""),
            {"spikes": len(spikes)},
            [
                {
                    "tenant_id": str(x.tenant_id),
                    "minutes": str(x.minutes),
                    "baseline_per_hour": str(x.baseline_minutes),
                    "top_destination": x.top_destination,
                }
                for x in spikes
            ],
        )

    return run
