"""`centrex recordings …`: the recordings' retention job by hand."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from centrex.cli_common import (
    DataOpt,
    DbOpt,
    TenantOpt,
    as_of_time,
    cli_principal,
    console,
    find_tenant,
    progress,
    settings_for,
)
from centrex.store.db import make_engine, make_sessionmaker

recordings_app = typer.Typer(help="Call recordings.", no_args_is_help=True)


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
    from centrex.ops.recording_retention import purge_recordings

    when = as_of_time(as_of)
    factory = make_sessionmaker(make_engine(settings_for(db, data_dir).database_url))
    tenant_id = None
    if tenant:
        with factory() as session:
            tenant_id = find_tenant(session, tenant).id
    with progress() as bar:
        task = bar.add_task("deleting recordings", total=None)
        report = purge_recordings(
            factory,
            when,
            principal=cli_principal(),
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
