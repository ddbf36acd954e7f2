"""Directory listings: what may be listed, how it is shortened, and when it gets published.

Every rule here is voip-service-guide.txt §III.3.4.1 "Directory Listings - Terms and Conditions",
paragraphs A to E; each function names its paragraph. Word lists and the line length are operator
settings with defaults here; the contract gives the rules, not the lists.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

__all__ = [
    "ABBREVIATIONS",
    "DEFAULT_LINE_LENGTH",
    "DirectoryEdition",
    "FormattedListing",
    "ListingDesignation",
    "ListingRefusal",
    "ListingRequest",
    "ListingReview",
    "abbreviate_listing",
    "designation_refusals",
    "directory_for",
    "in_time_for",
    "name_refusals",
    "review_listing",
    "withdrawal_allowed",
]

DEFAULT_LINE_LENGTH = 40
"""Characters on one directory line (an operator setting: the directory publisher's column)."""

ABBREVIATIONS: dict[str, str] = {
    "and": "&", "association": "Assn", "associates": "Assoc", "avenue": "Ave", "boulevard": "Blvd",
    "brothers": "Bros", "building": "Bldg", "center": "Ctr", "centre": "Ctr", "company": "Co",
    "corporation": "Corp", "department": "Dept", "development": "Dev", "distributors": "Distrs",
    "division": "Div", "east": "E", "incorporated": "Inc", "institute": "Inst",
    "international": "Intl", "limited": "Ltd", "management": "Mgmt", "manufacturing": "Mfg",
    "national": "Natl", "north": "N", "professional": "Prof", "road": "Rd", "saint": "St",
    "services": "Svcs", "service": "Svc", "south": "S", "street": "St", "systems": "Sys",
    "university": "Univ", "west": "W",
}  # fmt: skip
"""Standard directory abbreviations (§III.3.4.1 A), applied only to these generic words."""

OBSCENE_WORDS = frozenset(
    {"fuck", "fucking", "shit", "cunt", "cock", "pussy", "bitch", "asshole", "motherfucker"}
)
"""A minimal default list for §III.3.4.1 B; the operator extends it."""

IMPERSONATION_TERMS = (
    "911", "police", "sheriff", "fire department", "emergency services", "ambulance service",
    "fbi", "irs", "internal revenue", "social security", "city of", "county of", "state of",
    "u.s. government", "united states", "department of", "federal",
)  # fmt: skip
"""Names that would make callers believe they reach a public authority (§III.3.4.1 B, C)."""

ADVERTISING_PATTERNS = (
    r"\bbest\b", r"\bcheapest\b", r"\blowest prices?\b", r"\bnumber one\b", r"#\s*1\b", r"\bfree\b",
    r"\bcall (us )?now\b", r"\bdiscounts?\b", r"\b24/7\b", r"\bwww\.", r"https?://", r"\.(com|net|org)\b",
    r"\d{3}[\s.-]\d{4}", r"\bguaranteed?\b", r"\bsale\b",
)  # fmt: skip
"""Advertising in a listing name (§III.3.4.1 B: "a contrived name used for advertising purposes")."""

MAX_WORDS_BEYOND_LEGAL_NAME = 3
MAX_WORDS = 12
"""§III.3.4.1 B "more elaborate than is reasonably necessary to identify the listed party": a
department or location qualifier after the legal name is fine; more than this is not."""


class ListingDesignation(StrEnum):
    BUSINESS = "business"
    GOVERNMENT = "government"
    RESIDENTIAL = "residential"


@dataclass(frozen=True, slots=True)
class ListingRequest:
    name: str
    designation: ListingDesignation | None
    legal_names: frozenset[str] = frozenset()  # the customer's legally authorized or adopted names
    customer_is_government: bool = False


@dataclass(frozen=True, slots=True)
class ListingRefusal:
    rule: str  # e.g. "voip-service-guide.txt §III.3.4.1 B (obscenity)"
    message: str

    def __str__(self) -> str:
        return f"{self.message} ({self.rule})"


@dataclass(frozen=True, slots=True)
class FormattedListing:
    lines: tuple[str, ...]
    abbreviated: bool
    additional_line_charge: Decimal = Decimal("0")


@dataclass(frozen=True, slots=True)
class ListingReview:
    accepted: bool
    section: ListingDesignation | None
    listing: FormattedListing | None
    refusals: tuple[ListingRefusal, ...] = field(default_factory=tuple)


_RULE_B = "voip-service-guide.txt §III.3.4.1 B"
_RULE_C = "voip-service-guide.txt §III.3.4.1 C"
_ENTITY_SUFFIXES = frozenset(
    {"inc", "incorporated", "llc", "llp", "ltd", "limited", "corp", "corporation", "co", "company", "plc"}
)


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9&']+", text.lower())


def _canonical(text: str) -> list[str]:
    """Words with abbreviations expanded and entity suffixes dropped, to compare names."""
    expand = {v.lower(): k for k, v in ABBREVIATIONS.items() if v.isalpha()}
    expand["&"] = "and"
    words = [expand.get(w, w) for w in _words(text)]
    while words and words[-1] in _ENTITY_SUFFIXES:
        words.pop()
    return words


def _legal_prefix(name: str, legal_names: Iterable[str]) -> list[str] | None:
    """The words of `name` beyond the longest legal name it starts with, or None if none matches."""
    words = _canonical(name)
    best: list[str] | None = None
    for legal in legal_names:
        core = _canonical(legal)
        if core and words[: len(core)] == core:
            rest = words[len(core) :]
            if best is None or len(rest) < len(best):
                best = rest
    return best


def name_refusals(
    request: ListingRequest, obscene_words: Iterable[str] = OBSCENE_WORDS
) -> list[ListingRefusal]:
    """Every §III.3.4.1 B reason to refuse the listed name.

    B: "The Company may refuse a listing which is known not to constitute a legally authorized or
    adopted name, obscenities in the name, or any listing which ... is likely to mislead or deceive
    calling persons as to the identity of the listed party, or is a contrived name used for
    advertising purposes or to secure a preferential position in the directory or is more elaborate
    than is reasonably necessary to identify the listed party."
    """
    name = " ".join(request.name.split())
    refusals: list[ListingRefusal] = []
    if not name:
        return [ListingRefusal(_RULE_B, "the listing has no name")]
    lowered = name.lower()
    words = _words(name)
    dirty = sorted({w for w in words if w in set(obscene_words)})
    if dirty:
        refusals.append(
            ListingRefusal(f"{_RULE_B} (obscenity)", f"the name contains an obscenity: {', '.join(dirty)}")
        )
    extras = _legal_prefix(name, request.legal_names) if request.legal_names else None
    if request.legal_names and extras is None:
        legal = "', '".join(sorted(request.legal_names))
        refusals.append(
            ListingRefusal(
                f"{_RULE_B} (legal name)",
                f"'{name}' is not the customer's legally authorized or adopted name ('{legal}')",
            )
        )
    is_legal_name = extras == []
    if not request.customer_is_government:
        padded = f" {' '.join(words)} "
        posing = [
            t for t in IMPERSONATION_TERMS if f" {t} " in padded or (t.startswith("u.s.") and t in lowered)
        ]
        if posing:
            refusals.append(
                ListingRefusal(
                    f"{_RULE_B} (misleading)",
                    f"'{name}' could mislead callers into thinking they reach a public authority "
                    f"({', '.join(posing)})",
                )
            )
    if not is_legal_name:
        ads = [m.group(0).strip() for p in ADVERTISING_PATTERNS if (m := re.search(p, lowered))]
        if ads:
            refusals.append(
                ListingRefusal(
                    f"{_RULE_B} (advertising)",
                    f"the name advertises rather than identifies: {', '.join(ads)}",
                )
            )
        first = name.split()[0]
        if not first[0].isalpha() or re.fullmatch(r"(?i)a{2,}\d*|a-?1|z{3,}", first.strip(".,-")):
            refusals.append(
                ListingRefusal(
                    f"{_RULE_B} (preferential position)",
                    f"'{first}' at the start of the name looks contrived to be listed first",
                )
            )
    too_long = len(words) > MAX_WORDS or (extras is not None and len(extras) > MAX_WORDS_BEYOND_LEGAL_NAME)
    if too_long:
        refusals.append(
            ListingRefusal(
                f"{_RULE_B} (too elaborate)",
                f"'{name}' is more elaborate than is reasonably necessary to identify the listed party",
            )
        )
    return refusals


def designation_refusals(request: ListingRequest) -> list[ListingRefusal]:
    """§III.3.4.1 C: "Each listing must be designated Government or Business to be placed in the
    appropriate section ... only business listings may be placed in the Business Section and only
    residential listings in the Residential section." A business phone service lists Business or
    Government; Government only for a government customer, Business only for one that is not."""
    d = request.designation
    if d is None:
        return [ListingRefusal(_RULE_C, "the listing must be designated Business or Government")]
    if d is ListingDesignation.RESIDENTIAL:
        return [
            ListingRefusal(
                _RULE_C, "business service listings go in the Business or Government section, not Residential"
            )
        ]
    if d is ListingDesignation.GOVERNMENT and not request.customer_is_government:
        return [ListingRefusal(_RULE_C, "only a government customer may be listed in the Government section")]
    if d is ListingDesignation.BUSINESS and request.customer_is_government:
        return [ListingRefusal(_RULE_C, "a government customer is listed in the Government section")]
    return []


def _wrap(words: Sequence[str], width: int) -> tuple[str, ...]:
    lines: list[str] = []
    current = ""
    for word in words:
        candidate = f"{current} {word}" if current else word
        if len(candidate) <= width or not current:
            current = candidate
        else:
            lines.append(current)
            current = word
    if current:
        lines.append(current)
    return tuple(lines)


def abbreviate_listing(name: str, line_length: int = DEFAULT_LINE_LENGTH) -> FormattedListing:
    """§III.3.4.1 A: "The Company reserves the right to limit the length of any listing in the
    directory by the use of the abbreviations when, in its judgment, the clearness of the listing or
    the identification of Customer is not impaired thereby. Where more than one line is required to
    properly list Customer, no additional charge is made."

    A name that fits is untouched. Otherwise generic words are abbreviated from the end (the first
    word, which identifies the customer, never is) until it fits; what still does not fit wraps onto
    more lines, with `additional_line_charge` 0.
    """
    words = name.split()
    if len(" ".join(words)) <= line_length:
        return FormattedListing((" ".join(words),), abbreviated=False)
    abbreviated = False
    for i in range(len(words) - 1, 0, -1):
        short = ABBREVIATIONS.get(words[i].lower().strip(".,"))
        if short is not None:
            words[i] = short
            abbreviated = True
            if len(" ".join(words)) <= line_length:
                break
    return FormattedListing(
        _wrap(words, line_length), abbreviated=abbreviated, additional_line_charge=Decimal("0")
    )


def review_listing(
    request: ListingRequest,
    line_length: int = DEFAULT_LINE_LENGTH,
    obscene_words: Iterable[str] = OBSCENE_WORDS,
) -> ListingReview:
    """Accept or refuse a listing with every reason (§III.3.4.1 B and C), and format it (A)."""
    refusals = name_refusals(request, obscene_words) + designation_refusals(request)
    if refusals:
        return ListingReview(False, None, None, tuple(refusals))
    return ListingReview(True, request.designation, abbreviate_listing(request.name, line_length))


def withdrawal_allowed(violations: Sequence[ListingRefusal], customer_notified_at: datetime | None) -> bool:
    """§III.3.4.1 D: "The Company, upon notification to Customer, will withdraw any listing, which is
    found to be in violation of its rules". Withdraw only a listing in violation, and only once the
    customer has been notified."""
    return bool(violations) and customer_notified_at is not None


@dataclass(frozen=True, slots=True)
class DirectoryEdition:
    name: str
    listing_close: datetime  # last moment a listing can be furnished for this edition
    published_on: datetime


def in_time_for(furnished_at: datetime, edition: DirectoryEdition) -> bool:
    """§III.3.4.1 E: "In order for the listings to appear in an upcoming directory, Customer must
    furnish the listing to the Company in time to meet the directory publishing schedule."."""
    return furnished_at <= edition.listing_close


def directory_for(furnished_at: datetime, editions: Iterable[DirectoryEdition]) -> DirectoryEdition | None:
    """The first edition a listing furnished at `furnished_at` makes (§III.3.4.1 E), or None."""
    eligible = [e for e in editions if in_time_for(furnished_at, e)]
    return min(eligible, key=lambda e: e.published_on, default=None)
