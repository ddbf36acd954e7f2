"""Migration 0041: the insights tables match their models, and go down and up again."""

from __future__ import annotations

from tests.support.migrations import assert_tables_round_trip


def test_insights_tables_round_trip(db_url: str) -> None:
    assert_tables_round_trip(
        db_url,
        "0041",
        {"insights_aggregates", "insights_dashboards", "insights_alert_rules", "insights_alert_firings"},
    )
