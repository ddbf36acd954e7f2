"""Who owns a park slot, a queue or a conference room across nodes (adapters/ownership.py), on
SQLite and PostgreSQL: the first claim wins, even racing; another node reads the owner's
address; a node releases only its own rows; a dead node's rows go when a survivor takes over."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from centrex.adapters.call_records import CallRecords
from centrex.adapters.ownership import StoreOwnership
from centrex.store.db import make_engine, make_sessionmaker, transaction
from centrex.store.models import SwitchNode, Tenant
from centrex.store.models.ownership import OwnedState


def cluster(db_url: str, names: list[str]) -> tuple[uuid.UUID, list[CallRecords], list[StoreOwnership]]:
    sessions = make_sessionmaker(make_engine(db_url))
    with transaction(sessions) as s:
        tenant = Tenant(name="Acme", sip_domain="acme.example.com")
        s.add(tenant)
        s.flush()
        tenant_id = tenant.id
    nodes = [CallRecords(sessions, name=n) for n in names]
    owners = []
    for i, node in enumerate(nodes):
        node.register_node(datetime.now(UTC))
        owners.append(StoreOwnership(sessions, node.node_id, f"sip:127.0.0.1:{5071 + i}", stale_s=30))
    return tenant_id, nodes, owners


def test_the_first_claim_owns_and_the_others_are_told_where(db_url: str) -> None:
    tenant, _, (a, b) = cluster(db_url, ["a", "b"])
    assert a.claim(tenant, "park", "1") is None  # a owns slot 1
    assert a.claim(tenant, "park", "1") is None  # again: still a's
    assert b.claim(tenant, "park", "1") == "sip:127.0.0.1:5071"
    assert b.owner(tenant, "park", "1") == "sip:127.0.0.1:5071"
    assert a.owner(tenant, "park", "1") is None  # its own: nothing to redirect
    assert b.owner(tenant, "park", "2") is None and b.owner(tenant, "queue", "1") is None
    b.release(tenant, "park", "1")  # not b's: nothing happens
    assert b.owner(tenant, "park", "1") == "sip:127.0.0.1:5071"
    assert a.owned() == [(tenant, "park", "1")]
    a.release(tenant, "park", "1")
    assert b.owner(tenant, "park", "1") is None
    assert b.claim(tenant, "park", "1") is None and a.claim(tenant, "park", "1") == "sip:127.0.0.1:5072"


def test_keys_are_per_tenant_and_kind(db_url: str) -> None:
    tenant, _, (a, b) = cluster(db_url, ["a", "b"])
    with transaction(a.sessions) as s:
        other = Tenant(name="Other", sip_domain="other.example.com")
        s.add(other)
        s.flush()
        other_id = other.id
    assert a.claim(tenant, "conference", "7") is None
    assert b.claim(other_id, "conference", "7") is None  # another tenant's room 7
    assert b.claim(tenant, "queue", "7") is None  # a queue is not a room
    assert b.owner(tenant, "conference", "7") == "sip:127.0.0.1:5071"
    assert a.owner(other_id, "conference", "7") == "sip:127.0.0.1:5072"


def test_racing_first_claims_make_one_owner(db_url: str) -> None:
    tenant, _, owners = cluster(db_url, [f"n{i}" for i in range(6)])
    results: dict[int, str | None] = {}
    errors: list[BaseException] = []
    start = threading.Barrier(len(owners))

    def claim(i: int) -> None:
        start.wait()
        try:
            results[i] = owners[i].claim(tenant, "queue", "support")
        except BaseException as e:  # pragma: no cover - shown by the assertion below
            errors.append(e)

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(len(owners))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors
    winners = [i for i, r in results.items() if r is None]
    assert len(results) == 6 and len(winners) == 1
    assert {r for r in results.values() if r is not None} == {owners[winners[0]].address}
    with owners[0].sessions() as s:
        assert len(s.scalars(select(OwnedState)).all()) == 1


def test_a_dead_nodes_rows_go_when_a_survivor_takes_over(db_url: str) -> None:
    tenant, (node_a, node_b), (a, b) = cluster(db_url, ["a", "b"])
    a.claim(tenant, "park", "1")
    a.claim(tenant, "conference", "9")
    b.claim(tenant, "queue", "3")
    old = datetime.now(UTC) - timedelta(seconds=120)
    with transaction(a.sessions) as s:  # a's heartbeat stopped two minutes ago
        s.execute(update(SwitchNode).where(SwitchNode.id == node_a.node_id).values(alive_at=old))
    # Even before the takeover, a stale owner is no owner: b is not sent to a dead node.
    assert b.owner(tenant, "conference", "9") is None
    node_b.recover(stale_s=30)
    with a.sessions() as s:
        rows = s.execute(select(OwnedState.kind, OwnedState.key, OwnedState.node_id)).all()
    assert rows == [("queue", "3", node_b.node_id)]
    assert b.claim(tenant, "park", "1") is None  # the survivor may park in slot 1 now


def test_a_claim_over_a_dead_owner_takes_the_key(db_url: str) -> None:
    tenant, (node_a, _), (a, b) = cluster(db_url, ["a", "b"])
    assert a.claim(tenant, "queue", "support") is None
    with transaction(a.sessions) as s:  # a gone from switch_nodes without a takeover
        s.execute(
            update(SwitchNode)
            .where(SwitchNode.id == node_a.node_id)
            .values(alive_at=datetime(2020, 1, 1, tzinfo=UTC))
        )
    assert b.claim(tenant, "queue", "support") is None
    assert a.owner(tenant, "queue", "support") == "sip:127.0.0.1:5072"
