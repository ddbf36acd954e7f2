"""The outbox of signed requests to customers' URLs (issue 16 §3: "Retries with back-off and a
delivery log per endpoint"), and what the delivery worker (cpaas/delivery.py) does with its rows.

``enqueue`` writes a ``webhook_deliveries`` row in the caller's session: it is committed with the
caller's own change, so a crash loses nothing that was committed, and a rolled-back change sends
nothing. After the commit the worker sends it:

- 2xx: delivered;
- 410 Gone from an event endpoint: the endpoint is disabled (its pending deliveries cancelled), as
  Standard Webhooks and Svix advise — the receiver said it is gone for good;
- anything else (another status, a timeout, a refused connection): tried again after the next delay
  of ``SCHEDULE_S`` — 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h (Svix's schedule, which Standard
  Webhooks cites), each ±20 % jitter so a receiver coming back is not hit by every sender at once —
  then ``failed`` after ``MAX_ATTEMPTS`` (8) attempts, about 28 h after the first.

Every attempt is logged (``webhook_attempts``: status code, latency, error, the answer's first 500
characters), readable per endpoint through the API (api/routers/webhooks.py).

Signing, done at each attempt (a retry carries a fresh timestamp):
- ``standard``: an event endpoint's active secrets, Standard Webhooks headers and Centrex-Signature
  (cpaas/webhook_signing.py);
- ``twilio``: X-Twilio-Signature with the tenant's CPaaS auth token (cpaas/signing.py), for the
  TwiML path's status callbacks;
- ``none``.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode

from sqlalchemy import and_, delete, event, exists, or_, select, update
from sqlalchemy.orm import Session, aliased

from centrex.cpaas.accounts import account_for_tenant
from centrex.cpaas.signing import HEADER as TWILIO_HEADER
from centrex.cpaas.signing import twilio_signature
from centrex.cpaas.webhook_signing import signed_headers
from centrex.store.models.webhooks import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookSecret
from centrex.store.sealed import unseal

SCHEDULE_S: tuple[float, ...] = (5, 300, 1800, 7200, 18000, 36000, 36000)
MAX_ATTEMPTS = len(SCHEDULE_S) + 1
JITTER = 0.2
SIGNINGS = ("standard", "twilio", "none")
FORM = "application/x-www-form-urlencoded"
JSON_TYPE = "application/json"
USER_AGENT = "Centrex-Webhooks/1"
SNIPPET = 500

_wakers: list[Any] = []  # in-process delivery workers told of new rows (cpaas/delivery.py)


def retry_delay(
    attempts: int, schedule: Sequence[float] = SCHEDULE_S, rng: random.Random | None = None
) -> float:
    """Seconds to wait after the ``attempts``-th failed attempt (1-based), with ±20 % jitter."""
    base = schedule[min(attempts, len(schedule)) - 1]
    return base * (1 + JITTER * (2 * (rng or random).random() - 1))


def enqueue(
    session: Session,
    *,
    tenant_id: uuid.UUID,
    url: str,
    method: str = "POST",
    body: bytes | str | None = None,
    json_body: Any = None,
    form: Mapping[str, str] | Sequence[tuple[str, str]] | None = None,
    signing: str = "standard",
    kind: str = "callback",
    event_type: str | None = None,
    endpoint_id: uuid.UUID | None = None,
    msg_id: str | None = None,
    max_attempts: int = MAX_ATTEMPTS,
    context: dict[str, Any] | None = None,
    now: datetime | None = None,
    flush: bool = True,
    lane: str | None = None,
) -> uuid.UUID:
    """Queue one signed request, in the caller's transaction; returns the delivery's id.

    Give one of ``body`` (raw, JSON unless it is a form), ``json_body`` or ``form``. A ``GET`` with
    a form sends it as the query string (Twilio's StatusCallbackMethod=GET). ``standard`` signing
    needs ``endpoint_id`` (the secrets are the endpoint's); ``twilio`` signs with the tenant's
    CPaaS auth token. ``lane``: deliveries of one lane leave one at a time in the order queued
    (default: the endpoint's, else the URL's); a call's status callbacks use ``call:<CallSid>``."""
    if signing not in SIGNINGS:
        raise ValueError(f"signing: one of {', '.join(SIGNINGS)}")
    if signing == "standard" and endpoint_id is None:
        raise ValueError("signing=standard needs the endpoint whose secrets sign")
    if not url.startswith(("http://", "https://")):
        raise ValueError("url: an http(s) URL")
    method = method.upper()
    if method not in ("GET", "POST"):
        raise ValueError("method: GET or POST")
    content_type = JSON_TYPE
    text = ""
    if form is not None:
        encoded = urlencode(list(form.items()) if isinstance(form, Mapping) else list(form))
        if method == "GET":
            url = url + ("&" if "?" in url else "?") + encoded if encoded else url
        else:
            text, content_type = encoded, FORM
    elif json_body is not None:
        text = json.dumps(json_body, separators=(",", ":"))
    elif body is not None:
        text = body.decode() if isinstance(body, bytes) else body
    now = now or datetime.now(UTC)
    row = WebhookDelivery(
        id=uuid.uuid4(),
        tenant_id=tenant_id,
        endpoint_id=endpoint_id,
        url=url,
        method=method,
        kind=kind,
        event_type=event_type,
        msg_id=msg_id or f"msg_{uuid.uuid4().hex}",
        signing=signing,
        content_type=content_type,
        body=text,
        status="pending",
        attempts=0,
        max_attempts=max(1, max_attempts),
        next_try_at=now,
        context=context,
        lane=lane,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    if flush:
        session.flush()
    if _wakers and not session.info.get("webhook_wake"):
        session.info["webhook_wake"] = True  # the worker of this process looks as soon as it commits
        event.listen(session, "after_commit", _wake_all)
    return row.id


def _wake_all(session: Session) -> None:
    for wake in list(_wakers):
        wake()


# -- the worker's side (blocking: run in a thread) -----------------------------------------------
@dataclass(frozen=True, slots=True)
class Request:
    """One attempt, ready to send."""

    delivery_id: uuid.UUID
    tenant_id: uuid.UUID
    endpoint_id: uuid.UUID | None
    attempt: int
    url: str
    method: str
    body: bytes
    headers: dict[str, str]
    lane_key: str | None = None

    @property
    def lane(self) -> str:
        """Deliveries of one lane are sent one at a time, in order (the row's lane, else its
        endpoint, else its URL)."""
        return self.lane_key or (str(self.endpoint_id) if self.endpoint_id else self.url)


@dataclass(frozen=True, slots=True)
class Outcome:
    request: Request
    at: datetime
    status_code: int | None
    latency_ms: int
    error: str | None
    response: str
    final: bool = False  # no use trying again (a refused address)

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def active_secrets(session: Session, endpoint_id: uuid.UUID, now: datetime) -> list[str]:
    """The endpoint's secrets not past their grace period, newest first."""
    rows = session.scalars(
        select(WebhookSecret)
        .where(WebhookSecret.endpoint_id == endpoint_id)
        .order_by(WebhookSecret.created_at.desc())
    )
    return [unseal(session, r.secret_sealed) for r in rows if r.expires_at is None or r.expires_at > now]


def _headers(
    session: Session, row: WebhookDelivery, body: bytes, now: datetime, keys: dict[uuid.UUID, list[str]]
) -> dict[str, str]:
    headers = {"User-Agent": USER_AGENT}
    if row.body:
        headers["Content-Type"] = row.content_type
    if row.event_type:
        headers["Centrex-Event"] = row.event_type
    if row.signing == "standard" and row.endpoint_id is not None:
        headers.update(
            signed_headers(
                active_secrets(session, row.endpoint_id, now), row.msg_id, int(now.timestamp()), body
            )
        )
    elif row.signing == "twilio":
        account = account_for_tenant(session, row.tenant_id)
        if account is not None:
            params = parse_qsl(row.body, keep_blank_values=True) if row.content_type == FORM else []
            headers[TWILIO_HEADER] = twilio_signature(account.auth_token, row.url, params)
    return headers


def _behind(now: datetime) -> Any:
    """A due delivery queued after one of its lane that is still pending and not due (waiting for
    its retry, or in flight on this or another node): it waits too, so a lane's deliveries leave in
    the order they were queued across rounds and nodes — a call's status callbacks in
    SequenceNumber order, an endpoint's events in order (issue 16 §1, §3)."""
    earlier = aliased(WebhookDelivery)
    d = WebhookDelivery
    same_lane = or_(
        and_(d.lane.is_not(None), earlier.lane == d.lane),
        and_(d.lane.is_(None), d.endpoint_id.is_not(None), earlier.endpoint_id == d.endpoint_id),
        and_(d.lane.is_(None), d.endpoint_id.is_(None), earlier.endpoint_id.is_(None), earlier.url == d.url),
    )
    return exists(
        select(earlier.id).where(
            earlier.status == "pending",
            earlier.next_try_at > now,
            earlier.created_at < WebhookDelivery.created_at,
            same_lane,
        )
    )


def claim_due(session: Session, now: datetime, limit: int, lease_s: float) -> list[Request]:
    """Take up to ``limit`` due deliveries: they are leased (their next try moved ``lease_s``
    ahead, to a time of this claim's own) in one conditional UPDATE, and only the rows that carry
    that lease afterwards are ours — so two workers (two nodes) never send one attempt twice."""
    due = list(
        session.scalars(
            select(WebhookDelivery.id)
            .where(WebhookDelivery.status == "pending", WebhookDelivery.next_try_at <= now, ~_behind(now))
            .order_by(WebhookDelivery.next_try_at, WebhookDelivery.created_at)
            .limit(limit)
        )
    )
    if not due:
        return []
    lease = now + timedelta(seconds=lease_s, microseconds=random.randrange(1_000_000))
    session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.id.in_(due),
            WebhookDelivery.status == "pending",
            WebhookDelivery.next_try_at <= now,
        )
        .values(next_try_at=lease)
        .execution_options(synchronize_session=False)
    )
    rows = session.scalars(
        select(WebhookDelivery)
        .where(WebhookDelivery.id.in_(due), WebhookDelivery.next_try_at == lease)
        .order_by(WebhookDelivery.created_at, WebhookDelivery.id)
    ).all()
    keys: dict[uuid.UUID, list[str]] = {}
    taken: list[Request] = []
    for row in rows:
        body = row.body.encode()
        taken.append(
            Request(
                row.id,
                row.tenant_id,
                row.endpoint_id,
                row.attempts + 1,
                row.url,
                row.method,
                body,
                _headers(session, row, body, now, keys),
                row.lane,
            )
        )
    return taken


def record(
    session: Session,
    outcomes: Sequence[Outcome],
    now: datetime,
    schedule: Sequence[float] = SCHEDULE_S,
    *,
    held: Sequence[Request] = (),
    released: Sequence[Request] = (),
) -> None:
    """Write what the attempts gave: the attempt rows, each delivery's new state.

    ``held``: deliveries not sent because an earlier one of their lane failed this round — they
    wait as long as it does (the endpoint backs off as one, and keeps its order). ``released``:
    not sent for want of time this round — due again at once. Neither counts as an attempt."""
    ids = [out.request.delivery_id for out in outcomes]
    loaded = {r.id: r for r in session.scalars(select(WebhookDelivery).where(WebhookDelivery.id.in_(ids)))}
    for out in outcomes:
        req = out.request
        row = loaded.get(req.delivery_id)
        if row is None:  # its endpoint was deleted meanwhile
            continue
        session.add(
            WebhookAttempt(
                tenant_id=req.tenant_id,
                delivery_id=req.delivery_id,
                endpoint_id=req.endpoint_id,
                number=req.attempt,
                at=out.at,
                status_code=out.status_code,
                latency_ms=out.latency_ms,
                error=(out.error or None) and out.error[:300],
                response=out.response[:SNIPPET],
            )
        )
        row.attempts = req.attempt
        row.last_status_code = out.status_code
        row.last_error = (out.error or None) and out.error[:500]
        if row.status != "pending":
            continue
        if out.delivered:
            row.status, row.delivered_at = "delivered", out.at
        elif out.status_code == 410 and req.endpoint_id is not None:
            row.status = "failed"
            disable_endpoint(session, req.endpoint_id, "the receiver answered 410 Gone")
        elif out.final or row.attempts >= row.max_attempts:
            row.status = "failed"
        else:
            row.next_try_at = now + timedelta(seconds=retry_delay(row.attempts, schedule))
    failed_at: dict[str, datetime] = {}
    for out in outcomes:
        row = loaded.get(out.request.delivery_id)
        if row is not None and row.status == "pending" and not out.delivered:
            failed_at[out.request.lane] = row.next_try_at
    _postpone(session, [(r.delivery_id, failed_at.get(r.lane, now)) for r in held])
    _postpone(session, [(r.delivery_id, now) for r in released])


def _postpone(session: Session, rows: Sequence[tuple[uuid.UUID, datetime]]) -> None:
    for delivery_id, at in rows:
        session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id == delivery_id, WebhookDelivery.status == "pending")
            .values(next_try_at=at)
            .execution_options(synchronize_session=False)
        )


