"""fraud-spikes: every 15 minutes, each tenant's international and premium minutes in the last hour
against its baseline (fairuse/spikes.py). ``on_spike`` is where the operations alarms plug in."""

from __future__ import annotations

from collections.abc import Callable

from centrex.fairuse.spikes import Spike, SpikeThresholds, detect_spikes
from centrex.ops.scheduler import JobContext, JobReport

FRAUD_SPIKES_EVERY_S = 900


def fraud_spikes_job(
    on_spike: Callable[[Spike], None] | None = None, thresholds: SpikeThresholds = SpikeThresholds()
) -> Callable[[JobContext], JobReport]:
    def run(ctx: JobContext) -> JobReport:
        spikes = detect_spikes(
            ctx.sessions, ctx.now, thresholds=thresholds, on_spike=on_spike, dry_run=ctx.dry_run
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
