"""Rate decks: CSV import, versions, and longest-prefix match on an E.164 number.

hosted-pbx.txt usage 1: "Charges for international long distance calling will be billed at the
then-current service rates" — the rate in force is the row whose effective window contains the
call's start time. A deck row is (prefix, destination, rate per minute, connection fee, minimum
duration, increment, effective from, effective to); the longest prefix that has a row in force wins
(CGRateS / A2Billing convention, reference/billing-fraud.md §0.1).
"""

from __future__ import annotations

import csv
import hashlib
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from itertools import pairwise

from centrex.billing.money import parse_decimal

MAX_PREFIX_DIGITS = 15  # E.164 numbers have at most 15 digits
RATE_DECIMALS = 6  # rates and fees are stored at six decimal places at most
REQUIRED_COLUMNS = ("prefix", "rate_per_minute", "effective_from")
OPTIONAL_COLUMNS = ("destination", "connection_fee", "minimum_s", "increment_s", "effective_to")
PROGRESS_EVERY = 5_000

Progress = Callable[[int], None]


@dataclass(frozen=True, slots=True)
class RateRow:
    prefix: str
    destination: str
    rate_per_minute: Decimal
    connection_fee: Decimal
    minimum_s: int
    increment_s: int
    effective_from: datetime
    effective_to: datetime | None = None  # exclusive; None = open-ended
    line: int = 0  # line of the CSV it came from (1 = header), for error messages and audits

    def in_force(self, at: datetime) -> bool:
        return self.effective_from <= at and (self.effective_to is None or at < self.effective_to)


@dataclass(frozen=True, slots=True)
class DeckFieldError:
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}, field {self.field!r}: {self.message}"


class DeckError(ValueError):
    """A deck that cannot be imported; `errors` names every bad line and field (up to a limit)."""

    def __init__(self, errors: list[DeckFieldError]) -> None:
        self.errors = errors
        shown = "; ".join(str(e) for e in errors[:5])
        more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
        super().__init__(f"rate deck rejected: {shown}{more}")


def _parse_time(text: str, line: int, name: str) -> datetime:
    text = text.strip()
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), datetime.min.time(), tzinfo=UTC)
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise _FieldError(line, name, f"not an ISO 8601 date or time: {text!r}") from exc
    if value.tzinfo is None:
        raise _FieldError(line, name, f"a time needs a UTC offset (e.g. 'Z'): {text!r}")
    return value.astimezone(UTC)


class _FieldError(Exception):
    def __init__(self, line: int, name: str, message: str) -> None:
        super().__init__(message)
        self.error = DeckFieldError(line, name, message)


def _money(text: str, line: int, name: str, default: str) -> Decimal:
    text = text.strip() or default
    try:
        value = parse_decimal(text)
    except ValueError as exc:
        raise _FieldError(line, name, str(exc)) from exc
    if value < 0:
        raise _FieldError(line, name, f"must not be negative: {text!r}")
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > RATE_DECIMALS:
        raise _FieldError(line, name, f"more than {RATE_DECIMALS} decimal places: {text!r}")
    return value


def _seconds(text: str, line: int, name: str, default: int, minimum: int) -> int:
    text = text.strip()
    if not text:
        return default
    if not text.isdigit():
        raise _FieldError(line, name, f"not a whole number of seconds: {text!r}")
    value = int(text)
    if value < minimum:
        raise _FieldError(line, name, f"must be at least {minimum}: {text!r}")
    return value


def _row(record: dict[str, str], line: int) -> RateRow:
    prefix = record["prefix"].strip().removeprefix("+")
    if not prefix.isdigit() or len(prefix) > MAX_PREFIX_DIGITS or not prefix.isascii():
        raise _FieldError(line, "prefix", f"must be 1 to {MAX_PREFIX_DIGITS} digits: {record['prefix']!r}")
    if prefix.startswith("0"):
        raise _FieldError(
            line, "prefix", f"an E.164 prefix starts with a country code 1-9: {record['prefix']!r}"
        )
    effective_from = _parse_time(record["effective_from"], line, "effective_from")
    to_text = (record.get("effective_to") or "").strip()
    effective_to = _parse_time(to_text, line, "effective_to") if to_text else None
    if effective_to is not None and effective_to <= effective_from:
        raise _FieldError(line, "effective_to", "must be after effective_from")
    return RateRow(
        prefix=prefix,
        destination=(record.get("destination") or "").strip(),
        rate_per_minute=_money(record["rate_per_minute"], line, "rate_per_minute", ""),
        connection_fee=_money(record.get("connection_fee") or "", line, "connection_fee", "0"),
        # hosted-pbx.txt usage 1.b: 60-second minimum and 60-second increments unless the row says
        minimum_s=_seconds(record.get("minimum_s") or "", line, "minimum_s", 60, 0),
        increment_s=_seconds(record.get("increment_s") or "", line, "increment_s", 60, 1),
        effective_from=effective_from,
        effective_to=effective_to,
        line=line,
    )


