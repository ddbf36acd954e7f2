"""A marketing SMS campaign over real SMPP (the SMSC simulator, as tests/cpaas/messaging do): the
eligible contacts get the message and it is delivered; the others are skipped with the reason in
the report — no consent, the tenant's do-not-call list, the National DNC copy, a reassigned number,
a STOP sent earlier — and a contact where it is night now is deferred, then sent once its morning
comes. The throttle (2 sends a second) is seen at the carrier."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

import httpx

from centrex.cpaas.campaigns.quiet_hours import next_allowed
from centrex.cpaas.campaigns.runner import CampaignRunner
from tests.cpaas.campaigns.conftest import numbers_where
from tests.cpaas.conftest import LiveApi
from tests.cpaas.messaging.conftest import Carrier, register_10dlc

TEXT = "Winter sale: 20% off this week. Reply STOP to opt out."


class Arrivals:
    """When each submit_sm reached the simulator (monotonic), watched from another thread."""

    def __init__(self, carrier: Carrier) -> None:
        self.sim = carrier.sim
        self.times: list[tuple[float, str, bytes]] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True)
        self.thread.start()

    def _watch(self) -> None:
        seen = 0
        while not self.stop.is_set():
            with self.sim.submitted:
                self.sim.submitted.wait_for(lambda n=seen: len(self.sim.submissions) > n, 0.2)
                new = self.sim.submissions[seen:]
            now = time.monotonic()
            for sub in new:
                self.times.append((now, sub.destination_addr, sub.short_message))
            seen += len(new)

    def campaign(self) -> list[tuple[float, str]]:
        return [(t, "+" + dest) for t, dest, body in self.times if body == TEXT.encode()]


def wait_for(pred: Callable[[], Any], timeout: float = 60.0, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = pred()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def test_campaign_sends_to_the_eligible_skips_with_reasons_defers_the_night(
    live_api: LiveApi, carrier: Carrier
) -> None:
    base, tid = live_api.base, live_api.demo.tenant_id
    admin, operator = live_api.admin, live_api.operator
    number = live_api.demo.lines[0].number
    register_10dlc(live_api, [number])
    api = f"{base}/api/v1/tenants/{tid}"

    day = numbers_where(True, 9)
    eligible, (no_consent, on_dnc, national, reassigned, stopped) = day[:4], day[4:]
    (night,) = numbers_where(False, 1)

    # The contact who texted STOP earlier (messaging's ledger), and its one confirmation.
    assert carrier.sim.inject_mo(stopped, number, "STOP") == 1
    wait_for(lambda: len(carrier.sim.submissions) == 1, what="the STOP confirmation")
    arrivals = Arrivals(carrier)

    r = httpx.post(f"{api}/contact-lists", json={"name": "Winter sale"}, headers=admin, timeout=30)
    assert r.status_code == 201, r.text
    list_id = r.json()["id"]
    everyone = [*eligible, no_consent, on_dnc, national, reassigned, stopped, night]
    contacts = [{"number": n, "name": f"Contact {i}"} for i, n in enumerate(everyone)]
    r = httpx.post(
        f"{api}/contact-lists/{list_id}/contacts", json={"contacts": contacts}, headers=admin, timeout=30
    )
    assert r.status_code == 201 and r.json()["added"] == len(everyone), r.text

    for n in everyone:
        if n == no_consent:
            continue
        consent = {
            "number": n,
            "channel": "sms",
            "purpose": "marketing",
            "method": "web-form",
            "evidence": "checkbox on example.com/signup, IP 192.0.2.7",
            "obtained_at": "2025-01-15T10:00:00Z",
        }
        r = httpx.post(f"{api}/consent-records", json=consent, headers=admin, timeout=30)
        assert r.status_code == 201, r.text
    r = httpx.post(
        f"{api}/dnc", json={"number": on_dnc, "reason": "asked on the phone"}, headers=admin, timeout=30
    )
    assert r.status_code == 201, r.text
    registry = f"{base}/api/v1/dnc-registry"
    r = httpx.post(
        f"{registry}/national-dnc", json={"csv": f"number\n{national}\n", "source": "test"}, headers=operator
    )
    assert r.status_code == 201 and r.json()["rows"] == 1, r.text
    assert httpx.post(f"{registry}/national-dnc", json={"csv": "x"}, headers=admin).status_code == 404
    rnd = f"number,disconnected_on\n{reassigned},2025-06-01\n{eligible[0]},2024-01-01\n"
    r = httpx.post(f"{registry}/reassigned", json={"csv": rnd}, headers=operator, timeout=30)
    assert r.status_code == 201 and r.json()["rows"] == 2, r.text

    body = {
        "name": "Winter sale",
        "list_id": list_id,
        "channel": "sms",
        "purpose": "marketing",
        "from": number,
        "body": TEXT,
        "rate_per_s": 2,
    }
    r = httpx.post(f"{api}/campaigns", json=body, headers=admin, timeout=30)
    assert r.status_code == 201, r.text
    campaign = r.json()
    report_url = f"{api}/campaigns/{campaign['id']}/report"

    sessions = live_api.app.state.sessionmaker
    runner = CampaignRunner(sessions, messenger=lambda: carrier.messenger, tick_s=0.2).start()
    try:
        report = wait_for(
            lambda: (
                (rep := httpx.get(report_url, headers=admin, timeout=30).json())["delivered"] == 4 and rep
            ),
            what="four deliveries",
        )
    finally:
        runner.stop()
    assert report["sent"] == 4 and report["failed"] == 0 and report["status"] == "running"
    assert report["skipped_by_reason"] == {
        "no_consent": 1,
        "tenant_dnc": 1,
        "national_dnc": 1,
        "reassigned": 1,
        "opted_out": 1,
    }
    assert report["deferred"] == 1 and report["deferred_by_reason"] == {"quiet_hours": 1}

    sent = arrivals.campaign()
    assert sorted(dest for _, dest in sent) == sorted(eligible)  # nobody else got it
    gaps = [b - a for (a, _), (b, _) in pairwise(sent)]
    assert min(gaps) >= 0.4, f"2 a second means one every 0.5 s; gaps {gaps}"  # throttling observed

    r = httpx.get(f"{api}/campaigns/{campaign['id']}/recipients?status=deferred", headers=admin, timeout=30)
    (waiting,) = r.json()["items"]
    assert waiting["number"] == night and waiting["reason"] == "quiet_hours"
    not_before = datetime.fromisoformat(waiting["not_before"])
    # The next opening of the night contact's window (8 a.m. where it is), computed the same way.
    assert not_before > datetime.now(UTC)
    assert abs(not_before - next_allowed(datetime.now(UTC), ["Europe/London"], None)) < timedelta(hours=24)
    skipped = httpx.get(f"{api}/campaigns/{campaign['id']}/recipients?status=skipped", headers=admin).json()
    assert {i["number"]: i["reason"] for i in skipped["items"]}[reassigned] == "reassigned"

    # Morning where the night contact is: the same campaign sends to it, then completes.
    shift = not_before - datetime.now(UTC) + timedelta(minutes=1)
    later = CampaignRunner(
        sessions, messenger=lambda: carrier.messenger, tick_s=0.2, clock=lambda: datetime.now(UTC) + shift
    )
    later.start()
    try:
        wait_for(
            lambda: (
                httpx.get(f"{api}/campaigns/{campaign['id']}", headers=admin).json()["status"] == "completed"
            ),
            what="completion",
        )
    finally:
        later.stop()
        arrivals.stop.set()
    final = wait_for(lambda: (rep := httpx.get(report_url, headers=admin).json())["delivered"] == 5 and rep)
    assert (
        final["sent"] == 5
        and final["deferred"] == 0
        and final["skipped"] == 5
        and final["status"] == "completed"
    )
    assert sorted(dest for _, dest in arrivals.campaign()) == sorted([*eligible, night])
