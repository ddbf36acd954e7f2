"""`centrex billing …`: rate decks, rating, billing runs, collections, taxes, re-rating."""

from __future__ import annotations

import uuid
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from sqlalchemy import select

from centrex.cli_common import (
    DataOpt,
    DbOpt,
    PeriodOpt,
    TenantOpt,
    cli_principal,
    console,
    err,
    fail,
    find_tenant,
    progress,
    settings_for,
)
from centrex.store.db import make_engine, make_sessionmaker, transaction

billing_app = typer.Typer(help="Rate decks, rating and billing runs.", no_args_is_help=True)


@billing_app.command("import-deck")
def billing_import_deck(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="deck CSV")],
    name: Annotated[str, typer.Option("--name", help="deck name; an existing name gets a new version")],
    db: DbOpt = None,
    data_dir: DataOpt = None,
) -> None:
    """Import a CSV rate deck as the next version of NAME (bad lines are named; nothing is stored)."""
    from centrex.billing.deck_service import import_deck
    from centrex.store.access import OperatorData
    from centrex.store.errors import StoreError

    s = settings_for(db, data_dir)
    with file.open(encoding="utf-8-sig", newline="") as fh:
        rows = max(sum(1 for _ in fh) - 1, 0)
    engine = make_engine(s.database_url)
    try:
        with progress() as bar, transaction(make_sessionmaker(engine)) as session:
            read = bar.add_task("reading", total=rows)
            stored = bar.add_task("storing", total=rows)
            with file.open(encoding="utf-8-sig", newline="") as fh:
                made = import_deck(
                    OperatorData(session, cli_principal()),
                    name,
                    fh,
                    on_read=lambda n: bar.update(read, completed=n),
                    on_stored=lambda n: bar.update(stored, completed=n),
                )
            result = (made.deck.name, made.version.version, made.version.row_count, made.version.fingerprint)
    except StoreError as exc:
        fail(f"{file}: {exc.message}")
        return
    console.print(f"deck {result[0]} version {result[1]}: {result[2]:,} rows, sha256 {result[3][:16]}…")


@billing_app.command("rate")
def billing_rate(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="CDR CSV")],
    tenant: Annotated[
        str, typer.Option("--tenant", help="tenant id or SIP domain whose plan and deck rate it")
    ],
    store: Annotated[bool, typer.Option("--store", help="also store the CDRs for billing")] = False,
    db: DbOpt = None,
    data_dir: DataOpt = None,
) -> None:
    """Rate a CDR CSV with the tenant's plan and deck and print the totals per month and category.
    Columns: id, caller, callee, call_class, direction, start, duration_ms [, disposition,
    is_intra_enterprise, dialled]."""
    from centrex.billing.cdr_service import call_record, cdr_values, read_cdr_csv, store_cdrs
    from centrex.billing.deck_service import deck_for_plan
    from centrex.billing.periods import month_start
    from centrex.billing.plan_service import rating_plan, require_plan
    from centrex.billing.rating import rate_period
    from centrex.store.access import TenantData
    from centrex.store.errors import StoreError
    from centrex.store.models import CallDetail

    s = settings_for(db, data_dir)
    engine = make_engine(s.database_url)
    try:
        with (
            transaction(make_sessionmaker(engine)) as session,
            file.open(encoding="utf-8-sig", newline="") as fh,
        ):
            data = TenantData(session, cli_principal(), find_tenant(session, tenant).id)
            raw = read_cdr_csv(fh)
            values = [cdr_values(r, f"line {i}") for i, r in enumerate(raw, start=2)]
            plan = require_plan(data)
            deck, _ = deck_for_plan(session, plan)
            records = [
                call_record(CallDetail(id=uuid.uuid4(), tenant_id=data.tenant_id, **v)) for v in values
            ]
            months: dict[Any, list[Any]] = {}
            for record in records:
                months.setdefault(month_start(record.start.date()), []).append(record)
            table = Table(title=f"{file.name}: {len(records):,} calls, plan {plan.code}")
            for col in ("month", "category", "calls", "billable min", "amount"):
                table.add_column(
                    col, justify="right" if col in ("calls", "billable min", "amount") else "left"
                )
            grand = Decimal(0)
            unrated = 0
            for month in sorted(months):
                rated = rate_period(months[month], rating_plan(plan), deck)
                unrated += len(rated.unrated)
                by_cat: dict[str, list[Any]] = {}
                for charge in rated.charges:
                    by_cat.setdefault(charge.category.value, []).append(charge)
                for category, charges in sorted(by_cat.items()):
                    amount = sum((c.amount for c in charges), Decimal(0))
                    minutes = Decimal(sum(c.billable_s for c in charges)) / 60
                    table.add_row(
                        f"{month:%Y-%m}", category, f"{len(charges):,}", f"{minutes:,.1f}", f"{amount:,.6f}"
                    )
                grand += rated.total
            if store:
                stored, duplicates = store_cdrs(data, raw)
    except StoreError as exc:
        fail(f"{file}: {exc.message}")
        return
    console.print(table)
    console.print(f"total: {grand:,.6f} USD ({grand.quantize(Decimal('0.01'))} at cents)", highlight=False)
    if unrated:
        err.print(f"warning: {unrated} call(s) have no rate in force in the deck", highlight=False)
    if store:
        console.print(f"stored {stored:,} CDR(s), {duplicates:,} already stored", highlight=False)


