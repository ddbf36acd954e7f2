"""The trunk a call left or came in by is in its CDR, by name (issue 17 §5): stored with the call's
outcome by the switch's record writer and shown by the CDR API and its CSV, on SQLite and PG."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select

from centrex.adapters.call_records import CallRecords
from centrex.api.app import create_app
from centrex.calls.events import CallEnded
from centrex.ops.demo import seed_demo
from centrex.store.db import make_engine, make_sessionmaker, transaction
from centrex.store.models import CdrOutcome, Device, User

T0 = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)


def test_an_outbound_calls_cdr_names_its_trunk(db_url: str, tmp_path: Path) -> None:
    engine = make_engine(db_url)
    sessions = make_sessionmaker(engine)
    with transaction(sessions) as s:
        demo = seed_demo(s, tmp_path)
    with sessions() as s:
        user = s.scalars(select(User).where(User.extension == "1001")).one()
        device = s.scalars(select(Device).where(Device.sip_username == "1001")).one()
    records = CallRecords(sessions)
    for n, trunk in enumerate(("carrier-east", None)):
        records.call_ended(
            CallEnded(
                uuid.uuid4(), user.tenant_id, user.site_id, user.id, device.id, "1001",
                "+12125550100", "12125550100", "long_distance",
                T0 + timedelta(minutes=n), T0 + timedelta(minutes=n, seconds=2),
                T0 + timedelta(minutes=n, seconds=62), 60000, "answered", "caller_bye", 200,
                direction="outbound" if trunk else "internal", trunk=trunk,
            )
        )  # fmt: skip
    with sessions() as s:
        assert sorted(o.trunk or "" for o in s.scalars(select(CdrOutcome))) == ["", "carrier-east"]
    client = TestClient(create_app(engine=engine))
    headers = {"Authorization": f"Bearer {demo.operator_token}"}
    listed = client.get(f"/api/v1/tenants/{demo.tenant_id}/cdrs", headers=headers)
    assert listed.status_code == 200, listed.text
    assert [c["trunk"] for c in listed.json()["items"]] == [None, "carrier-east"]  # newest first
    csv = client.get(f"/api/v1/tenants/{demo.tenant_id}/cdrs.csv", headers=headers).text.splitlines()
    assert csv[0].split(",")[-1] == "trunk" and csv[2].split(",")[-1] == "carrier-east"
    engine.dispose()
