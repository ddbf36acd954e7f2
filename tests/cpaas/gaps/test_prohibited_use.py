"""Issue 16 gap 4: cpaas.txt §2.5 (Prohibited Use: notice, cure by the end of the next billing
cycle, re-pricing or termination) for messaging without consent.

A handset replies STOP over SMPP (the SMSC simulator); the tenant's app keeps sending to it with the
`twilio` package: each message is refused (21610) and nothing leaves for the carrier. The operator's
monthly fair-use review of the cycle notices the sending number (a finding the tenant sees, with its
evidence); at the next cycle's review, the use is still there, so the case goes to ``termination``
(messaging without consent has no price to re-rate at). A number with fewer refused attempts than
the threshold in a cycle (a slip) is not noticed."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import httpx
import pytest
from twilio.base.exceptions import TwilioRestException

from centrex.fairuse.cpaas_use import MIN_ATTEMPTS
from centrex.store.db import make_sessionmaker, transaction
from centrex.store.models.cpaas_refusals import SmsRefusal
from tests.cpaas.conftest import LiveApi
from tests.cpaas.messaging.conftest import Carrier, register_10dlc
from tests.cpaas.messaging.conftest import carrier as carrier  # the SMSC simulator fixture

REMOTE, SLIP = "+16175551234", "+16175554321"


def review(live_api: LiveApi, cycle: str) -> list[dict[str, object]]:
    url = f"{live_api.base}/api/v1/tenants/{live_api.demo.tenant_id}/fair-use/reviews"
    r = httpx.post(url, json={"cycle": cycle}, headers=live_api.operator, timeout=60)
    assert r.status_code == 200, r.text
    return [f for f in r.json() if f["kind"] == "cpaas_no_consent"]


def test_messaging_after_stop_is_noticed_then_flagged_for_termination(
    live_api: LiveApi, carrier: Carrier
) -> None:
    number = live_api.demo.lines[0].number
    register_10dlc(live_api, [number])
    client = live_api.twilio()
    for remote in (REMOTE, SLIP):
        carrier.sim.inject_mo(remote, number, "STOP")
    carrier.sim.wait_for(2)  # the two CTIA confirmations
    for i in range(MIN_ATTEMPTS):
        with pytest.raises(TwilioRestException) as refused:
            client.messages.create(to=REMOTE, from_=number, body=f"Sale {i}!")
        assert refused.value.code == 21610
    assert len(carrier.sim.submissions) == 2  # only the confirmations ever left
    cycle = datetime.now(UTC).strftime("%Y-%m")
    noticed = review(live_api, cycle)
    assert [(f["subject"], f["state"]) for f in noticed] == [(number, "noticed")]
    assert noticed[0]["evidence"]["attempts_to_opted_out"] == MIN_ATTEMPTS  # type: ignore[index]
    assert "§2.5" in str(noticed[0]["evidence"])
    seen = httpx.get(
        f"{live_api.base}/api/v1/tenants/{live_api.demo.tenant_id}/fair-use/findings",
        headers=live_api.admin,
        timeout=30,
    ).json()
    assert any(
        f["kind"] == "cpaas_no_consent" and f["state"] == "noticed" for f in seen
    )  # told to the tenant

    # Next cycle: the number keeps at it (refusals as the messaging part logs them), not cured.
    year, month = map(int, cycle.split("-"))
    nxt = f"{year + month // 12}-{month % 12 + 1:02d}"
    when = datetime(year + month // 12, month % 12 + 1, 10, tzinfo=UTC)
    tenant = uuid.UUID(live_api.demo.tenant_id)
    with transaction(make_sessionmaker(live_api.app.state.engine)) as s:
        s.add_all(
            SmsRefusal(tenant_id=tenant, from_number=number, to_number=REMOTE, code=21610, at=when)
            for _ in range(MIN_ATTEMPTS)
        )
        # Another number's single slip after a STOP stays below the threshold.
        s.add(SmsRefusal(tenant_id=tenant, from_number="+12015550100", to_number=SLIP, code=21610, at=when))
    flagged = review(live_api, nxt)
    assert [(f["subject"], f["state"], f["cycles"]) for f in flagged] == [
        (number, "termination", [cycle, nxt])
    ]


def test_refused_attempts_are_records_kept_three_years(db_url: str) -> None:
    """cpaas.txt §2.4.2 (iv): detail records no longer than three years — the message-retention job
    deletes refused attempts with the message records."""
    from datetime import timedelta

    from centrex.ops.jobs import builtin_registry
    from centrex.ops.scheduler import JobContext
    from centrex.store.db import make_engine
    from centrex.store.models import Tenant

    now = datetime(2030, 6, 1, tzinfo=UTC)
    engine = make_engine(db_url)
    sessions = make_sessionmaker(engine)
    try:
        with transaction(sessions) as s:
            t = Tenant(name="Refusal Co", sip_domain="refusal.example.com")
            s.add(t)
            s.flush()
            for age in (timedelta(days=30), timedelta(days=3 * 366 + 2)):
                s.add(
                    SmsRefusal(
                        tenant_id=t.id, from_number="+12015550100", to_number=REMOTE, code=21610, at=now - age
                    )
                )
        builtin_registry().get("message-retention").run(JobContext(sessions=sessions, now=now))
        with sessions() as s:
            left = [r.at for r in s.query(SmsRefusal).all()]
        assert left == [now - timedelta(days=30)]
    finally:
        engine.dispose()
