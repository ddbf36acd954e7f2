"""The tax and surcharge table as data: entries with effective dates (cpaas.txt §4.7, §4.8), read
from the operator's stored table or a CSV, turned into billing/taxes.py's TaxTable for one tenant.

Pure functions; billing/tax_service.py stores and loads the entries.

- `basis` says how an entry applies: `usf_factor` (federal USF on the interstate share), `percent`
  (state and local taxes, percentage carrier surcharges) or `per_line` (E911 fees by jurisdiction,
  per-line carrier surcharges).
- An exemption certificate is for one jurisdiction: it removes the kinds it lists from the entries
  of that jurisdiction and of the places inside it ("US-TX" covers "US-TX-DALLAS"), from its first
  day to its expiry day inclusive (cpaas.txt, US addendum to §4.7: exemption needs "tax exemption
  certificates"). Entries for every customer ("*") are pass-through carrier charges, not taxes: no
  certificate removes them.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from centrex.billing.taxes import (
    DEMO_TAX_TABLE,
    Effective,
    PercentTax,
    PerLineFee,
    TaxKind,
    TaxTable,
    UsfFactor,
)

BASES = ("usf_factor", "percent", "per_line")
CSV_COLUMNS = ("kind", "basis", "jurisdiction", "name", "rate", "effective_from", "effective_to", "source")
DEFAULT_EXEMPT_KINDS = (TaxKind.STATE, TaxKind.LOCAL, TaxKind.E911)


class TaxTableError(ValueError):
    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, slots=True)
class TaxEntry:
    kind: TaxKind
    basis: str
    jurisdiction: str
    name: str
    rate: Decimal
    effective_from: date
    effective_to: date | None = None  # exclusive
    source: str = ""

    def in_force(self, on: date) -> bool:
        return Effective(self.effective_from, self.effective_to).in_force(on)


@dataclass(frozen=True, slots=True)
class Certificate:
    number: str
    jurisdiction: str
    valid_from: date
    expires_on: date | None  # last valid day, inclusive
    exempt_kinds: frozenset[TaxKind] = field(default_factory=lambda: frozenset(DEFAULT_EXEMPT_KINDS))

    def covers(self, entry: TaxEntry, on: date) -> bool:
        valid = self.valid_from <= on and (self.expires_on is None or on <= self.expires_on)
        inside = entry.jurisdiction == self.jurisdiction or entry.jurisdiction.startswith(
            self.jurisdiction + "-"
        )
        return valid and inside and entry.kind in self.exempt_kinds and entry.jurisdiction != "*"


def check_entry(entry: TaxEntry, where: str = "") -> TaxEntry:
    """Refuse an entry the rules cannot apply; the error names the field."""
    prefix = f"{where}: " if where else ""
    if entry.basis not in BASES:
        raise TaxTableError(f"{prefix}basis must be one of {', '.join(BASES)}", "basis")
    if entry.basis == "usf_factor" and entry.kind is not TaxKind.FEDERAL_USF:
        raise TaxTableError(f"{prefix}a usf_factor entry is of kind federal_usf", "kind")
    if entry.kind is TaxKind.FEDERAL_USF and entry.basis != "usf_factor":
        raise TaxTableError(f"{prefix}federal_usf entries have basis usf_factor", "basis")
    if entry.rate < 0:
        raise TaxTableError(f"{prefix}rate must be >= 0", "rate")
    if entry.basis in ("usf_factor", "percent") and entry.rate > 1:
        raise TaxTableError(f"{prefix}a factor or percentage is a fraction (0.0625 for 6.25%)", "rate")
    if entry.effective_to is not None and entry.effective_to <= entry.effective_from:
        raise TaxTableError(f"{prefix}effective_to must be after effective_from", "effective_to")
    if not entry.jurisdiction or not entry.name:
        raise TaxTableError(f"{prefix}jurisdiction and name are required", "jurisdiction")
    return entry


def table_for(entries: Iterable[TaxEntry], certificates: Sequence[Certificate], on: date) -> TaxTable:
    """The TaxTable of the entries in force on `on` that no certificate of the tenant covers."""
    usf: list[UsfFactor] = []
    percent: list[PercentTax] = []
    per_line: list[PerLineFee] = []
    for e in sorted(entries, key=lambda e: (e.effective_from, e.kind.value, e.jurisdiction, e.name)):
        if not e.in_force(on) or any(c.covers(e, on) for c in certificates):
            continue
        period = Effective(e.effective_from, e.effective_to)
        if e.basis == "usf_factor":
            usf.append(UsfFactor(e.rate, period, e.source))
        elif e.basis == "percent":
            percent.append(PercentTax(e.jurisdiction, e.kind, e.name, e.rate, period, e.source))
        else:
            per_line.append(PerLineFee(e.jurisdiction, e.kind, e.name, e.rate, period, e.source))
    return TaxTable(usf=tuple(usf), percent=tuple(percent), per_line=tuple(per_line))


def _date(text: str, column: str, where: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise TaxTableError(f"{where}: {column} must be a date YYYY-MM-DD, got {text!r}", column) from None


def parse_csv(lines: Iterable[str]) -> list[TaxEntry]:
    """Entries from CSV with the columns of CSV_COLUMNS (effective_to and source may be empty)."""
    reader = csv.DictReader(iter(lines))
    header = [h.strip() for h in (reader.fieldnames or [])]
    reader.fieldnames = header
    missing = [c for c in CSV_COLUMNS[:6] if c not in header]
    if missing:
        raise TaxTableError(f"missing column(s): {', '.join(missing)}", "header")
    out = []
    for n, row in enumerate(reader, start=2):
        where = f"line {n}"
        try:
            kind = TaxKind((row.get("kind") or "").strip())
        except ValueError:
            raise TaxTableError(
                f"{where}: kind must be one of {', '.join(k.value for k in TaxKind)}", "kind"
            ) from None
        try:
            rate = Decimal((row.get("rate") or "").strip())
        except InvalidOperation:
            raise TaxTableError(f"{where}: rate must be a decimal number", "rate") from None
        to_text = (row.get("effective_to") or "").strip()
        entry = TaxEntry(
            kind=kind,
            basis=(row.get("basis") or "").strip(),
            jurisdiction=(row.get("jurisdiction") or "").strip(),
            name=(row.get("name") or "").strip(),
            rate=rate,
            effective_from=_date(row.get("effective_from") or "", "effective_from", where),
            effective_to=_date(to_text, "effective_to", where) if to_text else None,
            source=(row.get("source") or "").strip(),
        )
        out.append(check_entry(entry, where))
    return out


def demo_entries() -> list[TaxEntry]:
    """DEMO_TAX_TABLE as entries: the seed data of the demo (public example figures)."""
    t = DEMO_TAX_TABLE
    out = [
        TaxEntry(
            TaxKind.FEDERAL_USF,
            "usf_factor",
            "US",
            "Federal USF",
            u.factor,
            u.period.effective_from,
            u.period.effective_to,
            u.source,
        )
        for u in t.usf
    ]
    out += [
        TaxEntry(f.kind, "per_line", f.jurisdiction, f.name, f.amount, *_bounds(f.period), f.source)
        for f in t.per_line
    ]
    out += [
        TaxEntry(p.kind, "percent", p.jurisdiction, p.name, p.rate, *_bounds(p.period), p.source)
        for p in t.percent
    ]
    return out


def _bounds(period: Effective) -> tuple[date, date | None]:
    return period.effective_from, period.effective_to


def to_csv(entries: Iterable[TaxEntry]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for e in entries:
        writer.writerow(
            [
                e.kind.value,
                e.basis,
                e.jurisdiction,
                e.name,
                str(e.rate),
                e.effective_from.isoformat(),
                e.effective_to.isoformat() if e.effective_to else "",
                e.source,
            ]
        )
    return buf.getvalue()
