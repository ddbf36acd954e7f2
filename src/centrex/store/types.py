"""Column types shared by the models: UTC datetimes, string-valued enums and exact money."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import DateTime, Dialect, Numeric, String, TypeDecorator
from sqlalchemy.types import TypeEngine


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC on the way in and out, on every backend.

    SQLite has no time zone type; storing naive UTC and re-attaching UTC on load keeps one rule for
    both databases instead of trusting each driver.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: Centrex stores UTC with a time zone")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class EnumText(TypeDecorator[Any]):
    """A StrEnum stored as its value in a VARCHAR: readable in SQL, no native enum to migrate."""

    impl = String(32)
    cache_ok = True

    def __init__(self, enum_cls: type[StrEnum], length: int = 32) -> None:
        super().__init__(length)
        self.enum_cls = enum_cls

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return self.enum_cls(value).value

    def process_result_value(self, value: str | None, dialect: Dialect) -> Any:
        return None if value is None else self.enum_cls(value)


def utcnow() -> datetime:
    return datetime.now(UTC)


MONEY_PLACES = 6
MONEY_DIGITS = 18
_MONEY_QUANTUM = Decimal(1).scaleb(-MONEY_PLACES)
_MONEY_MAX = Decimal(10) ** (MONEY_DIGITS - MONEY_PLACES)


class Money(TypeDecorator[Decimal]):
    """An exact amount: 18 significant digits, 6 of them after the point, on every backend.

    PostgreSQL stores it as NUMERIC(18, 6), which is exact. SQLite's NUMERIC affinity turns a decimal
    into an 8-byte REAL (exact to 15 significant digits only), so on SQLite the amount is kept as its
    decimal text instead — `123456789012.345678` comes back digit for digit. Values are rounded half
    up to 6 places on the way in on both backends (what PostgreSQL would do) and an amount beyond 18
    digits is refused rather than silently corrupted. Floats are refused: money is never a float.
    Comparing or summing money belongs in Python (Decimal), not in SQL, on SQLite.
    """

    impl = Numeric(MONEY_DIGITS, MONEY_PLACES)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(40))
        return dialect.type_descriptor(Numeric(MONEY_DIGITS, MONEY_PLACES, asdecimal=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        exact = money_value(value)
        return format(exact, "f") if dialect.name == "sqlite" else exact

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        # Text from SQLite; Decimal from PostgreSQL. A REAL left by an old row is read via its repr.
        return Decimal(str(value)).quantize(_MONEY_QUANTUM)


def money_value(value: Any) -> Decimal:
    """A Decimal (or int / decimal text) as stored money: 6 places, half up, at most 18 digits."""
    if isinstance(value, (float, bool)):
        raise TypeError("money must be a Decimal, never a float")
    exact = Decimal(value).quantize(_MONEY_QUANTUM, rounding=ROUND_HALF_UP)
    if abs(exact) >= _MONEY_MAX:
        raise ValueError(f"amount {value} exceeds {MONEY_DIGITS} digits with {MONEY_PLACES} decimal places")
    return exact
