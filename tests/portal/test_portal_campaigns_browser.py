"""The Campaigns page in a real browser (issue 20 §2): playwright-core drives Debian's chromium through
the "campaigns" scenario of portal/tests/browser.mjs against a real `centrex serve` (temporary SQLite,
the demo tenant) whose SMS carrier is the SMSC simulator over real SMPP, as the campaign tests use it
(tests/cpaas/campaigns/test_sms_campaign.py); the campaign runner is serve's own.

The office administrator signs in with a password, makes a contact list of two contacts (by hand,
then again from a CSV file), records the consent of one, creates and starts an SMS marketing
campaign and reads its report: one sent (and delivered by the carrier's receipt), one skipped for no
consent; the campaigns list shows the same; a campaign scheduled for tomorrow is cancelled; a
developer (CPaaS key) sees the page too. Then the
carrier must have received the message for the consenting contact only, and the REST API's report
must agree. Both contacts are where it is day now (their numbers picked from the clock), so quiet
hours defer neither.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from centrex.cpaas.messaging.simulator import SmscSimulator
from centrex.store.credentials import hash_password
from centrex.store.db import make_engine, make_sessionmaker
from centrex.store.models import User
from tests.cpaas.campaigns.conftest import numbers_where
from tests.portal.test_portal_browser import (
    ADMIN_PASSWORD,
    CHROMIUM,
    PORTAL,
    Portal,
    centrex_serve,
    cli,
    run_scenario,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="chromium not installed: run scripts/test"),
    pytest.mark.skipif(
        not (PORTAL / "node_modules" / "playwright-core").is_dir(),
        reason="portal/node_modules missing: run scripts/test (npm ci in portal/)",
    ),
]

TEXT = "Spring offer: 20% off this week. Reply STOP to opt out."


@pytest.fixture(scope="module")
def carrier() -> Iterator[SmscSimulator]:
    sim = SmscSimulator(system_id="centrex", password="secret").start()
    try:
        yield sim
    finally:
        sim.stop()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, carrier: SmscSimulator) -> Iterator[Portal]:
    data = tmp_path_factory.mktemp("campaigns-portal")
    cli(data, "db", "upgrade")
    demo = json.loads(cli(data, "demo", "--json"))
    tenant_id = demo["tenant_id"]
    engine = make_engine(f"sqlite:///{data / 'centrex.sqlite3'}")
    with make_sessionmaker(engine)() as s:
        tid = uuid.UUID(tenant_id)
        admin = s.scalars(select(User).where(User.tenant_id == tid, User.extension == "1001")).one()
        admin.password_hash = hash_password(ADMIN_PASSWORD)  # 1001 is the office administrator
        s.commit()
        admin_email = str(admin.email)
    engine.dispose()
    developer_token = cli(
        data, "token", "create", "--name", "campaigns-dev", "--tenant", tenant_id, "--developer"
    )

    deadline = time.monotonic() + 120  # a loaded machine is slow to start
    with centrex_serve(
        data,
        {
            # The carrier: the SMSC simulator of this test, over SMPP (cpaas/messaging/runtime.py).
            "CENTREX_SMS_CARRIER": f"smpp://centrex:secret@127.0.0.1:{carrier.port}",
            "CENTREX_CAMPAIGN_TICK_S": "0.2",
        },
    ) as url:
        while not carrier.sessions:  # serve's SMPP connector is bound to the simulator
            assert time.monotonic() < deadline, f"serve did not bind to the SMSC (log: {data / 'serve.log'})"
            time.sleep(0.2)
        # The sending number's 10DLC registration, approved by the operator (the messaging rules).
        number = demo["lines"][0]["number"]
        registration = {
            "kind": "10dlc",
            "brand_name": "Demo Co",
            "brand_ein": "12-3456789",
            "campaign_id": "CDEMO01",
            "use_case": "MARKETING",
            "numbers": [number],
            "status": "approved",
        }
        r = httpx.post(
            f"{url}/api/v1/tenants/{tenant_id}/a2p-registrations",
            json=registration,
            headers={"Authorization": f"Bearer {demo['operator_token']}"},
            timeout=30,
        )
        assert r.status_code == 201, r.text
        consented, unconsented = numbers_where(True, 2)
        ctx: dict[str, Any] = {
            "tenant_id": tenant_id,
            "office_admin_token": demo["office_admin_token"],
            "admin_email": admin_email,
            "admin_password": ADMIN_PASSWORD,
            "developer_token": developer_token.strip(),
            "from_number": number,
            "consented": consented,
            "unconsented": unconsented,
            "text": TEXT,
        }
        yield Portal(url=url, ctx=ctx, data=data)


def test_office_admin_runs_a_campaign_and_reads_its_report(served: Portal, carrier: SmscSimulator) -> None:
    shots = os.environ.get("CENTREX_SCREENSHOTS")
    out = run_scenario(served, "campaigns", shots=Path(shots).resolve() if shots else None)
    assert "ok: Campaigns is beside Flows in the CPaaS section" in out, out
    assert "ok: a contact that is no number is refused on its line" in out, out
    assert "ok: a CSV file updates the contacts, its extra column kept as an attribute" in out, out
    assert "ok: the consent is on record for the first contact only" in out, out
    assert "ok: a campaign without its message is refused" in out, out
    assert "ok: the campaign completes: 1 sent, 1 skipped, the sent one delivered" in out, out
    assert "ok: the other was skipped for no consent" in out, out
    assert "ok: the campaigns list shows its state and figures" in out, out
    assert "ok: the scheduled campaign is cancelled (API)" in out, out
    assert "ok: a developer sees the campaigns and their figures" in out, out
    campaign_id = next(
        line.split(": ", 1)[1] for line in out.splitlines() if line.startswith("campaign-id: ")
    )

    # What the carrier saw: the message, to the consenting contact only.
    consented, unconsented = served.ctx["consented"], served.ctx["unconsented"]
    sent = [
        (s.source_addr, s.destination_addr) for s in carrier.submissions if s.short_message == TEXT.encode()
    ]
    assert sent == [(served.ctx["from_number"].lstrip("+"), consented.lstrip("+"))], sent

    # What the REST API has.
    bearer = {"Authorization": f"Bearer {served.ctx['office_admin_token']}"}
    api = f"{served.url}/api/v1/tenants/{served.ctx['tenant_id']}"
    report = httpx.get(f"{api}/campaigns/{campaign_id}/report", headers=bearer, timeout=30).json()
    assert report["status"] == "completed", report
    assert (report["total"], report["sent"], report["delivered"], report["failed"]) == (2, 1, 1, 0), report
    assert report["skipped_by_reason"] == {"no_consent": 1} and report["deferred"] == 0, report
    recipients = httpx.get(f"{api}/campaigns/{campaign_id}/recipients", headers=bearer, timeout=30).json()
    outcome = {r["number"]: (r["status"], r["reason"]) for r in recipients["items"]}
    assert outcome == {consented: ("sent", None), unconsented: ("skipped", "no_consent")}, outcome
    consent = httpx.get(f"{api}/consent-records", headers=bearer, timeout=30).json()["items"]
    assert [(c["number"], c["channel"], c["purpose"], c["granted"], c["method"]) for c in consent] == [
        (consented, "sms", "marketing", True, "web-form")
    ], consent
