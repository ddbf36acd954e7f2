"""The billing engine on storage: deck imports, rating runs, issuing invoices, credit notes,
payments, disputes and outages. The API routers and the CLI both go through here.

The rules are the pure functions of this package; this module loads what they need through the
access layer (every tenant query through `TenantData`, so it is tenant-filtered, policy-checked and
audited), calls them, and stores what they return. Each function works inside the caller's
transaction: an invoice, its lines, its number, the outages it credits and its rating run commit
together or not at all.
"""

from __future__ import annotations

import csv
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

from sqlalchemy import func, insert, select

from centrex.billing import subscription_service as subs
from centrex.billing.account_state import account_state
from centrex.billing.cdr import CallRecord, Disposition
from centrex.billing.collections import DisputeRefused, file_dispute
from centrex.billing.collections_service import check_credit_limit
from centrex.billing.credits import Outage, cap_annual_liability, outage_credits, qualifying_days
from centrex.billing.deck import DeckError, RateDeck, RateRow, iter_rate_rows
from centrex.billing.increments import Increment
from centrex.billing.invoice import (
    Invoice,
    InvoiceInputs,
    UnratedUsageError,
    assemble_invoice,
    issue_credit_note,
)
from centrex.billing.lines import InvoiceLine, LineKind, make_line
from centrex.billing.messages import message_lines
from centrex.billing.money import ZERO, stored_amount, to_cents
from centrex.billing.periods import month_end, month_start, next_month_start, previous_quarter
from centrex.billing.plans import Feature, PriceList, RatingPlan, VoiceBundle, bundle_rating_plan
from centrex.billing.rating import RatedPeriod, rate_period
from centrex.billing.subscription_service import subscription_of
from centrex.billing.subscriptions import (
    BundleSubscription,
    bundle_lines,
    cpaas_platform_fee_lines,
    last_notice_day,
    recurring_lines,
    term_bounds,
)
from centrex.billing.tax_service import tax_basis
from centrex.numbers.classes import CallClass, Direction
from centrex.store.access import OperatorData, TenantData
from centrex.store.errors import Conflict, Invalid, NotFound
from centrex.store.models import (
    BillingPlan,
    BillingPlanFeature,
    BundleSubscriptionRow,
    CallDetail,
    CreditNoteRow,
    DisputeRow,
    DisputeStatus,
    InvoiceLineRow,
    InvoiceRow,
    OutageRow,
    PaymentMethod,
    PaymentRow,
    RateDeckRow,
    RateDeckVersion,
    RatingPurpose,
    RatingRun,
)
from centrex.store.models import RateDeck as RateDeckModel
from centrex.store.policy import Action, Resource
from centrex.store.sequences import next_number

INVOICE_SERIES = "invoice"
INSERT_CHUNK = 5_000
OUTAGE_SOURCE = "hosted-pbx.txt liability 1"
CHARGE_KINDS = (LineKind.RECURRING, LineKind.NON_RECURRING, LineKind.USAGE, LineKind.OVERAGE)

Progress = Callable[[int], None]


def today() -> date:
    return datetime.now(UTC).date()


def parse_period(text: str, field: str = "period") -> date:
    """A billing month "2026-10" as its first day."""
    try:
        year, month = text.strip().split("-")
        if len(year) != 4 or len(month) != 2:
            raise ValueError(text)
        return date(int(year), int(month), 1)
    except ValueError:
        raise Invalid(
            f"{field} must be a month as YYYY-MM, got {text!r}", field=field, rule="period"
        ) from None


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


# --- rate decks ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeckImport:
    deck: RateDeckModel
    version: RateDeckVersion


