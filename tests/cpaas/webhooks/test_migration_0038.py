"""Migration 0038: the webhook tables match their models, and go down and up again."""

from __future__ import annotations

from tests.support.migrations import assert_tables_round_trip


def test_webhook_tables_round_trip(db_url: str) -> None:
    assert_tables_round_trip(
        db_url, "0038", {"webhook_endpoints", "webhook_secrets", "webhook_deliveries", "webhook_attempts"}
    )
