"""Call records (CDRs) of a tenant: a filtered, paginated list, one record with its legs, and CSV.

Who may read them is the CPNI rule (voip-service-guide.txt §V.12): the operator, the tenant's CPNI
administrator, and the users that administrator granted access — `Resource.CDR` in store/policy.py,
enforced by `TenantData.select`. The switch writes the rows (calls/records.py `write_cdr`); this
module only reads them.

Filters (the same for the list and the CSV):
- ``user_id``: calls the user made, or that rang one of the user's phones (a leg of the call);
- ``from`` / ``to``: the call's start, ``from`` inclusive and ``to`` exclusive; a bare date means
  that UTC day (``to=2026-11-30`` includes the 30th); a date-time needs its offset;
- ``number`` with ``number_match`` contains (default) or equals: the caller, the callee or the
  dialled digits;
- ``disposition``: answered, no_answer, busy, failed, cancelled (billing/cdr.py Disposition).
"""

from __future__ import annotations

import csv
import io
import re
import uuid
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from sqlalchemy import BindParameter, Select, String, bindparam, exists, or_
from sqlalchemy.orm import Session

from centrex.api.deps import Listing, TenantDep, listing
from centrex.api.fields import Out, Page, page_of
from centrex.store.access import TenantData
from centrex.store.errors import Invalid
from centrex.store.models import CallDetail, CdrLeg, CdrOutcome
from centrex.store.policy import Resource

router = APIRouter(prefix="/tenants/{tenant_id}", tags=["cdrs"])

CSV_MAX_ROWS = 1_000_000  # a bigger export is refused (422) rather than built in memory


class Disposition(StrEnum):
    ANSWERED = "answered"
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    FAILED = "failed"
    CANCELLED = "cancelled"


class NumberMatch(StrEnum):
    CONTAINS = "contains"
    EQUALS = "equals"


class CdrOut(Out):
    id: uuid.UUID
    call_id: str
    start: datetime
    answer: datetime | None
    end: datetime | None
    duration_ms: int
    caller: str
    callee: str
    dialled: str
    call_class: str
    direction: str
    disposition: str
    outcome: str | None  # the switch's finer outcome: rejected, interrupted, ...
    hangup_cause: str | None
    sip_code: int | None
    user_id: uuid.UUID | None
    site_id: uuid.UUID | None
    device_id: uuid.UUID | None
    trunk: str | None = None  # the trunk the call left or came in by, by name


class LegOut(Out):
    position: int
    user_id: uuid.UUID | None
    extension: str
    device_id: uuid.UUID | None
    start: datetime
    answer: datetime | None
    end: datetime
    sip_code: int | None
    disposition: str


class CdrDetail(CdrOut):
    legs: list[LegOut]


def _instant(text: str | None, field: str, *, end_of_day: bool) -> datetime | None:
    """A bare date (that UTC day) or an ISO 8601 date-time with its offset, as aware UTC."""
    if text is None:
        return None
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            day = date.fromisoformat(text)
            return datetime.combine(day + timedelta(days=1) if end_of_day else day, time(0), UTC)
        value = datetime.fromisoformat(text)
    except ValueError:
        raise Invalid(
            f"{field} {text!r} is not a date (2026-11-01) or an ISO 8601 date-time",
            field=field,
            rule="iso8601",
        ) from None
    if value.tzinfo is None:
        raise Invalid(
            f"{field} needs a UTC offset (e.g. 2026-11-01T00:00:00Z) or a bare date",
            field=field,
            rule="aware_datetime",
        )
    return value.astimezone(UTC)


_NUMBER_NOISE = re.compile(r"[\s().-]")


def _number(value: str) -> str:
    """What a person types for a number ("+1 (617) 555-0100", "1002") as the switch stores it."""
    cleaned = _NUMBER_NOISE.sub("", value)
    if not re.fullmatch(r"\+?[0-9*#]{1,32}", cleaned):
        raise Invalid(
            "number may hold digits, * and # (with an optional leading +), at most 32",
            field="number",
            rule="dial_string",
        )
    return cleaned


