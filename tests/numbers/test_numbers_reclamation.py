"""cpaas.txt §2.4.5: reclamation of unused numbers, with written notice unless the account is
suspended; Customer RESPORG toll-free numbers and Customer short codes are exempt."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from centrex.numbers.reclamation import NumberUsage, ReclamationPolicy, reclamation_flags

NOW = datetime(2025, 6, 1, tzinfo=UTC)
POLICY = ReclamationPolicy(unused_for=timedelta(days=90), notice_lead=timedelta(days=30))


def usage(number: str, idle_days: int | None, **kw: bool) -> NumberUsage:
    last = None if idle_days is None else NOW - timedelta(days=idle_days)
    return NumberUsage(number, assigned_at=NOW - timedelta(days=400), last_used_at=last, **kw)


def test_only_numbers_unused_for_the_period_are_flagged() -> None:
    flags = reclamation_flags([usage("+12125550100", 89), usage("+12125550101", 90)], NOW, POLICY)
    assert [f.number for f in flags] == ["+12125550101"]


def test_never_used_counts_from_assignment() -> None:
    flags = reclamation_flags([usage("+12125550102", None)], NOW, POLICY)
    assert flags[0].idle_since == NOW - timedelta(days=400)
    assert "unused for 400 days" in flags[0].reason


def test_active_account_gets_written_notice_first() -> None:
    [flag] = reclamation_flags([usage("+12125550103", 120)], NOW, POLICY)
    assert flag.notice_required
    assert flag.earliest_reclaim_at == NOW + timedelta(days=30)
    assert "written notice owed before reclamation (cpaas.txt §2.4.5)" in flag.reason


def test_suspended_account_gets_no_notice() -> None:
    [flag] = reclamation_flags([usage("+12125550104", 120, account_suspended=True)], NOW, POLICY)
    assert not flag.notice_required
    assert flag.earliest_reclaim_at == NOW
    assert "account suspended, so no notice" in flag.reason


def test_resporg_toll_free_and_short_codes_are_exempt() -> None:
    flags = reclamation_flags(
        [
            usage("+18005550100", 999, resporg_controlled_toll_free=True),
            usage("55555", 999, customer_short_code=True),
        ],
        NOW,
        POLICY,
    )
    assert flags == []


def test_naive_time_and_bad_policy_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        reclamation_flags([], datetime(2025, 6, 1), POLICY)
    with pytest.raises(ValueError, match="unused_for must be positive"):
        ReclamationPolicy(unused_for=timedelta(0))
