"""Cost of the RFC 3261 §8.2 request checks (sip/conformance.py) on the request path. Prints
figures; not a test.

.venv/bin/python bench/sip_conformance_bench.py [seconds-per-case]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the sibling parse bench's message

from sip_parse_bench import INVITE, rate

from centrex.sip.conformance import SWITCH_CONFORMANCE, check_request
from centrex.sip.endpoint import SipEndpoint
from centrex.sip.events import RequestReceived
from centrex.sip.message import Request, make_response, parse_message


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 2.0
    request = parse_message(INVITE)
    assert isinstance(request, Request)
    policy = SWITCH_CONFORMANCE.with_local([("198.51.100.1", 5060)])
    assert check_request(request, policy) is None
    rate("check_request on an INVITE (accepted)", lambda _: check_request(request, policy), seconds)
    for label, conformance in (("without", None), ("with", policy)):
        endpoint = SipEndpoint(("198.51.100.1", 5060), conformance=conformance)

        def transaction(i: int, endpoint: SipEndpoint = endpoint) -> None:
            # A new call each time (the same Call-ID and CSeq on another branch would be a merged
            # request, 482).
            data = INVITE.replace(b"776asdhds", b"%08d" % i).replace(b"a84b4c76e66710", b"%014d" % i)
            endpoint.receive_datagram(data, ("192.0.2.10", 5060), 0.0)
            event = endpoint.next_event()
            assert isinstance(event, RequestReceived)
            endpoint.send_response(make_response(event.request, 486, to_tag="t"), 0.0)
            endpoint.datagrams_to_send()

        rate(f"endpoint {label} conformance: INVITE, 100 + 486", transaction, seconds)


if __name__ == "__main__":
    main()
