"""Registered dispatchable locations validated against the operator's MSAG-like address table."""

from __future__ import annotations

from dataclasses import replace

import pytest

from centrex.e911.address import (
    AddressTableImportError,
    AddressValidationError,
    CivicAddress,
    load_address_table_csv,
    service_area_problem,
    validate_address,
)

TABLE_CSV = """state,community,street,low,high,parity,postal_code,esn,psap
IL,Springfield,Main St,100,1498,even,62701,1001,SPRINGFIELD-PSAP
IL,Springfield,Main St,101,1499,odd,62701,1001,SPRINGFIELD-PSAP
IL,Springfield,North Grand Avenue,1,999,both,62702,1002,SPRINGFIELD-PSAP
IL,Chatham,Main St,1,500,both,62629,1101,SANGAMON-PSAP
NY,New York,W 42nd St,1,699,both,10036,2001,NYC-PSAP
HI,Honolulu,Kalakaua Ave,1,3999,both,96815,3001,HONOLULU-PSAP
"""
TABLE = load_address_table_csv(TABLE_CSV)
HQ = CivicAddress("100", "Main St", "Springfield", "IL", "62701", unit="200", floor="2", room="Server room")


def problem(address: CivicAddress) -> str:
    with pytest.raises(AddressValidationError) as caught:
        validate_address(address, TABLE)
    return str(caught.value)


def test_valid_address_returns_the_table_spelling_and_routing() -> None:
    located = validate_address(
        CivicAddress(" 100 ", "main street", "SPRINGFIELD", "il", "62701-1234", floor="2", unit="200"), TABLE
    )
    assert located.address.street == "Main St"
    assert (located.address.city, located.address.state) == ("Springfield", "IL")
    assert (located.esn, located.psap) == ("1001", "SPRINGFIELD-PSAP")
    assert (located.address.floor, located.address.unit) == ("2", "200")  # carried, not in an MSAG
    assert located.address.one_line() == "100 Main St, Floor 2, Unit 200, Springfield, IL 62701-1234"


def test_suffix_and_directional_spellings_match() -> None:
    located = validate_address(CivicAddress("12", "N. Grand Ave", "Springfield", "IL", "62702"), TABLE)
    assert located.address.street == "North Grand Avenue"
    assert (
        validate_address(CivicAddress("350", "West 42nd Street", "New York", "NY", "10036"), TABLE).esn
        == "2001"
    )


def test_misspelt_street_says_what_and_suggests() -> None:
    assert problem(replace(HQ, street="Mian St")) == (
        "street 'Mian St' not found in city 'Springfield'; did you mean 'Main St'?"
    )


def test_misspelt_city_suggests() -> None:
    assert (
        problem(replace(HQ, city="Sprinfield"))
        == "city 'Sprinfield' not found in IL; did you mean 'Springfield'?"
    )


def test_state_with_no_addresses_says_so() -> None:
    assert (
        problem(replace(HQ, state="TX"))
        == "city 'Springfield' not found in TX; the address table has no addresses in TX"
    )


def test_house_number_outside_the_ranges() -> None:
    assert problem(replace(HQ, house_number="1501")) == (
        "house number 1501 is not on 'Main St' in 'Springfield' (valid: 100-1498 even, 101-1499 odd)"
    )


def test_house_number_suffix_is_accepted() -> None:
    assert validate_address(replace(HQ, house_number="101A"), TABLE).address.house_number == "101A"
    assert problem(replace(HQ, house_number="one hundred")).startswith(
        "house number 'one hundred' is not a number"
    )


def test_postal_code_must_match_the_street() -> None:
    assert problem(replace(HQ, postal_code="62702")) == (
        "postal code '62702' does not match 100 Main St, Springfield (expected 62701)"
    )


def test_same_street_name_in_another_community_is_a_different_street() -> None:
    assert (
        validate_address(CivicAddress("400", "Main St", "Chatham", "IL", "62629"), TABLE).psap
        == "SANGAMON-PSAP"
    )
    assert "house number 600" in problem(CivicAddress("600", "Main St", "Chatham", "IL", "62629"))


def test_every_missing_field_is_named_at_once() -> None:
    with pytest.raises(AddressValidationError) as caught:
        validate_address(CivicAddress("", "", "", "", ""), TABLE)
    assert [p.field for p in caught.value.problems] == [
        "house_number",
        "street",
        "city",
        "state",
        "postal_code",
    ]


def test_format_problems_are_reported_together() -> None:
    with pytest.raises(AddressValidationError) as caught:
        validate_address(replace(HQ, state="ZZ", postal_code="6270"), TABLE)
    assert [str(p) for p in caught.value.problems] == [
        "state 'ZZ' is not a US state code",
        "postal code '6270' is not a ZIP or ZIP+4 code",
    ]


def test_service_area_is_us_mainland_and_hawaii_not_alaska() -> None:
    """voip-service-guide.txt §I.5."""
    alaska = CivicAddress("1", "Main St", "Anchorage", "AK", "99501")
    area = service_area_problem(alaska)
    assert area is not None and "not available in Alaska" in area.message and "§I.5" in area.message
    assert "not available in Alaska" in problem(alaska)
    assert "only within the U.S. Mainland and Hawaii" in problem(replace(HQ, country="CA"))
    assert service_area_problem(CivicAddress("2255", "Kalakaua Ave", "Honolulu", "HI", "96815")) is None
    assert (
        validate_address(CivicAddress("2255", "Kalakaua Ave", "Honolulu", "HI", "96815"), TABLE).esn == "3001"
    )


def test_import_errors_name_row_and_field() -> None:
    bad = """state,community,street,low,high,parity,postal_code
IL,Springfield,Main St,100,1498,even,62701
XX,,Elm St,20,10,sometimes,6270
"""
    with pytest.raises(AddressTableImportError) as caught:
        load_address_table_csv(bad)
    assert [str(p) for p in caught.value.problems] == [
        "row 3, field 'state': 'XX' is not a US state code",
        "row 3, field 'community': is empty",
        "row 3, field 'high': 10 is below low 20",
        "row 3, field 'parity': 'sometimes' is not odd, even or both",
        "row 3, field 'postal_code': '6270' is not a 5-digit ZIP code",
    ]


def test_import_missing_column() -> None:
    with pytest.raises(AddressTableImportError, match="row 1, field 'high': column is missing"):
        load_address_table_csv("state,community,street,low\nIL,Springfield,Main St,1\n")
