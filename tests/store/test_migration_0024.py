"""Migration 0024: the peering tables match the models, and the schema goes one step down
and up again."""

from __future__ import annotations

from tests.support.migrations import assert_tables_round_trip

TABLES = {"peering_pops", "peers", "peer_contacts", "peer_sessions", "peer_prefixes"}


def test_tables_match_the_models_and_downgrade(db_url: str) -> None:
    assert_tables_round_trip(db_url, "0024", TABLES)
