"""SIP parse/serialize and endpoint throughput. Prints figures; not a test.

.venv/bin/python bench/sip_parse_bench.py [seconds-per-case]
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

from centrex.sip.endpoint import SipEndpoint
from centrex.sip.events import RequestReceived
from centrex.sip.message import make_response, parse_message

INVITE = (
    b"INVITE sip:bob@biloxi.example.com SIP/2.0\r\n"
    b"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds;rport\r\n"
    b"Max-Forwards: 70\r\n"
    b"To: Bob <sip:bob@biloxi.example.com>\r\n"
    b'From: "Alice" <sip:alice@atlanta.example.com>;tag=1928301774\r\n'
    b"Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n"
    b"CSeq: 314159 INVITE\r\n"
    b"Contact: <sip:alice@192.0.2.10:5060>\r\n"
    b"Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, REFER, NOTIFY\r\n"
    b"Supported: replaces, timer\r\n"
    b"User-Agent: bench\r\n"
    b"Content-Type: application/sdp\r\n"
    b"Content-Length: 142\r\n\r\n"
    b"v=0\r\no=alice 2890844526 2890844526 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\n"
    b"t=0 0\r\nm=audio 49170 RTP/AVP 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\n"
)


def rate(name: str, fn: Callable[[int], None], seconds: float) -> None:
    n, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        fn(n)
        n += 1
    print(f"{name:<44} {n / elapsed:>10,.0f} /s   {elapsed / n * 1e6:8.1f} µs each")


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 2.0
    message = parse_message(INVITE)
    rate("parse INVITE with SDP (bytes -> Request)", lambda _: parse_message(INVITE), seconds)
    rate("serialize INVITE (Request -> bytes)", lambda _: message.serialize(), seconds)
    endpoint = SipEndpoint(("198.51.100.1", 5060))

    def transaction(i: int) -> None:
        # A new INVITE server transaction, its 100 Trying and a 486 from the TU.
        endpoint.receive_datagram(INVITE.replace(b"776asdhds", b"%08d" % i), ("192.0.2.10", 5060), 0.0)
        event = endpoint.next_event()
        assert isinstance(event, RequestReceived)
        endpoint.send_response(make_response(event.request, 486, to_tag="t"), 0.0)
        endpoint.datagrams_to_send()

    rate("endpoint: INVITE in, 100 + 486 out", transaction, seconds)
    print(f"(live transactions at the end: {endpoint.transaction_count})")


if __name__ == "__main__":
    main()
