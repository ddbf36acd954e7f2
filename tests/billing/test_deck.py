from __future__ import annotations

import io
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from centrex.billing.deck import DeckError, iter_rate_rows, load_deck

from .helpers import DECK_CSV, demo_deck

HEADER = (
    "prefix,destination,rate_per_minute,connection_fee,minimum_s,increment_s,effective_from,effective_to\n"
)


def test_longest_prefix_in_force_at_the_call_start() -> None:
    deck = demo_deck()
    before = datetime(2025, 3, 14, 23, 59, tzinfo=UTC)
    after = datetime(2025, 3, 15, 0, 0, tzinfo=UTC)
    london_before = deck.lookup("+442071234567", before)
    london_after = deck.lookup("+442071234567", after)
    assert london_before is not None and london_before.rate_per_minute == Decimal("0.0100")
    assert london_after is not None and london_after.rate_per_minute == Decimal("0.0150")
    uk = deck.lookup("+441612345678", before)
    assert uk is not None and uk.prefix == "44"
    mobile = deck.lookup("447700900123", before)
    assert mobile is not None and mobile.prefix == "447" and (mobile.minimum_s, mobile.increment_s) == (30, 6)
    assert deck.lookup("+4915112345678", before) is None


def test_a_future_row_does_not_hide_the_shorter_prefix_in_force() -> None:
    csv = HEADER + "1,NANP,0.01,,,,2025-01-01,\n1809,Dominican Republic,0.20,,,,2025-06-01,\n"
    deck = load_deck(io.StringIO(csv), name="x")
    row = deck.lookup("+18095551234", datetime(2025, 3, 1, tzinfo=UTC))
    assert row is not None and row.prefix == "1"
    later = deck.lookup("+18095551234", datetime(2025, 6, 1, tzinfo=UTC))
    assert later is not None and later.prefix == "1809"


def test_defaults_are_the_contract_60_60() -> None:
    deck = load_deck(io.StringIO(HEADER + "1,NANP,0.01,,,,2025-01-01,\n"), name="x")
    assert (deck.rows[0].minimum_s, deck.rows[0].increment_s) == (60, 60)
    assert deck.rows[0].connection_fee == 0


@pytest.mark.parametrize(
    ("line", "field", "words"),
    [
        ("44,UK,abc,0,60,60,2025-01-01,", "rate_per_minute", "not a decimal"),
        ("44,UK,-1,0,60,60,2025-01-01,", "rate_per_minute", "negative"),
        ("44,UK,0.0000001,0,60,60,2025-01-01,", "rate_per_minute", "decimal places"),
        ("4x4,UK,0.01,0,60,60,2025-01-01,", "prefix", "digits"),
        ("044,UK,0.01,0,60,60,2025-01-01,", "prefix", "country code"),
        ("44,UK,0.01,0,60,0,2025-01-01,", "increment_s", "at least 1"),
        ("44,UK,0.01,0,1.5,60,2025-01-01,", "minimum_s", "whole number"),
        ("44,UK,0.01,0,60,60,2025-13-01,", "effective_from", "ISO 8601"),
        ("44,UK,0.01,0,60,60,2025-01-01T00:00:00,", "effective_from", "UTC offset"),
        ("44,UK,0.01,0,60,60,2025-02-01,2025-01-01", "effective_to", "after effective_from"),
    ],
)
def test_errors_name_the_line_and_field(line: str, field: str, words: str) -> None:
    with pytest.raises(DeckError) as info:
        load_deck(io.StringIO(HEADER + "1,NANP,0.01,,,,2025-01-01,\n" + line + "\n"), name="x")
    [error] = info.value.errors
    assert (error.line, error.field) == (3, field)
    assert words in error.message
    assert f"line 3, field '{field}'" in str(info.value)


def test_missing_column_and_overlapping_rows_are_reported() -> None:
    with pytest.raises(DeckError, match="field 'rate_per_minute': required column"):
        load_deck(io.StringIO("prefix,effective_from\n1,2025-01-01\n"), name="x")
    overlapping = HEADER + "44,UK,0.01,,,,2025-01-01,2025-04-01\n44,UK,0.02,,,,2025-03-01,\n"
    with pytest.raises(
        DeckError, match="line 3, field 'effective_from': prefix 44 overlaps the row on line 2"
    ):
        load_deck(io.StringIO(overlapping), name="x")


def test_progress_callback_reports_rows_read() -> None:
    seen: list[int] = []
    rows = list(iter_rate_rows(io.StringIO(DECK_CSV), on_progress=seen.append))
    assert len(rows) == 5 and seen[-1] == 5


def test_a_100k_row_deck_loads_and_matches() -> None:
    lines = [HEADER] + [f"{1000000 + i},D{i},0.0{i % 90 + 10},,,,2025-01-01,\n" for i in range(100_000)]
    seen: list[int] = []
    deck = load_deck(lines, name="big", on_progress=seen.append)
    assert deck.prefixes == 100_000 and seen[-1] == 100_000 and len(seen) > 10
    row = deck.lookup("+10500421234", datetime(2025, 2, 1, tzinfo=UTC))
    assert row is not None and row.prefix == "1050042"
