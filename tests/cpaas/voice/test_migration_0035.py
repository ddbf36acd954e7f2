"""Migration 0035: applications, cpaas calls, their notices and recordings match their models, and
go down and up again."""

from __future__ import annotations

from tests.support.migrations import assert_tables_round_trip


def test_tables_match_the_models_and_downgrade(db_url: str) -> None:
    assert_tables_round_trip(
        db_url, "0035", {"cpaas_applications", "cpaas_calls", "cpaas_call_notices", "cpaas_recordings"}
    )
