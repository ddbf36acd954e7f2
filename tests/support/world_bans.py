"""World rows of the bans family (issue 13 point 4): per tenant of the world one active SIP ban
and one operator allowlist entry (documentation addresses, RFC 5737)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from centrex.store.models.bans import BanAllowRow, BanRow
from centrex.store.types import utcnow
from tests.support.world import TenantWorld

NET = {"alpha.example.com": 10, "beta.example.com": 20}


def extend(session: Session, tw: TenantWorld) -> None:
    n = NET[tw.domain]
    now = utcnow()
    ban = BanRow(
        realm="sip",
        source=f"203.0.113.{n + 100}",
        started_at=now,
        until=now + timedelta(days=1),
        failures=5,
        last_username="1001",
    )
    allow = BanAllowRow(network=f"198.51.100.{n + 100}/32", note="monitoring")
    session.add_all([ban, allow])
    session.flush()
    tw.ids["ban"] = ban.id
    tw.ids["ban_allow"] = allow.id