def import_deck(
    ops: OperatorData,
    name: str,
    lines: Iterable[str],
    *,
    on_read: Progress | None = None,
    on_stored: Progress | None = None,
) -> DeckImport:
    """Parse a CSV deck (billing/deck.py: every bad line and field is named) and store it as the
    next version of the deck `name`. A version is immutable; rating uses the newest one."""
    ops.require_operator()
    name = name.strip()
    if not name or len(name) > 100:
        raise Invalid("a deck name is 1 to 100 characters", field="name", rule="length")
    try:
        rows = tuple(iter_rate_rows(lines, on_progress=on_read))
        parsed = RateDeck(name=name, version=0, rows=rows)  # checks overlapping rows of a prefix
    except DeckError as exc:
        first = exc.errors[0] if exc.errors else None
        raise Invalid(
            str(exc),
            field=f"line {first.line}: {first.field}" if first else "csv",
            rule="rate_deck",
        ) from None
    if not rows:
        raise Invalid("the deck has no rows", field="csv", rule="rate_deck")
    session = ops.session
    deck = session.scalar(select(RateDeckModel).where(RateDeckModel.name == name))
    if deck is None:
        deck = ops.create(RateDeckModel, "rate_deck.create", name=name)
    last = session.scalar(select(func.max(RateDeckVersion.version)).where(RateDeckVersion.deck_id == deck.id))
    version = ops.create(
        RateDeckVersion,
        "rate_deck.import",
        deck_id=deck.id,
        version=(last or 0) + 1,
        fingerprint=parsed.fingerprint(),
        row_count=len(rows),
        imported_by=ops.principal.label,
    )
    for start in range(0, len(rows), INSERT_CHUNK):
        chunk = rows[start : start + INSERT_CHUNK]
        session.execute(
            insert(RateDeckRow),
            [
                {
                    "version_id": version.id,
                    "prefix": r.prefix,
                    "destination": r.destination,
                    "rate_per_minute": r.rate_per_minute,
                    "connection_fee": r.connection_fee,
                    "minimum_s": r.minimum_s,
                    "increment_s": r.increment_s,
                    "effective_from": r.effective_from,
                    "effective_to": r.effective_to,
                    "line": r.line,
                }
                for r in chunk
            ],
        )
        if on_stored is not None:
            on_stored(start + len(chunk))
    session.flush()
    return DeckImport(deck, version)


def list_decks(ops: OperatorData) -> list[tuple[RateDeckModel, RateDeckVersion | None]]:
    ops.require_operator()
    out = []
    for deck in ops.session.scalars(select(RateDeckModel).order_by(RateDeckModel.name)):
        out.append((deck, _newest_version(ops.session, deck.id)))
    return out


def _newest_version(session: Any, deck_id: uuid.UUID) -> RateDeckVersion | None:
    stmt = (
        select(RateDeckVersion)
        .where(RateDeckVersion.deck_id == deck_id)
        .order_by(RateDeckVersion.version.desc())
        .limit(1)
    )
    version: RateDeckVersion | None = session.scalar(stmt)
    return version


_DECKS: OrderedDict[uuid.UUID, RateDeck] = OrderedDict()
_DECK_CACHE_SIZE = 8


def load_deck_version(session: Any, name: str, version: RateDeckVersion) -> RateDeck:
    """The deck version as billing/deck.py's RateDeck. Versions never change, so they are cached."""
    cached = _DECKS.get(version.id)
    if cached is not None:
        _DECKS.move_to_end(version.id)
        return cached
    rows = tuple(
        RateRow(
            prefix=r.prefix,
            destination=r.destination,
            rate_per_minute=Decimal(r.rate_per_minute).quantize(Decimal("0.000001")),
            connection_fee=Decimal(r.connection_fee).quantize(Decimal("0.000001")),
            minimum_s=r.minimum_s,
            increment_s=r.increment_s,
            effective_from=r.effective_from,
            effective_to=r.effective_to,
            line=r.line,
        )
        for r in session.scalars(select(RateDeckRow).where(RateDeckRow.version_id == version.id))
    )
    deck = RateDeck(name=name, version=version.version, rows=rows)
    _DECKS[version.id] = deck
    while len(_DECKS) > _DECK_CACHE_SIZE:
        _DECKS.popitem(last=False)
    return deck


def deck_for_plan(session: Any, plan: BillingPlan) -> tuple[RateDeck | None, RateDeckVersion | None]:
    if not plan.deck_name:
        return None, None
    deck = session.scalar(select(RateDeckModel).where(RateDeckModel.name == plan.deck_name))
    version = _newest_version(session, deck.id) if deck is not None else None
    if deck is None or version is None:
        raise Invalid(
            f"the plan's rate deck {plan.deck_name!r} has not been imported",
            field="deck_name",
            rule="rate_deck_exists",
        )
    return load_deck_version(session, deck.name, version), version


# --- plans and subscriptions ----------------------------------------------------------------------


def plan_of(data: TenantData) -> BillingPlan | None:
    plan: BillingPlan | None = data.session.scalar(data.select(BillingPlan))
    return plan


def require_plan(data: TenantData) -> BillingPlan:
    plan = plan_of(data)
    if plan is None:
        raise Invalid(
            "the tenant has no billing plan (PUT .../billing/plan)", field="plan", rule="plan_required"
        )
    return plan


def plan_features(data: TenantData, plan: BillingPlan) -> list[BillingPlanFeature]:
    stmt = data.select(BillingPlanFeature).where(BillingPlanFeature.plan_id == plan.id)
    return list(data.session.scalars(stmt.order_by(BillingPlanFeature.feature)))


