"""What the `centrex` sub-commands share: the consoles, the --db/--data-dir/--tenant options, the
settings they load, the operator principal the CLI acts as, and a failure that is one line."""

from __future__ import annotations

import getpass
import os
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import select

from centrex.config import Settings, load_settings
from centrex.store import media_files, secretbox

console = Console()
err = Console(stderr=True)

DbOpt = Annotated[
    str | None, typer.Option("--db", help="database URL (default: SQLite in the data dir; env CENTREX_DB)")
]
DataOpt = Annotated[Path | None, typer.Option("--data-dir", help="where files live (env CENTREX_DATA)")]
PeriodOpt = Annotated[str, typer.Option("--period", help="the usage month, YYYY-MM")]
TenantOpt = Annotated[
    str | None, typer.Option("--tenant", help="tenant id or SIP domain (default: every tenant)")
]


def cli_principal() -> Any:
    """The CLI acts as an operator; the audit log names the system user who ran it."""
    from centrex.store.access import Principal
    from centrex.store.models import Role, TokenKind

    return Principal(
        TokenKind.OPERATOR, uuid.UUID(int=0), frozenset({Role.OPERATOR}), f"cli:{getpass.getuser()}"
    )


def find_tenant(session: Any, ref: str) -> Any:
    from centrex.store.models import Tenant

    try:
        tenant = session.get(Tenant, uuid.UUID(ref))
    except ValueError:
        tenant = session.scalar(select(Tenant).where(Tenant.sip_domain == ref))
    if tenant is None:
        fail(f"no tenant {ref!r}")
    return tenant


def progress() -> Progress:
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=False,
    )


def fail(message: str) -> None:
    err.print(f"error: {message}", highlight=False, markup=False, soft_wrap=True)
    raise typer.Exit(2)


def settings_for(
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


def as_of_time(text: str | None) -> datetime:
    """--as-of: a day (00:00 UTC) or an ISO 8601 time; now without it."""
    if not text:
        return datetime.now(UTC)
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        fail(f"--as-of must be a date YYYY-MM-DD or an ISO 8601 time, got {text!r}")
        raise
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
