"""Migration 0043: the portal's tasks and the browser phones' own devices match their models, and the
migration goes down and up again."""

from __future__ import annotations

from tests.support.migrations import assert_tables_round_trip


def test_tables_match_the_models_and_downgrade(db_url: str) -> None:
    assert_tables_round_trip(db_url, "0043", {"portal_tasks", "softphone_devices"})
