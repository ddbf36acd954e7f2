"""to_e164: what the API stores, and what a user is told when a number is wrong."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from centrex.numbers.e164 import (
    InvalidCountryCodeError,
    InvalidForRegionError,
    NotANumberError,
    PhoneNumberError,
    TooLongError,
    TooShortError,
    is_nanp,
    nanp_parts,
    region_of,
    to_e164,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("(212) 555-0123", "+12125550123"),
        ("212-555-0123", "+12125550123"),
        ("212.555.0123", "+12125550123"),
        ("2125550123", "+12125550123"),
        ("1 212 555 0123", "+12125550123"),
        ("+1 (212) 555-0123", "+12125550123"),
        ("  +12125550123  ", "+12125550123"),
        ("tel:+1-212-555-0123", "+12125550123"),
        ("1-800-FLOWERS", "+18003569377"),
        ("+44 20 7946 0958", "+442079460958"),
        ("011 44 20 7946 0958", "+442079460958"),
        ("+33 1 42 68 53 00", "+33142685300"),
        ("+1 613 555 0123", "+16135550123"),
    ],
)
def test_accepts_what_people_type(text: str, expected: str) -> None:
    assert to_e164(text) == expected


def test_default_region_reads_national_numbers() -> None:
    assert to_e164("020 7946 0958", default_region="GB") == "+442079460958"


@pytest.mark.parametrize(
    ("text", "error", "says"),
    [
        ("", NotANumberError, "phone number is empty"),
        ("   ", NotANumberError, "phone number is empty"),
        ("hello", NotANumberError, "'hello' is not a phone number"),
        ("+999 123", InvalidCountryCodeError, "valid country calling code"),
        ("+1212555", TooShortError, "'+1212555' is too short for a phone number in US"),
        ("212555012", TooShortError, "is too short"),
        ("21255501234", TooLongError, "is too long for a phone number in US"),
        ("+44 20 7946 09581234", TooLongError, "is too long for a phone number in GB"),
        ("555-0123", InvalidForRegionError, "local number without its area code"),
        ("(212) 055-0123", InvalidForRegionError, "exchange 055 cannot start with 0"),
        ("112 555 0123", InvalidForRegionError, "area code 112 cannot start with 1"),
        ("411 555 0123", InvalidForRegionError, "411 is a service code (N11), not an area code"),
        ("+1 999 555 0123", InvalidForRegionError, "area code 999 is not in service"),
    ],
)
def test_errors_say_exactly_what_is_wrong(text: str, error: type[PhoneNumberError], says: str) -> None:
    with pytest.raises(error) as caught:
        to_e164(text)
    assert says in str(caught.value)
    assert isinstance(caught.value, ValueError)
    assert caught.value.text == text


def test_nanp_parts() -> None:
    n = nanp_parts("+12125550123")
    assert (n.npa, n.nxx, n.line, n.npa_nxx, n.e164) == ("212", "555", "0123", "212555", "+12125550123")
    assert is_nanp("+12125550123") and not is_nanp("+442079460958")
    with pytest.raises(ValueError, match="not a North American"):
        nanp_parts("+442079460958")


def test_region_of() -> None:
    assert region_of("+12125550123") == "US"
    assert region_of("+18765551234") == "JM"
    assert region_of("garbage") == "ZZ"


@given(
    st.from_regex(r"[2-9][0-9]{2}[2-9][0-9]{6}", fullmatch=True),
    st.sampled_from(["{}", "1{}", "+1{}", "1-{}"]),
)
def test_e164_is_idempotent_and_canonical(ten: str, shape: str) -> None:
    try:
        first = to_e164(shape.format(ten))
    except PhoneNumberError:
        return
    assert first == "+1" + ten
    assert to_e164(first) == first
