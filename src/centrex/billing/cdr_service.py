"""Call records on storage: checking one (from JSON or a CSV row), storing a batch (a replayed record
is skipped), and reading a tenant's month back as billing/cdr.py's CallRecords."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from typing import Any

from centrex.billing.cdr import CallRecord, Disposition
from centrex.billing.days import midnight
from centrex.billing.periods import next_month_start
from centrex.numbers.classes import CallClass, Direction
from centrex.store.access import TenantData
from centrex.store.errors import Invalid
from centrex.store.models import CallDetail
from centrex.store.policy import Resource

CDR_FIELDS = ("id", "caller", "callee", "call_class", "direction", "start", "duration_ms")


def cdr_values(raw: dict[str, Any], where: str) -> dict[str, Any]:
    """Validate one call record (from JSON or a CSV row) into column values; errors name the field."""

    def bad(field: str, message: str) -> Invalid:
        return Invalid(f"{where}: {field}: {message}", field=f"{where}.{field}", rule="cdr")

    for name in CDR_FIELDS:
        if raw.get(name) in (None, ""):
            raise bad(name, "is required")
    try:
        call_class = CallClass(str(raw["call_class"]))
    except ValueError:
        raise bad("call_class", f"one of {', '.join(c.value for c in CallClass)}") from None
    try:
        direction = Direction(str(raw["direction"]))
    except ValueError:
        raise bad("direction", f"one of {', '.join(d.value for d in Direction)}") from None
    try:
        disposition = Disposition(str(raw.get("disposition") or "answered"))
    except ValueError:
        raise bad("disposition", f"one of {', '.join(d.value for d in Disposition)}") from None
    start = raw["start"]
    if isinstance(start, str):
        try:
            start = datetime.fromisoformat(start.replace("Z", "+00:00"))
        except ValueError:
            raise bad("start", f"not an ISO 8601 time: {raw['start']!r}") from None
    if not isinstance(start, datetime) or start.tzinfo is None:
        raise bad("start", "needs a UTC offset (e.g. 'Z')")
    try:
        duration_ms = int(raw["duration_ms"])
    except (TypeError, ValueError):
        raise bad("duration_ms", f"not a whole number: {raw['duration_ms']!r}") from None
    if duration_ms < 0:
        raise bad("duration_ms", "must be >= 0")
    intra = raw.get("is_intra_enterprise", False)
    if isinstance(intra, str):
        intra = intra.strip().lower() in ("1", "true", "yes")
    return {
        "call_id": str(raw["id"])[:100],
        "caller": str(raw["caller"])[:32],
        "callee": str(raw["callee"])[:32],
        "dialled": str(raw.get("dialled") or "")[:64],
        "call_class": call_class.value,
        "direction": direction.value,
        "start": start.astimezone(UTC),
        "duration_ms": duration_ms if disposition is Disposition.ANSWERED else 0,
        "disposition": disposition.value,
        "is_intra_enterprise": bool(intra),
    }


def store_cdrs(data: TenantData, records: Sequence[dict[str, Any]]) -> tuple[int, int]:
    """Store call records; a record whose id is already stored is skipped (a replay is harmless).
    Returns (stored, duplicates). One audit entry for the batch."""
    values = [cdr_values(r, f"cdrs[{i}]") for i, r in enumerate(records)]
    ids = [v["call_id"] for v in values]
    existing: set[str] = set()
    for start in range(0, len(ids), 500):
        stmt = data.select(CallDetail, Resource.CDR).where(CallDetail.call_id.in_(ids[start : start + 500]))
        existing.update(row.call_id for row in data.session.scalars(stmt))
    fresh: dict[str, dict[str, Any]] = {}
    for v in values:
        if v["call_id"] not in existing:
            fresh.setdefault(v["call_id"], v)
    data.add_parts(CallDetail, list(fresh.values()))
    data.audit(
        "cdr.import",
        "cdrs",
        None,
        None,
        {"stored": len(fresh), "duplicates": len(values) - len(fresh)},
        data.tenant_id,
    )
    return len(fresh), len(values) - len(fresh)


def call_record(row: CallDetail) -> CallRecord:
    return CallRecord(
        id=str(row.id),
        tenant_id=str(row.tenant_id),
        caller=row.caller,
        callee=row.callee,
        call_class=CallClass(row.call_class),
        direction=Direction(row.direction),
        start=row.start,
        duration_ms=row.duration_ms,
        disposition=Disposition(row.disposition),
        answer=row.answer,
        site_id=str(row.site_id) if row.site_id else None,
        user_id=str(row.user_id) if row.user_id else None,
        dialled=row.dialled,
        is_intra_enterprise=row.is_intra_enterprise,
    )


def records_of_month(data: TenantData, month: date) -> list[CallRecord]:
    stmt = data.select(CallDetail, Resource.CDR).where(
        CallDetail.start >= midnight(month), CallDetail.start < midnight(next_month_start(month))
    )
    return [call_record(row) for row in data.session.scalars(stmt)]


def read_cdr_csv(lines: Iterable[str]) -> list[dict[str, Any]]:
    """CDRs from CSV text: columns id, caller, callee, call_class, direction, start, duration_ms
    [, disposition, is_intra_enterprise, dialled]."""
    reader = csv.DictReader(iter(lines))
    header = [h.strip() for h in (reader.fieldnames or [])]
    reader.fieldnames = header
    missing = [c for c in CDR_FIELDS if c not in header]
    if missing:
        raise Invalid(f"missing column(s): {', '.join(missing)}", field="header", rule="cdr_csv")
    return [dict(row) for row in reader]
