"""The operator's local copies of the National Do-Not-Call Registry and of the Reassigned Numbers
Database, imported from CSV (the operator API ``POST /api/v1/dnc-registry/{kind}`` and the CLI
``centrex dnc import``); campaigns scrub against them before any send (scrub.py).

- national-dnc: one number a line — a column ``number`` (or ``phone``), or the registry download's
  ``area code,phone number`` pair, or bare digits; US numbers without +1 are read as NANP.
- reassigned: ``number,disconnected_on`` (YYYY-MM-DD): the permanent disconnections reported to the
  RND (FCC 18-177, 47 CFR 64.1200(m)).

A line that is not a valid number (or date) is counted as rejected with its line number; the rest
are imported. ``replace`` makes the copy exactly the file (the registry's full download) instead of
adding to it (a delta). One transaction per import.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from centrex.cpaas.campaigns.location import BadNumber, e164
from centrex.store.models.campaigns import NationalDncNumber, ReassignedNumber, RegistryImport

KINDS = ("national-dnc", "reassigned")
CHUNK = 1000


@dataclass
class ImportResult:
    row: RegistryImport
    errors: list[str] = field(default_factory=list)  # the first few rejected lines, with why


class BadFile(ValueError):
    pass


def _rows(text: str) -> list[list[str]]:
    try:
        return [r for r in csv.reader(text.splitlines()) if any(c.strip() for c in r)]
    except csv.Error as exc:
        raise BadFile(f"not a CSV file: {exc}") from None


def _number_of(cells: list[str], header: list[str] | None) -> str:
    if header is not None:
        column = next((n for n in ("number", "phone", "phone_number", "e164") if n in header), None)
        if column is None:
            raise IndexError("no number column")
        number = cells[header.index(column)].strip()
        if "area_code" in header:  # the registry download: area code and the 7-digit number
            number = cells[header.index("area_code")].strip() + number
        return number
    if len(cells) >= 2 and cells[0].strip().isdigit() and len(cells[0].strip()) == 3:
        return cells[0].strip() + cells[1].strip()  # area code, phone number without a header
    return cells[0]


def _header(first: list[str]) -> list[str] | None:
    names = [c.strip().lower().replace(" ", "_") for c in first]
    return (
        names if any(n in ("number", "phone", "phone_number", "e164", "area_code") for n in names) else None
    )


def parse_national(text: str) -> tuple[list[str], list[str], int]:
    rows = _rows(text)
    header = _header(rows[0]) if rows else None
    numbers: list[str] = []
    errors: list[str] = []
    rejected = 0
    for i, cells in enumerate(rows[1:] if header else rows, start=2 if header else 1):
        try:
            numbers.append(e164(_number_of(cells, header)))
        except BadNumber as exc:
            rejected += 1
            if len(errors) < 20:
                errors.append(f"line {i}: {exc}")
        except IndexError:
            rejected += 1
            if len(errors) < 20:
                errors.append(f"line {i}: a column is missing")
    return sorted(set(numbers)), errors, rejected


def parse_reassigned(text: str) -> tuple[list[tuple[str, date]], list[str], int]:
    rows = _rows(text)
    header = [c.strip().lower() for c in rows[0]] if rows else []
    has_header = "disconnected_on" in header
    ni = header.index("number") if has_header and "number" in header else 0
    di = header.index("disconnected_on") if has_header else 1
    out: set[tuple[str, date]] = set()
    errors: list[str] = []
    rejected = 0
    for i, cells in enumerate(rows[1:] if has_header else rows, start=2 if has_header else 1):
        try:
            out.add((e164(cells[ni]), date.fromisoformat(cells[di].strip())))
        except (BadNumber, IndexError, ValueError) as exc:
            rejected += 1
            if len(errors) < 20:
                errors.append(f"line {i}: {exc}")
    return sorted(out), errors, rejected


def import_csv(
    session: Session, kind: str, text: str, *, source: str = "", by: str = "", replace: bool = False
) -> ImportResult:
    """Import one file into the local copy (in the caller's transaction)."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}")
    row = RegistryImport(kind=kind, source=source[:200], imported_by=by[:120])
    session.add(row)
    session.flush()
    if kind == "national-dnc":
        numbers, errors, rejected = parse_national(text)
        if replace:
            session.execute(delete(NationalDncNumber))
        for i in range(0, len(numbers), CHUNK):
            part = numbers[i : i + CHUNK]
            have = set(
                session.scalars(select(NationalDncNumber.number).where(NationalDncNumber.number.in_(part)))
            )
            session.add_all(NationalDncNumber(number=n, import_id=row.id) for n in part if n not in have)
            session.flush()
        row.rows = len(numbers)
    else:
        pairs, errors, rejected = parse_reassigned(text)
        if replace:
            session.execute(delete(ReassignedNumber))
        for i in range(0, len(pairs), CHUNK):
            chunk = pairs[i : i + CHUNK]
            known: set[tuple[str, date]] = {
                (n, d)
                for n, d in session.execute(
                    select(ReassignedNumber.number, ReassignedNumber.disconnected_on).where(
                        ReassignedNumber.number.in_([n for n, _ in chunk])
                    )
                )
            }
            session.add_all(
                ReassignedNumber(number=n, disconnected_on=d, import_id=row.id)
                for n, d in chunk
                if (n, d) not in known
            )
            session.flush()
        row.rows = len(pairs)
    row.rejected = rejected
    return ImportResult(row, errors)