def set_plan(data: TenantData, values: dict[str, Any], features: Sequence[dict[str, Any]]) -> BillingPlan:
    """Create or replace the tenant's plan. Checked by building billing/plans.py's RatingPlan, so a
    plan that the rules refuse is never stored."""
    try:
        RatingPlan(
            code=values["code"],
            increment=Increment(values["increment_minimum_s"], values["increment_step_s"]),
            pool_minutes=values["pool_minutes"],
            overage_per_minute=values["overage_per_minute"],
            local_per_minute=values["local_per_minute"],
            directory_assistance_per_call=values["directory_assistance_per_call"],
            conference_per_minute=values["conference_per_minute"],
        )
    except ValueError as exc:
        raise Invalid(str(exc), field="plan", rule="rating_plan") from None
    if values.get("deck_name"):
        exists = data.session.scalar(
            select(RateDeckModel.id).where(RateDeckModel.name == values["deck_name"])
        )
        if exists is None:
            raise Invalid(
                f"no rate deck named {values['deck_name']!r}", field="deck_name", rule="rate_deck_exists"
            )
    plan = plan_of(data)
    if plan is None:
        plan = data.create(BillingPlan, "billing.plan.create", **values)
    else:
        data.update(plan, "billing.plan.update", values)
    for old in plan_features(data, plan):
        data.delete(old, "billing.plan.feature.delete")
    for feature in features:
        data.create(BillingPlanFeature, "billing.plan.feature.create", plan_id=plan.id, **feature)
    return plan


def rating_plan(plan: BillingPlan, bundle: VoiceBundle | None = None) -> RatingPlan:
    base = RatingPlan(
        code=plan.code,
        increment=Increment(plan.increment_minimum_s, plan.increment_step_s),
        pool_minutes=plan.pool_minutes,
        overage_per_minute=stored_amount(plan.overage_per_minute),
        local_per_minute=stored_amount(plan.local_per_minute),
        directory_assistance_per_call=stored_amount(plan.directory_assistance_per_call),
        conference_per_minute=stored_amount(plan.conference_per_minute),
    )
    return bundle_rating_plan(plan.code, bundle, base) if bundle is not None else base


def _cents(value: Decimal) -> Decimal:
    return to_cents(Decimal(value))


def add_subscription(
    data: TenantData, start: date, quantity: int, rate: Decimal, term_months: int
) -> BundleSubscriptionRow:
    """Voice Services Bundles ordered on an Order Form (voice-bundles.txt §2.1); the term and the
    last day to give notice of termination (§2.5: no less than 30 days before the term ends)."""
    try:
        sub = BundleSubscription(str(data.tenant_id), start, quantity, rate, term_months)
    except ValueError as exc:
        raise Invalid(str(exc), field="quantity", rule="subscription") from None
    first, last = term_bounds(sub, start)
    return data.create(
        BundleSubscriptionRow,
        "billing.subscription.create",
        start=start,
        quantity=quantity,
        rate=rate,
        term_months=term_months,
        term_start=first,
        term_end=last,
        renewal_notice_by=last_notice_day(last),
    )


def _refresh_term(data: TenantData, row: BundleSubscriptionRow, on: date) -> None:
    """voice-bundles.txt §2.5: terms renew automatically; keep the stored term current."""
    if on < row.start:
        return
    first, last = term_bounds(subscription_of(row), on)
    if (first, last) != (row.term_start, row.term_end):
        data.update(
            row,
            "billing.subscription.renew",
            {"term_start": first, "term_end": last, "renewal_notice_by": last_notice_day(last)},
        )


# --- call records ---------------------------------------------------------------------------------

CDR_FIELDS = ("id", "caller", "callee", "call_class", "direction", "start", "duration_ms")