class CdrFilters:
    def __init__(
        self,
        user_id: uuid.UUID | None = None,
        from_: Annotated[str | None, Query(alias="from", max_length=40)] = None,
        to: Annotated[str | None, Query(max_length=40)] = None,
        number: Annotated[str | None, Query(max_length=64)] = None,
        number_match: NumberMatch = NumberMatch.CONTAINS,
        disposition: Disposition | None = None,
    ) -> None:
        self.user_id = user_id
        self.start = _instant(from_, "from", end_of_day=False)
        self.end = _instant(to, "to", end_of_day=True)
        if self.start is not None and self.end is not None and self.end <= self.start:
            raise Invalid("to must be after from", field="to", rule="date_range")
        self.number = _number(number) if number else None
        self.number_match = number_match
        self.disposition = disposition

    def apply(self, data: TenantData) -> Select[Any]:
        stmt = data.select(CallDetail, Resource.CDR)
        if self.user_id is not None:
            rang = exists().where(
                CdrLeg.cdr_id == CallDetail.id,
                CdrLeg.tenant_id == data.tenant_id,
                CdrLeg.user_id == self.user_id,
            )
            stmt = stmt.where(or_(CallDetail.user_id == self.user_id, rang))
        if self.start is not None:
            stmt = stmt.where(CallDetail.start >= self.start)
        if self.end is not None:
            stmt = stmt.where(CallDetail.start < self.end)
        # The equality before the substring tests: SQLite tests the terms in order, so a record of
        # another disposition costs no LIKE (the count of a CDR search: ~half its time, issue 14).
        if self.disposition is not None:
            stmt = stmt.where(CallDetail.disposition == self.disposition.value)
        if self.number is not None:
            columns = (CallDetail.caller, CallDetail.callee, CallDetail.dialled)
            if self.number_match is NumberMatch.EQUALS:
                stmt = stmt.where(or_(*(c == self.number for c in columns)))
            else:  # the number holds no LIKE wildcards (_number allows digits, *, #, +)
                stmt = stmt.where(or_(*(c.contains(self.number) for c in columns)))
        return stmt.order_by(CallDetail.start.desc(), CallDetail.id)

    def bound(self, data: TenantData, sort: list[tuple[Any, bool]]) -> tuple[Select[Any], dict[str, Any]]:
        """The list's statement: the same rows, columns and order as `apply` plus `sort` (and the
        same policy check), built once per shape of the filters and reused with these values."""
        match = self.number_match if self.number is not None else None
        order = tuple((column.key, desc) for column, desc in sort)
        present = (self.user_id, self.start, self.end, self.disposition)
        shape = ("list", *(value is not None for value in present), match, order)

        def build(stmt: Select[Any]) -> Select[Any]:
            stmt = stmt.with_only_columns(*_CDR_COLUMNS)
            if self.user_id is not None:
                rang = exists().where(
                    CdrLeg.cdr_id == CallDetail.id,
                    CdrLeg.tenant_id == bindparam("tenant"),
                    CdrLeg.user_id == bindparam("user_id"),
                )
                stmt = stmt.where(or_(CallDetail.user_id == bindparam("user_id"), rang))
            if self.start is not None:
                stmt = stmt.where(CallDetail.start >= bindparam("start", type_=CallDetail.start.type))
            if self.end is not None:
                stmt = stmt.where(CallDetail.start < bindparam("end", type_=CallDetail.start.type))
            if self.disposition is not None:  # before the number: see apply
                stmt = stmt.where(CallDetail.disposition == bindparam("disposition"))
            if match is not None:
                columns = (CallDetail.caller, CallDetail.callee, CallDetail.dialled)
                number = bindparam("number", type_=String())
                if match is NumberMatch.EQUALS:
                    stmt = stmt.where(or_(*(c == number for c in columns)))
                else:
                    stmt = stmt.where(or_(*(c.contains(number) for c in columns)))
            asked = [c.desc() if desc else c.asc() for c, desc in sort]
            return stmt.order_by(*asked, CallDetail.start.desc(), CallDetail.id)

        stmt, params = data.bound_select(CallDetail, shape, build, Resource.CDR)
        values = {"user_id": self.user_id, "start": self.start, "end": self.end, "number": self.number}
        values["disposition"] = self.disposition.value if self.disposition is not None else None
        params.update((k, v) for k, v in values.items() if v is not None)
        return stmt, params


FiltersDep = Annotated[CdrFilters, Depends()]


def _outcomes(data: TenantData, ids: list[uuid.UUID]) -> dict[uuid.UUID, CdrOutcome]:
    found: dict[uuid.UUID, CdrOutcome] = {}
    session: Session = data.session
    for i in range(0, len(ids), 500):  # bounded IN lists
        stmt = data.select(CdrOutcome, Resource.CDR).where(CdrOutcome.cdr_id.in_(ids[i : i + 500]))
        found.update((o.cdr_id, o) for o in session.scalars(stmt))
    return found


def _out(cdr: CallDetail, outcome: CdrOutcome | None) -> dict[str, Any]:
    return {
        "id": cdr.id,
        "call_id": cdr.call_id,
        "start": cdr.start,
        "answer": cdr.answer,
        "end": outcome.end if outcome else None,
        "duration_ms": cdr.duration_ms,
        "caller": cdr.caller,
        "callee": cdr.callee,
        "dialled": cdr.dialled,
        "call_class": cdr.call_class,
        "direction": cdr.direction,
        "disposition": cdr.disposition,
        "outcome": outcome.outcome if outcome else None,
        "hangup_cause": outcome.hangup_cause if outcome else None,
        "sip_code": outcome.sip_code if outcome else None,
        "user_id": cdr.user_id,
        "site_id": cdr.site_id,
        "device_id": outcome.device_id if outcome else None,
        "trunk": outcome.trunk if outcome else None,
    }


