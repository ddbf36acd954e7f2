"""The jobs this service runs on a schedule (ops/scheduler.py). A new job is a function in a module
here and one line in ``builtin_registry``."""

from __future__ import annotations

from centrex.ops.jobs.billing import billing_run, collections
from centrex.ops.jobs.idempotency import idempotency_keys
from centrex.ops.jobs.retention import cdr_retention, recording_retention
from centrex.ops.periods import Daily, Every, Monthly
from centrex.ops.scheduler import Job, Registry


def builtin_registry() -> Registry:
    return Registry(
        [
            Job(
                "recording-retention",
                Daily(3, 0),
                recording_retention,
                "delete call recordings past their tenant's retention period (hosted-pbx.txt 2.f)",
            ),
            Job(
                "cdr-retention",
                Daily(3, 30),
                cdr_retention,
                "delete call detail records older than 3 years (cpaas.txt §2.4.2 (iv))",
            ),
            Job(
                "billing-run",
                Monthly(1, 2, 0),
                billing_run,
                "issue the invoices closing last month for every tenant with a plan (cpaas.txt §4.3)",
            ),
            Job(
                "collections",
                Daily(6, 0),
                collections,
                "notices of non-payment, suspension and reinstatement (cpaas.txt §3.4)",
            ),
            Job(
                "idempotency-keys",
                Every(3600),
                idempotency_keys,
                "delete Idempotency-Key answers older than 24 hours (api/idempotency.py)",
            ),
        ]
    )
