"""Insights in a running service: the aggregator tapped on the event bus, with its alert engine
(e-mail through the operator's SMTP server, webhooks through the bus). `centrex serve` calls
``start_insights`` once the bus runs, and ``Insights.stop`` on the way down."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from centrex.config import Settings
from centrex.cpaas.events import EventBus
from centrex.insights.aggregator import Aggregator
from centrex.insights.alerts import AlertEngine
from centrex.ops.mailer import Mailer

_active: Insights | None = None


@dataclass
class Insights:
    bus: EventBus
    aggregator: Aggregator
    alerts: AlertEngine

    def stop(self) -> None:
        global _active
        self.bus.remove_tap(self.aggregator.tap)
        self.aggregator.stop()
        self.alerts.close()
        if _active is self:
            _active = None


def start_insights(
    bus: EventBus,
    sessions: sessionmaker[Session],
    *,
    flush_s: float = 1.0,
    alert_every_s: float = 10.0,
    mailer: Mailer | None = None,
) -> Insights:
    global _active
    alerts = AlertEngine(
        sessions,
        mailer=mailer,
        emit=lambda tenant_id, event_type, data: bus.emit(tenant_id, event_type, data),
        every_s=alert_every_s,
    )
    alerts.refresh()
    aggregator = Aggregator(sessions, flush_s=flush_s, alerts=alerts).start()
    bus.add_tap(aggregator.tap)
    _active = Insights(bus, aggregator, alerts)
    return _active


def from_settings(bus: EventBus, sessions: sessionmaker[Session], settings: Settings) -> Insights | None:
    if not settings.insights:
        return None
    return start_insights(
        bus,
        sessions,
        flush_s=settings.insights_flush_s,
        alert_every_s=settings.insights_alert_every_s,
        mailer=Mailer.from_settings(settings),
    )


def active() -> Insights | None:
    """This process's insights (the API refreshes the alert rules it changes)."""
    return _active


def rules_changed() -> None:
    running = _active
    if running is not None:
        running.alerts.refresh()
