"""The store side of the toll-fraud guard: permissions and the operator's high-risk list (cached
2 s), the rate of a destination on the tenant's plan deck, and the month's spend meters."""

from __future__ import annotations

import logging
import time
import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session, sessionmaker

from centrex.billing.deck import RateDeck
from centrex.billing.deck_service import deck_for_plan
from centrex.fairuse.toll_rules import ZERO, TollPolicy, TollView, high_risk_prefix
from centrex.store.db import transaction
from centrex.store.errors import Invalid
from centrex.store.models import BillingPlan
from centrex.store.models.admission import HighRiskPrefix, SpendMeter, TollPermission

log = logging.getLogger(__name__)

CACHE_S = 2.0  # tests set StoreToll.ttl_s = 0


def policy_of(row: TollPermission) -> TollPolicy:
    return TollPolicy(row.international, row.premium, row.spend_limit, row.max_international_calls)


def load_view(session: Session, tenant_id: uuid.UUID) -> TollView:
    tenant = TollPolicy()
    users: dict[uuid.UUID, TollPolicy] = {}
    for row in session.scalars(select(TollPermission).where(TollPermission.tenant_id == tenant_id)):
        if row.user_id is None:
            tenant = policy_of(row)
        else:
            users[row.user_id] = policy_of(row)
    risky = tuple((r.prefix, r.rate_per_minute) for r in session.scalars(select(HighRiskPrefix)))
    return TollView(tenant, users, risky)


def _scope(tenant_id: uuid.UUID, user_id: uuid.UUID | None, month: str) -> list[ColumnElement[bool]]:
    return [
        SpendMeter.tenant_id == tenant_id,
        SpendMeter.month == month,
        SpendMeter.user_id.is_(None) if user_id is None else SpendMeter.user_id == user_id,
    ]


class StoreToll:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions
        self._views: dict[uuid.UUID, tuple[float, TollView]] = {}
        self._decks: dict[uuid.UUID, tuple[float, RateDeck | None]] = {}
        self.ttl_s = CACHE_S

    def view(self, tenant_id: uuid.UUID, now: float) -> TollView:
        hit = self._views.get(tenant_id)
        mono = time.monotonic()
        if hit is not None and mono - hit[0] < self.ttl_s:
            return hit[1]
        with self.sessions() as session:
            view = load_view(session, tenant_id)
        self._views[tenant_id] = (mono, view)
        return view

    def rate(self, tenant_id: uuid.UUID, e164: str, at: datetime) -> Decimal:
        """The per-minute rate the guard meters a call at: the operator's high-risk rate, else the
        tenant's plan deck; 0 when neither knows the destination."""
        risky = high_risk_prefix(e164, self.view(tenant_id, 0.0).high_risk)
        if risky is not None and risky[1] is not None:
            return risky[1]
        deck = self._deck(tenant_id)
        row = deck.lookup(e164, at) if deck is not None else None
        return row.rate_per_minute if row is not None else ZERO

    def _deck(self, tenant_id: uuid.UUID) -> RateDeck | None:
        """The tenant's plan deck, cached like the view: a call out is not a database round trip."""
        hit = self._decks.get(tenant_id)
        mono = time.monotonic()
        if hit is not None and mono - hit[0] < self.ttl_s:
            return hit[1]
        deck: RateDeck | None = None
        with self.sessions() as session:
            plan = session.scalar(select(BillingPlan).where(BillingPlan.tenant_id == tenant_id))
            if plan is not None:
                try:
                    deck, _ = deck_for_plan(session, plan)
                except Invalid:  # the plan names a deck not imported: the invoice run reports it
                    log.warning("fraud.rate.no_deck tenant=%s", tenant_id)
        self._decks[tenant_id] = (mono, deck)
        return deck

    def spent(self, tenant_id: uuid.UUID, user_id: uuid.UUID | None, month: str) -> Decimal:
        with self.sessions() as session:
            value = session.scalar(select(SpendMeter.spent).where(*_scope(tenant_id, user_id, month)))
        return value if value is not None else ZERO

    def add_spend(self, amounts: dict[tuple[uuid.UUID, uuid.UUID | None, str], Decimal]) -> None:
        with transaction(self.sessions) as session:
            for (tenant_id, user_id, month), amount in amounts.items():
                row = session.scalar(select(SpendMeter).where(*_scope(tenant_id, user_id, month)))
                if row is None:
                    row = SpendMeter(tenant_id=tenant_id, user_id=user_id, month=month, spent=ZERO)
                    session.add(row)
                row.spent = (row.spent or ZERO) + amount
