"""Alert rules (cpaas.txt §2.2.3: "to establish preferences for automatic multi-channel
notifications to desired users for changes in designated data fields").

Two kinds:
- ``threshold``: a figure — the sum of a metric's count (or its total) over the last
  ``window_minutes`` of the real-time tier, for a site and/or party if given — compared with ``op``
  ``threshold``. The rule fires when the comparison becomes true (it "crosses"), once, and is armed
  again when it becomes false. Evaluated every ``every_s`` after a flush.
- ``change``: a designated field of an event (``field`` of ``event_type``, e.g. ``status`` of
  ``message.*``, ``disposition`` of ``call.ended``), for a party if given. The first value seen is
  the baseline; each different value after it fires.

A firing is recorded (``insights_alert_firings``), e-mailed to the chosen users (ops/mailer.py) and,
with ``notify_webhook``, emitted as ``insights.alert`` to the tenant's webhooks (cpaas/events.py →
outbox, signed, retried). Notifications are sent by a worker thread of their own: the flush never
waits for a mail server.
"""

from __future__ import annotations

import fnmatch
import logging
import operator
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from centrex.insights.metrics import parties_of
from centrex.insights.tiers import MINUTE, floor
from centrex.ops.mailer import Mailer, MailError, Message
from centrex.store.db import transaction
from centrex.store.models import User
from centrex.store.models.insights import InsightsAggregate, InsightsAlertFiring, InsightsAlertRule

log = logging.getLogger(__name__)

