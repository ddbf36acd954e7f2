"""Invoice lines: the unit every charge, credit, tax and surcharge is expressed in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from centrex.billing.money import to_cents


class LineKind(StrEnum):
    RECURRING = "recurring"  # in advance for the coming month
    NON_RECURRING = "non_recurring"  # one-time: set-up, port, prorations, previous month's items
    USAGE = "usage"  # previous month, in arrears
    OVERAGE = "overage"  # previous month, minutes beyond the allotment
    CREDIT = "credit"  # outage credits and other credits (negative)
    LATE_CHARGE = "late_charge"
    TAX = "tax"
    SURCHARGE = "surcharge"  # pass-through carrier and regulatory surcharges


#: Kinds that are sales of telecom service, i.e. the base taxes and surcharges are computed on.
TAXABLE_KINDS: frozenset[LineKind] = frozenset(
    {LineKind.RECURRING, LineKind.NON_RECURRING, LineKind.USAGE, LineKind.OVERAGE, LineKind.CREDIT}
)


@dataclass(frozen=True, slots=True)
class InvoiceLine:
    """One line. `amount` is in cents (rounded once, half up, when the line is made)."""

    kind: LineKind
    description: str
    amount: Decimal
    quantity: Decimal = Decimal(1)
    unit_price: Decimal | None = None
    period_start: date | None = None
    period_end: date | None = None
    cdr_ids: tuple[str, ...] = ()
    source: str = ""  # the contract clause the line comes from

    def __post_init__(self) -> None:
        if self.amount != to_cents(self.amount):
            raise ValueError(f"line {self.description!r}: amount {self.amount} is not rounded to cents")


def make_line(
    kind: LineKind,
    description: str,
    exact_amount: Decimal,
    *,
    quantity: Decimal | int = 1,
    unit_price: Decimal | None = None,
    period_start: date | None = None,
    period_end: date | None = None,
    cdr_ids: tuple[str, ...] = (),
    source: str = "",
) -> InvoiceLine:
    """A line from an exact amount: the one place an amount is rounded to cents (ROUND_HALF_UP)."""
    return InvoiceLine(
        kind=kind,
        description=description,
        amount=to_cents(exact_amount),
        quantity=Decimal(quantity),
        unit_price=unit_price,
        period_start=period_start,
        period_end=period_end,
        cdr_ids=cdr_ids,
        source=source,
    )
