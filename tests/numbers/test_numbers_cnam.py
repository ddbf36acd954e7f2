"""Caller-ID name: at most 15 characters (voip-service-guide.txt §III.3.1 Caller Name Display)."""

from __future__ import annotations

import pytest

from centrex.numbers.cnam import CNAM_MAX_LENGTH, CnamError, cnam_from_display_name, normalise_cnam


def test_fifteen_characters_fit_sixteen_do_not() -> None:
    assert CNAM_MAX_LENGTH == 15
    assert normalise_cnam("ACME PLUMBING 1") == "ACME PLUMBING 1"
    with pytest.raises(CnamError) as caught:
        normalise_cnam("ACME PLUMBING CO")
    assert str(caught.value) == "caller ID name 'ACME PLUMBING CO': is 16 characters; at most 15 are allowed"


def test_normalises_spaces_and_accents() -> None:
    assert normalise_cnam("  José   Núñez ") == "Jose Nunez"


def test_every_problem_is_reported() -> None:
    with pytest.raises(CnamError) as caught:
        normalise_cnam("1234567890123456 ☎")
    assert caught.value.problems == (
        "contains characters a caller ID display cannot show: '☎'",
        "is 18 characters; at most 15 are allowed",
        "must contain at least one letter",
    )


@pytest.mark.parametrize("bad", ["", "   ", "2125550123"])
def test_empty_or_digits_only_refused(bad: str) -> None:
    with pytest.raises(CnamError):
        normalise_cnam(bad)


def test_from_display_name_cuts_at_a_word() -> None:
    assert cnam_from_display_name("Margaret Hamilton-Smith") == "Margaret"
    assert cnam_from_display_name("Dr. Jane Q. Public") == "Dr. Jane Q."
    assert cnam_from_display_name("Bartholomewsworth Industries") == "Bartholomewswor"
    assert cnam_from_display_name("Zoë ☎ Lab") == "Zoe Lab"
    assert len(cnam_from_display_name("A" * 40)) == 15
