"""SMS throughput through SMPP with delivery receipts, on one core (prints figures; never a timed test).

    .venv/bin/python bench/sms_bench.py [--messages 20000] [--window 100] [--full 2000]

1. The carrier path: the SMPP connector (cpaas/messaging/smpp_connector.py, smpplib's ESME) bound to
   the SMSC simulator (simulator.py, smpplib's PDUs on the server side) on loopback, in this one
   process (one core: the GIL serializes both ends). ``--messages`` single-part messages are
   submitted (submit_sm with registered_delivery) with at most ``--window`` awaiting their
   submit_sm_resp; the clock stops when the last delivery receipt (deliver_sm, answered with
   deliver_sm_resp) has been read. Both ends' PDUs are built and parsed by smpplib.
2. ``--full`` messages through the whole Messenger (checks, message rows, carrier ids and statuses
   in a SQLite file): what one node sustains with its database in the loop.
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
import uuid
from pathlib import Path

from sqlalchemy import func, select

from centrex.cpaas.messaging.dlr import Receipt
from centrex.cpaas.messaging.segments import segment
from centrex.cpaas.messaging.service import Messenger
from centrex.cpaas.messaging.simulator import SmscSimulator
from centrex.cpaas.messaging.smpp_connector import SmppConnector


class Counter:
    def __init__(self, want: int) -> None:
        self.want = want
        self.accepted = self.receipts = self.failed = 0
        self.done = threading.Event()

    def submitted(self, ref: str, part: int, carrier_id: str | None, error: str | None) -> None:
        if carrier_id is None:
            self.failed += 1
        else:
            self.accepted += 1

    def receipt(self, receipt: Receipt) -> None:
        self.receipts += 1
        if self.receipts >= self.want:
            self.done.set()

    def inbound(self, from_: str, to: str, text: str) -> None:
        pass


def carrier_path(n: int, window: int) -> None:
    sim = SmscSimulator().start()
    connector = SmppConnector("127.0.0.1", sim.port, window=window)
    counter = Counter(n)
    connector.start(counter)
    assert connector.wait_bound(10)
    parts = segment("Your verification code is 123456. It expires in 10 minutes.")
    t0 = time.perf_counter()
    for i in range(n):
        connector.submit(f"m{i}", "+12175550100", f"+1617555{i % 10000:04d}", parts)
    submitted = time.perf_counter() - t0
    counter.done.wait(120)
    elapsed = time.perf_counter() - t0
    connector.stop()
    sim.stop()
    print(f"carrier path: {n} messages, window {window}")
    print(f"  submitted in {submitted:.2f} s, last receipt after {elapsed:.2f} s")
    print(f"  accepted {counter.accepted}, receipts {counter.receipts}, failed {counter.failed}")
    print(
        f"  => {counter.receipts / elapsed:,.0f} messages/s submitted with receipts (one process, one core)"
    )


def full_path(n: int) -> None:
    from centrex.store.db import make_engine, make_sessionmaker, transaction
    from centrex.store.migrate import upgrade
    from centrex.store.models import NumberStatus, PhoneNumber, Tenant
    from centrex.store.models.messaging import A2pRegistration, SmsMessage

    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'bench.sqlite3'}")
        upgrade(engine)
        sessions = make_sessionmaker(engine)
        number = "+12175550100"
        with transaction(sessions) as s:
            tenant = Tenant(name="Bench Co", sip_domain=f"bench-{uuid.uuid4().hex[:6]}.example.com")
            s.add(tenant)
            s.flush()
            tenant_id = tenant.id
            s.add(PhoneNumber(e164=number, tenant_id=tenant_id, status=NumberStatus.ASSIGNED))
            s.add(A2pRegistration(tenant_id=tenant_id, kind="10dlc", status="approved", numbers=[number]))
        sim = SmscSimulator().start()
        messenger = Messenger(sessions, SmppConnector("127.0.0.1", sim.port)).start()
        assert messenger.connector is not None and messenger.connector.wait_bound(10)  # type: ignore[attr-defined]
        t0 = time.perf_counter()
        for i in range(n):
            messenger.send(tenant_id, number, f"+1617555{i % 10000:04d}", "Your table is ready.")
        sent = time.perf_counter() - t0
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            with sessions() as s:
                left = s.scalar(select(func.count()).where(SmsMessage.status != "delivered"))
            if not left:
                break
            time.sleep(0.2)
        elapsed = time.perf_counter() - t0
        messenger.stop()
        sim.stop()
        engine.dispose()
        print(f"full path (Messenger + SQLite): {n} messages")
        print(f"  accepted by send() in {sent:.2f} s, all delivered after {elapsed:.2f} s ({left} not)")
        print(f"  => {n / elapsed:,.0f} messages/s end to end with the database in the loop")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=20000)
    parser.add_argument("--window", type=int, default=100)
    parser.add_argument("--full", type=int, default=2000)
    args = parser.parse_args()
    carrier_path(args.messages, args.window)
    if args.full:
        full_path(args.full)


if __name__ == "__main__":
    main()
