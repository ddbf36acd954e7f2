"""Message charges on the monthly invoice (issue 16 §4: "message detail records rated by billing").

cpaas.txt §4.3: "on the first day of each month ("Invoice Date") … as well as any previous month's
transactional … charges" — messages are transactional charges, billed in arrears on the invoice that
closes the month they were sent or received in. Each message detail record (sms_messages) was rated
when it was made: ``price`` is ``-segments × price per segment`` (Twilio's sign), Decimal, category
``sms_outbound`` or ``sms_inbound`` (cpaas/messaging/service.py). Here they are summed per category
into one USAGE line each (taxable like voice usage), rounded to cents once, half up (make_line).

Which records are charged: an outbound message the carrier accepted (``sent``, ``delivered``,
``undelivered``: the carrier carried it, Twilio charges these too) and an inbound one ``received``.
Not charged: ``failed`` (refused by the carrier or never handed over) and messages still ``queued``
or ``sending`` — a message is charged once, in the month it was made.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from centrex.billing.lines import InvoiceLine, LineKind, make_line
from centrex.store.models.messaging import SmsMessage

SOURCE = "cpaas.txt §4.3"
CHARGED = {"sms_outbound": ("sent", "delivered", "undelivered"), "sms_inbound": ("received",)}
LABELS = {"sms_outbound": "SMS sent", "sms_inbound": "SMS received"}


@dataclass(frozen=True, slots=True)
class MessageUsage:
    category: str
    messages: int
    segments: int
    amount: Decimal  # positive: what the tenant owes
    unit_price: Decimal | None  # per segment, when every record had the same


def message_usage(session: Session, tenant_id: uuid.UUID, start: date, end: date) -> list[MessageUsage]:
    """The tenant's charged message detail records made from ``start`` to ``end`` (inclusive, UTC
    days), per category."""
    since = datetime.combine(start, time(), UTC)
    until = datetime.combine(end + timedelta(days=1), time(), UTC)
    out: list[MessageUsage] = []
    for category, statuses in CHARGED.items():
        row = session.execute(
            select(
                func.count(SmsMessage.id),
                func.coalesce(func.sum(SmsMessage.segments), 0),
            ).where(
                SmsMessage.tenant_id == tenant_id,
                SmsMessage.category == category,
                SmsMessage.status.in_(statuses),
                SmsMessage.created_at >= since,
                SmsMessage.created_at < until,
            )
        ).one()
        count, segments = int(row[0] or 0), int(row[1] or 0)
        if not count:
            continue
        prices = session.scalars(
            select(SmsMessage.price).where(
                SmsMessage.tenant_id == tenant_id,
                SmsMessage.category == category,
                SmsMessage.status.in_(statuses),
                SmsMessage.created_at >= since,
                SmsMessage.created_at < until,
            )
        )
        # Summed in Python on the stored Decimals (the Money type): no float on any database.
        amount = -sum((p for p in prices if p is not None), Decimal(0))
        unit: Decimal | None = None
        if segments and amount:
            exact = amount / segments
            unit = exact if exact * segments == amount else None
        out.append(MessageUsage(category, count, segments, amount, unit))
    return out


def message_lines(session: Session, tenant_id: uuid.UUID, start: date, end: date) -> list[InvoiceLine]:
    """The invoice lines of the month's messages (cpaas.txt §4.3, in arrears)."""
    lines = []
    for u in message_usage(session, tenant_id, start, end):
        label = LABELS.get(u.category, u.category)
        desc = f"{label}: {u.messages:,} message" + ("s" if u.messages != 1 else "")
        desc += f", {u.segments:,} segment" + ("s" if u.segments != 1 else "")
        lines.append(
            make_line(
                LineKind.USAGE,
                desc,
                u.amount,
                quantity=u.segments,
                unit_price=u.unit_price,
                period_start=start,
                period_end=end,
                source=SOURCE,
            )
        )
    return lines
