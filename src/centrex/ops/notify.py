"""Delivering the outbox of alarm and ticket notifications (``alarm_notifications``): e-mail through
the service's one Mailer (ops/mailer.py) and webhooks signed as Standard Webhooks specifies
(https://www.standardwebhooks.com):

    webhook-id: <the notification's id: the same on every retry, so a receiver can drop repeats>
    webhook-timestamp: <unix seconds>
    webhook-signature: v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")>

where ``key`` is the base64 after "whsec_" in settings ``alarm_webhook_secret``. httpx sends them
(already a dependency, for 911 notices). Blocking: runs in the scheduler's worker thread (ops/jobs/
alarms.py), one notification at a time, each outcome committed on its own. A failure is tried
again after 1, 2, 4, 8 minutes, then marked failed with the last error.
"""

from __future__ import annotations

import base64
import json
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from centrex.cpaas.webhook_signing import standard_signature, verify_standard
from centrex.ops.mailer import Mailer, MailError, Message
from centrex.store.db import transaction
from centrex.store.models.alarms import AlarmNotificationRow

log = logging.getLogger(__name__)

TRIES = 5
FIRST_RETRY = timedelta(minutes=1)
WEBHOOK_TIMEOUT_S = 10.0


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def _key(secret: str) -> bytes:
    if not secret.startswith("whsec_"):
        raise ValueError("alarm_webhook_secret: must start with whsec_ followed by base64")
    return base64.b64decode(secret.removeprefix("whsec_"), validate=True)


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The webhook-signature header's value: ``v1,<base64>`` (Standard Webhooks; the one
    implementation is cpaas/webhook_signing.py, shared with the tenants' event webhooks)."""
    _key(secret)  # the setting's own error message
    return standard_signature(secret, msg_id, timestamp, body)


def verify(secret: str, headers: dict[str, str], body: bytes, now: int, tolerance_s: int = 300) -> bool:
    """What a receiver checks: one of the space-separated signatures matches and the timestamp is
    within ``tolerance_s`` of ``now``."""
    return secret.startswith("whsec_") and verify_standard(secret, headers, body, now, tolerance_s)


def webhook_request(
    secret: str, msg_id: str, timestamp: int, payload: dict[str, object]
) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
    headers = {
        "content-type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, msg_id, timestamp, body),
    }
    return body, headers


def email_of(row: AlarmNotificationRow) -> Message:
    data = row.payload.get("data", {})
    what = row.event.replace(".", " ")
    subject = (
        f"[Centrex P{data.get('priority', '?')}] {what}: {data.get('summary') or data.get('subject', '')}"
    )
    lines = [f"{what} at {row.payload.get('timestamp')}", ""]
    lines += [f"{k}: {v}" for k, v in data.items() if v is not None and k != "details"]
    if data.get("details"):
        lines += ["", "details: " + json.dumps(data["details"], sort_keys=True)]
    if row.level > 0:
        lines.insert(0, "ESCALATION: the response clock ran out unacknowledged.")
    return Message(to=(row.address,), subject=subject[:200], text="\n".join(lines) + "\n")


@dataclass
class Delivery:
    sent: int = 0
    retried: int = 0
    failed: int = 0


class Notifier:
    """Sends what the outbox holds. ``mailer`` None: e-mails wait (and are retried) until one is
    configured — never dropped silently, the row says why."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        mailer: Mailer | None,
        webhook_secret: str = "",
        *,
        timeout_s: float = WEBHOOK_TIMEOUT_S,
    ) -> None:
        self.sessions = sessions
        self.mailer = mailer
        self.webhook_secret = webhook_secret
        self.timeout_s = timeout_s

    def deliver_due(self, now: datetime, limit: int = 100) -> Delivery:
        with transaction(self.sessions) as session:
            ids = list(
                session.scalars(
                    select(AlarmNotificationRow.id)
                    .where(AlarmNotificationRow.status == "pending", AlarmNotificationRow.next_try_at <= now)
                    .order_by(AlarmNotificationRow.created_at)
                    .limit(limit)
                )
            )
        outcome = Delivery()
        for row_id in ids:
            with transaction(self.sessions) as session:
                row = session.get(AlarmNotificationRow, row_id)
                if row is None or row.status != "pending":
                    continue
                ok, detail, final = self._send(row, now)
                row.attempts += 1
                row.detail = detail[:500]
                if ok:
                    row.status, row.sent_at = "sent", now
                    outcome.sent += 1
                elif final or row.attempts >= TRIES:
                    row.status = "failed"
                    outcome.failed += 1
                    log.warning("alarm.notify.failed event=%s to=%s: %s", row.event, row.address, detail)
                else:
                    row.next_try_at = now + FIRST_RETRY * 2 ** (row.attempts - 1)
                    outcome.retried += 1
        return outcome

    def _send(self, row: AlarmNotificationRow, now: datetime) -> tuple[bool, str, bool]:
        """(sent, detail, final: no point trying again)."""
        if row.channel == "email":
            if self.mailer is None:
                return False, "no mailer: set CENTREX_SMTP_HOST", False
            try:
                return True, self.mailer.send_now(email_of(row)), False
            except MailError as exc:
                return False, exc.detail, exc.permanent
        if not self.webhook_secret:
            return False, "no webhook secret: set CENTREX_ALARM_WEBHOOK_SECRET", False
        body, headers = webhook_request(self.webhook_secret, str(row.id), int(now.timestamp()), row.payload)
        try:
            response = httpx.post(row.address, content=body, headers=headers, timeout=self.timeout_s)
        except httpx.HTTPError as exc:
            return False, f"{type(exc).__name__}: {exc}", False
        if 200 <= response.status_code < 300:
            return True, f"HTTP {response.status_code}", False
        # A 4xx other than 408/429 will not change by trying again (Standard Webhooks' advice).
        final = 400 <= response.status_code < 500 and response.status_code not in (408, 429)
        return False, f"HTTP {response.status_code}", final
