"""Peering fixtures: an operator's access to a migrated database, and our two POPs and two peers
(public-looking numbers; the policy refuses documentation ASNs and prefixes)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from centrex.ops import peering
from centrex.store.access import OperatorData, Principal
from centrex.store.db import make_engine, make_sessionmaker, transaction
from centrex.store.models import Role, TokenKind
from tests.api.conftest import api  # noqa: F401 - the API fixture, for test_cli_api.py

OPERATOR = Principal(TokenKind.OPERATOR, uuid.UUID(int=0), frozenset({Role.OPERATOR}), "test:operator")
OUR_ASN = 397000

CHI = peering.PopSpec("chi1", "350 E Cermak Rd", "Chicago", "23.128.0.1", OUR_ASN, meet_me_room=True)
NYC = peering.PopSpec("nyc1", "60 Hudson St", "New York", "23.128.0.2", OUR_ASN, meet_me_room=False)

ALPHA = peering.PeerSpec(
    name="Alpha Networks",
    asn="AS13335",
    contacts=[("Alpha NOC", "+1 312 555 0100", "noc@alpha.example")],
    sessions=[
        peering.SessionSpec("chi1", "206.223.119.5", "meet_me_room", "206.223.119.1"),
        peering.SessionSpec("chi1", "2001:504:0:4::d:1", "meet_me_room"),
        peering.SessionSpec("nyc1", "198.32.160.5", "cross_connect"),
    ],
    prefixes=[
        ("104.16.0.0/13", "import"),
        ("172.64.0.0/13", "import"),
        ("2606:4700::/32", "import"),
        ("23.128.0.0/22", "export"),
        ("2a0e:97c0::/29", "export"),
    ],
)
BETA = peering.PeerSpec(
    name="Beta Carrier",
    asn=6939,
    contacts=[("Beta NOC", "+1 510 555 0199", "noc@beta.example")],
    sessions=[peering.SessionSpec("chi1", "206.223.119.6", "meet_me_room")],
    prefixes=[("64.62.128.0/18", "import"), ("23.128.0.0/22", "export")],
)


class Store:
    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)
        self.sessions = make_sessionmaker(self.engine)

    @contextmanager
    def ops(self) -> Iterator[OperatorData]:
        with transaction(self.sessions) as session:
            yield OperatorData(session, OPERATOR)


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = Store(db_url)
    try:
        yield s
    finally:
        s.engine.dispose()
