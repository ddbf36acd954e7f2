"""Campaign sends per second honouring quiet hours (issue 20 Performance; prints figures, never a
timed test).

    .venv/bin/python bench/campaign_bench.py [--contacts 3000] [--night-share 0.25] [--rate 1000]

One campaign (SMS, marketing) over ``--contacts`` contacts in a SQLite file: every contact has a
marketing consent record; a quarter (``--night-share``) live where it is night now (computed from
the clock: a zone outside 8 a.m.–9 p.m. local) and are deferred, the rest are scrubbed (tenant
DNC, STOP ledger, National DNC and Reassigned copies of 100,000 and 10,000 numbers, consent,
quiet hours) and sent through the whole Messenger (checks, message rows) and the SMPP connector
to the SMSC simulator on loopback, all in this one process. ``--rate`` is the campaign's throttle
(sends a second), set high so the runner's own cost shows. The clock runs from the runner taking
the campaign to every day contact sent and every night one deferred; figures: contacts decided
per second, sends per second.
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, insert, select

from centrex.cpaas.campaigns.location import locate
from centrex.cpaas.campaigns.quiet_hours import allowed_at
from centrex.cpaas.campaigns.runner import CampaignRunner
from centrex.cpaas.campaigns.scrub import Scrub, Target
from centrex.cpaas.messaging.service import Messenger
from centrex.cpaas.messaging.simulator import SmscSimulator
from centrex.cpaas.messaging.smpp_connector import SmppConnector
from centrex.store.db import make_engine, make_sessionmaker, transaction
from centrex.store.migrate import upgrade
from centrex.store.models import NumberStatus, PhoneNumber, Tenant
from centrex.store.models.campaigns import (
    Campaign,
    CampaignRecipient,
    ConsentRecord,
    Contact,
    ContactList,
    NationalDncNumber,
    ReassignedNumber,
)
from centrex.store.models.messaging import A2pRegistration

PLACES = ("+1808555", "+1415555", "+1212555", "+4420712", "+8131234", "+6129123")
EXAMPLES = {
    "+1808555": "+18085550000",
    "+1415555": "+14155550000",
    "+1212555": "+12125550000",
    "+4420712": "+442071230000",
    "+8131234": "+81312340000",
    "+6129123": "+61291230000",
}


def zone_of_kind(awake: bool, now: datetime) -> tuple[str, str]:
    for prefix in PLACES:
        place = locate(EXAMPLES[prefix])
        if all(
            allowed_at(t, place.time_zones, place.state) is awake for t in (now, now + timedelta(hours=1))
        ):
            return EXAMPLES[prefix], place.time_zones[0]
    raise SystemExit("no place fits now")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--contacts", type=int, default=3000)
    parser.add_argument("--night-share", type=float, default=0.25)
    parser.add_argument("--rate", type=float, default=1000.0)
    args = parser.parse_args()
    now = datetime.now(UTC)
    day_example, day_zone = zone_of_kind(True, now)
    night_example, night_zone = zone_of_kind(False, now)
    n_night = int(args.contacts * args.night_share)
    n_day = args.contacts - n_night

    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'bench.sqlite3'}")
        upgrade(engine)
        sessions = make_sessionmaker(engine)
        number = "+12175550100"
        with transaction(sessions) as s:
            tenant = Tenant(name="Bench Co", sip_domain=f"bench-{uuid.uuid4().hex[:6]}.example.com")
            s.add(tenant)
            s.flush()
            tid = tenant.id
            s.add(PhoneNumber(e164=number, tenant_id=tid, status=NumberStatus.ASSIGNED))
            s.add(A2pRegistration(tenant_id=tid, kind="10dlc", status="approved", numbers=[number]))
            lst = ContactList(tenant_id=tid, name="Everyone")
            s.add(lst)
            s.flush()
            list_id = lst.id
            contacts, consents = [], []
            for i in range(args.contacts):
                night = i < n_night
                base = night_example if night else day_example
                num = f"{base[:-5]}{i:05d}"
                contacts.append(
                    {
                        "id": uuid.uuid4(),
                        "tenant_id": tid,
                        "list_id": list_id,
                        "number": num,
                        "name": "",
                        "state": None,
                        "time_zones": [night_zone if night else day_zone],
                        "location_source": "number",
                        "attributes": {},
                        "created_at": now,
                        "updated_at": now,
                    }
                )
                consents.append(
                    {
                        "id": uuid.uuid4(),
                        "tenant_id": tid,
                        "number": num,
                        "name": "",
                        "channel": "sms",
                        "purpose": "marketing",
                        "granted": True,
                        "obtained_at": now - timedelta(days=30),
                        "method": "web-form",
                        "evidence": "",
                        "recorded_by": "bench",
                        "created_at": now,
                        "updated_at": now,
                    }
                )
            s.execute(insert(Contact), contacts)
            s.execute(insert(ConsentRecord), consents)
            s.execute(
                insert(NationalDncNumber),
                [
                    {"id": uuid.uuid4(), "number": f"+1303555{i:04d}", "created_at": now, "updated_at": now}
                    for i in range(10_000)
                ]
                + [
                    {"id": uuid.uuid4(), "number": f"+1720{i:07d}", "created_at": now, "updated_at": now}
                    for i in range(90_000)
                ],
            )
            s.execute(
                insert(ReassignedNumber),
                [
                    {
                        "id": uuid.uuid4(),
                        "number": f"+1303666{i:04d}",
                        "disconnected_on": now.date(),
                        "created_at": now,
                        "updated_at": now,
                    }
                    for i in range(10_000)
                ],
            )
            campaign = Campaign(
                tenant_id=tid,
                name="Bench",
                channel="sms",
                purpose="marketing",
                list_id=list_id,
                from_number=number,
                body="Winter sale: 20% off. Reply STOP to opt out.",
                rate_per_s=args.rate,
                scheduled_at=now,
            )
            s.add(campaign)
            s.flush()
            cid = campaign.id
        # The decisions alone (the scrub's lookups and quiet hours, no send), 200 at a time as the
        # runner takes them.
        with sessions() as s:
            rows = list(s.scalars(select(Contact).where(Contact.list_id == list_id)))
            d0 = time.perf_counter()
            decided = {"send": 0, "defer": 0, "skip": 0}
            for i in range(0, len(rows), 200):
                part = rows[i : i + 200]
                scrub = Scrub(s, tid, "sms", "marketing", [c.number for c in part])
                for c in part:
                    decided[scrub.decide(Target(c.number, c), datetime.now(UTC)).action] += 1
            decide_s = time.perf_counter() - d0
        sim = SmscSimulator().start()
        messenger = Messenger(sessions, SmppConnector("127.0.0.1", sim.port)).start()
        assert messenger.connector is not None and messenger.connector.wait_bound(10)  # type: ignore[attr-defined]
        runner = CampaignRunner(sessions, messenger=lambda: messenger, max_rate=args.rate, batch=200)
        t0 = time.perf_counter()
        assert runner.take(cid, datetime.now(UTC))
        runner.enroll(cid)
        enrolled = time.perf_counter() - t0
        # run() waits for the night contacts' morning: stop once every day contact is sent.
        worker = threading.Thread(target=runner.run, args=(cid,), daemon=True)
        worker.start()
        while True:
            with sessions() as s:
                counts = dict(
                    s.execute(
                        select(CampaignRecipient.status, func.count())
                        .where(CampaignRecipient.campaign_id == cid)
                        .group_by(CampaignRecipient.status)
                    ).all()
                )
            if (
                counts.get("sent", 0) + counts.get("failed", 0) >= n_day
                and counts.get("deferred", 0) >= n_night
            ):
                break
            time.sleep(0.05)
        elapsed = time.perf_counter() - t0
        runner.stop()
        worker.join(10)
        received = len(sim.submissions)
        messenger.stop()
        sim.stop()
        engine.dispose()
    print(
        f"campaign of {args.contacts} contacts ({n_day} where it is day: {day_zone};"
        f" {n_night} at night: {night_zone})"
    )
    print(f"  registry copies: 100,000 National DNC numbers, 10,000 reassigned; throttle {args.rate:g}/s")
    print(
        f"  scrub + quiet hours alone: {args.contacts} decisions in {decide_s:.2f} s"
        f" ({args.contacts / decide_s:,.0f}/s): {decided}"
    )
    print(f"  enrolled in {enrolled:.2f} s; all decided after {elapsed:.2f} s: {counts}")
    print(f"  carrier received {received} submit_sm")
    print(
        f"  => {args.contacts / elapsed:,.0f} contacts decided/s,"
        f" {counts.get('sent', 0) / elapsed:,.0f} sends/s"
    )


if __name__ == "__main__":
    main()
