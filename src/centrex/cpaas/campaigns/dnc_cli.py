"""``centrex dnc import national-dnc|reassigned FILE``: the operator's import of a local copy of the
National Do-Not-Call Registry or of the Reassigned Numbers Database (registries.py), the same as
``POST /api/v1/dnc-registry/{kind}``; ``centrex dnc status``: what the copies hold."""

from __future__ import annotations

import getpass
import uuid
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

dnc_app = typer.Typer(help="Do-not-call registry copies for campaigns.", no_args_is_help=True)
console = Console()
err = Console(stderr=True)

DbOpt = Annotated[
    str | None, typer.Option("--db", help="database URL (default: SQLite in the data dir; env CENTREX_DB)")
]
DataOpt = Annotated[Path | None, typer.Option("--data-dir", help="where files live (env CENTREX_DATA)")]


def fail(message: str) -> None:
    err.print(f"error: {message}", highlight=False, markup=False, soft_wrap=True)
    raise typer.Exit(2)


def _sessions(db: str | None, data_dir: Path | None):  # type: ignore[no-untyped-def]
    from centrex.config import load_settings
    from centrex.store.db import make_engine, make_sessionmaker
    from centrex.store.migrate import upgrade

    try:
        settings = load_settings(db_url=db, data_dir=data_dir)
    except ValueError as exc:
        fail(str(exc))
        raise
    engine = make_engine(settings.database_url)
    upgrade(engine)
    return engine, make_sessionmaker(engine)


@dnc_app.command("import")
def dnc_import(
    kind: Annotated[str, typer.Argument(help="national-dnc or reassigned")],
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="the CSV")],
    replace: Annotated[
        bool, typer.Option("--replace", help="the file is the whole copy (a full download)")
    ] = False,
    db: DbOpt = None,
    data_dir: DataOpt = None,
) -> None:
    """Import a CSV: national-dnc (a number a line, or the registry's area code,number) or
    reassigned (number,disconnected_on). Bad lines are counted and named; the rest is imported."""
    from centrex.cpaas.campaigns.registries import KINDS, BadFile, import_csv
    from centrex.store.access import AccessBase, Principal
    from centrex.store.db import transaction
    from centrex.store.models import Role, TokenKind

    if kind not in KINDS:
        fail(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    engine, sessions = _sessions(db, data_dir)
    who = f"cli:{getpass.getuser()}"
    principal = Principal(TokenKind.OPERATOR, uuid.UUID(int=0), frozenset({Role.OPERATOR}), who)
    try:
        text = file.read_text(encoding="utf-8-sig")
        with transaction(sessions) as s:
            try:
                result = import_csv(s, kind, text, source=file.name, by=who, replace=replace)
            except BadFile as exc:
                fail(f"{file}: {exc}")
                raise
            AccessBase(s, principal).audit(
                f"registry.import.{kind}",
                "registry_imports",
                result.row.id,
                None,
                {"rows": result.row.rows, "rejected": result.row.rejected, "replace": replace},
                None,
            )
            rows, rejected = result.row.rows, result.row.rejected
    finally:
        engine.dispose()
    for line in result.errors:
        err.print(f"{file}: {line}", highlight=False, markup=False)
    console.print(f"{kind}: {rows} numbers imported, {rejected} lines rejected", highlight=False)


@dnc_app.command("status")
def dnc_status(db: DbOpt = None, data_dir: DataOpt = None) -> None:
    """How many numbers each copy holds, and the last imports."""
    from sqlalchemy import func, select

    from centrex.store.models.campaigns import NationalDncNumber, ReassignedNumber, RegistryImport

    engine, sessions = _sessions(db, data_dir)
    try:
        with sessions() as s:
            national = s.scalar(select(func.count()).select_from(NationalDncNumber)) or 0
            reassigned = s.scalar(select(func.count()).select_from(ReassignedNumber)) or 0
            last = list(s.scalars(select(RegistryImport).order_by(RegistryImport.created_at.desc()).limit(5)))
            console.print(f"national-dnc: {national} numbers; reassigned: {reassigned} disconnections")
            for r in last:
                console.print(
                    f"  {r.created_at:%Y-%m-%d %H:%M}Z {r.kind} {r.source} rows={r.rows}"
                    f" rejected={r.rejected} by {r.imported_by}",
                    highlight=False,
                )
    finally:
        engine.dispose()
