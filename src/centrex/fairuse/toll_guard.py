"""The toll-fraud guard: a service of the call core (calls/services.py) that refuses international
and premium destinations not enabled, new billable calls past a spend limit and international calls
past the tenant's concurrent limit — and cuts off calls in progress when the limit runs out.

Rules in fairuse/toll_rules.py. The spend of the month is the guard's own meter (store:
spend_meters), what each answered call cost at the rate of the tenant's plan deck (or the operator's
high-risk rate), kept in this process and written in batches; calls in progress count as they go.
Each node meters its own calls; several nodes share the store's month total at the next load.
911 never reaches ``admit`` (the core skips services for it) and is never metered.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from centrex.calls.model import BLeg, Call
from centrex.calls.services import CallService, Refusal
from centrex.e911.policy import RefusalGround, may_refuse
from centrex.fairuse.toll_rules import ZERO, TollView, cost, destination_refusal, seconds_left
from centrex.numbers.classes import CallClass
from centrex.numbers.classify import DestinationKind

log = logging.getLogger(__name__)

TIMER = "spend_limit"
FLUSH_S = 5.0
REASONS = {
    "toll_international": "Forbidden (international calling not enabled)",
    "toll_premium": "Forbidden (premium or high-risk destination not enabled)",
    "international_limit": "Forbidden (too many international calls at once)",
    "spend_limit": "Forbidden (spend limit reached)",
}


class TollSource(Protocol):
    def view(self, tenant_id: uuid.UUID, now: float) -> TollView: ...
    def rate(self, tenant_id: uuid.UUID, e164: str, at: datetime) -> Decimal: ...
    def spent(self, tenant_id: uuid.UUID, user_id: uuid.UUID | None, month: str) -> Decimal: ...
    def add_spend(self, amounts: dict[tuple[uuid.UUID, uuid.UUID | None, str], Decimal]) -> None: ...


@dataclass(eq=False)
class Meter:
    call: Call
    tenant_id: uuid.UUID
    user_id: uuid.UUID | None
    rate: Decimal  # per minute
    international: bool
    answered: float | None = None


def month_of(at: datetime) -> str:
    return at.strftime("%Y-%m")


class TollGuard(CallService):
    name = "toll_guard"

    def __init__(self, source: TollSource | None = None) -> None:
        self.source = source
        self.meters: dict[uuid.UUID, Meter] = {}
        self._spent: dict[tuple[uuid.UUID, uuid.UUID | None, str], Decimal] = {}
        self._pending: dict[tuple[uuid.UUID, uuid.UUID | None, str], Decimal] = {}
        self._flush_at = 0.0

    # -- hooks -------------------------------------------------------------------------------
    def admit(self, call: Call, now: float) -> Refusal | None:
        c = call.classification
        phone_or_pbx = call.device is not None or call.trunk is not None  # a PBX trunk's: tenant-wide
        if self.source is None or not phone_or_pbx or not may_refuse(c.call_class, RefusalGround.FRAUD):
            return None
        if c.kind is not DestinationKind.E164 or c.call_class is CallClass.ON_NET:
            return None
        tenant_id, user_id = call.tenant.id, call.caller.id if call.caller else None
        view = self.source.view(tenant_id, now)
        why = destination_refusal(c.call_class, c.destination, view, user_id, tenant_only=call.device is None)
        international = c.call_class is CallClass.INTERNATIONAL
        if why is None and international and view.tenant.max_international_calls is not None:
            up = sum(1 for m in self.meters.values() if m.tenant_id == tenant_id and m.international)
            if up >= view.tenant.max_international_calls:
                why = "international_limit"
        rate = ZERO
        if why is None:
            rate = self.source.rate(tenant_id, c.destination, self.core.wall())
            if rate > 0 and self._remaining(view, tenant_id, user_id, now) <= 0:
                why = "spend_limit"
        if why is not None:
            log.warning(
                "fraud.refused call=%s tenant=%s user=%s cause=%s to=%s",
                call.id,
                tenant_id,
                user_id,
                why,
                c.destination,
            )
            return Refusal(403, why, REASONS[why])
        if rate > 0 or international:
            self.meters[call.id] = Meter(call, tenant_id, user_id, rate, international)
        return None

    def answered(self, call: Call, leg: BLeg, now: float) -> None:
        meter = self.meters.get(call.id)
        if meter is None or meter.answered is not None:
            return
        meter.answered = now
        self._reschedule(meter.tenant_id, now)

    def timer(self, call: Call, name: str, now: float) -> bool:
        if name != TIMER:
            return False
        log.warning("fraud.spend_limit.cut_off call=%s tenant=%s", call.id, call.tenant.id)
        self.core.hang_up(call, now, "spend_limit", 200)
        return True

    def ended(self, call: Call, now: float) -> None:
        meter = self.meters.pop(call.id, None)
        if meter is None:
            return
        if meter.answered is not None and meter.rate > 0:
            amount = cost(meter.rate, now - meter.answered)
            month = month_of(self.core.wall())
            keys: list[tuple[uuid.UUID, uuid.UUID | None, str]] = [(meter.tenant_id, None, month)]
            if meter.user_id is not None:
                keys.append((meter.tenant_id, meter.user_id, month))
            for key in keys:
                self._spent[key] = self._spent_of(key) + amount
                if not self._pending:
                    self._flush_at = now + FLUSH_S
                self._pending[key] = self._pending.get(key, ZERO) + amount
        self._reschedule(meter.tenant_id, now)

    def next_timer(self) -> float | None:
        return self._flush_at if self._pending else None

    def tick(self, now: float) -> None:
        if self._pending and now >= self._flush_at:
            self.flush()

    def flush(self) -> None:
        pending, self._pending = self._pending, {}
        if not pending or self.source is None:
            return
        try:
            self.source.add_spend(pending)
        except Exception:
            log.exception("fraud.spend.write_failed rows=%d", len(pending))

    # -- the meter --------------------------------------------------------------------------
    def _spent_of(self, key: tuple[uuid.UUID, uuid.UUID | None, str]) -> Decimal:
        if key not in self._spent:
            assert self.source is not None
            self._spent[key] = self.source.spent(*key)
        return self._spent[key]

    def _running(
        self, tenant_id: uuid.UUID, user_id: uuid.UUID | None, now: float
    ) -> tuple[Decimal, Decimal]:
        """What the answered calls in this scope (the tenant's, or one user's) have cost so far,
        and their rate together per minute."""
        so_far, burn = ZERO, ZERO
        for m in self.meters.values():
            if (
                m.tenant_id != tenant_id
                or m.answered is None
                or (user_id is not None and m.user_id != user_id)
            ):
                continue
            so_far += cost(m.rate, now - m.answered)
            burn += m.rate
        return so_far, burn

    def _remaining(
        self, view: TollView, tenant_id: uuid.UUID, user_id: uuid.UUID | None, now: float
    ) -> Decimal:
        """The least credit left of the tenant's and the user's limits (a large number if none)."""
        month = month_of(self.core.wall())
        left: Decimal | None = None
        scopes = [
            (None, view.tenant.spend_limit),
            (user_id, view.user(user_id).spend_limit if user_id else None),
        ]
        for scope, limit in scopes:
            if limit is None:
                continue
            running, _ = self._running(tenant_id, scope, now)
            here = limit - self._spent_of((tenant_id, scope, month)) - running
            left = here if left is None else min(left, here)
        return Decimal("1e12") if left is None else left

    def _reschedule(self, tenant_id: uuid.UUID, now: float) -> None:
        """Arm every answered metered call of the tenant to end when its scope's credit runs out."""
        if self.source is None:
            return
        view = self.source.view(tenant_id, now)
        month = month_of(self.core.wall())
        deadlines: dict[uuid.UUID, float] = {}
        scopes: list[tuple[uuid.UUID | None, Decimal | None]] = [(None, view.tenant.spend_limit)]
        scopes += [(uid, p.spend_limit) for uid, p in view.users.items()]
        for scope, limit in scopes:
            if limit is None:
                continue
            running, burn = self._running(tenant_id, scope, now)
            left = seconds_left(limit - self._spent_of((tenant_id, scope, month)) - running, burn)
            if left is None:
                continue
            for m in self.meters.values():
                mine = m.tenant_id == tenant_id and m.answered is not None and m.rate > 0
                if mine and (scope is None or m.user_id == scope):
                    at = now + left
                    deadlines[m.call.id] = min(deadlines.get(m.call.id, at), at)
        for m in self.meters.values():
            if m.tenant_id != tenant_id:
                continue
            due = deadlines.get(m.call.id)
            if due is not None:
                self.core.arm(m.call, TIMER, due)
            else:
                m.call.timers.pop(TIMER, None)