def _billing_tenants(session: Any, tenant: str | None) -> list[Any]:
    from centrex.store.models import BillingPlan, Tenant

    if tenant:
        return [find_tenant(session, tenant)]
    stmt = select(Tenant).join(BillingPlan, BillingPlan.tenant_id == Tenant.id).order_by(Tenant.name)
    return list(session.scalars(stmt))


def _month_and_tenants(
    period: str, tenant: str | None, db: str | None, data_dir: Path | None
) -> tuple[Any, Any, list[tuple[uuid.UUID, str]]] | None:
    """What `billing run` and `billing rate` both start from: the store, the month of ``period``
    and the tenants with a billing plan (or the one named); None after saying there are none."""
    from centrex.billing.days import parse_period
    from centrex.store.errors import StoreError

    factory = make_sessionmaker(make_engine(settings_for(db, data_dir).database_url))
    try:
        month = parse_period(period)
    except StoreError as exc:
        fail(exc.message)
        return None
    with factory() as session:
        tenants = [(t.id, t.name) for t in _billing_tenants(session, tenant)]
    if not tenants:
        err.print("no tenant has a billing plan (PUT /api/v1/tenants/{id}/billing/plan)", highlight=False)
        return None
    return factory, month, tenants


@billing_app.command("run")
def billing_run(
    period: PeriodOpt, tenant: TenantOpt = None, db: DbOpt = None, data_dir: DataOpt = None
) -> None:
    """Close a month for each tenant with a billing plan: rate its usage and issue the invoice dated
    the 1st of the next month. Each tenant is its own transaction; an invoiced tenant is skipped."""
    from centrex.billing.invoice_service import issue_invoice
    from centrex.store.access import TenantData
    from centrex.store.errors import Conflict, StoreError

    found = _month_and_tenants(period, tenant, db, data_dir)
    if found is None:
        return
    factory, month, tenants = found
    table = Table(title=f"billing run {period}")
    for col in ("tenant", "invoice", "date", "total", "result"):
        table.add_column(col)
    failed = 0
    with progress() as bar:
        task = bar.add_task("tenants", total=len(tenants))
        for tenant_id, name in tenants:
            try:
                with transaction(factory) as session:
                    row = issue_invoice(TenantData(session, cli_principal(), tenant_id), month)
                    table.add_row(name, row.number, f"{row.invoice_date}", f"{row.total:,.2f}", "issued")
            except Conflict as exc:
                table.add_row(name, "", "", "", f"skipped: {exc.message}")
            except StoreError as exc:
                failed += 1
                table.add_row(name, "", "", "", f"failed ({exc.rule}): {exc.message}")
            bar.advance(task)
    console.print(table)
    if failed:
        raise typer.Exit(1)