def cdr_values(raw: dict[str, Any], where: str) -> dict[str, Any]:
    """Validate one call record (from JSON or a CSV row) into column values; errors name the field."""

    def bad(field: str, message: str) -> Invalid:
        return Invalid(f"{where}: {field}: {message}", field=f"{where}.{field}", rule="cdr")

    for name in CDR_FIELDS:
        if raw.get(name) in (None, ""):
            raise bad(name, "is required")
    try:
        call_class = CallClass(str(raw["call_class"]))
    except ValueError:
        raise bad("call_class", f"one of {', '.join(c.value for c in CallClass)}") from None
    try:
        direction = Direction(str(raw["direction"]))
    except ValueError:
        raise bad("direction", f"one of {', '.join(d.value for d in Direction)}") from None
    try:
        disposition = Disposition(str(raw.get("disposition") or "answered"))
    except ValueError:
        raise bad("disposition", f"one of {', '.join(d.value for d in Disposition)}") from None
    start = raw["start"]
    if isinstance(start, str):
        try:
            start = datetime.fromisoformat(start.replace("Z", "+00:00"))
        except ValueError:
            raise bad("start", f"not an ISO 8601 time: {raw['start']!r}") from None
    if not isinstance(start, datetime) or start.tzinfo is None:
        raise bad("start", "needs a UTC offset (e.g. 'Z')")
    try:
        duration_ms = int(raw["duration_ms"])
    except (TypeError, ValueError):
        raise bad("duration_ms", f"not a whole number: {raw['duration_ms']!r}") from None
    if duration_ms < 0:
        raise bad("duration_ms", "must be >= 0")
    intra = raw.get("is_intra_enterprise", False)
    if isinstance(intra, str):
        intra = intra.strip().lower() in ("1", "true", "yes")
    return {
        "call_id": str(raw["id"])[:100],
        "caller": str(raw["caller"])[:32],
        "callee": str(raw["callee"])[:32],
        "dialled": str(raw.get("dialled") or "")[:64],
        "call_class": call_class.value,
        "direction": direction.value,
        "start": start.astimezone(UTC),
        "duration_ms": duration_ms if disposition is Disposition.ANSWERED else 0,
        "disposition": disposition.value,
        "is_intra_enterprise": bool(intra),
    }


def store_cdrs(data: TenantData, records: Sequence[dict[str, Any]]) -> tuple[int, int]:
    """Store call records; a record whose id is already stored is skipped (a replay is harmless).
    Returns (stored, duplicates). One audit entry for the batch."""
    values = [cdr_values(r, f"cdrs[{i}]") for i, r in enumerate(records)]
    ids = [v["call_id"] for v in values]
    existing: set[str] = set()
    for start in range(0, len(ids), 500):
        stmt = data.select(CallDetail, Resource.CDR).where(CallDetail.call_id.in_(ids[start : start + 500]))
        existing.update(row.call_id for row in data.session.scalars(stmt))
    fresh: dict[str, dict[str, Any]] = {}
    for v in values:
        if v["call_id"] not in existing:
            fresh.setdefault(v["call_id"], v)
    data.add_parts(CallDetail, list(fresh.values()))
    data.audit(
        "cdr.import",
        "cdrs",
        None,
        None,
        {"stored": len(fresh), "duplicates": len(values) - len(fresh)},
        data.tenant_id,
    )
    return len(fresh), len(values) - len(fresh)


def call_record(row: CallDetail) -> CallRecord:
    return CallRecord(
        id=str(row.id),
        tenant_id=str(row.tenant_id),
        caller=row.caller,
        callee=row.callee,
        call_class=CallClass(row.call_class),
        direction=Direction(row.direction),
        start=row.start,
        duration_ms=row.duration_ms,
        disposition=Disposition(row.disposition),
        answer=row.answer,
        site_id=str(row.site_id) if row.site_id else None,
        user_id=str(row.user_id) if row.user_id else None,
        dialled=row.dialled,
        is_intra_enterprise=row.is_intra_enterprise,
    )


def records_of_month(data: TenantData, month: date) -> list[CallRecord]:
    stmt = data.select(CallDetail, Resource.CDR).where(
        CallDetail.start >= _midnight(month), CallDetail.start < _midnight(next_month_start(month))
    )
    return [call_record(row) for row in data.session.scalars(stmt)]


# --- rating ---------------------------------------------------------------------------------------


def _bundle_in_force(data: TenantData, month: date) -> VoiceBundle | None:
    """voice-bundles.txt §2.7: a tenant with bundles in service that month rates the bundle's
    categories as unlimited."""
    for row in data.session.scalars(data.select(BundleSubscriptionRow)):
        sub = subscription_of(row)
        if sub.quantity and sub.start <= month and (sub.terminates_on is None or sub.terminates_on >= month):
            return VoiceBundle(monthly_rate=sub.rate)
    return None


def rate_records(
    records: Sequence[CallRecord], plan: RatingPlan, deck: RateDeck | None, batch: bool | None = None
) -> RatedPeriod:
    """The scalar reference path, or the numpy batch path for a month with many CDRs (or when asked):
    both give the same charges and fingerprint (billing/batch_period.py)."""
    from centrex.billing.batch_period import BATCH_THRESHOLD, rate_period_batch

    if batch is None:
        batch = len(records) >= BATCH_THRESHOLD
    return rate_period_batch(records, plan, deck) if batch else rate_period(records, plan, deck)


