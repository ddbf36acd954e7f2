"""Who owns a park slot, a queue or a conference room across nodes (docs/scale-out.md "What is
owned"): the store side of pbx/owners.py.

- ``claim`` makes this node the owner when nobody (alive) owns the key, and answers who owns it:
  None when it is this node, else the owner's SIP address. Race-safe: ``INSERT … ON CONFLICT DO
  NOTHING`` on the (tenant, kind, key) unique constraint, then a read of the row that won; a row
  of a node whose heartbeat is older than ``stale_s`` (or that is gone from ``switch_nodes``) is
  deleted and claimed again in the same transaction.
- ``owner`` only reads: the address of another live node owning the key, else None.
- ``release`` removes this node's row; ``release_node`` every row of a dead node (called by
  adapters/interrupted.py in the transaction that takes its calls over).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, sessionmaker

from centrex.store.db import transaction
from centrex.store.models import SwitchNode
from centrex.store.models.ownership import OwnedState


def node_address(host: str, port: int) -> str:
    """A node's SIP URI as other nodes and Kamailio reach it (its advertised address)."""
    return f"sip:[{host}]:{port}" if ":" in host else f"sip:{host}:{port}"


def release_node(s: Session, node_ids: set[uuid.UUID]) -> int:
    """Every row of these (dead) nodes: their parks, queues and rooms died with them."""
    if not node_ids:
        return 0
    return int(s.execute(delete(OwnedState).where(OwnedState.node_id.in_(node_ids))).rowcount)  # type: ignore[attr-defined]


class StoreOwnership:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        node_id: uuid.UUID,
        address: str,
        *,
        stale_s: float = 30.0,
    ) -> None:
        self.sessions = sessions
        self.node_id = node_id
        self.address = address  # this node's SIP URI, e.g. sip:10.0.0.11:5060
        self.stale_s = stale_s

    def _live_owner(self, s: Session, tenant_id: uuid.UUID, kind: str, key: str) -> OwnedState | bool | None:
        """The row of the key (None: no row); False: a row of a dead node (deleted here)."""
        row = s.scalar(
            select(OwnedState).where(
                OwnedState.tenant_id == tenant_id, OwnedState.kind == kind, OwnedState.key == key
            )
        )
        if row is None or row.node_id == self.node_id:
            return row
        alive_at = s.scalar(select(SwitchNode.alive_at).where(SwitchNode.id == row.node_id))
        cutoff = datetime.now(UTC) - timedelta(seconds=self.stale_s)
        if alive_at is None or alive_at <= cutoff:
            s.execute(delete(OwnedState).where(OwnedState.id == row.id))
            return False
        return row

    def claim(self, tenant_id: uuid.UUID, kind: str, key: str) -> str | None:
        """This node owns the key from now on unless another live node does: None, or its address."""
        with transaction(self.sessions) as s:
            for _ in range(2):
                insert = pg_insert if s.get_bind().dialect.name == "postgresql" else sqlite_insert
                now = datetime.now(UTC)
                s.execute(
                    insert(OwnedState)
                    .values(
                        id=uuid.uuid4(),
                        created_at=now,
                        updated_at=now,
                        tenant_id=tenant_id,
                        kind=kind,
                        key=key,
                        node_id=self.node_id,
                        address=self.address,
                        since=now,
                    )
                    .on_conflict_do_nothing(index_elements=["tenant_id", "kind", "key"])
                )
                row = self._live_owner(s, tenant_id, kind, key)
                if row is False:
                    continue  # the owner was dead: its row is gone, claim again
                if isinstance(row, OwnedState) and row.node_id != self.node_id:
                    return row.address
                return None
        return None  # pragma: no cover

    def owner(self, tenant_id: uuid.UUID, kind: str, key: str) -> str | None:
        """The address of another live node owning the key; None when nobody else does."""
        with transaction(self.sessions) as s:
            row = self._live_owner(s, tenant_id, kind, key)
            if isinstance(row, OwnedState) and row.node_id != self.node_id:
                return row.address
        return None

    def release(self, tenant_id: uuid.UUID, kind: str, key: str) -> None:
        with transaction(self.sessions) as s:
            s.execute(
                delete(OwnedState).where(
                    OwnedState.tenant_id == tenant_id,
                    OwnedState.kind == kind,
                    OwnedState.key == key,
                    OwnedState.node_id == self.node_id,
                )
            )

    def owned(self) -> list[tuple[uuid.UUID, str, str]]:
        """This node's rows (tenant, kind, key)."""
        with self.sessions() as s:
            rows = s.execute(
                select(OwnedState.tenant_id, OwnedState.kind, OwnedState.key).where(
                    OwnedState.node_id == self.node_id
                )
            )
            return [(t, k, key) for t, k, key in rows]
