"""Engines and sessions. One transaction per unit of work; SQLite tuned for durability."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url, text
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

from centrex.config import normalize_db_url

# The API admits fewer requests than this at once (api/admission.py), and the switch's own work
# borrows a connection only for a moment, so a wait for a connection is short; if one ever is not,
# it fails after POOL_TIMEOUT seconds (503) instead of holding a worker thread for good.
POOL_SIZE = 10
POOL_OVERFLOW = 10
POOL_TIMEOUT = 3.0


def make_engine(url: str) -> Engine:
    url = normalize_db_url(url)
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            database = make_url(url).database
            if database and database != ":memory:" and not database.startswith("file:"):
                private_files(Path(database))
        pool: dict[str, Any] = {}
        if make_url(url).database not in (None, "", ":memory:"):  # a file: a QueuePool
            pool = {"pool_size": POOL_SIZE, "max_overflow": POOL_OVERFLOW, "pool_timeout": POOL_TIMEOUT}
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **pool)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            # WAL lets readers run beside the writer; synchronous=FULL means a committed change
            # (a CDR, a MAC) survives a kill -9 or power loss; foreign keys are off by default.
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    engine = create_engine(url, pool_size=POOL_SIZE, max_overflow=POOL_OVERFLOW, pool_timeout=POOL_TIMEOUT)
    ping_when_idle(engine)
    return engine


# A pooled connection idle longer than this is pinged before it is lent (one round trip); one
# given back a moment ago is lent as it is. pool_pre_ping pinged on every checkout: a second
# round trip on every API request (issue 14, docs/performance.md "API").
PING_IDLE_SECONDS = 1.0


def ping_when_idle(engine: Engine) -> None:
    """SQLAlchemy's pessimistic disconnect handling, for connections that sat idle: a server
    restart, a failover or an idle timeout leaves pooled connections dead, and the first checkout
    after it finds out with a ping; a dead one is replaced (DisconnectionError makes the pool
    discard it and connect again) instead of failing the request that drew it."""

    @event.listens_for(engine, "checkin")
    def _idle_from(_dbapi_conn: Any, record: Any) -> None:
        if record is not None:
            record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since < PING_IDLE_SECONDS:
            return  # fresh from connect, or back in the pool a moment ago
        try:
            engine.dialect.do_ping(dbapi_conn)  # the dialect's own ping, as pool_pre_ping's
        except Exception as exc:  # any failure of the ping: the pool connects afresh
            raise DisconnectionError(
                f"pooled connection dead after {time.monotonic() - since:.0f} s"
            ) from exc


def private_files(db: Path) -> None:
    """The database file readable by its owner only (0600; issue 19: secrets at rest): made so when
    new, and set so when an older one was 0644. SQLite creates the -wal and -shm files with the
    database's mode; those left by an earlier run are set too."""
    if not db.exists():
        os.close(os.open(db, os.O_WRONLY | os.O_CREAT, 0o600))  # an empty file is a new database
    for f in (db, *(db.with_name(db.name + suffix) for suffix in ("-wal", "-shm", "-journal"))):
        try:
            if f.stat().st_mode & 0o077:
                f.chmod(0o600)
        except FileNotFoundError:
            pass


def pool_capacity(engine: Engine) -> int:
    """How many connections the engine's pool can lend at once (a large number for unbounded pools)."""
    size = getattr(engine.pool, "size", None)
    if not callable(size) or not hasattr(engine.pool, "_max_overflow"):
        return 1_000
    return int(size()) + max(0, int(engine.pool._max_overflow))


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session whose changes commit together or not at all."""
    with factory() as session, session.begin():
        yield session


def ping(engine: Engine) -> bool:
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except Exception:
        return False
