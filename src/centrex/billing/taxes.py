"""Taxes and surcharges: table-driven, each entry with effective dates.

cpaas.txt §4.7: the customer pays "all sales, use, excise ... taxes ... as well as all regulatory
surcharges"; for US customers, exemption requires "sufficient written documentation, including ...
tax exemption certificates" (US addendum to §4.7). cpaas.txt §4.8: pass-through fees and surcharges
of the underlying carriers, and "any increases ... will be effective immediately" (no notice period).

Figures in DEMO_TAX_TABLE are public examples (reference/billing-fraud.md §2.7: FCC USF factors,
NENA 911 fees, the Dallas sales-tax example); the operator loads the real table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from centrex.billing.lines import TAXABLE_KINDS, InvoiceLine, LineKind, make_line

#: FCC 06-94: interstate share of nomadic/interconnected VoIP revenue when no traffic study is used.
VOIP_SAFE_HARBOR = Decimal("0.649")


class TaxKind(StrEnum):
    FEDERAL_USF = "federal_usf"
    E911 = "e911"
    STATE = "state"
    LOCAL = "local"
    CARRIER_SURCHARGE = "carrier_surcharge"


@dataclass(frozen=True, slots=True)
class Effective:
    effective_from: date
    effective_to: date | None = None  # exclusive

    def in_force(self, on: date) -> bool:
        return self.effective_from <= on and (self.effective_to is None or on < self.effective_to)


@dataclass(frozen=True, slots=True)
class UsfFactor:
    """Federal USF contribution factor for a quarter, applied to the interstate share."""

    factor: Decimal
    period: Effective
    source: str = ""


@dataclass(frozen=True, slots=True)
class PercentTax:
    """A state or local tax (or a percentage carrier surcharge) on the taxable base."""

    jurisdiction: str  # "US-TX", "US-TX-DALLAS"; "*" for every customer
    kind: TaxKind
    name: str
    rate: Decimal
    period: Effective
    source: str = ""


@dataclass(frozen=True, slots=True)
class PerLineFee:
    """A flat fee per line (or number) per month: 911 fees, per-line carrier surcharges."""

    jurisdiction: str
    kind: TaxKind
    name: str
    amount: Decimal
    period: Effective
    source: str = ""


@dataclass(frozen=True, slots=True)
class TaxTable:
    usf: tuple[UsfFactor, ...] = ()
    percent: tuple[PercentTax, ...] = ()
    per_line: tuple[PerLineFee, ...] = ()

    def usf_factor(self, on: date) -> UsfFactor | None:
        return next((u for u in self.usf if u.period.in_force(on)), None)


@dataclass(frozen=True, slots=True)
class ExemptionCertificate:
    """A tax exemption certificate on file (cpaas.txt, US addendum to §4.7)."""

    number: str
    valid_from: date
    valid_to: date | None
    exempt_kinds: frozenset[TaxKind] = frozenset({TaxKind.STATE, TaxKind.LOCAL})

    def covers(self, kind: TaxKind, on: date) -> bool:
        in_force = self.valid_from <= on and (self.valid_to is None or on <= self.valid_to)
        return in_force and kind in self.exempt_kinds


@dataclass(frozen=True, slots=True)
class TaxProfile:
    """Where a tenant is taxed, how many lines it has, and how its interstate share is known."""

    jurisdictions: tuple[str, ...]
    lines: int
    interstate_share: Decimal = VOIP_SAFE_HARBOR  # or the tenant's traffic-study figure
    traffic_study: bool = False
    certificate: ExemptionCertificate | None = None

    def __post_init__(self) -> None:
        if not Decimal(0) <= self.interstate_share <= Decimal(1):
            raise ValueError("interstate_share must be between 0 and 1")


def taxable_base(lines: Sequence[InvoiceLine]) -> Decimal:
    """The sum of the telecom service lines (recurring, one-time, usage, overage, credits)."""
    return sum((line.amount for line in lines if line.kind in TAXABLE_KINDS), Decimal("0.00"))


def _applies(jurisdiction: str, profile: TaxProfile) -> bool:
    return jurisdiction == "*" or jurisdiction in profile.jurisdictions


def _exempt(profile: TaxProfile, kind: TaxKind, on: date) -> bool:
    return profile.certificate is not None and profile.certificate.covers(kind, on)


def _line_kind(kind: TaxKind) -> LineKind:
    return LineKind.SURCHARGE if kind in (TaxKind.CARRIER_SURCHARGE, TaxKind.FEDERAL_USF) else LineKind.TAX


def compute_taxes(
    lines: Sequence[InvoiceLine], profile: TaxProfile, table: TaxTable, on: date
) -> list[InvoiceLine]:
    """Tax and surcharge lines for an invoice dated `on`; each rounded to cents once.

    - Federal USF: taxable base x interstate share (64.9% VoIP safe harbor, or a traffic study)
      x the quarter's contribution factor.
    - Per-line fees (E911 by jurisdiction, per-line carrier surcharges) x the tenant's lines.
    - State and local percentage taxes on the taxable base.
    - Pass-through carrier surcharges (cpaas.txt §4.8) — the entry in force on the invoice date,
      effective immediately.
    An exemption certificate on file and valid on the invoice date removes the kinds it covers.
    """
    base = taxable_base(lines)
    out: list[InvoiceLine] = []
    usf = table.usf_factor(on)
    if usf is not None and base > 0 and not _exempt(profile, TaxKind.FEDERAL_USF, on):
        share = "traffic study" if profile.traffic_study else "VoIP safe harbor"
        out.append(
            make_line(
                LineKind.SURCHARGE,
                f"Federal USF {usf.factor * 100:.1f}% of the {profile.interstate_share * 100:.1f}%"
                f" interstate share ({share})",
                base * profile.interstate_share * usf.factor,
                unit_price=usf.factor,
                source=usf.source or "cpaas.txt §4.7, §4.8",
            )
        )
    for fee in table.per_line:
        if (
            fee.period.in_force(on)
            and _applies(fee.jurisdiction, profile)
            and not _exempt(profile, fee.kind, on)
        ):
            if profile.lines <= 0:
                continue
            out.append(
                make_line(
                    _line_kind(fee.kind),
                    f"{fee.name} ({fee.jurisdiction})",
                    fee.amount * profile.lines,
                    quantity=profile.lines,
                    unit_price=fee.amount,
                    source=fee.source or "cpaas.txt §4.7",
                )
            )
    for tax in table.percent:
        if (
            tax.period.in_force(on)
            and _applies(tax.jurisdiction, profile)
            and not _exempt(profile, tax.kind, on)
        ):
            if base <= 0:
                continue
            out.append(
                make_line(
                    _line_kind(tax.kind),
                    f"{tax.name} {(tax.rate * 100).normalize():f}%",
                    base * tax.rate,
                    unit_price=tax.rate,
                    source=tax.source or "cpaas.txt §4.7",
                )
            )
    return out


def _q(start: date, end: date | None) -> Effective:
    return Effective(start, end)


DEMO_TAX_TABLE = TaxTable(
    usf=(
        UsfFactor(Decimal("0.366"), _q(date(2025, 4, 1), date(2025, 7, 1)), "FCC OMD, USF factor Q2-2025"),
        UsfFactor(Decimal("0.360"), _q(date(2025, 7, 1), date(2025, 10, 1)), "FCC OMD, USF factor Q3-2025"),
        UsfFactor(Decimal("0.381"), _q(date(2025, 10, 1), date(2026, 1, 1)), "FCC OMD, USF factor Q4-2025"),
        UsfFactor(
            Decimal("0.376"), _q(date(2026, 1, 1), date(2026, 4, 1)), "FCC DA 25-1026, proposed Q1-2026"
        ),
    ),
    per_line=(
        PerLineFee(
            "US-AL", TaxKind.E911, "E911 fee", Decimal("1.75"), _q(date(2017, 1, 1), None), "NENA 2017"
        ),
        PerLineFee(
            "US-CT", TaxKind.E911, "E911 fee", Decimal("0.47"), _q(date(2017, 1, 1), None), "NENA 2017"
        ),
        PerLineFee(
            "US-IL", TaxKind.E911, "E911 fee", Decimal("0.87"), _q(date(2017, 1, 1), None), "NENA 2017"
        ),
        PerLineFee(
            "US-IN", TaxKind.E911, "E911 fee", Decimal("1.00"), _q(date(2017, 1, 1), None), "NENA 2017"
        ),
        PerLineFee(
            "US-TX", TaxKind.E911, "E911 fee", Decimal("0.50"), _q(date(2017, 1, 1), None), "demo figure"
        ),
    ),
    percent=(
        PercentTax(
            "US-TX", TaxKind.STATE, "Texas state sales tax", Decimal("0.0625"), _q(date(2020, 1, 1), None)
        ),
        PercentTax(
            "US-TX-DALLAS",
            TaxKind.LOCAL,
            "Dallas city sales tax",
            Decimal("0.01"),
            _q(date(2020, 1, 1), None),
        ),
        PercentTax(
            "US-TX-DALLAS", TaxKind.LOCAL, "Dallas MTA tax", Decimal("0.01"), _q(date(2020, 1, 1), None)
        ),
        PercentTax(
            "*",
            TaxKind.CARRIER_SURCHARGE,
            "Carrier cost recovery (pass-through)",
            Decimal("0.01862"),
            _q(date(2024, 1, 1), None),
            "cpaas.txt §4.8",
        ),
    ),
)