def rate_month(
    data: TenantData, month: date, purpose: RatingPurpose = RatingPurpose.RATE, *, batch: bool | None = None
) -> tuple[RatingRun, RatedPeriod]:
    """Rate the tenant's CDRs of one month (billing/rating.py rate_period) and add a row to the
    audit trail. Rating is idempotent: the same CDRs, plan and deck give the same charges and the same
    fingerprint, whatever the order they are read in (hosted-pbx.txt usage 1: the allotment is
    consumed in a fixed order); each rating adds its own run row."""
    data.require(Resource.BILLING, Action.CREATE)
    plan = require_plan(data)
    deck, version = deck_for_plan(data.session, plan)
    plan_now = rating_plan(plan, _bundle_in_force(data, month))
    rated = rate_records(records_of_month(data, month), plan_now, deck, batch)
    run = data.create(
        RatingRun,
        "billing.rating_run",
        period_start=month,
        purpose=purpose,
        plan_code=plan.code,
        deck_version_id=version.id if version else None,
        deck_ref=rated.deck_ref,
        fingerprint=rated.fingerprint,
        cdr_count=len(rated.charges),
        unrated_count=len(rated.unrated),
        pool_used_s=rated.pool_used_s,
        total=rated.total,
        actor=data.principal.label,
    )
    if purpose is RatingPurpose.RATE:
        invoiced = data.session.scalar(
            data.select(InvoiceRow).where(InvoiceRow.invoice_date == next_month_start(month))
        )
        # cpaas.txt §4.2: rated usage not yet invoiced counts against the credit limit
        check_credit_limit(data, today(), ZERO if invoiced is not None else _cents(rated.total))
    return run, rated


# --- invoices -------------------------------------------------------------------------------------


def invoice_lines_of(data: TenantData, invoice: InvoiceRow) -> list[InvoiceLineRow]:
    stmt = data.select(InvoiceLineRow).where(InvoiceLineRow.invoice_id == invoice.id)
    return list(data.session.scalars(stmt.order_by(InvoiceLineRow.position)))


def invoice_document(data: TenantData, row: InvoiceRow) -> Invoice:
    """The stored invoice as billing/invoice.py's Invoice (for JSON, PDF and credit notes)."""
    lines = tuple(
        InvoiceLine(
            kind=LineKind(x.kind),
            description=x.description,
            amount=_cents(x.amount),
            quantity=stored_amount(x.quantity),
            unit_price=stored_amount(x.unit_price) if x.unit_price is not None else None,
            period_start=x.period_start,
            period_end=x.period_end,
            cdr_ids=tuple(x.cdr_ids or ()),
            source=x.source,
        )
        for x in invoice_lines_of(data, row)
    )
    return Invoice(
        number=row.number,
        tenant_id=str(row.tenant_id),
        invoice_date=row.invoice_date,
        due_date=row.due_date,
        usage_period=(row.usage_start, row.usage_end),
        lines=lines,
        usage_fingerprint=row.usage_fingerprint,
        customer_name=row.customer_name,
        currency=row.currency,
    )


def get_invoice(data: TenantData, invoice_id: uuid.UUID) -> InvoiceRow:
    return data.get(InvoiceRow, invoice_id)


def _charges_of_invoice_month(data: TenantData, month: date) -> Decimal:
    """Charges of a month: the charge lines (not credits, late charges or taxes) of the invoice dated
    its first day — that month's recurring charges and the usage billed in it."""
    stmt = (
        data.select(InvoiceLineRow)
        .join(InvoiceRow, InvoiceRow.id == InvoiceLineRow.invoice_id)
        .where(InvoiceRow.invoice_date == month, InvoiceLineRow.kind.in_([k.value for k in CHARGE_KINDS]))
    )
    return _cents(sum((Decimal(x.amount) for x in data.session.scalars(stmt)), ZERO))


