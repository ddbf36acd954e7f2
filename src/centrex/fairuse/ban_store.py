"""Bans on storage: the ``bans`` rows that make a ban outlive a restart and reach every node, the
allowlist read from the trunks and the operator's networks, and a writer thread so that no write
ever waits on the SIP event loop.

A ban is written when it starts and again when it ends (ran out, or lifted by an operator). Active
means ``ended_at`` null and ``until`` ahead; a node that was down when a ban ran out finds its row
still open and closes it at its next purge, which is harmless (the row is only a record by then).
"""

from __future__ import annotations

import logging
import queue
import secrets
import threading
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from centrex.fairuse.bans import Ban, Realm, parse_network
from centrex.store.db import transaction
from centrex.store.models.bans import BanAllowRow, BanRow, ServiceKey
from centrex.store.models.trunks import TrunkGatewayRow, TrunkRow

log = logging.getLogger(__name__)


def _utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def ban_of(row: BanRow) -> Ban:
    return Ban(
        Realm(row.realm),
        row.source,
        row.started_at.timestamp(),
        row.until.timestamp(),
        row.failures,
        row.last_username,
    )


def active_bans(session: Session, now: float) -> list[BanRow]:
    stmt = (
        select(BanRow).where(BanRow.ended_at.is_(None), BanRow.until > _utc(now)).order_by(BanRow.started_at)
    )
    return list(session.scalars(stmt))


def trunk_networks(session: Session) -> list[str]:
    """Every trunk's gateway addresses and inbound networks (carriers, peers, customers' PBXs, 911
    providers): the addresses calls are IP-authenticated from are never banned."""
    hosts = list(session.scalars(select(TrunkGatewayRow.host)))
    for networks in session.scalars(select(TrunkRow.inbound_networks)):
        hosts.extend(networks or ())
    return hosts


def allowed_networks(session: Session, static: Iterable[str] = ()) -> list[str]:
    """The allowlist: trunk addresses, the operator's rows and the configured networks. A value
    that is not an address or network (a gateway stored by name) is left out with a warning."""
    out: list[str] = []
    operator = list(session.scalars(select(BanAllowRow.network)))
    for text in [*trunk_networks(session), *operator, *static]:
        try:
            out.append(str(parse_network(text)))
        except ValueError:
            log.warning("ban allowlist: %r is not an address or network; left out", text)
    return out


def record_started(session: Session, ban: Ban) -> None:
    # A ban that was still open for this source (a node's clock ran behind) is closed first: one
    # open row per (realm, source).
    session.execute(
        update(BanRow)
        .where(BanRow.realm == ban.realm.value, BanRow.source == ban.source, BanRow.ended_at.is_(None))
        .values(ended_at=_utc(ban.started))
    )
    session.add(
        BanRow(
            realm=ban.realm.value,
            source=ban.source,
            started_at=_utc(ban.started),
            until=_utc(ban.until),
            failures=ban.failures,
            last_username=(ban.last_username or None) and ban.last_username[:200],
        )
    )


def record_ended(session: Session, ban: Ban, at: float, lifted_by: str | None = None) -> None:
    session.execute(
        update(BanRow)
        .where(BanRow.realm == ban.realm.value, BanRow.source == ban.source, BanRow.ended_at.is_(None))
        .values(ended_at=_utc(at), lifted_by=lifted_by)
    )


def service_key(sessions: sessionmaker[Session], name: str, nbytes: int = 32) -> bytes:
    """The key ``name``, made at first use and the same for every node and every restart after."""
    with sessions() as session:
        found = session.get(ServiceKey, name)
        if found is not None:
            return bytes.fromhex(found.value)
    try:
        with transaction(sessions) as session:
            session.add(ServiceKey(name=name, value=secrets.token_hex(nbytes)))
    except IntegrityError:
        pass  # another node made it first: use theirs
    with sessions() as session:
        made = session.get(ServiceKey, name)
        assert made is not None
        return bytes.fromhex(made.value)


Job = Callable[[Session], None]


class BanWriter:
    """One thread that runs ban writes (and reads that must follow them) in order, off the loop.

    Each job is one transaction; a failed one is logged and dropped (a ban then lives in this
    process only, which is what the service had before persistence)."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions
        self._jobs: queue.Queue[Job | None] = queue.Queue()
        self._thread: threading.Thread | None = None

    def submit(self, job: Job) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="ban-writer", daemon=True)
            self._thread.start()
        self._jobs.put(job)

    def _run(self) -> None:
        while True:
            job = self._jobs.get()
            try:
                if job is None:
                    return
                with transaction(self.sessions) as session:
                    job(session)
            except Exception:
                log.exception("ban store write failed")
            finally:
                self._jobs.task_done()

    def flush(self) -> None:
        """Wait until every job submitted so far is done (tests, shutdown)."""
        if self._thread is not None:
            self._jobs.join()

    def stop(self) -> None:
        if self._thread is not None:
            self._jobs.put(None)
            self._thread.join(timeout=10)
            self._thread = None
