"""The `centrex` command."""

from __future__ import annotations

import json
import sys
import uuid
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy import select

from centrex.billing.billing_cli import billing_app
from centrex.cli_common import DataOpt, DbOpt, console, fail, settings_for
from centrex.cpaas.campaigns.dnc_cli import dnc_app
from centrex.ops.jobs_cli import jobs_app
from centrex.ops.peering_cli import peering_app
from centrex.ops.recordings_cli import recordings_app
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
app.add_typer(db_app, name="db")
app.add_typer(token_app, name="token")
app.add_typer(billing_app, name="billing")
app.add_typer(recordings_app, name="recordings")
app.add_typer(jobs_app, name="jobs")
app.add_typer(peering_app, name="peering")
app.add_typer(dnc_app, name="dnc")


@db_app.command("upgrade")
def db_upgrade(db: DbOpt = None, data_dir: DataOpt = None) -> None:
    """Bring the database schema to the newest migration."""
    s = settings_for(db, data_dir)
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

    s = settings_for(db, data_dir)
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

    s = settings_for(db, data_dir)
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

    s = settings_for(
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
