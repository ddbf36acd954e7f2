"""CPU per call through the call core alone: no sockets, no store, no relay.

    PYTHONPATH=.:src .venv/bin/python bench/engine_bench.py [N]       # best of RUNS (5) x N calls
    RUNS=1 PYTHONPATH=.:src valgrind --tool=callgrind .venv/bin/python bench/engine_bench.py N
    OBS=1 ...                                                   # with the metrics and log labels

The engine with every standard service, driven by the tests' fake network and memory directory
(tests/calls/engine_harness.py): INVITE → 407 → INVITE with digest → 180 → 200 → BYE from the
caller, N times. It isolates what the call core and its services cost per call from the
transports, the parser's socket path and the store. Run it under callgrind twice (N and 4N) and
take the difference over 3N calls: instructions per call, the same whatever else the machine is
doing (docs/performance.md, "The call core split").
"""

from __future__ import annotations

import gc
import os
import sys
import time

from tests.calls.engine_harness import in_dialog, make_bench

from centrex.calls.log_labels import CallLabels
from centrex.ops.metrics_switch import CallCounts


def run(n: int) -> float:
    b = make_bench()
    if os.environ.get("OBS") == "1":
        # What `centrex serve` adds per call for /metrics and log labels (docs/performance.md
        # "Metrics and log labels on the call path"): the call counters and the end's log label.
        b.engine.listeners.append(CallCounts())
        b.engine.register(CallLabels())
    b.register("1001", 5061)
    b.register("1002", 5062)
    b.net.take()
    t0 = time.process_time()
    for i in range(n):
        b.call("1001", "1002")
        leg = b.invites()[-1]
        b.respond(leg, 180, to_tag="b1")
        b.respond(leg, 200, to_tag="b1", body=b"v=0 answer")
        ok = [r for r in b.responses() if r.status == 200][-1]
        b.net.take()
        bye = in_dialog("BYE", b.a_invite.call_id, "fa1001", ok.to.tag or "", 3, f"z9hG4bKbye{i}")
        b.request(bye, ("10.0.0.9", 5061))
        b.net.take()
    assert len(b.ended) == n and b.engine.active_calls == 0
    return (time.process_time() - t0) / n * 1e6


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    runs = int(os.environ.get("RUNS", "5"))
    gc.collect()
    best = min(run(n) for _ in range(runs))
    print(f"{best:.1f} µs CPU per call through the call core (best of {runs} x {n} calls)")


if __name__ == "__main__":
    main()
