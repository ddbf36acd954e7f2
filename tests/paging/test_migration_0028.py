"""Migration 0028: the paging tables match the models, and the schema goes one step down and up
again."""

from __future__ import annotations

from tests.support.migrations import assert_tables_round_trip

TABLES = {"paging_groups", "paging_group_members"}


def test_tables_match_the_models_and_downgrade(db_url: str) -> None:
    assert_tables_round_trip(db_url, "0028", TABLES)
