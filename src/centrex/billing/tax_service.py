"""The tax and surcharge table on storage: the operator's entries (CRUD and CSV import), the tenants'
exemption certificates, and the TaxTable and TaxProfile an invoice is computed from.

Entries are never re-priced in place: a rate change ends the old entry (`effective_to`) and adds a
new one, so an issued invoice stays explainable from the table. Every change is audited.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from centrex.billing.tax_table import (
    Certificate,
    TaxEntry,
    TaxTableError,
    check_entry,
    demo_entries,
    parse_csv,
    table_for,
)
from centrex.billing.taxes import VOIP_SAFE_HARBOR, TaxKind, TaxProfile, TaxTable
from centrex.store.access import OperatorData, TenantData
from centrex.store.errors import Conflict, Invalid, NotFound
from centrex.store.models import BillingPlan
from centrex.store.models.billing_accounts import (
    BillingAccount,
    TaxBasis,
    TaxExemptionCertificateRow,
    TaxRateRow,
)
from centrex.store.policy import Resource

B = Resource.BILLING


def entry_of(row: TaxRateRow) -> TaxEntry:
    return TaxEntry(
        kind=TaxKind(row.kind),
        basis=row.basis.value,
        jurisdiction=row.jurisdiction,
        name=row.name,
        rate=Decimal(row.rate).normalize() + 0,
        effective_from=row.effective_from,
        effective_to=row.effective_to,
        source=row.source,
    )


def _checked(entry: TaxEntry) -> TaxEntry:
    try:
        return check_entry(entry)
    except TaxTableError as exc:
        raise Invalid(str(exc), field=exc.field, rule="tax_table") from None


def _values(entry: TaxEntry) -> dict[str, Any]:
    return {
        "kind": entry.kind.value,
        "basis": TaxBasis(entry.basis),
        "jurisdiction": entry.jurisdiction,
        "name": entry.name,
        "rate": entry.rate,
        "effective_from": entry.effective_from,
        "effective_to": entry.effective_to,
        "source": entry.source,
    }


def list_rates(ops: OperatorData, on: date | None = None) -> list[TaxRateRow]:
    ops.require_operator()
    rows = list(
        ops.session.scalars(
            select(TaxRateRow).order_by(
                TaxRateRow.kind, TaxRateRow.jurisdiction, TaxRateRow.effective_from, TaxRateRow.id
            )
        )
    )
    return [r for r in rows if on is None or entry_of(r).in_force(on)]


def add_rate(ops: OperatorData, entry: TaxEntry) -> TaxRateRow:
    return ops.create(TaxRateRow, "billing.tax_rate.create", **_values(_checked(entry)))


def import_rates(ops: OperatorData, lines: Iterable[str]) -> list[TaxRateRow]:
    """A CSV of entries (billing/tax_table.py CSV_COLUMNS), all or none: a bad line names itself."""
    ops.require_operator()
    try:
        entries = parse_csv(lines)
    except TaxTableError as exc:
        raise Invalid(str(exc), field=exc.field, rule="tax_table") from None
    if not entries:
        raise Invalid("the CSV has no entries", field="csv", rule="tax_table")
    return [add_rate(ops, e) for e in entries]


def seed_demo(ops: OperatorData) -> list[TaxRateRow]:
    """DEMO_TAX_TABLE into the stored table (the demo's seed data): the entries not already there
    (same kind, jurisdiction, name and first day), so seeding twice adds nothing."""
    ops.require_operator()
    have = {
        (r.kind, r.jurisdiction, r.name, r.effective_from) for r in ops.session.scalars(select(TaxRateRow))
    }
    fresh = [
        e for e in demo_entries() if (e.kind.value, e.jurisdiction, e.name, e.effective_from) not in have
    ]
    return [add_rate(ops, e) for e in fresh]


def find_rate(ops: OperatorData, rate_id: uuid.UUID) -> TaxRateRow:
    ops.require_operator()
    row = ops.session.get(TaxRateRow, rate_id)
    if row is None:
        raise NotFound(f"tax rate {rate_id} not found", field="tax_rate_id")
    return row


def update_rate(ops: OperatorData, row: TaxRateRow, changes: dict[str, Any]) -> TaxRateRow:
    """Name, source and the end of the effective period may change; the rate may not (end the entry
    and add a new one, so earlier invoices keep their explanation)."""
    if "rate" in changes and Decimal(changes["rate"]) != Decimal(row.rate):
        raise Conflict(
            "a rate in the table is not re-priced: set effective_to on this entry and add the new rate",
            field="rate",
            rule="tax_table.effective_dates",
        )
    changes.pop("rate", None)
    entry = entry_of(row)
    merged = TaxEntry(
        kind=entry.kind,
        basis=entry.basis,
        jurisdiction=entry.jurisdiction,
        name=changes.get("name", entry.name),
        rate=entry.rate,
        effective_from=entry.effective_from,
        effective_to=changes.get("effective_to", entry.effective_to),
        source=changes.get("source", entry.source),
    )
    _checked(merged)
    return ops.update(row, "billing.tax_rate.update", changes)


def delete_rate(ops: OperatorData, row: TaxRateRow) -> None:
    from centrex.store.access import snapshot

    ops.require_operator()
    ops.audit("billing.tax_rate.delete", TaxRateRow.__tablename__, row.id, snapshot(row), None, None)
    ops.session.delete(row)
    ops.session.flush()


# --- a tenant's exemption certificates ------------------------------------------------------------


def certificates_of(data: TenantData) -> list[TaxExemptionCertificateRow]:
    stmt = data.select(TaxExemptionCertificateRow, B).order_by(
        TaxExemptionCertificateRow.jurisdiction, TaxExemptionCertificateRow.valid_from
    )
    return list(data.session.scalars(stmt))


def add_certificate(
    data: TenantData,
    number: str,
    jurisdiction: str,
    valid_from: date,
    expires_on: date | None,
    kinds: list[TaxKind] | None,
) -> TaxExemptionCertificateRow:
    if expires_on is not None and expires_on < valid_from:
        raise Invalid("expires_on is before valid_from", field="expires_on", rule="certificate")
    taken = data.session.scalar(
        data.select(TaxExemptionCertificateRow, B).where(
            TaxExemptionCertificateRow.number == number,
            TaxExemptionCertificateRow.jurisdiction == jurisdiction,
        )
    )
    if taken is not None:
        raise Conflict(
            f"certificate {number} for {jurisdiction} is already on file", field="number", rule="unique"
        )
    chosen = kinds or [TaxKind.STATE, TaxKind.LOCAL, TaxKind.E911]
    return data.create(
        TaxExemptionCertificateRow,
        "billing.tax_exemption.create",
        B,
        number=number,
        jurisdiction=jurisdiction,
        valid_from=valid_from,
        expires_on=expires_on,
        exempt_kinds=[k.value for k in chosen],
    )


def find_certificate(data: TenantData, cert_id: uuid.UUID) -> TaxExemptionCertificateRow:
    try:
        return data.get(TaxExemptionCertificateRow, cert_id, B)
    except NotFound:
        raise NotFound(f"certificate {cert_id} not found", field="certificate_id") from None


def certificate_of(row: TaxExemptionCertificateRow) -> Certificate:
    return Certificate(
        number=row.number,
        jurisdiction=row.jurisdiction,
        valid_from=row.valid_from,
        expires_on=row.expires_on,
        exempt_kinds=frozenset(TaxKind(k) for k in row.exempt_kinds),
    )


# --- what an invoice is taxed with ----------------------------------------------------------------


def account_of(data: TenantData) -> BillingAccount | None:
    account: BillingAccount | None = data.session.scalar(data.select(BillingAccount, B))
    return account


def tax_basis(data: TenantData, plan: BillingPlan, on: date) -> tuple[TaxProfile | None, TaxTable | None]:
    """The tenant's TaxProfile (jurisdictions and lines from the plan, the interstate share of its
    traffic study or the 64.9% safe harbor) and the stored table in force on `on`, less what its
    certificates exempt. No jurisdictions on the plan: no taxes."""
    if not plan.tax_jurisdictions:
        return None, None
    account = account_of(data)
    share = VOIP_SAFE_HARBOR
    study = False
    if account is not None and account.interstate_share is not None:
        share = Decimal(account.interstate_share).normalize() + 0
        study = True
    profile = TaxProfile(
        jurisdictions=("US", *plan.tax_jurisdictions),
        lines=plan.tax_lines or plan.seats,
        interstate_share=share,
        traffic_study=study,
    )
    entries = [entry_of(r) for r in data.session.scalars(select(TaxRateRow))]
    certificates = [certificate_of(r) for r in certificates_of(data)]
    return profile, table_for(entries, certificates, on)
