"""Where a contact is, for quiet hours: its number in E.164, the US state and the IANA time zones.

Numbers are parsed with ``phonenumbers`` (libphonenumber's metadata; DESIGN.md: every stored number
is E.164). A contact that gives a state or a time zone keeps what it gave; otherwise both come from
the number: its time zones from ``phonenumbers.timezone`` and, for NANP numbers, the state from the
geocoder's description of the area code ("New York, NY" or "Florida"). The geocoder reflects where
the number was assigned, not where the person is now (ported or carried numbers): a number with
several zones is judged by all of them (quiet_hours.py intersects their windows), as the reference
recommends (shared/reference/cpaas-e911-numbers.md §2.2, §4.1).
"""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo, available_timezones

import phonenumbers
from phonenumbers import geocoder, timezone

STATES = {
    "Alabama": "AL", "Alaska": "AK", "Arizona": "AZ", "Arkansas": "AR", "California": "CA",
    "Colorado": "CO", "Connecticut": "CT", "Delaware": "DE", "District of Columbia": "DC",
    "Washington D.C.": "DC", "Florida": "FL", "Georgia": "GA", "Hawaii": "HI", "Idaho": "ID",
    "Illinois": "IL", "Indiana": "IN", "Iowa": "IA", "Kansas": "KS", "Kentucky": "KY",
    "Louisiana": "LA", "Maine": "ME", "Maryland": "MD", "Massachusetts": "MA", "Michigan": "MI",
    "Minnesota": "MN", "Mississippi": "MS", "Missouri": "MO", "Montana": "MT", "Nebraska": "NE",
    "Nevada": "NV", "New Hampshire": "NH", "New Jersey": "NJ", "New Mexico": "NM", "New York": "NY",
    "North Carolina": "NC", "North Dakota": "ND", "Ohio": "OH", "Oklahoma": "OK", "Oregon": "OR",
    "Pennsylvania": "PA", "Rhode Island": "RI", "South Carolina": "SC", "South Dakota": "SD",
    "Tennessee": "TN", "Texas": "TX", "Utah": "UT", "Vermont": "VT", "Virginia": "VA",
    "Washington": "WA", "West Virginia": "WV", "Wisconsin": "WI", "Wyoming": "WY",
    "Puerto Rico": "PR", "Guam": "GU", "US Virgin Islands": "VI", "American Samoa": "AS",
    "Northern Mariana Islands": "MP",
}  # fmt: skip
CODES = frozenset(STATES.values())
_ZONES = available_timezones()


class BadNumber(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Located:
    number: str  # E.164
    state: str | None
    time_zones: tuple[str, ...]
    source: str  # "given" (the tenant said) or "number" (from the area code)


def e164(text: str, region: str = "US") -> str:
    """The E.164 form of a number written any usual way ("(212) 555-0100", "+44 20 …"); raises
    BadNumber for what is not a valid number (libphonenumber's patterns)."""
    try:
        parsed = phonenumbers.parse((text or "").strip(), region)
    except phonenumbers.NumberParseException as exc:
        raise BadNumber(f"{text!r} is not a phone number ({exc})") from None
    if not phonenumbers.is_valid_number(parsed):
        raise BadNumber(f"{text!r} is not a valid phone number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def state_of(number: str) -> str | None:
    """The US state (or territory) of a NANP number's area code, from the geocoder's description."""
    parsed = phonenumbers.parse(number)
    if parsed.country_code != 1:
        return None
    text = geocoder.description_for_number(parsed, "en").strip()
    if not text:
        return None
    tail = text.rsplit(",", 1)[-1].strip()
    if len(tail) == 2 and tail in CODES:
        return tail
    return STATES.get(text)


def zones_of(number: str) -> tuple[str, ...]:
    found = timezone.time_zones_for_number(phonenumbers.parse(number))
    return tuple(z for z in found if z in _ZONES)


def locate(number: str, state: str | None = None, time_zone: str | None = None) -> Located:
    """The contact's place: what it gave wins; the rest comes from its number."""
    normalized = e164(number)
    given = bool(state or time_zone)
    if state is not None:
        state = state.strip().upper()
        if state not in CODES:
            raise BadNumber(f"state {state!r} is not a US state or territory code")
    if time_zone is not None:
        try:
            ZoneInfo(time_zone)
        except (KeyError, ValueError):
            raise BadNumber(f"time zone {time_zone!r} is not an IANA time zone") from None
    zones = (time_zone,) if time_zone else zones_of(normalized)
    return Located(
        normalized,
        state if state is not None else state_of(normalized),
        zones,
        "given" if given else "number",
    )
