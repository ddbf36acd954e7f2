"""Builders shared by the billing tests (contract numbers live in the tests themselves)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from centrex.billing.cdr import CallRecord, Disposition
from centrex.billing.deck import RateDeck, load_deck
from centrex.numbers.classes import CallClass, Direction

T0 = datetime(2025, 3, 1, tzinfo=UTC)

DECK_CSV = """\
prefix,destination,rate_per_minute,connection_fee,minimum_s,increment_s,effective_from,effective_to
44,United Kingdom,0.0200,0,60,60,2025-01-01,
4420,United Kingdom London,0.0100,0,60,60,2025-01-01,2025-03-15
4420,United Kingdom London,0.0150,0,60,60,2025-03-15,
447,United Kingdom Mobile,0.0950,0.0100,30,6,2025-01-01,
33,France,0.0250,0,1,1,2025-01-01,
"""


def demo_deck() -> RateDeck:
    return load_deck(DECK_CSV.splitlines(keepends=True), name="demo", version=1)


def cdr(
    seconds: float,
    *,
    cid: str = "c1",
    tenant: str = "acme",
    call_class: CallClass = CallClass.LD_INTERSTATE,
    direction: Direction = Direction.OUTBOUND,
    callee: str = "+13035550100",
    start: datetime = T0,
    disposition: Disposition = Disposition.ANSWERED,
    intra: bool = False,
) -> CallRecord:
    duration_ms = int(Decimal(str(seconds)) * 1000) if disposition is Disposition.ANSWERED else 0
    return CallRecord(
        id=cid,
        tenant_id=tenant,
        caller="+14155550100",
        callee=callee,
        call_class=call_class,
        direction=direction,
        start=start,
        duration_ms=duration_ms,
        disposition=disposition,
        answer=start + timedelta(seconds=2) if duration_ms else None,
        is_intra_enterprise=intra,
    )
