"""The `centrex` command."""

from __future__ import annotations

import json
import os
import sys
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import select

from centrex.config import Settings, load_settings
from centrex.cpaas.campaigns.dnc_cli import dnc_app
from centrex.ops.jobs_cli import jobs_app
from centrex.ops.peering_cli import peering_app
from centrex.store import media_files, secretbox
from centrex.store.credentials import new_token
from centrex.store.db import make_engine, make_sessionmaker, transaction
from centrex.store.migrate import upgrade

app = typer.Typer(
    help="Centrex: an open hosted business phone service.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens.", no_args_is_help=True)
billing_app = typer.Typer(help="Rate decks, rating and billing runs.", no_args_is_help=True)
recordings_app = typer.Typer(help="Call recordings.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(token_app, name="token")
app.add_typer(billing_app, name="billing")
app.add_typer(recordings_app, name="recordings")
app.add_typer(jobs_app, name="jobs")
app.add_typer(peering_app, name="peering")
app.add_typer(dnc_app, name="dnc")
console = Console()
err = Console(stderr=True)

DbOpt = Annotated[
    str | None, typer.Option("--db", help="database URL (default: SQLite in the data dir; env CENTREX_DB)")
]
DataOpt = Annotated[Path | None, typer.Option("--data-dir", help="where files live (env CENTREX_DATA)")]


def _settings(
    db: str | None, data_dir: Path | None = None, config: Path | None = None, **flags: object
) -> Settings:
    """Flags over CENTREX_* over the config file (config.py); a bad value is one line naming it."""
    try:
        settings = load_settings(config, db_url=db, data_dir=data_dir, **flags)
    except ValueError as exc:
        fail(str(exc))
        raise
    if config is not None:  # parts that read the settings later (load_settings()) read this file too
        os.environ["CENTREX_CONFIG"] = str(config.resolve())
    secretbox.configure(settings.secrets_key_path)  # webhook secrets at rest (migration 0023 too)
    media_files.configure(settings.media_root)  # recordings and voicemail: keys under one root
    return settings


def fail(message: str) -> None:
    err.print(f"error: {message}", highlight=False, markup=False, soft_wrap=True)
    raise typer.Exit(2)


@db_app.command("upgrade")
def db_upgrade(db: DbOpt = None, data_dir: DataOpt = None) -> None:
    """Bring the database schema to the newest migration."""
    s = _settings(db, data_dir)
    try:
        upgrade(make_engine(s.database_url))
    except Exception as exc:
        fail(f"cannot upgrade {s.database_url.split('@')[-1]}: {exc}")
    console.print(f"database at newest schema: {s.database_url.split('@')[-1]}")


@app.command()
def demo(
    db: DbOpt = None,
    data_dir: DataOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="print as JSON")] = False,
) -> None:
    """Seed (idempotently) a demo tenant and print its SIP credentials and API tokens."""
    from centrex.ops.demo import OPERATOR_EMAIL, seed_demo

    s = _settings(db, data_dir)
    engine = make_engine(s.database_url)
    upgrade(engine)
    with transaction(make_sessionmaker(engine)) as session:
        result = seed_demo(session, s.data_dir)
    if as_json:
        sys.stdout.write(json.dumps(result.as_dict(), indent=2) + "\n")
        return
    table = Table(title=f"Demo tenant {result.sip_domain} ({result.tenant_id})")
    for col in ("ext", "name", "number", "SIP user", "SIP password", "site"):
        table.add_column(col)
    for line in result.lines:
        table.add_row(line.extension, line.name, line.number, line.sip_username, line.sip_password, line.site)
    console.print(table)
    console.print(f"operator token:      {result.operator_token}", highlight=False)
    console.print(f"office-admin token:  {result.office_admin_token}  (user 1001)", highlight=False)
    console.print(f"account SID:         {result.account_sid}  (Twilio-compatible API)", highlight=False)
    console.print(f"auth token:          {result.auth_token}", highlight=False)
    console.print(  # docs/portal-auth.md
        f"portal log-in:       {OPERATOR_EMAIL} or a user's e-mail, password {result.portal_password}",
        highlight=False,
    )


