"""Route matrix rows of the peering family (issue 19 part 4): POPs, peers, de-peering and the BIRD
configuration are the operator's (anyone else: 404, as if they did not exist)."""

from __future__ import annotations

from tests.api.matrix_roles import Body, next_n


def _peer(w: object) -> dict[str, object]:
    n = next_n()
    return {
        "name": f"Peer {n}",
        "asn": 395000 + n,
        "contacts": [{"name": "NOC", "phone": "+1 312 555 0101", "email": "noc@peer.example"}],
        "sessions": [
            {"pop": "pop10", "neighbor": f"206.223.118.{n % 250 + 1}", "connection": "meet_me_room"}
        ],
        "prefixes": [{"prefix": "23.150.0.0/22", "direction": "import"}],
    }


OPERATOR_ROUTES: list[tuple[str, str, Body]] = [
    ("GET", "/peering/pops", None),
    (
        "POST",
        "/peering/pops",
        lambda w: {
            "name": f"nyc{next_n()}",
            "facility": "60 Hudson St",
            "city": "New York",
            "router_id": "23.128.1.1",
            "local_asn": 397000,
        },
    ),
    ("GET", "/peering/pops/{peering_pop}/bird.conf", None),
    ("GET", "/peering/peers", None),
    ("POST", "/peering/peers", _peer),
    ("GET", "/peering/peers/{peer}", None),
    ("POST", "/peering/peers/{peer}/depeer", lambda w: {"reason": "traffic moved to transit"}),
]
