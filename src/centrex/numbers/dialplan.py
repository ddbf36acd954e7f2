"""What a dialled string is, in the shape sense: an extension, a service code, a NANP number, an
international number — before any rating or blocking decision (that is `classify`).

A tenant's dial plan sets the extension length, an optional outside-line prefix (such as 9), whether
7-digit local dialling and 10-digit dialling are allowed, and the international prefix (011). 1 + 10
digits and `+` E.164 are always accepted. 911 is recognised however it is dialled: 911, 9911 (the
outside-line prefix, which Kari's Law (47 CFR 9.16) says must never be required but tenants keep
dialling, and which is recognised even where the tenant has no prefix), 1-911 and +1 911; it wins
over any extension that happens to look the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import unquote

import phonenumbers

from centrex.e911.numbers import EMERGENCY_NUMBER, TEST_NUMBER

__all__ = [
    "CallerSite",
    "DialPlan",
    "Dialled",
    "Shape",
    "clean_dialled",
    "parse_dialled",
]


@dataclass(frozen=True, slots=True)
class DialPlan:
    """One tenant's dialling rules."""

    extension_length: int = 4
    outside_line_prefix: str | None = "9"
    seven_digit_local: bool = True
    ten_digit: bool = True
    international_prefix: str = "011"

    def __post_init__(self) -> None:
        if not 2 <= self.extension_length <= 7:
            raise ValueError(f"extension_length {self.extension_length} is not between 2 and 7")
        prefix = self.outside_line_prefix
        if prefix is not None and not (prefix.isdigit() and 1 <= len(prefix) <= 2):
            raise ValueError(f"outside_line_prefix '{prefix}' is not one or two digits")


@dataclass(frozen=True, slots=True)
class CallerSite:
    """The caller's originating location: the site's own NPA-NXX (its rate center) and state.

    voip-service-guide.txt §V.9: calls are classified local or long distance from "the information
    in Company's systems identifying each call's originating location" — the site the device is
    registered at, not the area code of the caller's number.
    """

    npa_nxx: str
    state: str

    def __post_init__(self) -> None:
        if len(self.npa_nxx) != 6 or not self.npa_nxx.isdigit() or self.npa_nxx[0] in "01":
            raise ValueError(f"site NPA-NXX '{self.npa_nxx}' is not six digits NXX-NXX")

    @property
    def npa(self) -> str:
        return self.npa_nxx[:3]


class Shape(StrEnum):
    EXTENSION = "extension"
    EMERGENCY = "emergency"  # 911 in any of its dialled forms
    EMERGENCY_TEST = "emergency_test"  # 933
    SERVICE_CODE = "service_code"  # the other N11 codes
    NANP = "nanp"  # +1 and ten digits, not yet validated
    INTERNATIONAL = "international"  # + and digits, not yet validated
    FEATURE_CODE = "feature_code"  # *xx / #xx: for the PBX feature-code table
    INVALID = "invalid"


@dataclass(frozen=True, slots=True)
class Dialled:
    shape: Shape
    value: str  # extension digits, service code ("911"), "+1NXXNXXXXXX", "+44...", or ""
    problem: str = ""  # set when shape is INVALID: what the user dialled wrong
    outside_line_prefix_used: bool = False


_SEPARATORS = str.maketrans("", "", " \t-.()/[]\u00a0")


def clean_dialled(text: str) -> str:
    """The dialled digits of `text`: separators removed, a `tel:` or `sip:` URI reduced to its
    number (RFC 3966 `phone-context=+1...` prepended), vanity letters turned into digits.

    Returns a string of digits with an optional leading `+`, or keeps `*`/`#` for feature codes, or
    returns the input stripped (with letters) when it is not a number at all."""
    s = unquote(text.strip())
    lower = s.lower()
    context = ""
    if lower.startswith(("sip:", "sips:")):
        s = s.split(":", 1)[1].split("@", 1)[0]
    elif lower.startswith("tel:"):
        s = s[4:]
    if ";" in s:
        s, params = s.split(";", 1)
        for param in params.split(";"):
            name, _, value = param.partition("=")
            if name.strip().lower() == "phone-context" and value.startswith("+"):
                context = value.translate(_SEPARATORS)
    s = s.translate(_SEPARATORS)
    if any(c.isalpha() for c in s) and sum(c.isdigit() for c in s) >= 3:
        s = phonenumbers.convert_alpha_characters_in_number(s)
    if context and not s.startswith("+"):
        s = context + s
    return s