CdrListing = Annotated[
    Listing,
    Depends(
        listing(
            {
                "start": CallDetail.start,
                "duration_ms": CallDetail.duration_ms,
                "caller": CallDetail.caller,
                "callee": CallDetail.callee,
            }
        )
    ),
]


# What the list reads: plain rows of these columns, not ORM objects (a page of 25 loaded as
# objects cost more than its two queries; docs/performance.md "API").
_CDR_TABLE = CallDetail.__table__
_CDR_COLUMNS = tuple(_CDR_TABLE.c[name] for name in CdrOut.model_fields if name in _CDR_TABLE.c)
_OUTCOME_FIELDS = ("end", "outcome", "hangup_cause", "sip_code", "device_id", "trunk")
_OUTCOME_COLUMNS = tuple(CdrOutcome.__table__.c[name] for name in ("cdr_id", *_OUTCOME_FIELDS))
_NO_OUTCOME: dict[str, Any] = dict.fromkeys(_OUTCOME_FIELDS)


def _outcomes_of(stmt: Select[Any]) -> Select[Any]:
    ids: BindParameter[uuid.UUID] = bindparam("ids", expanding=True)
    return stmt.with_only_columns(*_OUTCOME_COLUMNS).where(CdrOutcome.cdr_id.in_(ids))


def _outcome_rows(data: TenantData, ids: list[uuid.UUID]) -> dict[uuid.UUID, dict[str, Any]]:
    """The outcomes of a page's records, as plain rows keyed by record (tenant-scoped, CDR policy)."""
    if not ids:
        return {}
    stmt, params = data.bound_select(CdrOutcome, "page outcomes", _outcomes_of, Resource.CDR)
    params["ids"] = ids
    found: dict[uuid.UUID, dict[str, Any]] = {}
    for cdr_id, *values in data.session.connection().execute(stmt, params):
        found[cdr_id] = dict(zip(_OUTCOME_FIELDS, values, strict=True))
    return found


@router.get("/cdrs", response_model=Page[CdrOut])
def list_cdrs(data: TenantDep, paging: CdrListing, filters: FiltersDep) -> Any:
    """The tenant's call records, newest first (or as `sort` asks)."""
    stmt, params = filters.bound(data, paging.sort)  # = paging.apply(filters.apply(data)), built once
    rows, total = data.page(stmt, paging.limit, paging.offset, rows=True, params=params)
    outcomes = _outcome_rows(data, [r.id for r in rows])
    keys = rows[0]._fields if rows else ()
    items = [{**dict(zip(keys, row, strict=True)), **outcomes.get(row.id, _NO_OUTCOME)} for row in rows]
    return page_of(items, total, paging.limit, paging.offset)


CSV_COLUMNS = list(CdrOut.model_fields)


def _cell(value: Any) -> str:
    """A CSV cell; text a spreadsheet would run as a formula gets a leading quote (OWASP CSV
    injection), except numbers such as +16175550100 that only look like one."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    text = str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r") and not re.fullmatch(r"[+-]?[0-9]+", text):
        return "'" + text
    return text


@router.get("/cdrs.csv", response_class=Response, responses={200: {"content": {"text/csv": {}}}})
def export_cdrs(data: TenantDep, filters: FiltersDep) -> Response:
    """The same records as the list, every page, as CSV (UTC times, ISO 8601)."""
    stmt = filters.apply(data)
    rows, total = data.page(stmt, CSV_MAX_ROWS, 0)
    if total > CSV_MAX_ROWS:
        raise Invalid(
            f"{total} records match; narrow the date range to at most {CSV_MAX_ROWS}",
            field="from",
            rule="export_size",
        )
    outcomes = _outcomes(data, [r.id for r in rows])
    buf = io.StringIO()
    out = csv.writer(buf, lineterminator="\r\n")  # RFC 4180
    out.writerow(CSV_COLUMNS)
    for r in rows:
        record = _out(r, outcomes.get(r.id))
        out.writerow([_cell(record[c]) for c in CSV_COLUMNS])
    return Response(
        buf.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="cdrs-{data.tenant_id}.csv"'},
    )


@router.get("/cdrs/{cdr_id}", response_model=CdrDetail)
def get_cdr(cdr_id: uuid.UUID, data: TenantDep) -> Any:
    """One call record with the legs of the call (each phone that rang)."""
    cdr = data.get(CallDetail, cdr_id, Resource.CDR)
    outcome = _outcomes(data, [cdr.id]).get(cdr.id)
    legs = data.session.scalars(
        data.select(CdrLeg, Resource.CDR).where(CdrLeg.cdr_id == cdr.id).order_by(CdrLeg.position)
    ).all()
    return {**_out(cdr, outcome), "legs": list(legs)}
