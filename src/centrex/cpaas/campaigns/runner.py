"""The campaign runner: a service task of `centrex serve` (a thread beside the API), not a scheduler
job. Why: a campaign sends for minutes or hours at a paced rate (sends a second, sub-second
spacing) through this process's live carrier connector (the Messenger) and call desk, which a
scheduler job — minute-granular periods, run one after another in the jobs' worker thread with
only a session factory — has neither. The retention of what it leaves is a job
(ops/jobs/campaigns.py).

Every ``tick_s`` the runner takes the campaigns that are due (``scheduled`` and past their
``scheduled_at``) or whose holder's lease ran out (a node that stopped), and runs each in a worker
thread of its own. Several nodes on one PostgreSQL: a campaign is held by one node at a time (a
lease, ``runner``/``runner_until``, taken by a conditional UPDATE and renewed while it runs), so
two nodes never send one campaign.

A worker takes the campaign's contacts once (one recipient row each), then, in batches: scrubs
them (scrub.py: DNC lists, opt-outs, registries, consent, quiet hours), records skips and
deferrals, and sends to the rest through the channel (senders.py), at most ``rate_per_s`` sends a
second (a pacer: one send every 1/rate s, no bursts). A deferred contact (quiet hours) comes back
when its ``not_before`` passes. A recipient is marked ``sending`` (committed) before the carrier
sees it, so a crash never sends twice: such a row is reported failed ``interrupted``. The campaign
is ``completed`` when no recipient is pending or deferred; ``canceled`` (by the API) stops it.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from centrex.cpaas.calls.desk import CallDesk
from centrex.cpaas.campaigns.scrub import Scrub, Target
from centrex.cpaas.campaigns.senders import Outcome, place_call, send_sms
from centrex.cpaas.messaging.service import Messenger, active
from centrex.store.db import transaction
from centrex.store.models.campaigns import Campaign, CampaignRecipient, Contact

log = logging.getLogger(__name__)
NODE = f"{socket.gethostname()}:{os.getpid()}"
LEASE_S = 30.0
RECORD_EVERY = 20  # sends whose outcomes are written in one transaction


def utcnow() -> datetime:
    return datetime.now(UTC)


class Pacer:
    """At most ``rate`` sends a second: each send waits for its slot, 1/rate after the previous."""

    def __init__(self, rate: float, stop: threading.Event) -> None:
        self.interval = 1.0 / rate
        self.next_at = 0.0
        self.stop = stop

    def wait(self) -> bool:
        now = time.monotonic()
        slot = max(self.next_at, now)
        self.next_at = slot + self.interval
        if slot > now:
            return not self.stop.wait(slot - now)
        return not self.stop.is_set()


class CampaignRunner:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        messenger: Callable[[], Messenger | None] = active,
        desk: Callable[[], CallDesk | None] = lambda: None,
        node: str = NODE,
        tick_s: float = 1.0,
        batch: int = 100,
        max_rate: float = 50.0,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.sessions = sessions
        self.messenger = messenger
        self.desk = desk
        self.node = node
        self.tick_s = tick_s
        self.batch = batch
        self.max_rate = max_rate
        self.clock = clock
        self.stopping = threading.Event()
        self.workers: dict[uuid.UUID, threading.Thread] = {}
        self._thread: threading.Thread | None = None
        self._fallback: Messenger | None = None

    # -- lifecycle
    def start(self) -> CampaignRunner:
        self._thread = threading.Thread(target=self._loop, name="campaign-runner", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self.stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)
        for worker in list(self.workers.values()):
            worker.join(timeout)

    def _loop(self) -> None:
        while not self.stopping.is_set():
            try:
                self.tick()
            except Exception:  # a bad tick (database away) is logged; the next one tries again
                log.exception("campaign runner tick failed")
            self.stopping.wait(self.tick_s)

    # -- taking campaigns
    def due(self, now: datetime) -> list[uuid.UUID]:
        with self.sessions() as s:
            return list(
                s.scalars(
                    select(Campaign.id).where(
                        or_(
                            (Campaign.status == "scheduled") & (Campaign.scheduled_at <= now),
                            (Campaign.status == "running")
                            & or_(Campaign.runner_until.is_(None), Campaign.runner_until < now),
                        )
                    )
                )
            )

    def take(self, campaign_id: uuid.UUID, now: datetime) -> bool:
        """The lease, by a conditional UPDATE: True if this node holds the campaign now."""
        with transaction(self.sessions) as s:
            taken = s.execute(
                update(Campaign)
                .where(
                    Campaign.id == campaign_id,
                    or_(
                        (Campaign.status == "scheduled") & (Campaign.scheduled_at <= now),
                        (Campaign.status == "running")
                        & or_(
                            Campaign.runner == self.node,
                            Campaign.runner_until.is_(None),
                            Campaign.runner_until < now,
                        ),
                    ),
                )
                .values(status="running", runner=self.node, runner_until=now + timedelta(seconds=LEASE_S))
                .execution_options(synchronize_session=False)
            )
            row = s.get(Campaign, campaign_id)
            won = getattr(taken, "rowcount", 0) == 1
            if won and row is not None and row.started_at is None:
                row.started_at = now
            return bool(won)

    def tick(self) -> None:
        now = self.clock()
        for campaign_id in self.due(now):
            worker = self.workers.get(campaign_id)
            if worker is not None and worker.is_alive():
                continue
            if self.take(campaign_id, now):
                thread = threading.Thread(
                    target=self._work, args=(campaign_id,), name=f"campaign-{campaign_id}", daemon=True
                )
                self.workers[campaign_id] = thread
                thread.start()

    def _work(self, campaign_id: uuid.UUID) -> None:
        try:
            self.run(campaign_id)
        except Exception:
            log.exception(
                "campaign %s: worker failed (the lease runs out and it is taken again)", campaign_id
            )

    # -- running one
    def run(self, campaign_id: uuid.UUID) -> str:
        """Run a campaign this node holds until it completes, is canceled or the runner stops.
        Returns the campaign's status at the end."""
        self.enroll(campaign_id)
        with self.sessions() as s:
            campaign = s.get(Campaign, campaign_id)
            assert campaign is not None
            s.expunge(campaign)
        pacer = Pacer(min(campaign.rate_per_s, self.max_rate), self.stopping)
        while not self.stopping.is_set():
            status = self._renew(campaign_id)
            if status != "running":
                return status
            now = self.clock()
            batch = self._batch(campaign_id, now)
            if not batch:
                wake = self._next_deferred(campaign_id)
                if wake is None:
                    return self._complete(campaign_id)
                self.stopping.wait(max(0.05, min(self.tick_s, (wake - now).total_seconds())))
                continue
            self._process(campaign, batch, pacer)
        return "running"

    def enroll(self, campaign_id: uuid.UUID) -> int:
        """One recipient per contact of the campaign's list, once (the list as it was at the start)."""
        with transaction(self.sessions) as s:
            campaign = s.get(Campaign, campaign_id)
            if campaign is None:
                return 0
            if s.scalar(select(func.count()).where(CampaignRecipient.campaign_id == campaign_id)):
                return 0
            contacts = s.execute(
                select(Contact.id, Contact.number).where(
                    Contact.tenant_id == campaign.tenant_id, Contact.list_id == campaign.list_id
                )
            ).all()
            s.add_all(
                CampaignRecipient(
                    tenant_id=campaign.tenant_id, campaign_id=campaign_id, contact_id=cid, number=number
                )
                for cid, number in contacts
            )
            return len(contacts)

    def _renew(self, campaign_id: uuid.UUID) -> str:
        now = self.clock()
        with transaction(self.sessions) as s:
            s.execute(
                update(Campaign)
                .where(Campaign.id == campaign_id, Campaign.status == "running", Campaign.runner == self.node)
                .values(runner_until=now + timedelta(seconds=LEASE_S))
                .execution_options(synchronize_session=False)
            )
            row = s.execute(
                select(Campaign.status, Campaign.runner).where(Campaign.id == campaign_id)
            ).one_or_none()
        if row is None:
            return "deleted"
        if row.status == "running" and row.runner != self.node:
            return "taken"  # another node holds it now
        return str(row.status)

    def _batch(self, campaign_id: uuid.UUID, now: datetime) -> list[tuple[CampaignRecipient, Contact | None]]:
        with self.sessions() as s:
            rows = list(
                s.scalars(
                    select(CampaignRecipient)
                    .where(
                        CampaignRecipient.campaign_id == campaign_id,
                        or_(
                            CampaignRecipient.status == "pending",
                            (CampaignRecipient.status == "deferred") & (CampaignRecipient.not_before <= now),
                        ),
                    )
                    .order_by(CampaignRecipient.created_at, CampaignRecipient.id)
                    .limit(self.batch)
                )
            )
            ids = [r.contact_id for r in rows if r.contact_id is not None]
            contacts = {c.id: c for c in s.scalars(select(Contact).where(Contact.id.in_(ids)))} if ids else {}
            s.expunge_all()
        return [(r, contacts.get(r.contact_id) if r.contact_id else None) for r in rows]

    def _next_deferred(self, campaign_id: uuid.UUID) -> datetime | None:
        with self.sessions() as s:
            return s.scalar(
                select(func.min(CampaignRecipient.not_before)).where(
                    CampaignRecipient.campaign_id == campaign_id, CampaignRecipient.status == "deferred"
                )
            )

    def _process(
        self, campaign: Campaign, batch: list[tuple[CampaignRecipient, Contact | None]], pacer: Pacer
    ) -> None:
        now = self.clock()
        to_send: list[CampaignRecipient] = []
        with transaction(self.sessions) as s:
            scrub = Scrub(
                s, campaign.tenant_id, campaign.channel, campaign.purpose, [r.number for r, _ in batch]
            )
            for recipient, contact in batch:
                decision = scrub.decide(Target(recipient.number, contact), now)
                values: dict[str, object]
                if decision.action == "skip":
                    values = {"status": "skipped", "reason": decision.reason, "detail": decision.detail}
                elif decision.action == "defer":
                    values = {
                        "status": "deferred",
                        "reason": decision.reason,
                        "detail": decision.detail,
                        "not_before": decision.not_before,
                        "deferrals": recipient.deferrals + 1,
                    }
                else:
                    values = {"status": "sending", "reason": None, "detail": None, "not_before": None}
                    to_send.append(recipient)
                s.execute(
                    update(CampaignRecipient)
                    .where(CampaignRecipient.id == recipient.id)
                    .values(**values)
                    .execution_options(synchronize_session=False)
                )
        done: list[tuple[uuid.UUID, Outcome, datetime]] = []
        for recipient in to_send:
            if not pacer.wait():
                self._release(recipient.id)  # stopping: back to pending, sent by the next holder
                continue
            done.append((recipient.id, self._send(campaign, recipient.number), self.clock()))
            if len(done) >= RECORD_EVERY:
                self._record(done)
                done = []
        self._record(done)

    def _send(self, campaign: Campaign, to: str) -> Outcome:
        if campaign.channel == "voice":
            return place_call(self.sessions, self.desk(), campaign, to)
        messenger = self.messenger()
        if messenger is None:
            if self._fallback is None:
                self._fallback = Messenger(self.sessions)  # no carrier: messages are kept queued
            messenger = self._fallback
        return send_sms(messenger, campaign, to)

    def _record(self, done: list[tuple[uuid.UUID, Outcome, datetime]]) -> None:
        """The outcomes of sends, a few at a time in one transaction (a crash between a send and
        its record leaves the row ``sending``: reported ``interrupted``, never sent twice)."""
        if not done:
            return
        with transaction(self.sessions) as s:
            s.execute(
                update(CampaignRecipient),
                [
                    {
                        "id": recipient_id,
                        "status": o.status,
                        "reason": o.reason,
                        "detail": o.detail,
                        "message_sid": o.message_sid,
                        "call_sid": o.call_sid,
                        "sent_at": when if o.status == "sent" else None,
                    }
                    for recipient_id, o, when in done
                ],
            )

    def _release(self, recipient_id: uuid.UUID) -> None:
        with transaction(self.sessions) as s:
            s.execute(
                update(CampaignRecipient)
                .where(CampaignRecipient.id == recipient_id, CampaignRecipient.status == "sending")
                .values(status="pending")
                .execution_options(synchronize_session=False)
            )

    def _complete(self, campaign_id: uuid.UUID) -> str:
        now = self.clock()
        with transaction(self.sessions) as s:
            s.execute(
                update(CampaignRecipient)
                .where(CampaignRecipient.campaign_id == campaign_id, CampaignRecipient.status == "sending")
                .values(status="failed", reason="interrupted", detail="the runner stopped while sending")
                .execution_options(synchronize_session=False)
            )
            s.execute(
                update(Campaign)
                .where(Campaign.id == campaign_id, Campaign.status == "running")
                .values(status="completed", finished_at=now, runner=None, runner_until=None)
                .execution_options(synchronize_session=False)
            )
            status = s.scalar(select(Campaign.status).where(Campaign.id == campaign_id))
        log.info("campaign %s: %s", campaign_id, status)
        return str(status)
