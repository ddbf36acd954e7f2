"""Money: `decimal.Decimal` with explicit rounding, never floats.

Per-call charges are kept at six decimal places (micro-dollars); amounts are rounded to cents once,
per invoice line, with ROUND_HALF_UP (reference/billing-fraud.md §2.8: Kill Bill rounds HALF_UP at
currency scale; per-increment rounding drifts).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
MICRO = Decimal("0.000001")
ZERO = Decimal("0.000000")
MICROS_PER_UNIT = 1_000_000


def to_cents(amount: Decimal) -> Decimal:
    """Round an invoice line (or a tax line) to cents, half up: 0.005 -> 0.01."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def stored_cents(value: Decimal) -> Decimal:
    """A stored amount (or anything `Decimal` takes) rounded to cents, half up."""
    return to_cents(Decimal(value))


def to_micros(amount: Decimal) -> Decimal:
    """Round a per-call amount to six decimal places, half up."""
    return amount.quantize(MICRO, rounding=ROUND_HALF_UP)


def micros_of(amount: Decimal) -> int:
    """An amount with at most six decimal places as an integer number of micro-units."""
    scaled = amount * MICROS_PER_UNIT
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{amount} has more than six decimal places")
    return int(scaled)


def from_micros(micros: int) -> Decimal:
    """The inverse of `micros_of`, at six decimal places."""
    return (Decimal(micros) / MICROS_PER_UNIT).quantize(MICRO)


def stored_amount(value: Decimal | None) -> Decimal:
    """A stored amount at six places, normalised (SQLite hands back its REAL with float noise);
    None (no amount stored) is zero."""
    if value is None:
        return ZERO
    return Decimal(value).quantize(MICRO).normalize() + 0


def parse_decimal(text: str) -> Decimal:
    """A decimal from text ("0.0125", "1e-3"); raises ValueError with the text on bad input."""
    try:
        value = Decimal(text.strip())
    except InvalidOperation as exc:
        raise ValueError(f"not a decimal number: {text!r}") from exc
    if not value.is_finite():
        raise ValueError(f"not a finite number: {text!r}")
    return value


def format_usd(amount: Decimal) -> str:
    """ "$1,234.56" / "-$5.00" for display (the amount is rounded to cents first)."""
    cents = to_cents(amount)
    sign = "-" if cents < 0 else ""
    return f"{sign}${abs(cents):,.2f}"