def _emergency(digits: str, plan: DialPlan) -> Shape | None:
    """911 / 933 in every accepted form: N11, 1+N11, +1 N11, and each after the tenant's outside-line
    prefix. 9911 is emergency even in a plan without prefix 9: people who learnt to dial 9 first do
    so in an emergency, so no extension may be 9911 (the reference notes: always route 911 and 9911)."""
    prefixes = ["", "1", "+1", "9", "91"]
    if plan.outside_line_prefix:
        prefixes += [plan.outside_line_prefix, plan.outside_line_prefix + "1"]
    for code, shape in ((EMERGENCY_NUMBER, Shape.EMERGENCY), (TEST_NUMBER, Shape.EMERGENCY_TEST)):
        if digits in {p + code for p in prefixes}:
            return shape
    return None


def _external(d: str, plan: DialPlan, site: CallerSite) -> Dialled:
    """Digits (no `+`, no outside-line prefix) as a number off the PBX."""
    intl = plan.international_prefix
    if d.startswith(intl):
        rest = d[len(intl) :]
        if not rest:
            return Dialled(Shape.INVALID, "", f"'{intl}' must be followed by a country code and number")
        return Dialled(Shape.INTERNATIONAL, "+" + rest)
    if len(d) == 3 and d[1:] == "11" and d[0] in "2345678":
        return Dialled(Shape.SERVICE_CODE, d)
    if len(d) == 7:
        if not plan.seven_digit_local:
            return Dialled(Shape.INVALID, "", f"7-digit dialling is not enabled; dial {site.npa} {d}")
        if d[0] in "01":
            return Dialled(Shape.INVALID, "", f"'{d}': a 7-digit local number cannot start with {d[0]}")
        return Dialled(Shape.NANP, "+1" + site.npa + d)
    if len(d) == 10:
        if d[0] in "01":
            return Dialled(
                Shape.INVALID, "", f"'{d}' is {d[0]} + 9 digits: one digit short of 1 + area code + number"
            )
        if not plan.ten_digit:
            return Dialled(Shape.INVALID, "", f"10-digit dialling is not enabled; dial 1 {d}")
        return Dialled(Shape.NANP, "+1" + d)
    if len(d) == 11 and d[0] == "1":
        return Dialled(Shape.NANP, "+" + d)
    return Dialled(
        Shape.INVALID,
        "",
        f"'{d}' ({len(d)} digits) is not an extension ({plan.extension_length} digits), a 7- or "
        f"10-digit number, 1 + 10 digits, or {intl} + an international number",
    )


def parse_dialled(text: str, plan: DialPlan, site: CallerSite) -> Dialled:
    """Recognise the shape of a dialled string under `plan` at `site`.

    Order: 911/933 in all forms; `*`/`#` feature codes; `+` numbers; the outside-line prefix (kept
    only if what follows it is a valid shape, so 917-555-0123 dialled as ten digits still works with
    prefix 9); extensions; then 7-, 10-, 1+10-digit, N11 and 011 shapes.
    """
    s = clean_dialled(text)
    if not s:
        return Dialled(Shape.INVALID, "", "nothing was dialled")
    emergency = _emergency(s, plan)
    if emergency is not None:
        return Dialled(emergency, s[-3:], outside_line_prefix_used=len(s) > 3 and s[0] != "1" and s[0] != "+")
    if s[0] in "*#":
        return Dialled(Shape.FEATURE_CODE, s)
    body = s[1:] if s.startswith("+") else s
    if not body.isdigit():
        return Dialled(Shape.INVALID, "", f"'{text.strip()}' is not a dialled number")
    if s.startswith("+"):
        if s.startswith("+1"):
            if len(s) != 12:
                return Dialled(
                    Shape.INVALID, "", f"'{text.strip()}': +1 must be followed by exactly 10 digits"
                )
            return Dialled(Shape.NANP, s)
        return Dialled(Shape.INTERNATIONAL, s)
    prefix = plan.outside_line_prefix
    if prefix and s.startswith(prefix) and len(s) > len(prefix):
        outside = _external(s[len(prefix) :], plan, site)
        if outside.shape is not Shape.INVALID:
            return Dialled(outside.shape, outside.value, outside_line_prefix_used=True)
    if len(s) == plan.extension_length and not (len(s) == 3 and s[1:] == "11"):
        return Dialled(Shape.EXTENSION, s)
    return _external(s, plan, site)