OPS: dict[str, Callable[[Any, Any], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}
KINDS = ("threshold", "change")
Emit = Callable[[uuid.UUID, str, dict[str, Any]], None]
Event = tuple[uuid.UUID, str, dict[str, Any], datetime]


@dataclass(frozen=True, slots=True)
class Rule:
    id: uuid.UUID
    tenant_id: uuid.UUID
    name: str
    kind: str
    metric: str
    value: str
    window_minutes: int
    op: str
    threshold: Decimal
    event_type: str
    field: str
    site: str
    party: str


def figure(
    s: Session,
    tenant_id: uuid.UUID,
    metric: str,
    since: datetime,
    *,
    value: str = "count",
    site: str = "",
    party: str = "",
    tier: str = MINUTE,
) -> int:
    """The sum of ``metric``'s count (or total) in ``tier`` buckets from ``since`` on."""
    agg = InsightsAggregate
    column = agg.total if value == "total" else agg.count
    stmt = select(func.coalesce(func.sum(column), 0)).where(
        agg.tenant_id == tenant_id, agg.tier == tier, agg.metric == metric, agg.bucket_start >= since
    )
    if site:
        stmt = stmt.where(agg.site == site)
    if party:
        stmt = stmt.where(or_(agg.party_from == party, agg.party_to == party))
    return int(s.scalar(stmt) or 0)


class AlertEngine:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        mailer: Mailer | None = None,
        emit: Emit | None = None,
        every_s: float = 10.0,
        refresh_s: float = 5.0,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.sessions = sessions
        self.mailer = mailer
        self.emit = emit
        self.every_s = every_s
        self.refresh_s = refresh_s
        self.now = now
        self._rules: dict[uuid.UUID, list[Rule]] = {}
        self._change: dict[uuid.UUID, tuple[str, ...]] = {}  # tenant → event type patterns watched
        self._last: dict[uuid.UUID, str | None] = {}  # change rules' last values (no query per event)
        self._refreshed = -1e18
        self._evaluated = -1e18
        self._notify = ThreadPoolExecutor(max_workers=1, thread_name_prefix="centrex-insights-alerts")
        self._lock = threading.Lock()

    # -- the tap's question (any thread; no I/O) -----------------------------------------------
    def watches(self, tenant_id: uuid.UUID, event_type: str) -> bool:
        patterns = self._change.get(tenant_id)
        return bool(patterns) and any(fnmatch.fnmatchcase(event_type, p) for p in patterns or ())

    def refresh(self) -> None:
        """Reload the enabled rules (also called when the API changes one)."""
        with self.sessions() as s:
            rows = s.scalars(select(InsightsAlertRule).where(InsightsAlertRule.enabled.is_(True))).all()
            rules: dict[uuid.UUID, list[Rule]] = {}
            self._last = {r.id: r.last_value for r in rows if r.kind == "change"}
            for r in rows:
                rules.setdefault(r.tenant_id, []).append(
                    Rule(
                        r.id,
                        r.tenant_id,
                        r.name,
                        r.kind,
                        r.metric,
                        r.value,
                        r.window_minutes,
                        r.op,
                        Decimal(r.threshold),
                        r.event_type,
                        r.field,
                        r.site,
                        r.party,
                    )
                )
        self._rules = rules
        self._change = {t: tuple(r.event_type for r in rs if r.kind == "change") for t, rs in rules.items()}
        self._refreshed = time.monotonic()

    # -- after each flush (the aggregator's thread) ---------------------------------------------
    def after_flush(self, events: Sequence[Event]) -> None:
        with self._lock:
            if time.monotonic() - self._refreshed >= self.refresh_s:
                self.refresh()
            for event in events:
                self._changes(event)
            if time.monotonic() - self._evaluated >= self.every_s:
                self._evaluated = time.monotonic()
                self.evaluate_thresholds()

    def evaluate_thresholds(self) -> int:
        """Evaluate every threshold rule now; returns how many fired."""
        fired = 0
        now = self.now()
        for tenant_rules in list(self._rules.values()):
            for rule in tenant_rules:
                if rule.kind != "threshold":
                    continue
                since = floor(now, MINUTE) - timedelta(minutes=max(1, rule.window_minutes) - 1)
                with self.sessions() as s:
                    value = figure(
                        s,
                        rule.tenant_id,
                        rule.metric,
                        since,
                        value=rule.value,
                        site=rule.site,
                        party=rule.party,
                    )
                met = OPS[rule.op](Decimal(value), rule.threshold)
                if self._threshold_state(rule, met, value, now):
                    fired += 1
        return fired

    def _threshold_state(self, rule: Rule, met: bool, value: int, now: datetime) -> bool:
        with transaction(self.sessions) as s:
            row = s.get(InsightsAlertRule, rule.id)
            if row is None or not row.enabled:
                return False
            row.last_value = str(value)
            if met == row.firing:
                return False
            row.firing = met
            if not met:
                return False  # back under the threshold: armed again, nobody told
            text = (
                f"{rule.metric} {rule.value} over the last {rule.window_minutes} min is {value} "
                f"({rule.op} {rule.threshold.normalize()})"
            )
            firing = self._fired(s, row, str(value), None, text, now, {"metric": rule.metric})
        self._send(firing)
        return True

    def _changes(self, event: Event) -> None:
        tenant_id, event_type, data, at = event
        for rule in self._rules.get(tenant_id, ()):
            if rule.kind != "change" or not fnmatch.fnmatchcase(event_type, rule.event_type):
                continue
            if rule.party and rule.party not in parties_of(data):
                continue
            if rule.site and str(data.get("site_id") or "") != rule.site:
                continue
            if rule.field not in data:
                continue
            value = str(data[rule.field])[:200]
            if rule.id in self._last and self._last[rule.id] == value:
                continue  # no change: nothing to write
            self._last[rule.id] = value
            with transaction(self.sessions) as s:
                row = s.get(InsightsAlertRule, rule.id)
                if row is None or not row.enabled:
                    continue
                previous, row.last_value = row.last_value, value
                if previous is None or previous == value:
                    continue  # the baseline, or no change
                who = f" for {rule.party}" if rule.party else ""
                text = f"{rule.field} of {event_type}{who} changed from {previous} to {value}"
                firing = self._fired(
                    s, row, value, previous, text, at, {"event_type": event_type, "data": data}
                )
            self._send(firing)

    # -- firing and notifying ------------------------------------------------------------------
    def _fired(
        self,
        s: Session,
        row: InsightsAlertRule,
        value: str,
        previous: str | None,
        text: str,
        at: datetime,
        detail: dict[str, Any],
    ) -> dict[str, Any]:
        row.last_fired_at = at
        emails: list[str] = []
        ids = [uuid.UUID(u) for u in row.notify_user_ids or []]
        if ids:
            emails = [
                e
                for e in s.scalars(
                    select(User.email).where(User.tenant_id == row.tenant_id, User.id.in_(ids))
                )
                if e
            ]
        firing = InsightsAlertFiring(
            tenant_id=row.tenant_id,
            rule_id=row.id,
            fired_at=at,
            value=value,
            previous=previous,
            message=f"{row.name}: {text}"[:500],
            webhook=row.notify_webhook,
            detail={k: v for k, v in detail.items() if k != "data"} | {"recipients": emails},
        )
        s.add(firing)
        s.flush()
        return {
            "firing_id": firing.id,
            "tenant_id": row.tenant_id,
            "rule_id": row.id,
            "rule": row.name,
            "kind": row.kind,
            "message": firing.message,
            "value": value,
            "previous": previous,
            "fired_at": at,
            "emails": emails,
            "webhook": row.notify_webhook,
        }

    def _send(self, firing: dict[str, Any]) -> None:
        self._notify.submit(self._notify_now, firing)

    def _notify_now(self, firing: dict[str, Any]) -> None:
        if firing["webhook"] and self.emit is not None:
            self.emit(
                firing["tenant_id"],
                "insights.alert",
                {
                    "rule_id": str(firing["rule_id"]),
                    "rule": firing["rule"],
                    "kind": firing["kind"],
                    "message": firing["message"],
                    "value": firing["value"],
                    "previous": firing["previous"],
                    "fired_at": firing["fired_at"].astimezone(UTC).isoformat(),
                },
            )
        sent, detail = 0, ""
        if firing["emails"]:
            if self.mailer is None:
                detail = "no SMTP server configured (smtp_host)"
            else:
                message = Message(
                    to=tuple(firing["emails"]),
                    subject=f"Centrex Insights alert: {firing['rule']}",
                    text=(
                        f"{firing['message']}\n\nFired at {firing['fired_at']:%Y-%m-%d %H:%M:%S} UTC.\n"
                        "Sent because you are named on this Insights alert rule (cpaas.txt §2.2.3)."
                    ),
                )
                try:
                    detail = self.mailer.send_now(message)
                    sent = len(firing["emails"])
                except MailError as exc:
                    detail = exc.detail
        with transaction(self.sessions) as s:
            row = s.get(InsightsAlertFiring, firing["firing_id"])
            if row is not None:
                row.emailed = sent
                row.email_detail = detail[:500]

    def close(self) -> None:
        self._notify.shutdown(wait=True)
