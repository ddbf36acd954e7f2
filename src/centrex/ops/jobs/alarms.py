"""The alarm-clocks job (every minute): escalate the alarms and tickets whose response clock ran out
unacknowledged (ops/alarms.py check_clocks; hosted-pbx.txt Monitoring 2), then deliver the
notification outbox (ops/notify.py) by e-mail and webhook.

A dry run reports what would escalate and sends nothing. Running twice escalates nothing more: an
alarm or ticket escalates once, and a notification sent is marked so.
"""

from __future__ import annotations

from centrex.config import load_settings
from centrex.ops.alarm_policy import current_policy
from centrex.ops.alarms import check_clocks
from centrex.ops.mailer import Mailer
from centrex.ops.notify import Notifier
from centrex.ops.scheduler import JobContext, JobReport


def alarm_clocks(ctx: JobContext) -> JobReport:
    policy = current_policy()
    with ctx.sessions() as session:
        escalated = check_clocks(session, ctx.now, policy)
        if ctx.dry_run:
            session.rollback()
            return JobReport(
                f"{len(escalated)} would escalate",
                {"escalated": len(escalated)},
                [{"escalated": e} for e in escalated],
            )
        session.commit()
    settings = load_settings()
    notifier = Notifier(ctx.sessions, Mailer.from_settings(settings), settings.alarm_webhook_secret)
    delivery = notifier.deliver_due(ctx.now)
    return JobReport(
        f"{len(escalated)} escalated; notifications: {delivery.sent} sent, {delivery.retried} to retry, "
        f"{delivery.failed} failed",
        {
            "escalated": len(escalated),
            "sent": delivery.sent,
            "retried": delivery.retried,
            "failed": delivery.failed,
        },
        [{"escalated": e} for e in escalated],
    )
