"""``centrex peering …``: our POPs, peers, de-peering and the BIRD configuration (ops/peering.py)."""

from __future__ import annotations

import getpass
import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from centrex.cli_common import DataOpt, DbOpt, console, err, fail

if TYPE_CHECKING:
    from centrex.store.access import OperatorData

# The store, the policy and Jinja2 are imported by the commands that use them: every other `centrex`
# command (serve among them) starts without them.

peering_app = typer.Typer(
    help="Settlement-free peering: POPs, peers, BIRD configuration.", no_args_is_help=True
)

JsonOpt = Annotated[bool, typer.Option("--json", help="print JSON")]


@contextmanager
def _operator(db: str | None, data_dir: Path | None) -> Iterator[OperatorData]:
    """One transaction as the operator; a refused change is one line and exit status 2."""
    from centrex.config import load_settings
    from centrex.store.access import OperatorData, Principal
    from centrex.store.db import make_engine, make_sessionmaker, transaction
    from centrex.store.errors import StoreError
    from centrex.store.migrate import upgrade
    from centrex.store.models import Role, TokenKind

    try:
        settings = load_settings(db_url=db, data_dir=data_dir)
    except ValueError as exc:
        fail(str(exc))
        raise
    engine = make_engine(settings.database_url)
    upgrade(engine)  # idempotent, as `centrex serve` does
    principal = Principal(
        TokenKind.OPERATOR, uuid.UUID(int=0), frozenset({Role.OPERATOR}), f"cli:{getpass.getuser()}"
    )
    try:
        with transaction(make_sessionmaker(engine)) as session:
            yield OperatorData(session, principal)
    except StoreError as exc:
        fail(exc.message)
    finally:
        engine.dispose()


def _split(text: str, n_min: int, n_max: int, what: str) -> list[str]:
    parts = [p.strip() for p in text.split(",")]
    if not n_min <= len(parts) <= n_max:
        fail(f"{what} {text!r}: expected {n_min}-{n_max} comma-separated parts")
    return parts


@peering_app.command("pop-add")
def pop_add(
    name: Annotated[str, typer.Argument(help="a short name, e.g. chi1")],
    facility: Annotated[str, typer.Option(help="the building or data centre")],
    city: Annotated[str, typer.Option()],
    router_id: Annotated[str, typer.Option(help="our router's BGP router id (IPv4)")],
    local_asn: Annotated[str, typer.Option(help="our AS number")],
    meet_me_room: Annotated[bool, typer.Option(help="the facility has a meet-me room")] = False,
    db: DbOpt = None,
    data_dir: DataOpt = None,
) -> None:
    """Add one of our points of presence."""
    from centrex.ops import peering

    with _operator(db, data_dir) as ops:
        pop = peering.add_pop(ops, peering.PopSpec(name, facility, city, router_id, local_asn, meet_me_room))
        console.print(f"POP {pop.name} added ({pop.facility}, {pop.city})", highlight=False)


@peering_app.command("pops")
def pops(db: DbOpt = None, data_dir: DataOpt = None) -> None:
    """Our points of presence."""
    from centrex.ops import peering

    with _operator(db, data_dir) as ops:
        table = Table("name", "facility", "city", "meet-me room", "router id", "ASN")
        for p in peering.list_pops(ops):
            table.add_row(
                p.name, p.facility, p.city, "yes" if p.meet_me_room else "no", p.router_id, str(p.local_asn)
            )
        console.print(table)


@peering_app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="the peer's organization")],
    asn: Annotated[str, typer.Option(help="the peer's AS number")],
    contact: Annotated[
        list[str], typer.Option(help="an emergency contact: 'name,phone,email' (at least one; repeat)")
    ],
    session: Annotated[
        list[str],
        typer.Option(help="'pop,neighbor[,meet_me_room|cross_connect[,our address]]' (repeat)"),
    ],
    accept: Annotated[list[str] | None, typer.Option("--import", help="a prefix of theirs we accept")] = None,
    announce: Annotated[
        list[str] | None, typer.Option("--export", help="a prefix of ours we announce")
    ] = None,
    notes: Annotated[str, typer.Option(help="why this peering serves our customers")] = "",
    db: DbOpt = None,
    data_dir: DataOpt = None,
) -> None:
    """Add a peer with its emergency contacts, sessions at our POPs and agreed prefixes."""
    from centrex.ops import peering

    contacts = [tuple(_split(c, 3, 3, "--contact")) for c in contact]
    sessions = []
    for s in session:
        parts = _split(s, 2, 4, "--session")
        sessions.append(
            peering.SessionSpec(
                parts[0],
                parts[1],
                parts[2] if len(parts) > 2 and parts[2] else "cross_connect",
                parts[3] if len(parts) > 3 and parts[3] else None,
            )
        )
    prefixes = [(p, "import") for p in accept or []] + [(p, "export") for p in announce or []]
    with _operator(db, data_dir) as ops:
        peer = peering.add_peer(
            ops,
            peering.PeerSpec(name, asn, [(c[0], c[1], c[2]) for c in contacts], sessions, prefixes, notes),
        )
        console.print(f"peer AS{peer.asn} {peer.name} added: {peer.id}", highlight=False)


