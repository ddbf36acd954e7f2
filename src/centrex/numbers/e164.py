"""Normalise and validate telephone numbers to E.164 with `phonenumbers` (libphonenumber).

DESIGN.md, "Numbers": every stored number is E.164. The API calls `to_e164` for every number it
stores; each failure is a `PhoneNumberError` (a `ValueError`) whose message says what is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass

import phonenumbers
from phonenumbers import NumberParseException, ValidationResult

__all__ = [
    "InvalidCountryCodeError",
    "InvalidForRegionError",
    "NanpNumber",
    "NotANumberError",
    "PhoneNumberError",
    "TooLongError",
    "TooShortError",
    "is_nanp",
    "nanp_parts",
    "region_of",
    "to_e164",
]


class PhoneNumberError(ValueError):
    """A text that is not a usable telephone number. `str(error)` is a sentence for the user."""

    def __init__(self, text: str, message: str) -> None:
        super().__init__(message)
        self.text = text


class NotANumberError(PhoneNumberError):
    """Empty, or no digits that could be a telephone number."""


class InvalidCountryCodeError(PhoneNumberError):
    """A '+' number whose country calling code does not exist."""


class TooShortError(PhoneNumberError):
    """Fewer digits than any number of the region has."""


class TooLongError(PhoneNumberError):
    """More digits than any number of the region has."""


class InvalidForRegionError(PhoneNumberError):
    """The right number of digits, but not a number that can exist in that region (for example an
    area code that is not assigned, or an exchange starting with 0 or 1 in the NANP)."""


def _parse(text: str, default_region: str) -> phonenumbers.PhoneNumber:
    stripped = text.strip()
    if not stripped:
        raise NotANumberError(text, "phone number is empty")
    if stripped.lower().startswith("tel:"):
        stripped = stripped[4:].split(";", 1)[0]
    try:
        return phonenumbers.parse(stripped, default_region.upper())
    except NumberParseException as exc:
        kind = exc.error_type
        if kind == NumberParseException.INVALID_COUNTRY_CODE:
            raise InvalidCountryCodeError(
                text, f"'{text}' does not start with a valid country calling code"
            ) from exc
        if kind in (NumberParseException.TOO_SHORT_NSN, NumberParseException.TOO_SHORT_AFTER_IDD):
            raise TooShortError(text, f"'{text}' is too short to be a phone number") from exc
        if kind == NumberParseException.TOO_LONG:
            raise TooLongError(text, f"'{text}' is too long to be a phone number") from exc
        raise NotANumberError(text, f"'{text}' is not a phone number") from exc


def _nanp_detail(number: phonenumbers.PhoneNumber) -> str:
    """Why a ten-digit +1 number is invalid, as a clause (NANP: NPA and NXX are [2-9]XX)."""
    national = str(number.national_number)
    if number.country_code != 1 or len(national) != 10:
        return ""
    npa, nxx = national[:3], national[3:6]
    if npa[0] in "01":
        return f": area code {npa} cannot start with {npa[0]}"
    if npa[1:] == "11":
        return f": {npa} is a service code (N11), not an area code"
    if nxx[0] in "01":
        return f": exchange {nxx} cannot start with {nxx[0]}"
    if nxx[1:] == "11":
        return f": exchange {nxx} is a service code (N11)"
    return f": area code {npa} is not in service"


def to_e164(text: str, default_region: str = "US") -> str:
    """Return `text` as an E.164 string (`+12125550123`), or raise a `PhoneNumberError`.

    Accepts what people type: spaces, dashes, dots, parentheses, a leading `+`, a national trunk
    prefix (`1` in the NANP), vanity letters (`1-800-FLOWERS`) and `tel:` URIs. A number without `+`
    is read in `default_region` (ISO 3166 code). The number must be valid, not merely possible.
    """
    number = _parse(text, default_region)
    region = phonenumbers.region_code_for_country_code(number.country_code or 0)
    where = default_region.upper() if region == "ZZ" else region
    reason = phonenumbers.is_possible_number_with_reason(number)
    if reason == ValidationResult.INVALID_COUNTRY_CODE:
        raise InvalidCountryCodeError(text, f"'{text}' has an unknown country calling code")
    if reason == ValidationResult.TOO_SHORT:
        raise TooShortError(text, f"'{text}' is too short for a phone number in {where}")
    if reason == ValidationResult.TOO_LONG:
        raise TooLongError(text, f"'{text}' is too long for a phone number in {where}")
    if reason == ValidationResult.IS_POSSIBLE_LOCAL_ONLY:
        raise InvalidForRegionError(
            text, f"'{text}' is a local number without its area code; give the full number"
        )
    if reason == ValidationResult.INVALID_LENGTH:
        raise InvalidForRegionError(
            text, f"'{text}' has the wrong number of digits for a phone number in {where}"
        )
    if not phonenumbers.is_valid_number(number):
        raise InvalidForRegionError(
            text, f"'{text}' is not a valid phone number in {where}{_nanp_detail(number)}"
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def region_of(e164: str) -> str:
    """ISO region of an E.164 number (`US`, `CA`, `JM`, `GB` ...); `ZZ` when unknown."""
    try:
        number = phonenumbers.parse(e164, None)
    except NumberParseException:
        return "ZZ"
    return phonenumbers.region_code_for_number(number) or "ZZ"


@dataclass(frozen=True, slots=True)
class NanpNumber:
    """A North American number split as NPA-NXX-XXXX."""

    npa: str
    nxx: str
    line: str

    @property
    def npa_nxx(self) -> str:
        return self.npa + self.nxx

    @property
    def e164(self) -> str:
        return f"+1{self.npa}{self.nxx}{self.line}"


def is_nanp(e164: str) -> bool:
    """True for `+1` followed by ten digits."""
    return len(e164) == 12 and e164.startswith("+1") and e164[1:].isdigit()


def nanp_parts(e164: str) -> NanpNumber:
    """Split a NANP E.164 number; `ValueError` if it is not one."""
    if not is_nanp(e164):
        raise ValueError(f"'{e164}' is not a North American (+1) ten-digit number")
    return NanpNumber(e164[2:5], e164[5:8], e164[8:12])
