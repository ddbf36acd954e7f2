"""Registered dispatchable locations, validated against the operator's address table.

voip-service-guide.txt §V.14.2.1: E-911 passes "ANI and the registered primary service address of
that ANI as ALI"; §V.14.2.3: floor and room ride along as location-specific ALI. RAY BAUM's Act
(47 CFR 9.3) calls this the dispatchable location: the validated street address plus suite,
apartment or similar information. §I.5 / §V.8: service only at locations "within the U.S. Mainland
and Hawaii ... not available in Alaska".

The address table is MSAG-like: street ranges (low–high house number, odd/even/both) per community
and state, with postal code, ESN and PSAP where known, imported by the operator as CSV. Unit, floor
and room are not in an MSAG and are carried as given.
"""

from __future__ import annotations

import csv
import difflib
import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum

from centrex.numbers.ratecenters import US_STATES, ImportProblem

__all__ = [
    "AddressProblem",
    "AddressTable",
    "AddressTableImportError",
    "AddressValidationError",
    "CivicAddress",
    "Parity",
    "StreetRange",
    "ValidatedLocation",
    "load_address_table_csv",
    "normalise_street",
    "service_area_problem",
    "split_street",
    "validate_address",
]

SUFFIXES: dict[str, str] = {
    "STREET": "ST", "AVENUE": "AVE", "AV": "AVE", "ROAD": "RD", "BOULEVARD": "BLVD", "DRIVE": "DR",
    "LANE": "LN", "COURT": "CT", "PLACE": "PL", "PARKWAY": "PKWY", "HIGHWAY": "HWY", "TERRACE": "TER",
    "CIRCLE": "CIR", "SQUARE": "SQ", "TRAIL": "TRL", "WAY": "WAY", "PLAZA": "PLZ", "ALLEY": "ALY",
}  # fmt: skip
"""USPS Publication 28 street suffix abbreviations (the common ones)."""
SUFFIX_CODES = frozenset(SUFFIXES.values())
DIRECTIONALS: dict[str, str] = {
    "NORTH": "N", "SOUTH": "S", "EAST": "E", "WEST": "W",
    "NORTHEAST": "NE", "NORTHWEST": "NW", "SOUTHEAST": "SE", "SOUTHWEST": "SW",
}  # fmt: skip
DIRECTIONAL_CODES = frozenset(DIRECTIONALS.values())

SERVED_COUNTRY = "US"
UNSERVED_STATES: dict[str, str] = {
    "AK": "Alaska",
    "PR": "Puerto Rico",
    "VI": "U.S. Virgin Islands",
    "GU": "Guam",
}
UNSERVED_STATES.update({"AS": "American Samoa", "MP": "Northern Mariana Islands"})
"""voip-service-guide.txt §I.5: "provided only to Customer locations within the U.S. Mainland and
Hawaii. VoIP Service is not available in Alaska"."""

_HOUSE = re.compile(r"^(\d{1,7})\s*([A-Za-z]|1/2)?$")
_ZIP = re.compile(r"^\d{5}(-\d{4})?$")


@dataclass(frozen=True, slots=True)
class CivicAddress:
    house_number: str
    street: str  # as written: "N Main St", "Main Street North"
    city: str
    state: str  # USPS code
    postal_code: str
    country: str = "US"
    unit: str = ""
    floor: str = ""
    room: str = ""
    location_name: str = ""  # building or business name, e.g. "Acme HQ"

    def one_line(self) -> str:
        sub = ", ".join(
            part
            for part in (
                f"Floor {self.floor}" if self.floor else "",
                f"Unit {self.unit}" if self.unit else "",
                f"Room {self.room}" if self.room else "",
            )
            if part
        )
        street = f"{self.house_number} {self.street}" + (f", {sub}" if sub else "")
        return f"{street}, {self.city}, {self.state} {self.postal_code}"


class Parity(StrEnum):
    ODD = "odd"
    EVEN = "even"
    BOTH = "both"


@dataclass(frozen=True, slots=True)
class StreetRange:
    state: str
    community: str  # as the table spells it
    street: str  # as the table spells it
    low: int
    high: int
    parity: Parity = Parity.BOTH
    postal_code: str = ""
    esn: str = ""  # emergency service number: which police/fire/EMS agencies serve it
    psap: str = ""

    def covers(self, number: int) -> bool:
        if not self.low <= number <= self.high:
            return False
        if self.parity is Parity.ODD:
            return number % 2 == 1
        if self.parity is Parity.EVEN:
            return number % 2 == 0
        return True

    def describe(self) -> str:
        parity = "" if self.parity is Parity.BOTH else f" {self.parity}"
        return f"{self.low}-{self.high}{parity}"


@dataclass(frozen=True, slots=True)
class AddressProblem:
    field: str
    message: str

    def __str__(self) -> str:
        return self.message