@billing_app.command("collections")
def billing_collections(
    as_of: Annotated[str, typer.Option("--as-of", help="the day to act as of, YYYY-MM-DD")],
    tenant: TenantOpt = None,
    notify: Annotated[
        bool, typer.Option("--notify/--no-notify", help="record notices of non-payment for overdue amounts")
    ] = True,
    db: DbOpt = None,
    data_dir: DataOpt = None,
) -> None:
    """The collections job (cpaas.txt §3.4): notices of non-payment for overdue undisputed amounts,
    suspension 5 business days after a notice while they are unpaid, reinstatement once paid."""
    from datetime import date as date_

    from centrex.billing.collections_service import run_collections

    try:
        day = date_.fromisoformat(as_of)
    except ValueError:
        fail(f"--as-of must be a date YYYY-MM-DD, got {as_of!r}")
        return
    factory = make_sessionmaker(make_engine(settings_for(db, data_dir).database_url))
    with transaction(factory) as session:
        tenant_id = find_tenant(session, tenant).id if tenant else None
        actions = run_collections(session, cli_principal(), day, notify=notify, tenant_id=tenant_id)
        table = Table(title=f"collections as of {day}")
        for col in ("tenant", "action", "amount", "detail"):
            table.add_column(col)
        for a in actions:
            table.add_row(a.tenant, a.action, f"{a.amount:,.2f}", a.detail)
    console.print(table)


@billing_app.command("import-taxes")
def billing_import_taxes(
    file: Annotated[
        Path | None, typer.Argument(exists=True, dir_okay=False, readable=True, help="tax table CSV")
    ] = None,
    demo: Annotated[
        bool, typer.Option("--demo", help="load the demo's example table (DEMO_TAX_TABLE)")
    ] = False,
    db: DbOpt = None,
    data_dir: DataOpt = None,
) -> None:
    """Add entries to the tax and surcharge table (cpaas.txt §4.7, §4.8): columns kind, basis,
    jurisdiction, name, rate, effective_from [, effective_to, source]."""
    from centrex.billing import tax_service
    from centrex.store.access import OperatorData
    from centrex.store.errors import StoreError

    if (file is None) == (not demo):
        fail("give a CSV file or --demo")
        return
    factory = make_sessionmaker(make_engine(settings_for(db, data_dir).database_url))
    try:
        with transaction(factory) as session:
            ops = OperatorData(session, cli_principal())
            if demo:
                rows = tax_service.seed_demo(ops)
            else:
                assert file is not None
                with file.open(newline="", encoding="utf-8-sig") as fh:
                    rows = tax_service.import_rates(ops, fh)
            count = len(rows)
    except StoreError as exc:
        fail(f"{exc.field}: {exc.message}")
        return
    console.print(f"{count} tax table entries added", highlight=False)


@billing_app.command("rerate")
def billing_rerate(
    period: PeriodOpt, tenant: TenantOpt = None, db: DbOpt = None, data_dir: DataOpt = None
) -> None:
    """Rate a month again for each tenant with a billing plan (idempotent: the same CDRs, plan and
    deck give the same total and fingerprint); each run is recorded in the rating-run audit trail."""
    from centrex.billing.rating_service import rate_month
    from centrex.store.access import TenantData
    from centrex.store.errors import StoreError

    found = _month_and_tenants(period, tenant, db, data_dir)
    if found is None:
        return
    factory, month, tenants = found
    table = Table(title=f"rating {period}")
    for col in ("tenant", "calls", "unrated", "total", "fingerprint"):
        table.add_column(col)
    failed = 0
    with progress() as bar:
        task = bar.add_task("tenants", total=len(tenants))
        for tenant_id, name in tenants:
            try:
                with transaction(factory) as session:
                    run, _ = rate_month(TenantData(session, cli_principal(), tenant_id), month)
                    table.add_row(
                        name,
                        f"{run.cdr_count:,}",
                        f"{run.unrated_count:,}",
                        f"{run.total:,.6f}",
                        run.fingerprint,
                    )
            except StoreError as exc:
                failed += 1
                table.add_row(name, "", "", "", f"failed ({exc.rule}): {exc.message}")
            bar.advance(task)
    console.print(table)
    if failed:
        raise typer.Exit(1)
