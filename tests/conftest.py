"""Fixtures: a migrated database on SQLite and, when the test command provides one, PostgreSQL.

The test command (scripts/test) starts a throw-away PostgreSQL and exports CENTREX_TEST_PG; tests that
take the `db_url` fixture then run once per backend. Each test gets a database of its own, cloned
from a migrated template so the migrations run once per session, not once per test.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from sqlalchemy import create_engine, text

from centrex.config import normalize_db_url
from centrex.store.db import make_engine
from centrex.store.migrate import upgrade

PG = os.environ.get("CENTREX_TEST_PG", "")

# Property tests judge the code, not the machine: on a loaded CI runner, Hypothesis's timing checks
# (a 200 ms deadline per example, "input generation is slow") failed a correct test once.
settings.register_profile("centrex", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("centrex")
BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(scope="session", autouse=True)
def _secrets_key(tmp_path_factory: pytest.TempPathFactory) -> None:
    """The key of webhook secrets at rest (store/secretbox.py) in the session's temporary directory,
    not ./var of the working directory."""
    from centrex.store import secretbox

    secretbox.configure(tmp_path_factory.mktemp("keys") / "secret.key")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tmpl") / "template.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    if not PG:
        pytest.skip("PostgreSQL not configured: run the suite with scripts/test (sets CENTREX_TEST_PG)")
    admin = create_engine(normalize_db_url(PG), isolation_level="AUTOCOMMIT")
    name = f"cx_tmpl_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(_with_db(PG, name))
    upgrade(engine)
    engine.dispose()
    yield name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _with_db(url: str, db: str) -> str:
    base, _, _ = normalize_db_url(url).rpartition("/")
    return f"{base}/{db}"


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> Iterator[str]:
    """A migrated, empty database of the test's own, on each backend."""
    if request.param == "sqlite":
        path = tmp_path / "centrex.sqlite3"
        shutil.copy(sqlite_template, path)
        yield f"sqlite:///{path}"
        return
    template = request.getfixturevalue("pg_template")
    admin = create_engine(normalize_db_url(PG), isolation_level="AUTOCOMMIT")
    name = f"cx_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    try:
        yield _with_db(PG, name)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_template: Path) -> str:
    path = tmp_path / "centrex.sqlite3"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"