class AddressValidationError(ValueError):
    """Every reason an address is not a valid dispatchable location, each naming its field."""

    def __init__(self, problems: Iterable[AddressProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(str(p) for p in self.problems))


class AddressTableImportError(ValueError):
    def __init__(self, problems: Iterable[ImportProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(str(p) for p in self.problems))


@dataclass(frozen=True, slots=True)
class ValidatedLocation:
    """A dispatchable location: the address as the table spells it, plus routing data."""

    address: CivicAddress
    esn: str = ""
    psap: str = ""


def _key(text: str) -> str:
    return " ".join(re.sub(r"[.,#]", " ", text.upper()).split())


def normalise_street(street: str) -> str:
    """Comparison form: upper case, no punctuation, USPS suffix and directional abbreviations
    ("North Main Street" → "N MAIN ST"; "North Ave" keeps NORTH, which is its name)."""
    words = _key(street).split()
    if not words:
        return ""
    if len(words) >= 2 and words[-1] in DIRECTIONALS and (len(words) >= 3 or words[-2] in SUFFIXES):
        words[-1] = DIRECTIONALS[words[-1]]
    last = len(words) - 1 - (1 if len(words) >= 3 and words[-1] in DIRECTIONAL_CODES else 0)
    if last >= 1 and words[last] in SUFFIXES:
        words[last] = SUFFIXES[words[last]]
    if len(words) >= 3 and words[0] in DIRECTIONALS:
        words[0] = DIRECTIONALS[words[0]]
    return " ".join(words)


def split_street(street: str) -> tuple[str, str, str, str]:
    """(pre-directional, name, suffix, post-directional) of a street, for RFC 5139 PRD/RD/STS/POD.
    Casing of the name is kept; the codes are USPS abbreviations."""
    original = street.split()
    words = normalise_street(street).split()
    if len(original) != len(words):
        return "", street.strip(), "", ""
    prd = pod = sts = ""
    start, end = 0, len(words)
    if end - start >= 3 and words[0] in DIRECTIONAL_CODES:
        prd, start = words[0], 1
    post_directional = end - start >= 3 or (end - start >= 2 and words[end - 2] in SUFFIX_CODES)
    if post_directional and words[end - 1] in DIRECTIONAL_CODES:
        pod, end = words[end - 1], end - 1
    if end - start >= 2 and words[end - 1] in SUFFIX_CODES:
        sts, end = words[end - 1].title(), end - 1
    return prd, " ".join(original[start:end]), sts, pod


def service_area_problem(address: CivicAddress) -> AddressProblem | None:
    """voip-service-guide.txt §I.5 and §V.8: U.S. Mainland and Hawaii only; not Alaska."""
    country = address.country.strip().upper()
    if country != SERVED_COUNTRY:
        return AddressProblem(
            "country",
            f"country '{address.country}': service is provided only within the U.S. Mainland and Hawaii "
            "(voip-service-guide.txt §I.5)",
        )
    state = address.state.strip().upper()
    if state in UNSERVED_STATES:
        return AddressProblem(
            "state",
            f"state '{address.state}': service is not available in {UNSERVED_STATES[state]}; only the U.S. "
            "Mainland and Hawaii (voip-service-guide.txt §I.5)",
        )
    return None


@dataclass(frozen=True)
class AddressTable:
    """(state, community key) → street key → ranges; plus the spellings for messages."""

    ranges: Mapping[tuple[str, str], Mapping[str, tuple[StreetRange, ...]]]
    communities: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # state → key → spelling
    streets: Mapping[tuple[str, str], Mapping[str, str]] = field(
        default_factory=dict
    )  # ... → street spelling

    @classmethod
    def from_ranges(cls, rows: Iterable[StreetRange]) -> AddressTable:
        ranges: dict[tuple[str, str], dict[str, list[StreetRange]]] = {}
        communities: dict[str, dict[str, str]] = {}
        streets: dict[tuple[str, str], dict[str, str]] = {}
        for r in rows:
            place = (r.state, _key(r.community))
            street = normalise_street(r.street)
            ranges.setdefault(place, {}).setdefault(street, []).append(r)
            communities.setdefault(r.state, {}).setdefault(place[1], r.community)
            streets.setdefault(place, {}).setdefault(street, r.street)
        return cls(
            {p: {s: tuple(v) for s, v in by.items()} for p, by in ranges.items()},
            communities,
            streets,
        )


def _did_you_mean(wanted: str, spellings: Mapping[str, str]) -> str:
    close = difflib.get_close_matches(wanted, list(spellings), n=1, cutoff=0.6)
    return f"; did you mean '{spellings[close[0]]}'?" if close else ""


def validate_address(address: CivicAddress, table: AddressTable) -> ValidatedLocation:
    """The address as a `ValidatedLocation`, or `AddressValidationError` listing every problem, e.g.
    "street 'Mian St' not found in city 'Springfield'; did you mean 'Main St'?"."""
    problems: list[AddressProblem] = []
    for name in ("house_number", "street", "city", "state", "postal_code"):
        if not getattr(address, name).strip():
            problems.append(AddressProblem(name, f"{name.replace('_', ' ')} is required"))
    area = service_area_problem(address)
    if area is not None:
        problems.append(area)
    state = address.state.strip().upper()
    if state and state not in US_STATES:
        problems.append(AddressProblem("state", f"state '{address.state}' is not a US state code"))
    postal = address.postal_code.strip()
    if postal and not _ZIP.match(postal):
        problems.append(AddressProblem("postal_code", f"postal code '{postal}' is not a ZIP or ZIP+4 code"))
    house = _HOUSE.match(address.house_number.strip())
    if address.house_number.strip() and not house:
        problems.append(
            AddressProblem(
                "house_number", f"house number '{address.house_number}' is not a number like 100 or 100A"
            )
        )
    if problems:
        raise AddressValidationError(problems)
    assert house is not None
    city_key = _key(address.city)
    place = (state, city_key)
    if place not in table.ranges:
        known = table.communities.get(state, {})
        where = "" if known else f"; the address table has no addresses in {state}"
        raise AddressValidationError(
            [
                AddressProblem(
                    "city",
                    f"city '{address.city}' not found in {state}{where or _did_you_mean(city_key, known)}",
                )
            ]
        )
    city = table.communities[state][city_key]
    street_key = normalise_street(address.street)
    by_street = table.ranges[place]
    if street_key not in by_street:
        hint = _did_you_mean(street_key, table.streets[place])
        raise AddressValidationError(
            [AddressProblem("street", f"street '{address.street}' not found in city '{city}'{hint}")]
        )
    street = table.streets[place][street_key]
    number = int(house.group(1))
    matching = [r for r in by_street[street_key] if r.covers(number)]
    if not matching:
        ranges = ", ".join(r.describe() for r in by_street[street_key])
        raise AddressValidationError(
            [
                AddressProblem(
                    "house_number",
                    f"house number {address.house_number.strip()} is not on '{street}' in '{city}' "
                    f"(valid: {ranges})",
                )
            ]
        )
    found = matching[0]
    zip5 = postal[:5]
    if found.postal_code and found.postal_code != zip5:
        raise AddressValidationError(
            [
                AddressProblem(
                    "postal_code",
                    f"postal code '{postal}' does not match {number} {street}, {city} "
                    f"(expected {found.postal_code})",
                )
            ]
        )
    normal = replace(
        address,
        house_number=address.house_number.strip().upper(),
        street=street,
        city=city,
        state=state,
        postal_code=postal,
        country=SERVED_COUNTRY,
        unit=address.unit.strip(),
        floor=address.floor.strip(),
        room=address.room.strip(),
        location_name=address.location_name.strip(),
    )
    return ValidatedLocation(normal, found.esn, found.psap)


_REQUIRED = ("state", "community", "street", "low", "high")


def load_address_table_csv(text: str) -> AddressTable:
    """Parse `state,community,street,low,high[,parity,postal_code,esn,psap]` CSV. Raises
    `AddressTableImportError` naming every bad row and field; nothing half-loaded."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = {(h or "").strip().lower() for h in reader.fieldnames or []}
    problems = [
        ImportProblem(1, c, "column is missing from the header") for c in _REQUIRED if c not in header
    ]
    if problems:
        raise AddressTableImportError(problems)
    rows: list[StreetRange] = []
    for raw in reader:
        line = reader.line_num
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items()}
        if not any(row.values()):
            continue
        errors: list[ImportProblem] = []
        state = row["state"].upper()
        if state not in US_STATES:
            errors.append(ImportProblem(line, "state", f"'{row['state']}' is not a US state code"))
        for name in ("community", "street"):
            if not row[name]:
                errors.append(ImportProblem(line, name, "is empty"))
        bounds: list[int] = []
        for name in ("low", "high"):
            if row[name].isdigit():
                bounds.append(int(row[name]))
            else:
                errors.append(ImportProblem(line, name, f"'{row[name]}' is not a house number"))
        if len(bounds) == 2 and bounds[0] > bounds[1]:
            errors.append(ImportProblem(line, "high", f"{bounds[1]} is below low {bounds[0]}"))
        parity_text = (row.get("parity") or "both").lower()
        if parity_text not in {p.value for p in Parity}:
            errors.append(ImportProblem(line, "parity", f"'{row.get('parity')}' is not odd, even or both"))
        postal = row.get("postal_code") or ""
        if postal and not re.fullmatch(r"\d{5}", postal):
            errors.append(ImportProblem(line, "postal_code", f"'{postal}' is not a 5-digit ZIP code"))
        if errors:
            problems.extend(errors)
            continue
        rows.append(
            StreetRange(
                state,
                " ".join(row["community"].split()),
                " ".join(row["street"].split()),
                bounds[0],
                bounds[1],
                Parity(parity_text),
                postal,
                row.get("esn") or "",
                row.get("psap") or "",
            )
        )
    if problems:
        raise AddressTableImportError(problems)
    return AddressTable.from_ranges(rows)
