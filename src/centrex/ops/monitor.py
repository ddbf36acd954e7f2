"""Polling the service's critical components and turning what it finds into alarms.

hosted-pbx.txt Monitoring 1: "CNI-Independents will conduct monitoring of critical IP-PBX system
components through intermittent polling." Every ``interval_s`` the monitor runs its checks (each an
async function returning Findings: SIP listeners, database, media relay or rtpengine, carriers'
gateways, disk; ops/monitor_checks.py), then in a worker thread raises an alarm for each finding that
is not ok and clears the alarm of each that is (ops/alarms.py: one open alarm per key, so a
condition seen on every pass, or by several nodes, stays one alarm).

The database can be what failed: then nothing can be written. The monitor remembers when each
condition was first seen bad (and good again) and writes the alarm with those times once the
database answers, so the alarm, its clock and the outage it leaves start when the trouble did; and
it e-mails the notify contacts directly, through the shared Mailer, since the outbox is in the
database that is down.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from centrex.ops.alarm_policy import AlarmPolicy, channel_of, current_policy
from centrex.ops.alarms import clear_alarm, open_alarm, raise_alarm
from centrex.ops.mailer import Mailer, Message
from centrex.store.db import transaction
from centrex.store.types import utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Finding:
    """One polled condition: ``ok`` or not, with the alarm it raises when not."""

    key: str  # "sip:udp", "database", "carrier:<gateway id>", "disk:/var/lib/centrex"
    component: str
    ok: bool
    summary: str
    priority: int = 1
    service_affecting: bool = False  # the service is unavailable while it is not ok
    details: dict[str, Any] | None = None


Check = Callable[[], Awaitable[Sequence[Finding]]]


class Monitor:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        checks: Sequence[tuple[str, Check]],
        *,
        interval_s: float = 30.0,
        clock: Callable[[], datetime] = utcnow,
        mailer: Mailer | None = None,
        policy: AlarmPolicy | None = None,
    ) -> None:
        self.sessions = sessions
        self.checks = list(checks)
        self.interval_s = interval_s
        self.clock = clock
        self.mailer = mailer
        self.policy = policy
        self.bad_since: dict[str, datetime] = {}  # first seen bad, until an alarm is written
        self.good_since: dict[str, datetime] = {}  # first seen good again, until cleared
        self.mailed: set[str] = set()  # told directly while the database was away

    async def run_checks(self) -> list[Finding]:
        findings: list[Finding] = []
        for name, check in self.checks:
            try:
                findings.extend(await check())
            except Exception:  # a broken check must not silence the others
                log.exception("monitor.check_failed check=%s", name)
        return findings

    async def poll(self) -> list[Finding]:
        """One pass: run the checks, then record what they found. Returns the findings."""
        findings = await self.run_checks()
        now = self.clock()
        for f in findings:
            if f.ok:
                self.bad_since.pop(f.key, None)
                self.good_since.setdefault(f.key, now)
            else:
                self.good_since.pop(f.key, None)
                self.bad_since.setdefault(f.key, now)
        try:
            await asyncio.to_thread(self.record, findings, now)
        except Exception as exc:
            log.error("monitor.record_failed: %s: %s", type(exc).__name__, exc)
            await self._mail_directly([f for f in findings if not f.ok], now)
        return findings

    def record(self, findings: Sequence[Finding], now: datetime) -> None:
        policy = self.policy or current_policy()
        with transaction(self.sessions) as session:
            for f in findings:
                if f.ok:
                    if f.key in self.good_since:
                        clear_alarm(session, f.key, now=self.good_since[f.key], policy=policy)
                    continue
                first = self.bad_since.get(f.key, now)
                raise_alarm(
                    session,
                    key=f.key,
                    component=f.component,
                    priority=f.priority,
                    summary=f.summary,
                    details=f.details,
                    service_affecting=f.service_affecting,
                    now=now if open_alarm(session, f.key) is not None else first,
                    policy=policy,
                )
        # Written: later passes need not carry these times any more.
        for f in findings:
            (self.good_since if f.ok else self.bad_since).pop(f.key, None)
            if f.ok:
                self.mailed.discard(f.key)

    async def _mail_directly(self, bad: Sequence[Finding], now: datetime) -> None:
        policy = self.policy or current_policy()
        to = tuple(c for c in policy.notify if channel_of(c) == "email")
        fresh = [f for f in bad if f.key not in self.mailed]
        if self.mailer is None or not to or not fresh:
            return
        since = {f.key: f"{self.bad_since.get(f.key, now):%Y-%m-%d %H:%M:%S} UTC" for f in fresh}
        lines = [f"P{f.priority} {f.component} ({f.key}): {f.summary}, since {since[f.key]}" for f in fresh]
        message = Message(
            to=to,
            subject=f"[Centrex P1] monitoring cannot record alarms: {fresh[0].summary}"[:200],
            text="The alarm store is unreachable; these conditions will be recorded when it answers:\n\n"
            + "\n".join(lines)
            + "\n",
        )
        sent = await self.mailer.deliver(message, tries=1)
        if sent.ok:
            self.mailed.update(f.key for f in fresh)
        else:
            log.error("monitor.direct_mail_failed: %s", sent.detail)

    async def run_forever(self, first_delay_s: float = 0.0) -> None:
        """The service's task: a pass every ``interval_s`` until cancelled."""
        await asyncio.sleep(first_delay_s)
        while True:
            try:
                await self.poll()
            except Exception:
                log.exception("monitor.pass_failed")
            await asyncio.sleep(self.interval_s)
