"""Migration 0033: the portal's sessions, TOTP factors and reset tokens match their models, and the
migration goes down and up again."""

from __future__ import annotations

from tests.support.migrations import assert_tables_round_trip


def test_tables_match_the_models_and_downgrade(db_url: str) -> None:
    assert_tables_round_trip(db_url, "0033", {"portal_sessions", "totp_factors", "password_reset_tokens"})
