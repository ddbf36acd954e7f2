"""Which US state a NANP number belongs to, when the rate-center table does not know it.

The answer is where the number was assigned (libphonenumber's geocoder), not where its user is:
call classification uses the caller's originating location for the near end (voip-service-guide.txt
§V.9) and only falls back to this for a far end missing from the operator's rate-center table.
"""

from __future__ import annotations

import phonenumbers
from phonenumbers import NumberParseException, geocoder

__all__ = ["DOMESTIC_NANP_REGIONS", "STATE_CODES", "state_of"]

STATE_CODES: dict[str, str] = {
    "alabama": "AL", "alaska": "AK", "arizona": "AZ", "arkansas": "AR", "california": "CA",
    "colorado": "CO", "connecticut": "CT", "delaware": "DE", "district of columbia": "DC",
    "washington d.c.": "DC", "florida": "FL", "georgia": "GA", "hawaii": "HI", "idaho": "ID",
    "illinois": "IL", "indiana": "IN", "iowa": "IA", "kansas": "KS", "kentucky": "KY",
    "louisiana": "LA", "maine": "ME", "maryland": "MD", "massachusetts": "MA", "michigan": "MI",
    "minnesota": "MN", "mississippi": "MS", "missouri": "MO", "montana": "MT", "nebraska": "NE",
    "nevada": "NV", "new hampshire": "NH", "new jersey": "NJ", "new mexico": "NM", "new york": "NY",
    "north carolina": "NC", "north dakota": "ND", "ohio": "OH", "oklahoma": "OK", "oregon": "OR",
    "pennsylvania": "PA", "rhode island": "RI", "south carolina": "SC", "south dakota": "SD",
    "tennessee": "TN", "texas": "TX", "utah": "UT", "vermont": "VT", "virginia": "VA",
    "washington": "WA", "west virginia": "WV", "wisconsin": "WI", "wyoming": "WY",
    "puerto rico": "PR", "guam": "GU",
}  # fmt: skip
"""Geocoder state names (lower case) → USPS code."""

DOMESTIC_NANP_REGIONS = frozenset({"US", "PR", "VI", "GU", "AS", "MP"})
"""NANP regions that are the United States: calls to them are U.S. calls (voip-service-guide.txt
§III.1.2/§III.1.3); Canada and the Caribbean countries are international (§III.1.6)."""


def state_of(e164: str) -> str | None:
    """USPS state or territory code of a US NANP number, or None if unknown or not US."""
    try:
        number = phonenumbers.parse(e164, None)
    except NumberParseException:
        return None
    region = phonenumbers.region_code_for_number(number)
    if region in DOMESTIC_NANP_REGIONS - {"US"}:
        return region
    if region != "US":
        return None
    description = geocoder.description_for_number(number, "en").strip()
    if not description:
        return None
    if len(description) > 4 and description[-4:-2] == ", " and description[-2:].isupper():
        return description[-2:]
    return STATE_CODES.get(description.lower())
