"""Migration 0020: the Idempotency-Key answers (issue 14) on top of 0019; the tables match
the models, and back down to 0019 (the tables gone, nothing else touched)."""

from __future__ import annotations

from alembic.script import ScriptDirectory

from centrex.store.migrate import alembic_config
from tests.support.migrations import assert_tables_round_trip

TABLES = {"idempotency_keys"}


def test_0020_follows_0019() -> None:
    script = ScriptDirectory.from_config(alembic_config(""))
    assert len(script.get_heads()) == 1
    assert script.get_revision("0020").down_revision == "0019"


def test_tables_match_the_models_and_downgrade(db_url: str) -> None:
    assert_tables_round_trip(db_url, "0020", TABLES)