def disable_endpoint(session: Session, endpoint_id: uuid.UUID, reason: str) -> None:
    endpoint = session.get(WebhookEndpoint, endpoint_id)
    if endpoint is not None:
        endpoint.enabled, endpoint.disabled_reason = False, reason
    session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.endpoint_id == endpoint_id, WebhookDelivery.status == "pending")
        .values(status="cancelled", last_error=reason)
        .execution_options(synchronize_session=False)
    )


def next_due(session: Session) -> datetime | None:
    return session.scalar(
        select(WebhookDelivery.next_try_at)
        .where(WebhookDelivery.status == "pending")
        .order_by(WebhookDelivery.next_try_at)
        .limit(1)
    )


# cpaas.txt §2.4.2 (i): content of communications is kept "for thirty (30) days from successful
# processing" — a delivery's body is such content (an SMS status callback carries the message).
RETENTION = timedelta(days=30)


def sweep(session: Session, now: datetime) -> int:
    """Delete the deliveries finished (delivered, failed, cancelled) over 30 days ago, with their
    attempts; how many. Pending ones stay whatever their age."""
    result: Any = session.execute(
        delete(WebhookAttempt).where(
            WebhookAttempt.delivery_id.in_(
                select(WebhookDelivery.id).where(
                    WebhookDelivery.status != "pending", WebhookDelivery.updated_at < now - RETENTION
                )
            )
        )
    )
    result = session.execute(
        delete(WebhookDelivery).where(
            WebhookDelivery.status != "pending", WebhookDelivery.updated_at < now - RETENTION
        )
    )
    return int(result.rowcount or 0)
