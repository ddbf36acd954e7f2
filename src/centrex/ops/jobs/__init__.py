"""The jobs this service runs on a schedule (ops/scheduler.py). A new job is a function in a module
here and one line in ``builtin_registry``."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from centrex.insights.retention import insights_retention
from centrex.ops.jobs.alarms import alarm_clocks
from centrex.ops.jobs.billing import billing_run, collections
from centrex.ops.jobs.campaigns import engagement_retention
from centrex.ops.jobs.cpaas_retention import cpaas_recording_retention
from centrex.ops.jobs.flows import flow_retention
from centrex.ops.jobs.fraud import FRAUD_SPIKES_EVERY_S, fraud_spikes_job
from centrex.ops.jobs.idempotency import idempotency_keys
from centrex.ops.jobs.lifecycle import inactive_accounts, tenant_deletion, voicemail_retention
from centrex.ops.jobs.messaging import message_retention
from centrex.ops.jobs.portal_tasks import portal_tasks
from centrex.ops.jobs.retention import cdr_retention, recording_retention
from centrex.ops.jobs.webhooks import webhook_retention
from centrex.ops.periods import Daily, Every, Monthly
from centrex.ops.scheduler import Job, Registry

if TYPE_CHECKING:
    from centrex.config import Settings


def builtin_registry(settings: Settings | None = None) -> Registry:
    """``settings``: the operator's switches some jobs read (``inactive_deactivate``); default off."""
    deactivate = bool(settings and settings.inactive_deactivate)
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
                "alarm-clocks",
                Every(60),
                alarm_clocks,
                "escalate alarms and tickets past their response time, send their e-mails and webhooks"
                " (hosted-pbx.txt Monitoring 2)",
                lease_s=300.0,
            ),
            Job(
                "fraud-spikes",
                Every(FRAUD_SPIKES_EVERY_S),
                fraud_spikes_job(),
                "international/premium minutes of the last hour against each tenant's baseline (issue 15)",
            ),
            Job(
                "voicemail-retention",
                Daily(3, 15),
                voicemail_retention,
                "delete voicemail older than its tenant's policy (tenant_lifecycle.voicemail_retention_days)",
            ),
            Job(
                "inactive-accounts",
                Daily(4, 0),
                partial(inactive_accounts, deactivate=deactivate),
                "accounts idle over 120 days: report, or terminate with inactive_deactivate (cpaas.txt §3.2)",
            ),
            Job(
                "tenant-deletion",
                Daily(4, 30),
                tenant_deletion,
                "delete terminated tenants 30 days after termination, once the export window closed "
                "(cpaas.txt §2.3.8)",
            ),
            Job(
                "idempotency-keys",
                Every(3600),
                idempotency_keys,
                "delete Idempotency-Key answers older than 24 hours (api/idempotency.py)",
            ),
            Job(
                "webhook-retention",
                Daily(3, 45),
                webhook_retention,
                "delete webhook deliveries finished over 30 days ago (cpaas.txt §2.4.2 (i))",
            ),
            Job(
                "cpaas-recording-retention",
                Daily(3, 45),
                cpaas_recording_retention,
                "delete voice apps' recordings' content after 30 days (cpaas.txt §2.4.2 (i))",
            ),
            Job(
                "message-retention",
                Daily(3, 45),
                message_retention,
                "erase message bodies after 30 days, delete message records after 3 years (cpaas.txt §2.4.2)",
            ),
            Job(
                "flow-retention",
                Daily(3, 45),
                flow_retention,
                "erase flow executions' content after 30 days, delete them after 3 years (cpaas.txt §2.4.2)",
            ),
            Job(
                "campaign-engagement-retention",
                Daily(3, 50),
                engagement_retention,
                "delete campaign engagement history older than one year (cpaas.txt §2.4.2 (ii))",
            ),
            Job(
                "insights-retention",
                Every(3600),
                insights_retention,
                "delete insights aggregates: real-time after 3 days, hourly after 14, daily after 90"
                " (cpaas.txt §2.4.2 (iii))",
            ),
            Job(
                "portal-tasks",
                Daily(3, 55),
                portal_tasks,
                "delete the portal's task rows (deck imports, billing runs) 30 days after they ended",
            ),
        ]
    )