def iter_rate_rows(
    source: Iterable[str], *, on_progress: Progress | None = None, max_errors: int = 100
) -> Iterator[RateRow]:
    """Parse CSV text lines into rows, lazily. Raises DeckError naming every bad line and field.

    `on_progress(rows_read)` is called every few thousand rows and once at the end, so a CLI can
    drive a progress bar. Rows are yielded as they are read; the error (if any) comes at the end.
    """
    reader = csv.DictReader(iter(source))
    header = [h.strip() for h in (reader.fieldnames or [])]
    reader.fieldnames = header
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise DeckError([DeckFieldError(1, c, "required column is missing") for c in missing])
    errors: list[DeckFieldError] = []
    count = 0
    for record in reader:
        count += 1
        line = reader.line_num
        if None in record or any(record.get(c) is None for c in REQUIRED_COLUMNS):
            errors.append(DeckFieldError(line, "*", f"expected {len(header)} fields"))
        else:
            try:
                yield _row(record, line)
            except _FieldError as exc:
                errors.append(exc.error)
        if len(errors) >= max_errors:
            break
        if on_progress is not None and count % PROGRESS_EVERY == 0:
            on_progress(count)
    if on_progress is not None:
        on_progress(count)
    if errors:
        raise DeckError(errors)


@dataclass(frozen=True)
class RateDeck:
    """One version of a named deck. Immutable; a re-import is a new version.

    Rows of one prefix must not overlap in time; lookups pick, among the prefixes of the number,
    the longest one with a row in force at the call's start.
    """

    name: str
    version: int
    rows: tuple[RateRow, ...]
    _index: dict[str, tuple[list[datetime], tuple[RateRow, ...]]] = field(
        init=False, repr=False, compare=False
    )
    _max_len: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        grouped: dict[str, list[RateRow]] = {}
        for row in self.rows:
            grouped.setdefault(row.prefix, []).append(row)
        index: dict[str, tuple[list[datetime], tuple[RateRow, ...]]] = {}
        errors: list[DeckFieldError] = []
        for prefix, rows in grouped.items():
            rows.sort(key=lambda r: r.effective_from)
            for before, after in pairwise(rows):
                if before.effective_to is None or before.effective_to > after.effective_from:
                    errors.append(
                        DeckFieldError(
                            after.line,
                            "effective_from",
                            f"prefix {prefix} overlaps the row on line {before.line}",
                        )
                    )
            index[prefix] = ([r.effective_from for r in rows], tuple(rows))
        if errors:
            raise DeckError(errors)
        object.__setattr__(self, "_index", index)
        object.__setattr__(self, "_max_len", max((len(p) for p in index), default=0))

    def lookup(self, number: str, at: datetime) -> RateRow | None:
        """Longest-prefix match of an E.164 number ("+44..." or digits) for a call starting `at`."""
        digits = number.removeprefix("+")
        index = self._index
        for length in range(min(len(digits), self._max_len), 0, -1):
            entry = index.get(digits[:length])
            if entry is None:
                continue
            starts, rows = entry
            position = bisect_right(starts, at) - 1
            if position >= 0 and rows[position].in_force(at):
                return rows[position]
        return None

    @property
    def prefixes(self) -> int:
        return len(self._index)

    def change_times(self) -> list[datetime]:
        """Every instant at which some row starts or stops being in force, sorted."""
        times = {r.effective_from for r in self.rows}
        times.update(r.effective_to for r in self.rows if r.effective_to is not None)
        return sorted(times)

    def fingerprint(self) -> str:
        """SHA-256 of the rows, in a canonical order: what a rated result was rated against."""
        digest = hashlib.sha256()
        for r in sorted(self.rows, key=lambda r: (r.prefix, r.effective_from)):
            to = r.effective_to.isoformat() if r.effective_to else ""
            digest.update(
                f"{r.prefix}|{r.rate_per_minute}|{r.connection_fee}|{r.minimum_s}|{r.increment_s}|"
                f"{r.effective_from.isoformat()}|{to}\n".encode()
            )
        return digest.hexdigest()


def load_deck(
    source: Iterable[str], *, name: str, version: int = 1, on_progress: Progress | None = None
) -> RateDeck:
    """Parse a whole CSV deck (see `iter_rate_rows`) into one deck version."""
    return RateDeck(name=name, version=version, rows=tuple(iter_rate_rows(source, on_progress=on_progress)))
