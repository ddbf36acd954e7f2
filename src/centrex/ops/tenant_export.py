"""The archive of a tenant's data (cpaas.txt §2.3.8: "After termination of Service, Customer will have
thirty (30) days to obtain copies of any information stored"): one zip file with

- ``manifest.json``: the tenant, when the archive was made, the tables and files it holds;
- ``tables/<table>.json``: every row of every table that belongs to the tenant (users, sites,
  devices, numbers, CDRs with their legs, invoices and their lines, payments, voicemail and recording
  rows, settings ...), as JSON lists; found through the schema (a ``tenant_id`` column), so a table
  added later is exported without a change here;
- ``tables/cdrs.csv``: the call detail records again as CSV, for a spreadsheet;
- ``voicemail/<id>.wav`` and ``recordings/<id>.wav``: the audio files still on disk;
- ``insights/``: a copy of the current Insights dashboards and reports (insights/export.py; the
  insights tables themselves are not dumped, §2.3.8 "For Insights, the only information available
  for download will be a copy of the current dashboards and reports").

Secrets are left out (password and PIN hashes, SIP HA1s, token hashes, webhook signing secrets, the
losing carrier's port-in PIN): ``SECRET_COLUMNS``. Built with the standard library's zipfile
(ZIP64, streamed to a temporary file; no whole archive in memory).
"""

from __future__ import annotations

import csv
import io
import json
import uuid
import zipfile
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from centrex.insights.export import INSIGHTS_TABLES, write_insights
from centrex.store import media_files
from centrex.store.models import Base, Tenant
from centrex.store.models.recordings import CallRecording
from centrex.store.models.voicemail import VoicemailMessage

SECRET_COLUMNS = frozenset(
    {
        "password_hash",
        "pin_hash",
        "moderator_pin_hash",
        "ha1_md5",
        "ha1_sha256",
        "secret_hash",
        "signing_secret",
        "port_out_pin_hash",
        "secret_sealed",  # a browser phone's SIP password (softphone_devices), sealed
        "pin",
    }
)


def tenant_tables() -> list[Table]:
    """The tables whose rows belong to one tenant (a ``tenant_id`` column), in dependency order."""
    return [t for t in Base.metadata.sorted_tables if "tenant_id" in t.c and t.name != "tenants"]


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, uuid.UUID | Decimal):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    return value


def _rows(s: Session, table: Table, tenant_id: uuid.UUID) -> list[dict[str, Any]]:
    cols = [c for c in table.c if c.name not in SECRET_COLUMNS]
    result = s.execute(select(*cols).where(table.c.tenant_id == tenant_id))
    return [{k: _jsonable(v) for k, v in row._mapping.items()} for row in result]


def write_archive(
    s: Session, tenant_id: uuid.UUID, dest: Path, now: datetime | None = None
) -> dict[str, Any]:
    """Write the tenant's archive to ``dest`` (a .zip); returns its manifest."""
    tenant = s.get(Tenant, tenant_id)
    if tenant is None:
        raise LookupError(f"no tenant {tenant_id}")
    now = now or datetime.now(UTC)
    tenants = Base.metadata.tables["tenants"]
    manifest: dict[str, Any] = {
        "tenant": _rows_by_id(s, tenants, tenant_id),
        "made_at": now.isoformat(),
        "rule": "cpaas.txt §2.3.8",
        "tables": {},
        "files": {"voicemail": 0, "recordings": 0, "missing": 0},
    }
    with zipfile.ZipFile(dest, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as zf:
        for table in tenant_tables():
            if table.name in INSIGHTS_TABLES:
                continue
            rows = _rows(s, table, tenant_id)
            if not rows:
                continue
            manifest["tables"][table.name] = len(rows)
            zf.writestr(f"tables/{table.name}.json", json.dumps(rows, indent=1, default=str))
            if table.name == "cdrs":
                zf.writestr("tables/cdrs.csv", _csv(rows))
        for folder, model in (("voicemail", VoicemailMessage), ("recordings", CallRecording)):
            stmt = select(model.id, model.file_path).where(model.tenant_id == tenant_id)
            if model is CallRecording:
                stmt = stmt.where(CallRecording.deleted_at.is_(None))
            for row_id, key in s.execute(stmt):
                path = media_files.path_of(key)
                if path.is_file():
                    zf.write(path, f"{folder}/{row_id}{Path(path).suffix or '.wav'}")
                    manifest["files"][folder] += 1
                else:
                    manifest["files"]["missing"] += 1
        manifest["insights"] = write_insights(zf, s, tenant_id, now)
        zf.writestr("manifest.json", json.dumps(manifest, indent=1, default=str))
    return manifest


def _rows_by_id(s: Session, table: Table, tenant_id: uuid.UUID) -> dict[str, Any]:
    row = s.execute(select(table).where(table.c.id == tenant_id)).one()
    return {k: _jsonable(v) for k, v in row._mapping.items()}


def _csv(rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    for row in rows:
        writer.writerow({k: json.dumps(v) if isinstance(v, dict | list) else v for k, v in row.items()})
    return out.getvalue()