@peering_app.command("list")
def list_(
    all_: Annotated[bool, typer.Option("--all", help="include de-peered peers")] = False,
    as_json: JsonOpt = False,
    db: DbOpt = None,
    data_dir: DataOpt = None,
) -> None:
    """Peers (active ones unless --all)."""
    from centrex.ops import peering

    with _operator(db, data_dir) as ops:
        peers = peering.list_peers(ops, include_depeered=all_)
        if as_json:
            print(json.dumps([peering.describe(p) for p in peers], indent=2))
            return
        table = Table("ASN", "name", "status", "POPs", "import", "export")
        for p in peers:
            table.add_row(
                f"AS{p.asn}",
                p.name,
                "de-peered" if p.depeered_at else "active",
                ", ".join(sorted({s.pop.name for s in p.sessions})),
                str(sum(1 for x in p.prefixes if x.direction == "import")),
                str(sum(1 for x in p.prefixes if x.direction == "export")),
            )
        console.print(table)


@peering_app.command("show")
def show(
    peer: Annotated[str, typer.Argument(help="the peer's id or AS number")],
    db: DbOpt = None,
    data_dir: DataOpt = None,
) -> None:
    """One peer: contacts, sessions, agreed prefixes (JSON)."""
    from centrex.ops import peering

    with _operator(db, data_dir) as ops:
        print(json.dumps(peering.describe(peering.find_peer(ops, peer)), indent=2))


@peering_app.command("de-peer")
def de_peer(
    peer: Annotated[str, typer.Argument(help="the peer's id or AS number")],
    reason: Annotated[str, typer.Option(help="why the peering ends (kept on record)")],
    db: DbOpt = None,
    data_dir: DataOpt = None,
) -> None:
    """End a peering now (peering-policy.txt: at will, no notice); generate the config again after."""
    from centrex.ops import peering

    with _operator(db, data_dir) as ops:
        row = peering.depeer(ops, peering.find_peer(ops, peer), reason)
        pops = sorted({s.pop.name for s in row.sessions})
        console.print(
            f"AS{row.asn} {row.name} de-peered; regenerate the BIRD configuration of: {', '.join(pops)}",
            highlight=False,
        )


@peering_app.command("bird-config")
def bird_config(
    pop: Annotated[str, typer.Option(help="the POP whose router this is for")],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="write here (default: stdout)")
    ] = None,
    verify: Annotated[bool, typer.Option("--check/--no-check", help="run `bird -p` on it first")] = True,
    kernel: Annotated[bool, typer.Option(help="install learned routes in the kernel table")] = True,
    listen_port: Annotated[int, typer.Option(help="BGP port, when not 179")] = 179,
    db: DbOpt = None,
    data_dir: DataOpt = None,
) -> None:
    """The BIRD 2 configuration of POP's peering router; refused (exit 2) if BIRD's parser refuses it."""
    from centrex.ops import peering
    from centrex.ops.peering_bird import check, render

    with _operator(db, data_dir) as ops:
        view = peering.active_at(ops, peering.find_pop(ops, pop))
        text = render(
            view,
            kernel=kernel,
            listen_port=listen_port,
            generated_at=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        )
    if verify:
        try:
            result = check(text)
        except FileNotFoundError as exc:
            fail(f"{exc}; --no-check to write the configuration unchecked")
            raise
        if not result.ok:
            fail(f"bird -p refused the generated configuration: {result.output}")
    if output is None:
        print(text, end="")
    else:
        output.write_text(text)
        err.print(f"wrote {output} ({len(view.peers)} peers at {view.pop.name})", highlight=False)
