"""Call-center queues in the call path (issue #4 point 4): the caller answered at once with music,
agents offered one at a time (longest idle first), wrap-up, maximum wait and overflow, abandoned
calls, agent log-in by feature code — through CallEngine with the relay port recorded."""

from __future__ import annotations

import uuid

from centrex.calls.directory import QueueInfo
from centrex.pbx.queue_model import MemoryQueues
from centrex.pbx.queues import Queues
from centrex.sip.message import Request

from .engine_harness import Bench, in_dialog, make_bench
from .test_calls_transfer import ANSWER, Anchor


def queue_bench(
    agents: tuple[str, ...] = ("1002", "1003"), **settings: object
) -> tuple[Bench, Anchor, MemoryQueues, QueueInfo]:
    b = make_bench()
    anchor = Anchor()
    b.engine.media = anchor
    queues = MemoryQueues()
    q = QueueInfo(uuid.uuid4(), b.org.tenant_a.id, "Support", "3000", **settings)  # type: ignore[arg-type]
    queues.queues[q.id] = q
    queues.member_ids[q.id] = [b.user(e).id for e in ("1002", "1003", "1004")]
    queues.logged_in[q.id] = [b.user(e).id for e in agents]
    b.engine.service(Queues).store = queues
    for ext, port in (("1001", 5061), ("1002", 5062), ("1003", 5063), ("1004", 5064)):
        b.register(ext, port)
    b.net.take()
    return b, anchor, queues, q


def rung(b: Bench) -> list[int]:
    return [s.addr[1] for s in b.invites() if s.addr is not None]


def kinds(queues: MemoryQueues) -> list[str]:
    return [e.kind for e in queues.events]


def test_the_caller_is_answered_with_music_and_agents_are_offered_one_at_a_time() -> None:
    b, anchor, queues, _ = queue_bench(agent_ring_s=10)
    b.call("1001", "3000")
    oks = [r for r in b.responses() if r.status == 200]
    assert len(oks) == 1 and b"m=audio 40000" in oks[0].body  # answered on the relay at once
    assert ("music-on", "a", 0) in anchor.remotes
    assert rung(b) == [5062]  # one agent at a time
    b.net.take()
    b.tick(10.5)  # 1002 does not answer in agent_ring_s
    b.tick(0.01)
    assert rung(b) == [5063] and len(b.net.cancels) == 1
    [leg] = b.invites()
    b.net.take()
    b.tick(3)
    b.respond(leg, 200, to_tag="agent", body=ANSWER)
    assert not [r for r in b.responses() if r.status == 200]  # the caller is not answered twice
    assert ("music-off", "a", 0) in anchor.remotes
    answered = [e for e in queues.events if e.kind == "answered"]
    assert len(answered) == 1 and answered[0].agent_id == b.user("1003").id
    assert answered[0].wait_ms is not None and 13000 <= answered[0].wait_ms <= 14000
    assert kinds(queues) == ["entered", "answered"]


def test_wrap_up_keeps_an_agent_out_for_a_while_after_a_queue_call() -> None:
    b, _, _, _ = queue_bench(agents=("1002",), wrap_up_s=30, agent_ring_s=10)
    b.call("1001", "3000")
    [leg] = b.invites()
    b.respond(leg, 200, to_tag="agent", body=ANSWER)
    call = next(iter(b.engine.calls.values()))
    ok = next(r for r in b.responses() if r.status == 200)
    b.net.take()
    bye = in_dialog("BYE", call.a_invite.call_id, "fa1001", ok.to.tag or "", 3, "z9hG4bKqb1")
    b.request(bye, ("10.0.0.9", 5061))
    b.net.take()
    b.call("1001", "3000", port=5065)
    b.tick(0.01)
    assert rung(b) == []  # 1002 is in wrap-up
    b.tick(31)
    b.tick(0.01)
    assert rung(b) == [5062]


def test_max_wait_overflows_to_the_destination_and_a_caller_who_hangs_up_is_abandoned() -> None:
    b, anchor, queues, _ = queue_bench(agents=(), max_wait_s=60, overflow_destination="1004")
    b.call("1001", "3000")
    assert rung(b) == []
    b.net.take()
    b.tick(60.5)
    assert rung(b) == [5064] and ("music-off", "a", 0) in anchor.remotes
    assert kinds(queues) == ["entered", "overflowed"]
    b.net.take()
    b.call("1001", "3000", port=5065)
    call = next(c for c in b.engine.calls.values() if c.queue is not None)
    ok = next(r for r in b.responses() if r.status == 200)
    bye = in_dialog("BYE", call.a_invite.call_id, "fa1001", ok.to.tag or "", 3, "z9hG4bKqb2")
    b.request(bye, ("10.0.0.9", 5065))
    assert [r.status for r in b.responses()][-1] == 200
    assert kinds(queues)[-1] == "abandoned" and b.ended[-1].hangup_cause == "caller_bye_waiting"


def test_agents_log_in_and_out_by_feature_code_and_non_members_are_refused() -> None:
    b, _, queues, q = queue_bench(agents=())
    b.call("1004", "*453000", port=5064)
    assert queues.logged_in[q.id] == [b.user("1004").id] and kinds(queues) == ["agent_login"]
    oks = [r for r in b.responses() if r.status == 200]
    assert oks  # answered, then hung up after a second
    b.tick(1.1)
    assert any(isinstance(s.message, Request) and s.message.method == "BYE" for s in b.net.sent)
    b.net.take()
    b.call("1004", "*463000", port=5066)
    assert queues.logged_in[q.id] == []
    b.net.take()
    b.call("1001", "*453000", port=5061)
    assert [r.status for r in b.responses() if r.status >= 200] == [403]
