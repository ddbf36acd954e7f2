"""PostgreSQL's pooled connections: one that died while idle (a server restart, a failover, an idle
timeout; here its backend terminated) is replaced at the next checkout, so the request that draws
it still gets an answer; one given back a moment ago is lent without a ping (store/db.py
ping_when_idle, which replaced pool_pre_ping's ping on every checkout: issue 14)."""

from __future__ import annotations

import os
import time

import pytest
from sqlalchemy import create_engine, text

from centrex.config import normalize_db_url
from centrex.store import db

PG = os.environ.get("CENTREX_TEST_PG", "")
pytestmark = pytest.mark.skipif(not PG, reason="PostgreSQL not configured (CENTREX_TEST_PG)")


def test_a_connection_that_died_while_idle_is_replaced_not_failed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(db, "PING_IDLE_SECONDS", 0.2)
    engine = db.make_engine(PG)
    admin = create_engine(normalize_db_url(PG), isolation_level="AUTOCOMMIT")
    pings: list[float] = []
    real_ping = engine.dialect.do_ping

    def counted(dbapi_conn: object) -> bool:
        pings.append(time.monotonic())
        return bool(real_ping(dbapi_conn))

    monkeypatch.setattr(engine.dialect, "do_ping", counted)
    try:
        with engine.connect() as conn:
            first = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        with engine.connect() as conn:  # back a moment ago: lent as it is, the same backend
            assert conn.execute(text("SELECT pg_backend_pid()")).scalar_one() == first
        assert pings == []

        with admin.connect() as other:  # the idle connection's server side goes away
            assert other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first}).scalar_one()
        time.sleep(0.4)

        with engine.connect() as conn:  # pinged, found dead, replaced: the query still answers
            assert conn.execute(text("SELECT 41 + 1")).scalar_one() == 42
            assert conn.execute(text("SELECT pg_backend_pid()")).scalar_one() != first
        assert len(pings) == 1
    finally:
        engine.dispose()
        admin.dispose()