@token_app.command("create")
def token_create(
    name: Annotated[str, typer.Option(help="what the token is for")],
    operator: Annotated[str | None, typer.Option(help="operator e-mail: an operator token")] = None,
    tenant: Annotated[str | None, typer.Option(help="tenant id or SIP domain")] = None,
    user: Annotated[str | None, typer.Option(help="extension of the user (with --tenant)")] = None,
    developer: Annotated[bool, typer.Option(help="a CPaaS developer key (with --tenant)")] = False,
    db: DbOpt = None,
    data_dir: DataOpt = None,
) -> None:
    """Create an API token and print it once (only its hash is stored)."""
    from centrex.store.models import ApiToken, Operator, Tenant, TokenKind, User

    s = _settings(db, data_dir)
    engine = make_engine(s.database_url)
    made = new_token()
    with transaction(make_sessionmaker(engine)) as session:
        if operator:
            op = session.scalar(select(Operator).where(Operator.email == operator))
            if op is None:
                op = Operator(email=operator, name=operator)
                session.add(op)
                session.flush()
            session.add(
                ApiToken(
                    kind=TokenKind.OPERATOR,
                    name=name,
                    operator_id=op.id,
                    prefix=made.prefix,
                    secret_hash=made.secret_hash,
                )
            )
        elif tenant:
            try:
                t = session.get(Tenant, uuid.UUID(tenant))
            except ValueError:
                t = session.scalar(select(Tenant).where(Tenant.sip_domain == tenant))
            if t is None:
                fail(f"no tenant {tenant!r}")
                return
            if developer:
                session.add(
                    ApiToken(
                        kind=TokenKind.DEVELOPER,
                        name=name,
                        tenant_id=t.id,
                        prefix=made.prefix,
                        secret_hash=made.secret_hash,
                    )
                )
            else:
                if not user:
                    fail("--tenant needs --user EXTENSION or --developer")
                u = session.scalar(select(User).where(User.tenant_id == t.id, User.extension == user))
                if u is None:
                    fail(f"no user with extension {user!r} in {t.sip_domain}")
                    return
                session.add(
                    ApiToken(
                        kind=TokenKind.USER,
                        name=name,
                        tenant_id=t.id,
                        user_id=u.id,
                        prefix=made.prefix,
                        secret_hash=made.secret_hash,
                    )
                )
        else:
            fail("say whose token: --operator EMAIL, or --tenant ID with --user EXT or --developer")
    sys.stdout.write(made.plaintext + "\n")


# --- billing ------------------------------------------------------------------------------------

PeriodOpt = Annotated[str, typer.Option("--period", help="the usage month, YYYY-MM")]
TenantOpt = Annotated[
    str | None, typer.Option("--tenant", help="tenant id or SIP domain (default: every tenant)")
]


def _cli_principal() -> Any:
    """The CLI acts as an operator; the audit log names the system user who ran it."""
    import getpass

    from centrex.store.access import Principal
    from centrex.store.models import Role, TokenKind

    return Principal(
        TokenKind.OPERATOR, uuid.UUID(int=0), frozenset({Role.OPERATOR}), f"cli:{getpass.getuser()}"
    )


def _find_tenant(session: Any, ref: str) -> Any:
    from centrex.store.models import Tenant

    try:
        tenant = session.get(Tenant, uuid.UUID(ref))
    except ValueError:
        tenant = session.scalar(select(Tenant).where(Tenant.sip_domain == ref))
    if tenant is None:
        fail(f"no tenant {ref!r}")
    return tenant


def _progress() -> Progress:
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=False,
    )


