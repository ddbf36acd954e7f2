"""``centrex jobs list|run``: the scheduled jobs (ops/scheduler.py) from the command line."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from centrex.cli_common import DataOpt, DbOpt, as_of_time, console, err, fail, settings_for
from centrex.ops import job_runs
from centrex.ops.scheduler import UnknownJob, run_job
from centrex.store.db import make_engine, make_sessionmaker

jobs_app = typer.Typer(help="Scheduled jobs (retention, billing run, collections).", no_args_is_help=True)


@jobs_app.command("list")
def jobs_list(db: DbOpt = None, data_dir: DataOpt = None) -> None:
    """The scheduled jobs: when each runs, its last run and whether its current period is done."""
    from centrex.ops.jobs import builtin_registry  # here: it brings billing, which most commands skip

    settings = settings_for(db, data_dir)
    factory = make_sessionmaker(make_engine(settings.database_url))
    now = datetime.now(UTC)
    table = Table(title="scheduled jobs")
    for col in ("job", "schedule", "current period", "last run", "outcome"):
        table.add_column(col)
    for job in builtin_registry(settings):
        period, _ = job.period.latest(now)
        last = job_runs.last_run(factory, job.name)
        if last is None:
            when, outcome = "never", ""
        else:
            when = (
                f"{last.started_at:%Y-%m-%d %H:%M} UTC ({last.trigger}{', dry run' if last.dry_run else ''})"
            )
            summary = (last.report or {}).get("summary", "") if last.status == "ok" else last.error
            outcome = f"{last.status}: {summary}" if summary else last.status
        state = "done" if job_runs.done(factory, job.name, period) else "due"
        table.add_row(job.name, job.period.describe(), f"{period} ({state})", when, outcome)
    console.print(table)


@jobs_app.command("run")
def jobs_run(
    name: Annotated[str, typer.Argument(help="the job, as `centrex jobs list` names it")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="report what it would do; change nothing")
    ] = False,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="act as of this day (00:00 UTC) or ISO time; default now")
    ] = None,
    db: DbOpt = None,
    data_dir: DataOpt = None,
) -> None:
    """Run one job now (under its lock, recorded like a scheduled run) and print its report."""
    from centrex.ops.jobs import builtin_registry

    settings = settings_for(db, data_dir)
    try:
        job = builtin_registry(settings).get(name)
    except UnknownJob as exc:
        fail(str(exc))
        return
    when = as_of_time(as_of)
    factory = make_sessionmaker(make_engine(settings.database_url))
    progress = Progress(
        TextColumn("[progress.description]{task.description}"), BarColumn(), TimeElapsedColumn(), console=err
    )
    with progress as bar:
        task = bar.add_task(name + (" (dry run)" if dry_run else ""), total=None)
        outcome = run_job(
            factory,
            job,
            when,
            dry_run=dry_run,
            on_progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    if outcome.status == "busy":
        fail(f"{name} is running on another node (its lock is held); try again later")
    if outcome.status == "failed" or outcome.report is None:
        fail(f"{name} failed: {outcome.error}")
        return
    report = outcome.report
    if report.rows:
        table = Table(
            title=f"{name} for {outcome.period}" + (" (dry run: nothing changed)" if dry_run else "")
        )
        columns = list(dict.fromkeys(k for row in report.rows for k in row))
        for col in columns:
            table.add_column(col.replace("_", " "))
        for row in report.rows:
            table.add_row(*(row.get(c, "") for c in columns))
        console.print(table)
    console.print(report.summary, highlight=False)
