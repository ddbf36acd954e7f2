"""Rate-center table import and the local-calling decision."""

from __future__ import annotations

import pytest

from centrex.numbers.ratecenters import (
    SAMPLE_RATE_CENTERS,
    RateCenterImportError,
    is_local_call,
    load_local_calling_csv,
    load_rate_centers_csv,
)

GOOD = """npa,nxx,rate_center,lata,state
212,226,New York City,132,NY
718,222,new  york city,132,ny
973,222,Newark,224,NJ
201,222,Jersey City,224,NJ
"""


def test_import_and_lookup() -> None:
    table = load_rate_centers_csv(GOOD)
    rc = table.lookup("718222")
    assert rc is not None
    assert (rc.rate_center, rc.lata, rc.state) == ("NEW YORK CITY", "132", "NY")
    assert table.lookup("999999") is None


def test_single_npa_nxx_column() -> None:
    table = load_rate_centers_csv("npa_nxx,rate_center,lata,state\n212-226,NEW YORK CITY,132,NY\n")
    assert table.lookup("212226") is not None


def test_every_bad_row_and_field_is_named() -> None:
    bad = """npa,nxx,rate_center,lata,state
212,226,NEW YORK CITY,132,NY
112,2A6,,13,XX
212,226,NEW YORK CITY,132,NY
"""
    with pytest.raises(RateCenterImportError) as caught:
        load_rate_centers_csv(bad)
    messages = [str(p) for p in caught.value.problems]
    assert messages == [
        "row 3, field 'npa': '112' cannot start with 1 (NANP codes are [2-9]XX)",
        "row 3, field 'nxx': '2A6' is not 3 digits",
        "row 3, field 'rate_center': is empty",
        "row 3, field 'lata': '13' is not a 3- to 5-digit LATA code",
        "row 3, field 'state': 'XX' is not a US state code",
        "row 4, field 'nxx': 212226 already given on row 2",
    ]


def test_missing_column_is_named() -> None:
    with pytest.raises(RateCenterImportError, match="row 1, field 'lata': column is missing"):
        load_rate_centers_csv("npa,nxx,rate_center,state\n212,226,NYC,NY\n")


def test_same_rate_center_is_local() -> None:
    table = load_rate_centers_csv(GOOD)
    assert is_local_call(table, "212226", "718222") is True
    assert is_local_call(table, "212226", "973222") is False
    assert is_local_call(table, "212226", "999999") is None


def test_local_calling_area_mapping_is_symmetric() -> None:
    table = load_local_calling_csv(
        load_rate_centers_csv(GOOD),
        "state,rate_center,local_state,local_rate_center\nNJ,Newark,NJ,Jersey City\n",
    )
    assert is_local_call(table, "973222", "201222") is True
    assert is_local_call(table, "201222", "973222") is True
    assert is_local_call(table, "973222", "212226") is False


def test_local_calling_area_with_unknown_rate_center_refused() -> None:
    with pytest.raises(
        RateCenterImportError, match="row 2, field 'local_rate_center': rate center 'Hoboken'"
    ):
        load_local_calling_csv(
            load_rate_centers_csv(GOOD),
            "state,rate_center,local_state,local_rate_center\nNJ,Newark,NJ,Hoboken\n",
        )


def test_sample_table() -> None:
    assert is_local_call(SAMPLE_RATE_CENTERS, "212226", "646555") is True
    assert is_local_call(SAMPLE_RATE_CENTERS, "201222", "973222") is True
    assert is_local_call(SAMPLE_RATE_CENTERS, "212226", "516222") is False