@billing_app.command("import-deck")
def billing_import_deck(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="deck CSV")],
    name: Annotated[str, typer.Option("--name", help="deck name; an existing name gets a new version")],
    db: DbOpt = None,
    data_dir: DataOpt = None,
) -> None:
    """Import a CSV rate deck as the next version of NAME (bad lines are named; nothing is stored)."""
    from centrex.billing import service
    from centrex.store.access import OperatorData
    from centrex.store.errors import StoreError

    s = _settings(db, data_dir)
    with file.open(encoding="utf-8-sig", newline="") as fh:
        rows = max(sum(1 for _ in fh) - 1, 0)
    engine = make_engine(s.database_url)
    try:
        with _progress() as bar, transaction(make_sessionmaker(engine)) as session:
            read = bar.add_task("reading", total=rows)
            stored = bar.add_task("storing", total=rows)
            with file.open(encoding="utf-8-sig", newline="") as fh:
                made = service.import_deck(
                    OperatorData(session, _cli_principal()),
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
    from centrex.billing import service
    from centrex.billing.periods import month_start
    from centrex.billing.rating import rate_period
    from centrex.store.access import TenantData
    from centrex.store.errors import StoreError
    from centrex.store.models import CallDetail

    s = _settings(db, data_dir)
    engine = make_engine(s.database_url)
    try:
        with (
            transaction(make_sessionmaker(engine)) as session,
            file.open(encoding="utf-8-sig", newline="") as fh,
        ):
            data = TenantData(session, _cli_principal(), _find_tenant(session, tenant).id)
            raw = service.read_cdr_csv(fh)
            values = [service.cdr_values(r, f"line {i}") for i, r in enumerate(raw, start=2)]
            plan = service.require_plan(data)
            deck, _ = service.deck_for_plan(session, plan)
            records = [
                service.call_record(CallDetail(id=uuid.uuid4(), tenant_id=data.tenant_id, **v))
                for v in values
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
                rated = rate_period(months[month], service.rating_plan(plan), deck)
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
                stored, duplicates = service.store_cdrs(data, raw)
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
        return [_find_tenant(session, tenant)]
    stmt = select(Tenant).join(BillingPlan, BillingPlan.tenant_id == Tenant.id).order_by(Tenant.name)
    return list(session.scalars(stmt))


@billing_app.command("run")
def billing_run(
    period: PeriodOpt, tenant: TenantOpt = None, db: DbOpt = None, data_dir: DataOpt = None
) -> None:
    """Close a month for each tenant with a billing plan: rate its usage and issue the invoice dated
    the 1st of the next month. Each tenant is its own transaction; an invoiced tenant is skipped."""
    from centrex.billing import service
    from centrex.store.access import TenantData
    from centrex.store.errors import Conflict, StoreError

    s = _settings(db, data_dir)
    engine = make_engine(s.database_url)
    factory = make_sessionmaker(engine)
    try:
        month = service.parse_period(period)
    except StoreError as exc:
        fail(exc.message)
        return
    with factory() as session:
        tenants = [(t.id, t.name) for t in _billing_tenants(session, tenant)]
    if not tenants:
        err.print("no tenant has a billing plan (PUT /api/v1/tenants/{id}/billing/plan)", highlight=False)
        return
    table = Table(title=f"billing run {period}")
    for col in ("tenant", "invoice", "date", "total", "result"):
        table.add_column(col)
    failed = 0
    with _progress() as bar:
        task = bar.add_task("tenants", total=len(tenants))
        for tenant_id, name in tenants:
            try:
                with transaction(factory) as session:
                    row = service.issue_invoice(TenantData(session, _cli_principal(), tenant_id), month)
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
    factory = make_sessionmaker(make_engine(_settings(db, data_dir).database_url))
    with transaction(factory) as session:
        tenant_id = _find_tenant(session, tenant).id if tenant else None
        actions = run_collections(session, _cli_principal(), day, notify=notify, tenant_id=tenant_id)
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
    factory = make_sessionmaker(make_engine(_settings(db, data_dir).database_url))
    try:
        with transaction(factory) as session:
            ops = OperatorData(session, _cli_principal())
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
    from centrex.billing import service
    from centrex.store.access import TenantData
    from centrex.store.errors import StoreError

    s = _settings(db, data_dir)
    engine = make_engine(s.database_url)
    factory = make_sessionmaker(engine)
    try:
        month = service.parse_period(period)
    except StoreError as exc:
        fail(exc.message)
        return
    with factory() as session:
        tenants = [(t.id, t.name) for t in _billing_tenants(session, tenant)]
    if not tenants:
        err.print("no tenant has a billing plan (PUT /api/v1/tenants/{id}/billing/plan)", highlight=False)
        return
    table = Table(title=f"rating {period}")
    for col in ("tenant", "calls", "unrated", "total", "fingerprint"):
        table.add_column(col)
    failed = 0
    with _progress() as bar:
        task = bar.add_task("tenants", total=len(tenants))
        for tenant_id, name in tenants:
            try:
                with transaction(factory) as session:
                    run, _ = service.rate_month(TenantData(session, _cli_principal(), tenant_id), month)
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


@recordings_app.command("purge")
def recordings_purge(
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="act as of this day (YYYY-MM-DD, 00:00 UTC) or ISO time; default now"),
    ] = None,
    tenant: TenantOpt = None,
    db: DbOpt = None,
    data_dir: DataOpt = None,
) -> None:
    """The retention job (hosted-pbx.txt, data protection 2.f): delete the recordings past their
    tenant's retention period (default 12 months) - the file, and the row marked deleted."""
    from datetime import UTC, datetime

    from centrex.ops.recording_retention import purge_recordings

    when = datetime.now(UTC)
    if as_of:
        try:
            when = datetime.fromisoformat(as_of)
        except ValueError:
            fail(f"--as-of must be a date YYYY-MM-DD or an ISO 8601 time, got {as_of!r}")
            return
        when = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    factory = make_sessionmaker(make_engine(_settings(db, data_dir).database_url))
    tenant_id = None
    if tenant:
        with factory() as session:
            tenant_id = _find_tenant(session, tenant).id
    with _progress() as bar:
        task = bar.add_task("deleting recordings", total=None)
        report = purge_recordings(
            factory,
            when,
            principal=_cli_principal(),
            tenant_id=tenant_id,
            on_progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    table = Table(title=f"recordings past their retention period as of {when:%Y-%m-%d %H:%M} UTC")
    for col in ("tenant", "months", "started before", "deleted", "files missing", "MB freed"):
        table.add_column(col)
    for r in report:
        table.add_row(
            str(r.tenant_id),
            str(r.retention_months),
            f"{r.cutoff:%Y-%m-%d %H:%M}",
            str(r.deleted),
            str(r.missing_files),
            f"{r.bytes_freed / 1e6:,.1f}",
        )
    console.print(table)
    console.print(f"{sum(r.deleted for r in report)} recordings deleted", highlight=False)


@app.command()
def serve(
    db: DbOpt = None,
    data_dir: DataOpt = None,
    config: Annotated[
        Path | None, typer.Option("--config", help="TOML settings file (env CENTREX_CONFIG); see config.py")
    ] = None,
    bind: Annotated[str | None, typer.Option(help="address to listen on (default 0.0.0.0)")] = None,
    sip_port: Annotated[int | None, typer.Option(help="SIP UDP/TCP port (default 5060)")] = None,
    sip_tls_port: Annotated[
        int | None,
        typer.Option(
            help="SIP over TLS port (default 5061); the certificate is CENTREX_SIP_TLS_CERT/_KEY, "
            "or a self-signed one made in the data dir at first start"
        ),
    ] = None,
    http_port: Annotated[int | None, typer.Option(help="API and portal port (default 8080)")] = None,
    sip_ws_port: Annotated[
        int | None, typer.Option(help="SIP over WebSocket port for the browser phone (default off)")
    ] = None,
    external_ip: Annotated[
        str | None,
        typer.Option(help="public address behind NAT: Via, Contact and SDP carry it (CENTREX_EXTERNAL_IP)"),
    ] = None,
    rtp_ports: Annotated[str | None, typer.Option(help="RTP port range A-B (default 20000-30000)")] = None,
    log_level: Annotated[
        str | None, typer.Option(help="DEBUG, INFO, WARNING or ERROR (default WARNING; CENTREX_LOG_LEVEL)")
    ] = None,
    log_format: Annotated[
        str | None, typer.Option(help="console or json, one object a line (env CENTREX_LOG_FORMAT)")
    ] = None,
    jobs: Annotated[
        bool | None, typer.Option("--jobs/--no-jobs", help="run the scheduled jobs on this node (default on)")
    ] = None,
    monitor: Annotated[
        bool | None,
        typer.Option("--monitor/--no-monitor", help="poll this node's components, raise alarms (default on)"),
    ] = None,
) -> None:
    """Run the service: SIP, media, the HTTP API and the scheduled jobs in one process."""
    from centrex.server import run

    s = _settings(
        db,
        data_dir,
        config,
        bind=bind,
        sip_port=sip_port,
        sip_tls_port=sip_tls_port,
        http_port=http_port,
        sip_ws_port=sip_ws_port,
        external_ip=external_ip,
        rtp_ports=rtp_ports,
        log_level=log_level,
        log_format=log_format,
        jobs=jobs,
        monitor=monitor,
    )
    from centrex.ops.jobs import builtin_registry
    from centrex.ops.scheduler import UnknownJob

    try:
        builtin_registry().without(s.jobs_skip)
    except UnknownJob as exc:
        fail(f"CENTREX_JOBS_SKIP: {exc}")
    run(s)


def main() -> None:  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":  # python -m centrex.cli
    app()
