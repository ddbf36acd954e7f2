"""Caller-ID name (CNAM): what the called party's display shows.

voip-service-guide.txt §III.3.1 "Caller Name Display". The name is stored in the CNAM/LIDB databases
that the terminating carrier dips, which hold at most 15 characters of printable ASCII; a name
must have at least one letter (a bare number would pass for a telephone number).
"""

from __future__ import annotations

import unicodedata

__all__ = ["CNAM_MAX_LENGTH", "CnamError", "cnam_from_display_name", "normalise_cnam"]

CNAM_MAX_LENGTH = 15


class CnamError(ValueError):
    """A caller-ID name that cannot be stored; `problems` lists every reason."""

    def __init__(self, name: str, problems: list[str]) -> None:
        self.name = name
        self.problems = tuple(problems)
        super().__init__(f"caller ID name '{name}': " + "; ".join(problems))


def _ascii(text: str) -> str:
    """Accents dropped (José → Jose), whitespace runs collapsed to one space."""
    decomposed = unicodedata.normalize("NFKD", text)
    without_marks = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(without_marks.split())


def _problems(name: str) -> list[str]:
    problems = []
    if not name:
        return ["is empty"]
    bad = sorted({c for c in name if not (" " <= c <= "~")})
    if bad:
        problems.append(
            "contains characters a caller ID display cannot show: " + " ".join(repr(c) for c in bad)
        )
    if len(name) > CNAM_MAX_LENGTH:
        problems.append(f"is {len(name)} characters; at most {CNAM_MAX_LENGTH} are allowed")
    if not any(c.isalpha() for c in name):
        problems.append("must contain at least one letter")
    return problems


def normalise_cnam(name: str) -> str:
    """The name as it will be stored, or `CnamError` with every problem. Never truncates: an
    administrator who typed 16 characters is told so and chooses the abbreviation."""
    cleaned = _ascii(name)
    problems = _problems(cleaned)
    if problems:
        raise CnamError(name, problems)
    return cleaned


def cnam_from_display_name(display_name: str) -> str:
    """A CNAM derived from a user's display name: normalised, characters a display cannot show
    dropped, cut to 15 characters at a word boundary where one exists. `CnamError` if nothing with a
    letter is left."""
    cleaned = " ".join("".join(c for c in _ascii(display_name) if " " <= c <= "~").split())
    if len(cleaned) > CNAM_MAX_LENGTH:
        cut = cleaned[: CNAM_MAX_LENGTH + 1]
        space = cut.rfind(" ")
        cleaned = cut[:space] if space >= CNAM_MAX_LENGTH // 2 else cleaned[:CNAM_MAX_LENGTH]
        cleaned = cleaned.rstrip()
    return normalise_cnam(cleaned)