def _outage_credit_lines(
    data: TenantData, invoice_date: date, charges_now: Decimal
) -> tuple[list[InvoiceLine], list[OutageRow]]:
    """hosted-pbx.txt liability 1: a day with 12 continuous hours or more of outage, entirely the
    provider's fault, is credited 5% of the average month of the previous quarter "as a credit
    against the next invoice"; hosted-pbx.txt liability 2 caps a calendar year's liability at 60%
    of its charges. Every outage that ended before the invoice date is settled on this invoice."""
    stmt = data.select(OutageRow).where(
        OutageRow.credited_invoice_id.is_(None), OutageRow.end <= _midnight(invoice_date)
    )
    rows = list(data.session.scalars(stmt.order_by(OutageRow.start)))
    by_quarter: dict[tuple[date, date, date], list[Outage]] = {}
    for row in rows:
        outage = Outage(row.start, row.end, row.provider_fault)
        if qualifying_days(outage):
            by_quarter.setdefault(previous_quarter(row.start.date()), []).append(outage)
    lines: list[InvoiceLine] = []
    for quarter, outages in sorted(by_quarter.items()):
        charges = [_charges_of_invoice_month(data, m) for m in quarter]
        proposed = outage_credits(outages, charges)
        year = outages[0].start.year
        year_charges = sum(
            (_charges_of_invoice_month(data, date(year, m, 1)) for m in range(1, 13)), ZERO
        ) + (charges_now if invoice_date.year == year else ZERO)
        granted = _credits_granted(data, year)
        credit = cap_annual_liability(proposed, granted, year_charges)
        if credit <= 0:
            continue
        days = sorted({d for o in outages for d in qualifying_days(o)})
        lines.append(
            make_line(
                LineKind.CREDIT,
                f"Outage credit: {len(days)} day(s) of 12 h or more, "
                f"5% of the average month of {quarter[0]:%b}-{quarter[2]:%b %Y} each",
                -credit,
                quantity=len(days),
                period_start=days[0],
                period_end=days[-1],
                source=OUTAGE_SOURCE,
            )
        )
    return lines, rows


def _credits_granted(data: TenantData, year: int) -> Decimal:
    stmt = data.select(InvoiceLineRow).where(
        InvoiceLineRow.source == OUTAGE_SOURCE,
        InvoiceLineRow.period_start >= date(year, 1, 1),
        InvoiceLineRow.period_start < date(year + 1, 1, 1),
    )
    return -sum((Decimal(x.amount) for x in data.session.scalars(stmt)), ZERO)


def _late_charge_lines(data: TenantData, invoice_date: date) -> list[tuple[InvoiceLine, uuid.UUID]]:
    """cpaas.txt §4.5: late charges on earlier invoices, as of this invoice's date, less what was
    already billed on each (the charge compounds monthly, so each invoice adds the increase)."""
    out = []
    earlier = data.session.scalars(
        data.select(InvoiceRow).where(InvoiceRow.invoice_date < invoice_date).order_by(InvoiceRow.sequence)
    )
    for row in earlier:
        state = account_state(data, row, invoice_date)
        if state.late_charge <= 0:
            continue
        billed = sum(
            (
                Decimal(x.amount)
                for x in data.session.scalars(
                    data.select(InvoiceLineRow).where(InvoiceLineRow.late_for_invoice_id == row.id)
                )
            ),
            ZERO,
        )
        increase = _cents(state.late_charge - billed)
        if increase > 0:
            line = make_line(
                LineKind.LATE_CHARGE,
                f"Late charge on invoice {row.number} ({state.undisputed_due} due {row.due_date})",
                increase,
                period_start=row.due_date,
                period_end=invoice_date,
                source="cpaas.txt §4.5",
            )
            out.append((line, row.id))
    return out


