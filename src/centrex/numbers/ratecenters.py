"""Rate centers: NPA-NXX → rate center, LATA and state, and which calls are local.

voip-service-guide.txt §V.9: the company "classifies local and long distance calls to determine
appropriate rate allocation" from "each call's originating location". This table is the data that
classification reads: the operator imports it as CSV (a LERG extract or the carrier's local calling
guide); `SAMPLE_RATE_CENTERS` is a small illustrative table for tests and demos, not LERG data.

A call is local when both ends are in the same rate center, or when the operator's local-calling-area
mapping lists the far rate center as local to the near one.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

__all__ = [
    "SAMPLE_RATE_CENTERS",
    "ImportProblem",
    "RateCenter",
    "RateCenterImportError",
    "RateCenterTable",
    "is_local_call",
    "load_local_calling_csv",
    "load_rate_centers_csv",
]

_STATE_LIST = (
    "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM "
    "NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY PR VI GU AS MP"
)
US_STATES = frozenset(_STATE_LIST.split(" "))
"""USPS codes of the states, DC and the territories served by the NANP."""


@dataclass(frozen=True, slots=True)
class RateCenter:
    """One NPA-NXX and where it is rated."""

    npa_nxx: str  # six digits, e.g. "212226"
    rate_center: str  # e.g. "NEW YORK CITY"
    lata: str  # three to five digits, e.g. "132"
    state: str  # USPS code, e.g. "NY"

    @property
    def key(self) -> tuple[str, str]:
        """Rate center names repeat across states; (state, name) identifies one."""
        return (self.state, self.rate_center)


@dataclass(frozen=True, slots=True)
class ImportProblem:
    row: int  # 1-based line number in the file, the header being line 1
    field: str
    message: str

    def __str__(self) -> str:
        return f"row {self.row}, field '{self.field}': {self.message}"


class RateCenterImportError(ValueError):
    """Every problem of a rate-center or local-calling CSV, each naming its row and field."""

    def __init__(self, problems: Iterable[ImportProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(str(p) for p in self.problems))


@dataclass(frozen=True)
class RateCenterTable:
    """NPA-NXX → `RateCenter`, plus the extra local calling areas (rate center → rate centers)."""

    by_npa_nxx: Mapping[str, RateCenter]
    local_areas: Mapping[tuple[str, str], frozenset[tuple[str, str]]] = field(default_factory=dict)

    def lookup(self, npa_nxx: str) -> RateCenter | None:
        return self.by_npa_nxx.get(npa_nxx)

    def with_local_areas(self, pairs: Iterable[tuple[tuple[str, str], tuple[str, str]]]) -> RateCenterTable:
        """A copy with more local-calling pairs; local calling is symmetric, so each pair goes both
        ways."""
        areas: dict[tuple[str, str], set[tuple[str, str]]] = {k: set(v) for k, v in self.local_areas.items()}
        for a, b in pairs:
            areas.setdefault(a, set()).add(b)
            areas.setdefault(b, set()).add(a)
        return RateCenterTable(self.by_npa_nxx, {k: frozenset(v) for k, v in areas.items()})


def is_local_call(table: RateCenterTable, from_npa_nxx: str, to_npa_nxx: str) -> bool | None:
    """True if a call between the two NPA-NXXs is local, False if not, None if either is unknown.

    Local means the same rate center, or a local-calling-area mapping between the two
    (voip-service-guide.txt §III.1.3 outbound off-net local calls, rated per §V.9).
    """
    a, b = table.lookup(from_npa_nxx), table.lookup(to_npa_nxx)
    if a is None or b is None:
        return None
    if a.key == b.key:
        return True
    return b.key in table.local_areas.get(a.key, frozenset())


def _digits(value: str, n: int, first_2_to_9: bool) -> str | None:
    """Why `value` is not an n-digit code, or None if it is."""
    if len(value) != n or not value.isdigit():
        return f"'{value}' is not {n} digits"
    if first_2_to_9 and value[0] in "01":
        return f"'{value}' cannot start with {value[0]} (NANP codes are [2-9]XX)"
    return None


def _rows(text: str) -> Iterable[tuple[int, dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    for row in reader:
        yield reader.line_num, {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()}


def _require_columns(text: str, required: tuple[str, ...]) -> list[ImportProblem]:
    header = next(csv.reader(io.StringIO(text.lstrip("\ufeff"))), [])
    present = {h.strip().lower() for h in header}
    return [ImportProblem(1, c, "column is missing from the header") for c in required if c not in present]


def load_rate_centers_csv(text: str) -> RateCenterTable:
    """Parse `npa,nxx,rate_center,lata,state` CSV (a single `npa_nxx` column may replace `npa` and
    `nxx`). Raises `RateCenterImportError` listing every bad row and field; nothing half-loaded."""
    header = next(csv.reader(io.StringIO(text.lstrip("\ufeff"))), [])
    columns = {h.strip().lower() for h in header}
    split = "npa_nxx" not in columns
    required = (
        ("npa", "nxx", "rate_center", "lata", "state")
        if split
        else ("npa_nxx", "rate_center", "lata", "state")
    )
    problems = _require_columns(text, required)
    if problems:
        raise RateCenterImportError(problems)
    table: dict[str, RateCenter] = {}
    first_row: dict[str, int] = {}
    for line, row in _rows(text):
        if not any(row.values()):
            continue
        errors: list[ImportProblem] = []
        if split:
            npa, nxx = row["npa"], row["nxx"]
            for name, value in (("npa", npa), ("nxx", nxx)):
                why = _digits(value, 3, True)
                if why:
                    errors.append(ImportProblem(line, name, why))
            code = npa + nxx
        else:
            code = row["npa_nxx"].replace("-", "")
            why = _digits(code, 6, True) or (
                f"'{code}' NXX cannot start with {code[3]}" if code[3] in "01" else None
            )
            if why:
                errors.append(ImportProblem(line, "npa_nxx", why))
        name = " ".join(row["rate_center"].upper().split())
        if not name:
            errors.append(ImportProblem(line, "rate_center", "is empty"))
        lata = row["lata"]
        if not (lata.isdigit() and 3 <= len(lata) <= 5):
            errors.append(ImportProblem(line, "lata", f"'{lata}' is not a 3- to 5-digit LATA code"))
        state = row["state"].upper()
        if state not in US_STATES:
            errors.append(ImportProblem(line, "state", f"'{row['state']}' is not a US state code"))
        if not errors and code in first_row:
            errors.append(
                ImportProblem(
                    line, "npa_nxx" if not split else "nxx", f"{code} already given on row {first_row[code]}"
                )
            )
        if errors:
            problems.extend(errors)
            continue
        first_row[code] = line
        table[code] = RateCenter(code, name, lata, state)
    if problems:
        raise RateCenterImportError(problems)
    return RateCenterTable(table)


def load_local_calling_csv(table: RateCenterTable, text: str) -> RateCenterTable:
    """Add local calling areas from `state,rate_center,local_state,local_rate_center` CSV.

    Every rate center named must already be in `table` (a typo would silently make calls toll)."""
    required = ("state", "rate_center", "local_state", "local_rate_center")
    problems = _require_columns(text, required)
    if problems:
        raise RateCenterImportError(problems)
    known = {rc.key for rc in table.by_npa_nxx.values()}
    pairs: list[tuple[tuple[str, str], tuple[str, str]]] = []
    for line, row in _rows(text):
        if not any(row.values()):
            continue
        ends: list[tuple[str, str]] = []
        for s_col, rc_col in (("state", "rate_center"), ("local_state", "local_rate_center")):
            key = (row[s_col].upper(), " ".join(row[rc_col].upper().split()))
            if key not in known:
                problems.append(
                    ImportProblem(
                        line, rc_col, f"rate center '{row[rc_col]}' in '{row[s_col]}' is not in the table"
                    )
                )
            ends.append(key)
        pairs.append((ends[0], ends[1]))
    if problems:
        raise RateCenterImportError(problems)
    return table.with_local_areas(pairs)


_SAMPLE_CSV = """npa,nxx,rate_center,lata,state
212,226,NEW YORK CITY,132,NY
212,344,NEW YORK CITY,132,NY
646,555,NEW YORK CITY,132,NY
718,222,NEW YORK CITY,132,NY
516,222,HEMPSTEAD,132,NY
518,222,ALBANY,130,NY
201,222,JERSEY CITY,224,NJ
201,555,JERSEY CITY,224,NJ
973,222,NEWARK,224,NJ
609,222,TRENTON,222,NJ
217,222,SPRINGFIELD,376,IL
415,222,SAN FRANCISCO,722,CA
808,222,HONOLULU,834,HI
"""

SAMPLE_RATE_CENTERS: RateCenterTable = load_local_calling_csv(
    load_rate_centers_csv(_SAMPLE_CSV),
    "state,rate_center,local_state,local_rate_center\nNJ,JERSEY CITY,NJ,NEWARK\n",
)
"""A small illustrative table (not LERG data): New York City, Long Island, Albany, Jersey City,
Newark (local to Jersey City), Trenton, Springfield IL, San Francisco and Honolulu."""
