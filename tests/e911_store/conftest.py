"""The API fixtures of tests/api (a migrated database with the test world, a client) and an empty
database on each backend for the migration test."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from centrex.config import normalize_db_url
from tests.api.conftest import api, session_factory
from tests.conftest import BACKENDS, PG, _with_db

__all__ = ["api", "empty_db_url", "session_factory"]


@pytest.fixture(params=BACKENDS)
def empty_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.sqlite3'}"
        return
    if not PG:
        pytest.skip("PostgreSQL not configured: run the suite with scripts/test (sets CENTREX_TEST_PG)")
    admin = create_engine(normalize_db_url(PG), isolation_level="AUTOCOMMIT")
    name = f"cx_mig_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield _with_db(PG, name)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