def issue_invoice(data: TenantData, usage_month: date, *, batch: bool | None = None) -> InvoiceRow:
    """Close a billing month: the invoice dated the first of the next month, with that month's
    recurring charges in advance and `usage_month`'s usage in arrears (voice-bundles.txt §2.2,
    cpaas.txt §4.3), outage credits (hosted-pbx.txt liability 1), late charges on earlier invoices
    (cpaas.txt §4.5) and taxes. Its number comes from the gap-free series in this transaction.
    One invoice per tenant and month; it is never edited afterwards (corrections are credit notes)."""
    data.require(Resource.BILLING, Action.CREATE)
    invoice_date = next_month_start(usage_month)
    taken = data.session.scalar(data.select(InvoiceRow).where(InvoiceRow.invoice_date == invoice_date))
    if taken is not None:
        raise Conflict(
            f"invoice {taken.number} of {invoice_date} already closes {usage_month:%Y-%m}; an issued "
            "invoice is never re-issued or edited — issue a credit note",
            field="period",
            rule="invoice.one_per_month",
        )
    plan = require_plan(data)

    run, rated = rate_month(data, usage_month, RatingPurpose.INVOICE, batch=batch)
    features = {Feature(f.feature): f.quantity for f in plan_features(data, plan)}
    prices = PriceList(
        seat_monthly=stored_amount(plan.seat_monthly),
        features_monthly={
            Feature(f.feature): stored_amount(f.monthly_price) for f in plan_features(data, plan)
        },
    )
    recurring = recurring_lines(prices, seats=plan.seats, features=features, month=invoice_date)
    for sub_row in data.session.scalars(
        data.select(BundleSubscriptionRow).order_by(BundleSubscriptionRow.start)
    ):
        _refresh_term(data, sub_row, invoice_date)
        # voice-bundles.txt §2.3/§2.4: the quantity in force on the invoice date, not a later one
        in_force = subs.quantity_on(sub_row, subs.changes_of(data, sub_row), invoice_date)
        recurring += bundle_lines(replace(subscription_of(sub_row), quantity=in_force), invoice_date)
    prorations = subs.pending_prorations(data, invoice_date)
    recurring += [line for line, _ in prorations]
    if plan.platform_fee_monthly and plan.platform_fee_accepted_on:
        recurring += cpaas_platform_fee_lines(
            plan.platform_fee_accepted_on, invoice_date, stored_amount(plan.platform_fee_monthly)
        )
    first = month_start(usage_month)
    messages = message_lines(data.session, data.tenant_id, first, month_end(first))  # cpaas.txt §4.3
    charges_now = sum((x.amount for x in recurring + messages), ZERO) + _cents(rated.total)
    credits, outages = _outage_credit_lines(data, invoice_date, charges_now)
    late = _late_charge_lines(data, invoice_date)
    profile, table = tax_basis(data, plan, invoice_date)
    sequence = next_number(data.session, INVOICE_SERIES)
    try:
        invoice = assemble_invoice(
            InvoiceInputs(
                tenant_id=str(data.tenant_id),
                invoice_date=invoice_date,
                recurring=recurring,
                usage=rated,
                transactional=messages,
                credits=credits,
                late_charges=[line for line, _ in late],
                tax_profile=profile,
                tax_table=table,
                number=f"INV-{sequence:06d}",
                customer_name=data.tenant.name,
            )
        )
    except UnratedUsageError as exc:
        raise Invalid(
            f"{exc}; import a deck with a rate in force and run the period again",
            field="cdrs",
            rule="rating.unrated_usage",
        ) from None
    row = data.create(
        InvoiceRow,
        "billing.invoice.issue",
        number=invoice.number,
        sequence=sequence,
        invoice_date=invoice.invoice_date,
        due_date=invoice.due_date,
        usage_start=invoice.usage_period[0],
        usage_end=invoice.usage_period[1],
        customer_name=invoice.customer_name,
        currency=invoice.currency,
        subtotal=invoice.subtotal,
        taxes_and_surcharges=invoice.taxes_and_surcharges,
        total=invoice.total,
        usage_fingerprint=invoice.usage_fingerprint,
        rating_run_id=run.id,
        issued_by=data.principal.label,
    )
    late_for = {id(line): inv_id for line, inv_id in late}
    data.add_parts(
        InvoiceLineRow,
        [
            {
                "invoice_id": row.id,
                "position": i,
                "kind": line.kind.value,
                "description": line.description[:300],
                "quantity": line.quantity,
                "unit_price": line.unit_price,
                "amount": line.amount,
                "period_start": line.period_start,
                "period_end": line.period_end,
                "cdr_ids": list(line.cdr_ids),
                "source": line.source,
                "late_for_invoice_id": late_for.get(id(line)),
            }
            for i, line in enumerate(invoice.lines, start=1)
        ],
    )
    for outage in outages:
        data.update(outage, "billing.outage.settled", {"credited_invoice_id": row.id})
    for _, change in prorations:
        data.update(
            change, "billing.subscription.proration_billed", {"billed_invoice_id": row.id}, Resource.BILLING
        )
    check_credit_limit(data, invoice_date)  # cpaas.txt §4.2: the open balance now includes this invoice
    return row


def refuse_invoice_edit(row: InvoiceRow) -> None:
    """An issued invoice is never modified (billing/invoice.py): corrections are credit notes."""
    raise Conflict(
        f"invoice {row.number} is issued and is never modified; correct it with a credit note "
        f"(POST .../billing/invoices/{row.id}/credit-notes)",
        field="invoice",
        rule="invoice.immutable",
    )


def credit_invoice(data: TenantData, row: InvoiceRow, amount: Decimal, reason: str) -> CreditNoteRow:
    """A credit note against an issued invoice; the credits on one invoice never exceed its total."""
    data.require(Resource.BILLING, Action.CREATE)
    notes = list(data.session.scalars(data.select(CreditNoteRow).where(CreditNoteRow.invoice_id == row.id)))
    already = sum((Decimal(n.amount) for n in notes), ZERO)
    try:
        note = issue_credit_note(
            invoice_document(data, row),
            amount,
            reason,
            max(today(), row.invoice_date),
            already_credited=_cents(already),
            sequence=len(notes) + 1,
        )
    except ValueError as exc:
        raise Invalid(str(exc), field="amount", rule="credit_note") from None
    return data.create(
        CreditNoteRow,
        "billing.credit_note.issue",
        number=note.number,
        invoice_id=row.id,
        sequence=len(notes) + 1,
        issued_on=note.issued_on,
        reason=reason,
        amount=-note.total,
        issued_by=data.principal.label,
    )


