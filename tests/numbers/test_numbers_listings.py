"""Directory listings, voip-service-guide.txt §III.3.4.1 A–E."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from centrex.numbers.listings import (
    DirectoryEdition,
    ListingDesignation,
    ListingRefusal,
    ListingRequest,
    abbreviate_listing,
    designation_refusals,
    directory_for,
    in_time_for,
    name_refusals,
    review_listing,
    withdrawal_allowed,
)

B, G, R = ListingDesignation.BUSINESS, ListingDesignation.GOVERNMENT, ListingDesignation.RESIDENTIAL


def business(name: str, *legal: str) -> ListingRequest:
    return ListingRequest(name, B, frozenset(legal))


# --- A: abbreviation, and more lines at no additional charge ---


def test_short_listing_is_untouched() -> None:
    listing = abbreviate_listing("Acme Plumbing Company")
    assert listing.lines == ("Acme Plumbing Company",) and not listing.abbreviated


def test_long_listing_is_abbreviated_but_the_name_is_not() -> None:
    listing = abbreviate_listing("International Brotherhood Manufacturing Corporation", line_length=40)
    assert listing.lines == ("International Brotherhood Mfg Corp",)
    assert listing.abbreviated
    assert listing.lines[0].startswith("International")  # the identifying first word stays


def test_still_too_long_wraps_with_no_additional_charge() -> None:
    listing = abbreviate_listing(
        "Northeastern Regional Veterinary Emergency Hospital of Westchester", line_length=30
    )
    assert len(listing.lines) > 1
    assert all(len(line) <= 30 for line in listing.lines)
    assert listing.additional_line_charge == Decimal("0")


# --- B: refusals, each with its reason ---


def reasons(request: ListingRequest) -> list[str]:
    return [r.rule for r in name_refusals(request)]


def test_legal_name_accepted_with_abbreviations_and_a_department() -> None:
    assert name_refusals(business("Acme Plumbing Co", "Acme Plumbing Company, Inc.")) == []
    assert name_refusals(business("Acme Plumbing & Heating", "Acme Plumbing and Heating LLC")) == []
    assert name_refusals(business("Acme Plumbing Sales Dept", "Acme Plumbing Inc")) == []


def test_name_that_is_not_the_legal_name_refused() -> None:
    refusals = name_refusals(business("Best Plumbers Ever", "Acme Plumbing Inc"))
    rules = [r.rule for r in refusals]
    assert "voip-service-guide.txt §III.3.4.1 B (legal name)" in rules
    assert "voip-service-guide.txt §III.3.4.1 B (advertising)" in rules
    assert "is not the customer's legally authorized or adopted name ('Acme Plumbing Inc')" in str(
        refusals[0]
    )


def test_obscenity_refused_even_in_a_legal_name() -> None:
    refusals = name_refusals(business("Holy Shit Tacos", "Holy Shit Tacos LLC"))
    assert [r.rule for r in refusals] == ["voip-service-guide.txt §III.3.4.1 B (obscenity)"]
    assert "shit" in refusals[0].message


def test_misleading_identity_refused_for_a_non_government_customer() -> None:
    assert "voip-service-guide.txt §III.3.4.1 B (misleading)" in reasons(
        business("City of Springfield Towing")
    )
    assert "voip-service-guide.txt §III.3.4.1 B (misleading)" in reasons(business("911 Locksmith"))
    gov = ListingRequest(
        "City of Springfield Police", G, frozenset({"City of Springfield"}), customer_is_government=True
    )
    assert name_refusals(gov) == []


@pytest.mark.parametrize(
    "name",
    ["AAA Locksmith", "A1 Towing", "#1 Plumbing", "Cheapest Movers", "Joe's Pizza - call now 555-0123"],
)
def test_contrived_names_refused(name: str) -> None:
    rules = reasons(ListingRequest(name, B))
    assert any("(preferential position)" in r or "(advertising)" in r for r in rules), rules


def test_a_legal_name_is_not_contrived() -> None:
    assert name_refusals(business("AAA Plumbing", "AAA Plumbing Inc")) == []
    assert name_refusals(business("Best Buy", "Best Buy Co., Inc.")) == []


def test_more_elaborate_than_necessary_refused() -> None:
    request = business("Acme Plumbing your friendly neighbourhood experts since 1952", "Acme Plumbing Inc")
    assert "voip-service-guide.txt §III.3.4.1 B (too elaborate)" in reasons(request)


def test_empty_name_refused() -> None:
    assert name_refusals(ListingRequest("  ", B))[0].message == "the listing has no name"


# --- C: designation ---


def test_designation_is_required() -> None:
    assert designation_refusals(ListingRequest("Acme", None))[0].message == (
        "the listing must be designated Business or Government"
    )


def test_residential_section_is_not_for_business_listings() -> None:
    assert "not Residential" in designation_refusals(ListingRequest("Acme", R))[0].message


def test_government_section_only_for_government_and_business_only_for_business() -> None:
    assert designation_refusals(ListingRequest("Acme", G))[0].rule == "voip-service-guide.txt §III.3.4.1 C"
    assert designation_refusals(ListingRequest("City of Springfield", B, customer_is_government=True))
    assert designation_refusals(ListingRequest("City of Springfield", G, customer_is_government=True)) == []
    assert designation_refusals(ListingRequest("Acme", B)) == []


def test_review_returns_every_reason_or_the_formatted_listing() -> None:
    refused = review_listing(ListingRequest("AAA Cheapest Movers", None, frozenset({"Smith Moving Inc"})))
    assert not refused.accepted and refused.listing is None
    assert len(refused.refusals) == 4  # legal name, advertising, preferential position, designation
    accepted = review_listing(business("Smith Moving", "Smith Moving Inc"))
    assert accepted.accepted and accepted.section is B
    assert accepted.listing is not None and accepted.listing.lines == ("Smith Moving",)


# --- D: withdrawal upon notification ---


def test_withdrawal_needs_a_violation_and_a_notification() -> None:
    violation = [ListingRefusal("voip-service-guide.txt §III.3.4.1 B (obscenity)", "x")]
    notified = datetime(2025, 3, 1, tzinfo=UTC)
    assert withdrawal_allowed(violation, notified)
    assert not withdrawal_allowed(violation, None)
    assert not withdrawal_allowed([], notified)


# --- E: publishing schedule ---

SPRING = DirectoryEdition(
    "Spring 2025", datetime(2025, 1, 31, 23, 59, tzinfo=UTC), datetime(2025, 4, 1, tzinfo=UTC)
)
FALL = DirectoryEdition(
    "Fall 2025", datetime(2025, 7, 31, 23, 59, tzinfo=UTC), datetime(2025, 10, 1, tzinfo=UTC)
)


def test_listing_furnished_in_time_makes_the_upcoming_directory() -> None:
    assert in_time_for(datetime(2025, 1, 31, 23, 59, tzinfo=UTC), SPRING)
    assert directory_for(datetime(2025, 1, 15, tzinfo=UTC), [FALL, SPRING]) is SPRING


def test_listing_furnished_late_waits_for_the_next_one() -> None:
    assert not in_time_for(datetime(2025, 2, 1, tzinfo=UTC), SPRING)
    assert directory_for(datetime(2025, 2, 1, tzinfo=UTC), [SPRING, FALL]) is FALL
    assert directory_for(datetime(2025, 8, 1, tzinfo=UTC), [SPRING, FALL]) is None
