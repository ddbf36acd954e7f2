"""What logging costs the call path (ops/logs.py): what every SIP message pays (sip_logged: one
context variable set and reset), the labels read for a line that is logged (sip_labels), and one
INFO line in each format written to /dev/null.

    .venv/bin/python bench/bench_logging.py
"""

from __future__ import annotations

import logging
import time

from centrex.ops.logs import configure_logging, log_context, sip_labels, sip_logged
from centrex.sip.events import RequestReceived
from centrex.sip.message import parse_message

INVITE = (
    b"INVITE sip:1002@alpha.example.com SIP/2.0\r\n"
    b"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds\r\n"
    b"Max-Forwards: 70\r\n"
    b"To: <sip:1002@alpha.example.com>\r\n"
    b'From: "Pat Doe" <sip:1001@alpha.example.com>;tag=1928301774\r\n'
    b"Call-ID: a84b4c76e66710@pc33.alpha.example.com\r\n"
    b"CSeq: 314159 INVITE\r\n"
    b"Content-Length: 0\r\n\r\n"
)


def per_op_us(fn: object, n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        fn()  # type: ignore[operator]
    return (time.perf_counter() - start) / n * 1e6


def main() -> None:
    event = RequestReceived(parse_message(INVITE), ("192.0.2.10", 5060), None)  # type: ignore[arg-type]

    class Service:
        @sip_logged
        def on_event(self, event: object) -> None:
            pass

        def bare(self, event: object) -> None:
            pass

    service = Service()
    wrapped = per_op_us(lambda: service.on_event(event), 500_000)
    bare = per_op_us(lambda: service.bare(event), 500_000)
    print(f"every SIP event (sip_logged wrapper): {wrapped - bare:.2f} µs more than a bare call")
    print(f"labels of a logged line (sip_labels): {per_op_us(lambda: sip_labels(event), 200_000):.2f} µs")
    log = logging.getLogger("centrex.calls.engine")
    with open("/dev/null", "w") as sink:
        for fmt in ("console", "json"):
            configure_logging("INFO", fmt, sink)

            def line() -> None:
                with log_context(call_id="a84b4c76e66710@pc33", tenant="alpha.example.com"):
                    log.info("sip.call.start call=%s tenant=%s from=%s", "c1", "t1", "1001")

            print(f"one INFO line, {fmt}: {per_op_us(line, 100_000):.2f} µs")
        configure_logging("WARNING", "json", sink)

        def skipped() -> None:
            log.info("sip.call.start call=%s tenant=%s from=%s", "c1", "t1", "1001")

        print(f"one INFO line below --log-level WARNING: {per_op_us(skipped, 500_000):.2f} µs")


if __name__ == "__main__":
    main()