def record_payment(
    data: TenantData,
    row: InvoiceRow,
    amount: Decimal,
    method: PaymentMethod,
    received_on: date,
    reference: str,
) -> PaymentRow:
    data.require(Resource.BILLING, Action.CREATE)
    if received_on > today():
        raise Invalid("a payment cannot be received in the future", field="received_on", rule="not_future")
    if received_on < row.invoice_date:
        raise Invalid("a payment cannot predate its invoice", field="received_on", rule="after_invoice")
    amount = _cents(amount)
    balance = account_state(data, row, today()).balance
    if amount > balance:
        raise Invalid(
            f"payment {amount} exceeds the balance {balance} of invoice {row.number}",
            field="amount",
            rule="payment.at_most_balance",
        )
    return data.create(
        PaymentRow,
        "billing.payment.record",
        invoice_id=row.id,
        amount=amount,
        method=method,
        received_on=received_on,
        reference=reference,
        recorded_by=data.principal.label,
    )


def file_dispute_notice(
    data: TenantData, row: InvoiceRow, amount: Decimal, detail: str, noticed_on: date | None
) -> DisputeRow:
    """cpaas.txt §4.6: a Dispute Notice within sixty (60) days of the Invoice Date; later, the
    invoice is deemed accepted (billing/collections.py file_dispute). The customer's administrators
    file as of today; an operator may record a written notice on the day it was received."""
    data.require(Resource.DISPUTE, Action.CREATE)
    now = today()
    if noticed_on is None:
        noticed_on = now
    elif noticed_on != now and not data.principal.is_operator:
        raise Invalid(
            "only an operator records a notice received on another day",
            field="noticed_on",
            rule="dispute.today",
        )
    if noticed_on > now:
        raise Invalid("a notice cannot be dated in the future", field="noticed_on", rule="not_future")
    if noticed_on < row.invoice_date:
        raise Invalid("a notice cannot predate its invoice", field="noticed_on", rule="after_invoice")
    open_disputes = sum(
        (
            Decimal(d.amount)
            for d in data.session.scalars(
                data.select(DisputeRow).where(
                    DisputeRow.invoice_id == row.id, DisputeRow.status == DisputeStatus.OPEN
                )
            )
        ),
        ZERO,
    )
    try:
        dispute = file_dispute(
            row.number, row.invoice_date, _cents(row.total) - open_disputes, amount, noticed_on, detail
        )
    except DisputeRefused as exc:
        raise Invalid(str(exc), field="noticed_on", rule="cpaas.txt §4.6 dispute period") from None
    except ValueError as exc:
        field = "detail" if "detail" in str(exc) else "amount"
        raise Invalid(str(exc), field=field, rule="cpaas.txt §4.6") from None
    return data.create(
        DisputeRow,
        "billing.dispute.file",
        invoice_id=row.id,
        amount=dispute.amount,
        noticed_on=dispute.noticed_on,
        detail=dispute.detail,
        filed_by=data.principal.label,
    )


def record_outage(
    data: TenantData, start: datetime, end: datetime, provider_fault: bool, description: str
) -> OutageRow:
    try:
        Outage(start, end, provider_fault)
    except ValueError as exc:
        raise Invalid(str(exc), field="end", rule="outage") from None
    return data.create(
        OutageRow,
        "billing.outage.record",
        start=start,
        end=end,
        provider_fault=provider_fault,
        description=description,
    )


def outage_qualifying_days(row: OutageRow) -> list[date]:
    return qualifying_days(Outage(row.start, row.end, row.provider_fault))


def read_cdr_csv(lines: Iterable[str]) -> list[dict[str, Any]]:
    """CDRs from CSV text: columns id, caller, callee, call_class, direction, start, duration_ms
    [, disposition, is_intra_enterprise, dialled]."""
    reader = csv.DictReader(iter(lines))
    header = [h.strip() for h in (reader.fieldnames or [])]
    reader.fieldnames = header
    missing = [c for c in CDR_FIELDS if c not in header]
    if missing:
        raise Invalid(f"missing column(s): {', '.join(missing)}", field="header", rule="cdr_csv")
    return [dict(row) for row in reader]


def find_invoice(data: TenantData, invoice_id: uuid.UUID) -> InvoiceRow:
    try:
        return data.get(InvoiceRow, invoice_id)
    except NotFound:
        raise NotFound(f"invoice {invoice_id} not found", field="invoice_id") from None
