"""Two call engines in one process on one store (SQLite and PostgreSQL), as two nodes behind
Kamailio: a park retrieval or a conference call reaching the node that does not own the slot or
the room is answered 302 with the owner's address (pbx/owners.py); the owner takes it; a slot
another node holds is not parked in twice; what is released is served where the call lands."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from centrex.adapters.call_records import CallRecords
from centrex.adapters.ownership import StoreOwnership
from centrex.calls.auth import PhoneAuthenticator
from centrex.calls.directory import QueueInfo
from centrex.calls.engine import CallEngine
from centrex.calls.events import CallEnded
from centrex.calls.guard import SourceGuard
from centrex.calls.location import LocationService
from centrex.pbx.apps import Apps
from centrex.pbx.owners import SWEEP_S, Owners
from centrex.pbx.queue_model import MemoryQueues
from centrex.pbx.queues import Queues
from centrex.sip.message import Request, Response
from centrex.store.db import make_engine, make_sessionmaker, transaction
from centrex.store.models import Tenant
from centrex.switchboard import standard_services

from ..calls.engine_harness import Bench, FakeNetwork, in_dialog, make_bench
from ..calls.helpers import DOMAIN_A
from ..calls.test_calls_pickup import answered_by_1002, park
from ..calls.test_calls_transfer import Anchor

BRIDGE = uuid.uuid4()


def two_nodes(db_url: str) -> tuple[Bench, Bench]:
    a = make_bench()
    guard, location, net, ended = SourceGuard(), LocationService(), FakeNetwork(), list[CallEnded]()
    auth = PhoneAuthenticator(a.org.directory, b"k" * 32, guard)
    engine = CallEngine(
        a.org.directory,
        auth,
        location,
        net,
        on_call_ended=ended.append,
        services=standard_services().ordered(),
    )
    b = Bench(a.org, engine, net, location, guard, ended)
    sessions = make_sessionmaker(make_engine(db_url))
    with transaction(sessions) as s:
        s.add(Tenant(id=a.org.tenant_a.id, name="Acme", sip_domain=DOMAIN_A))
    for i, bench in enumerate((a, b)):
        node = CallRecords(sessions, name=f"node-{i}")
        node.register_node(datetime.now(UTC))
        bench.engine.service(Owners).store = StoreOwnership(
            sessions, node.node_id, f"sip:127.0.0.1:{5071 + i}"
        )
        bench.engine.media = Anchor()
        apps = bench.engine.service(Apps)
        apps.address = ("127.0.0.1", 5090 + i)  # each node's app server
        apps.conference_by_extension = lambda _t, ext: f"conf.{BRIDGE}" if ext == "8000" else None
        for ext, port in (("1001", 5061), ("1002", 5062), ("1003", 5063), ("1004", 5064)):
            bench.register(ext, port)
    return a, b


def final(b: Bench) -> Response:
    return [r for r in b.responses() if r.status >= 200][-1]


def test_a_retrieval_on_the_other_node_is_sent_to_the_parking_node(db_url: str) -> None:
    a, b = two_nodes(db_url)
    leg, _ = answered_by_1002(a)
    park(a, leg)
    parked = next(iter(a.engine.calls.values()))
    assert parked.parked == 1
    b.call("1003", "*711", port=5063)
    moved = final(b)
    assert moved.status == 302 and moved.headers.get("Contact") == "<sip:*711@127.0.0.1:5071>"
    assert b.ended[-1].hangup_cause == "moved" and not b.engine.calls
    # Kamailio follows the 302 to node 0, which hands the parked call over.
    a.call("1003", "*711", port=5063)
    assert final(a).status == 200 and parked.parked is None
    # Once the slot is swept free, a retrieval on node 1 is its own business: nothing parked.
    a.tick(SWEEP_S + 0.1)
    a.tick(SWEEP_S + 0.1)
    b.net.take()
    b.call("1004", "*711", port=5064)
    assert final(b).status == 404


def test_a_slot_held_by_another_node_is_not_parked_in(db_url: str) -> None:
    a, b = two_nodes(db_url)
    leg, _ = answered_by_1002(a)
    park(a, leg)  # slot 1 on node 0
    leg_b, _ = answered_by_1002(b)
    sent = park(b, leg_b, "1")  # asked for slot 1 on node 1: taken
    assert [s.message.status for s in sent if isinstance(s.message, Response)] == [486]
    leg_b2 = [s for s in sent if isinstance(s.message, Request)]
    assert not leg_b2  # nothing released: the call stays up
    refer = in_dialog("REFER", leg_b.call_id, "b1", leg_b.from_.tag or "", 3, "z9hG4bKpark2")
    refer.headers.add("Refer-To", "<sip:*70@a.example.com>")  # any slot: the first free of all nodes
    b.request(refer, ("10.0.0.9", 5062))
    sent = b.net.take()
    assert [s.message.status for s in sent if isinstance(s.message, Response)] == [202]
    assert next(iter(b.engine.calls.values())).parked == 2


def test_a_second_caller_to_a_conference_goes_to_the_node_with_the_room(db_url: str) -> None:
    a, b = two_nodes(db_url)
    a.call("1001", "8000")
    [to_app] = a.invites()
    assert to_app.addr == ("127.0.0.1", 5090)  # the first caller opens the room on node 0
    b.call("1002", "8000", port=5062)
    moved = final(b)
    assert moved.status == 302 and moved.headers.get("Contact") == "<sip:8000@127.0.0.1:5071>"
    # The room's last caller on node 0 leaves: the room is nobody's; the next caller opens it
    # where its call lands.
    a.respond(to_app, 486)
    assert not a.engine.calls
    b.net.take()
    b.call("1003", "8000", port=5063)
    [to_app_b] = b.invites()
    assert to_app_b.addr == ("127.0.0.1", 5091)
    a.net.take()
    a.call("1004", "8000", port=5064)
    assert final(a).status == 302 and final(a).headers.get("Contact") == "<sip:8000@127.0.0.1:5072>"


def test_a_second_caller_to_a_queue_waits_on_the_node_with_its_callers(db_url: str) -> None:
    a, b = two_nodes(db_url)
    q = QueueInfo(uuid.uuid4(), a.org.tenant_a.id, "Support", "3000")
    for bench in (a, b):  # the same queue in both nodes' view of the store; no agent logged in
        queues = MemoryQueues()
        queues.queues[q.id] = q
        queues.member_ids[q.id] = [a.user("1004").id]
        bench.engine.service(Queues).store = queues
    a.call("1001", "3000")
    waiting = next(iter(a.engine.calls.values()))
    assert waiting.queue is not None and final(a).status == 200  # answered with music, waiting
    b.call("1002", "3000", port=5062)
    moved = final(b)
    assert moved.status == 302 and moved.headers.get("Contact") == "<sip:3000@127.0.0.1:5071>"
    # Behind Kamailio the INVITE goes on to node 0: the second caller waits in the same line.
    a.call("1002", "3000", port=5062)
    assert sorted(c.queue is not None for c in a.engine.calls.values()) == [True, True]
    assert [c.caller.extension for c in a.engine.service(Queues)._waiting[q.id] if c.caller] == [
        "1001",
        "1002",
    ]
